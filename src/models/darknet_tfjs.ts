/** Building a chain-shaped Keras CNN from a TF.js layers model: each `model.json` layer becomes a
 * module of `darknet_layers.ts` (or a BatchNorm2d / LeakyReLU), and the Keras weights become a
 * PyTorch-named state dict (NHWC kernels `[kh, kw, in, out]` to NCHW `[out, in, kh, kw]`,
 * BatchNormalization's moving statistics to `running_mean` / `running_var`). */
import type { TfjsLayer, TfjsModel } from "../io/index.ts";
import type { Device, Tensor } from "../tensor/index.ts";
import { BatchNorm2d, LeakyReLU, type TensorModule } from "../nn/index.ts";
import {
  GlobalAvgPool2d,
  Identity,
  KerasActivation,
  KerasConv2d,
  KerasMaxPool2d,
  type KerasPadding,
  pair,
} from "./darknet_layers.ts";

const SUPPORTED = [
  "InputLayer",
  "Conv2D",
  "BatchNormalization",
  "LeakyReLU",
  "ReLU",
  "Activation",
  "Softmax",
  "MaxPooling2D",
  "GlobalAveragePooling2D",
  "Dropout",
];

/** Builds one Keras layer as a module (none for the InputLayer); `channels` is the number of
 * input channels. */
export function buildLayer(
  l: TfjsLayer,
  channels: number,
  device: Device | undefined,
): { module: TensorModule | null; channels: number } {
  const c = l.config;
  const where = `${l.className} layer "${l.name}"`;
  const fmt = c.data_format ?? "channels_last";
  if (fmt !== "channels_last") throw new Error(`${where}: data_format ${fmt} is not supported`);
  switch (l.className) {
    case "InputLayer":
      return { module: null, channels };
    case "Conv2D": {
      if ((c.groups ?? 1) !== 1) throw new Error(`${where}: grouped convolution is not supported`);
      if (c.padding !== "same" && c.padding !== "valid") {
        throw new Error(`${where}: padding ${JSON.stringify(c.padding)} is not supported`);
      }
      const filters = c.filters as number;
      const module = new KerasConv2d(channels, filters, pair(c.kernel_size, where), {
        stride: pair(c.strides ?? 1, where),
        dilation: pair(c.dilation_rate ?? 1, where),
        padding: c.padding as KerasPadding,
        bias: c.use_bias !== false,
        activation: (c.activation as string | undefined) ?? "linear",
        device,
      });
      return { module, channels: filters };
    }
    case "BatchNormalization": {
      const axis = c.axis ?? -1;
      if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && [-1, 3].includes(axis[0]))) {
        throw new Error(`${where}: axis ${JSON.stringify(axis)} is not the channel axis`);
      }
      if (c.center === false || c.scale === false) {
        throw new Error(`${where}: center/scale = false is not supported`);
      }
      const bn = new BatchNorm2d(channels, {
        eps: (c.epsilon as number | undefined) ?? 1e-3,
        momentum: 1 - ((c.momentum as number | undefined) ?? 0.99),
        device,
      });
      return { module: bn, channels };
    }
    case "LeakyReLU":
      return { module: new LeakyReLU((c.alpha as number | undefined) ?? 0.3), channels };
    case "ReLU":
      if (c.max_value != null || (c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) {
        throw new Error(`${where}: only the plain ReLU is supported`);
      }
      return { module: new KerasActivation("relu"), channels };
    case "Activation":
      return { module: new KerasActivation(c.activation as string), channels };
    case "Softmax":
      if ((c.axis ?? -1) !== -1) throw new Error(`${where}: only axis -1 is supported`);
      return { module: new KerasActivation("softmax"), channels };
    case "MaxPooling2D": {
      const size = pair(c.pool_size ?? 2, where);
      const padding = (c.padding ?? "valid") as KerasPadding;
      if (padding !== "same" && padding !== "valid") {
        throw new Error(`${where}: padding ${JSON.stringify(padding)} is not supported`);
      }
      const mod = new KerasMaxPool2d(size, pair(c.strides ?? size, where), padding);
      return { module: mod, channels };
    }
    case "GlobalAveragePooling2D":
      return { module: new GlobalAvgPool2d(c.keepdims === true), channels };
    case "Dropout":
      return { module: new Identity(), channels };
    default:
      throw new Error(
        `${where} is not supported (supported: ${SUPPORTED.join(", ")})`,
      );
  }
}

/** Keras weights → our state dict: conv kernels to [out, in, kh, kw], BN to PyTorch names. */
export function stateFromTfjs(
  model: TfjsModel,
  layers: Map<string, TensorModule>,
): Map<string, Tensor> {
  const state = new Map<string, Tensor>();
  const get = (name: string) => {
    const t = model.weights.get(name);
    if (!t) throw new Error(`${model.path}: weight ${name} is missing from the manifest`);
    return t;
  };
  try {
    for (const l of model.layers) addLayerState(state, l.name, layers.get(l.name), get);
  } catch (e) {
    for (const t of state.values()) t.dispose();
    throw e;
  }
  return state;
}

/** Adds the converted weights of layer `name` (module `m`) to `state`. */
function addLayerState(
  state: Map<string, Tensor>,
  name: string,
  m: TensorModule | undefined,
  get: (name: string) => Tensor,
): void {
  if (m instanceof KerasConv2d) {
    state.set(`${name}.weight`, get(`${name}/kernel`).permute(3, 2, 0, 1).contiguous());
    if (m.bias) state.set(`${name}.bias`, get(`${name}/bias`).clone());
  } else if (m instanceof BatchNorm2d) {
    state.set(`${name}.weight`, get(`${name}/gamma`).clone());
    state.set(`${name}.bias`, get(`${name}/beta`).clone());
    state.set(`${name}.running_mean`, get(`${name}/moving_mean`).clone());
    state.set(`${name}.running_var`, get(`${name}/moving_variance`).clone());
    // Keras keeps no batch count (PyTorch uses it only with momentum null): start from zero.
    state.set(`${name}.num_batches_tracked`, m.numBatchesTracked!.clone());
  }
}

/** Darknet-tiny, the ImageNet-pretrained CNN of ml5 (`darknet-tiny-tfjs`), rebuilt from its
 * TF.js layers model so that its pretrained weights run on libtorch: a CNN backbone for the
 * CNN-versus-ViT ablation.
 *
 * The network is built from the Keras topology in `model.json` (a chain of Conv2D,
 * BatchNormalization, LeakyReLU, MaxPooling2D, ... layers), with Keras semantics kept exactly:
 * NHWC kernels `[kh, kw, in, out]` become NCHW `[out, in, kh, kw]`, `padding: "same"` pads like
 * TensorFlow (the odd pixel goes right/bottom), max-pool padding never wins the max, and
 * BatchNormalization uses its moving statistics (Keras inference). Modules are named after the
 * Keras layers (`conv2d_1.weight`, `batch_normalization_1.running_mean`, ...).
 *
 * Input: RGB in [0, 1] (pixels / 255), NCHW, 224×224 (ml5's `darknet.js` preprocessing:
 * `toFloat().div(255)`, then `resizeBilinear(…, [224, 224], alignCorners = true)` when the image
 * is another size; no mean/std normalization). See {@link Darknet.preprocess}. The 1000 outputs
 * are logits: the model ends in global average pooling, and ml5 applies the softmax itself. */
import { loadTfjsModel, type TfjsLayer, type TfjsModel } from "../io/index.ts";
import {
  conv2d,
  type Device,
  fromBuffer,
  maxPool2d,
  noGrad,
  ops,
  scope,
  type Tensor,
} from "../tensor/index.ts";
import { BatchNorm2d, Conv2d, LeakyReLU, Module, type TensorModule } from "../nn/index.ts";

/** Keras padding modes. */
export type KerasPadding = "same" | "valid";

/** TensorFlow's `same` padding along one axis: `[before, after]`, the extra pixel after. */
export function tfSamePadding(
  size: number,
  kernel: number,
  stride: number,
  dilation = 1,
): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** TensorFlow `same` padding of [N, C, H, W] for a `kernel`/`stride`/`dilation` window. */
function samePads(
  x: Tensor,
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
): { top: number; bottom: number; left: number; right: number } {
  const [, , h, w] = x.shape;
  const [top, bottom] = tfSamePadding(h, kernel[0], stride[0], dilation[0]);
  const [left, right] = tfSamePadding(w, kernel[1], stride[1], dilation[1]);
  return { top, bottom, left, right };
}

/** Keras activations by name (channels are dim 1 in NCHW, the last dim otherwise). */
function activation(name: string, where: string): ((x: Tensor) => Tensor) | null {
  switch (name) {
    case "linear":
      return null;
    case "relu":
      return (x) => x.relu();
    case "sigmoid":
      return (x) => x.sigmoid();
    case "tanh":
      return (x) => x.tanh();
    case "softmax":
      return (x) => x.softmax(x.ndim === 4 ? 1 : -1);
    default:
      throw new Error(`${where}: activation "${name}" is not supported`);
  }
}

/** A Keras `Conv2D`: a {@link Conv2d} with TensorFlow `same`/`valid` padding and an optional
 * fused activation. */
export class KerasConv2d extends Conv2d {
  /** `same` or `valid`. */
  readonly paddingMode: KerasPadding;
  /** The fused Keras activation's name (`linear` for none). */
  readonly activationName: string;
  readonly #act: ((x: Tensor) => Tensor) | null;

  /** A `kernelSize` convolution with Keras `padding` and `activation` (`linear`). */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: [number, number],
    opts: {
      stride?: [number, number];
      dilation?: [number, number];
      padding?: KerasPadding;
      bias?: boolean;
      activation?: string;
      device?: Device;
    } = {},
  ) {
    super(inChannels, outChannels, kernelSize, {
      stride: opts.stride,
      dilation: opts.dilation,
      bias: opts.bias,
      device: opts.device,
    });
    this.paddingMode = opts.padding ?? "valid";
    this.activationName = opts.activation ?? "linear";
    this.#act = activation(this.activationName, "Conv2D");
  }

  /** [N, in, H, W] → [N, out, H', W']; `same` gives H' = ceil(H / stride). */
  override forward(x: Tensor): Tensor {
    return scope(() => {
      let padding: [number, number] = [0, 0];
      let input = x;
      if (this.paddingMode === "same") {
        const p = samePads(x, this.kernelSize, this.stride, this.dilation);
        if (p.top === p.bottom && p.left === p.right) padding = [p.top, p.left];
        else input = ops.aten.constant_pad_nd(x, [p.left, p.right, p.top, p.bottom], 0);
      }
      const y = conv2d(input, this.weight, this.bias, {
        stride: this.stride,
        padding,
        dilation: this.dilation,
        groups: this.groups,
      });
      return this.#act ? this.#act(y) : y;
    });
  }

  /** Channels, kernel, stride, padding mode and activation. */
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=${this.paddingMode}, activation=${this.activationName}`;
  }
}

/** A Keras `MaxPooling2D` with TensorFlow `same`/`valid` padding (padding never wins). */
export class KerasMaxPool2d extends Module implements TensorModule {
  /** Create a `poolSize` max-pool with `strides` and Keras `padding`. */
  constructor(
    readonly poolSize: [number, number],
    readonly strides: [number, number],
    readonly padding: KerasPadding,
  ) {
    super();
  }

  /** [N, C, H, W] → [N, C, H', W']. */
  forward(x: Tensor): Tensor {
    return scope(() => {
      let input = x;
      if (this.padding === "same") {
        const p = samePads(x, this.poolSize, this.strides, [1, 1]);
        if (p.top || p.bottom || p.left || p.right) {
          input = ops.aten.constant_pad_nd(x, [p.left, p.right, p.top, p.bottom], -Infinity);
        }
      }
      return maxPool2d(input, this.poolSize, { stride: this.strides });
    });
  }

  /** Pool size, strides and padding. */
  override extraRepr(): string {
    return `poolSize=[${this.poolSize}], strides=[${this.strides}], padding=${this.padding}`;
  }
}

/** A Keras `GlobalAveragePooling2D`: [N, C, H, W] → [N, C] (or [N, C, 1, 1] with `keepDims`). */
export class GlobalAvgPool2d extends Module implements TensorModule {
  /** Average over H and W, keeping them as size-1 dims when `keepDims`. */
  constructor(readonly keepDims = false) {
    super();
  }

  /** The spatial mean. */
  forward(x: Tensor): Tensor {
    return x.mean([2, 3], { keepdim: this.keepDims });
  }
}

/** A Keras `Activation` / `Softmax` layer. */
export class KerasActivation extends Module implements TensorModule {
  readonly #fn: ((x: Tensor) => Tensor) | null;

  /** The Keras activation `name` (`linear`, `relu`, `sigmoid`, `tanh`, `softmax`). */
  constructor(readonly name: string) {
    super();
    this.#fn = activation(name, "Activation");
  }

  /** Elementwise (softmax over channels). */
  forward(x: Tensor): Tensor {
    return this.#fn ? this.#fn(x) : x.view(...x.shape);
  }

  /** The activation's name. */
  override extraRepr(): string {
    return this.name;
  }
}

/** Keras `Dropout`: the identity at inference (the only use here). */
class Identity extends Module implements TensorModule {
  forward(x: Tensor): Tensor {
    return x.view(...x.shape);
  }
}

/** TF.js's CPU `resizeBilinear(alignCorners = true)` of an HWC float image with 3 channels. */
function resizeBilinearAligned(
  src: Float32Array,
  h: number,
  w: number,
  nh: number,
  nw: number,
): Float32Array {
  const out = new Float32Array(nh * nw * 3);
  const ry = nh > 1 ? (h - 1) / (nh - 1) : h / nh;
  const rx = nw > 1 ? (w - 1) / (nw - 1) : w / nw;
  let o = 0;
  for (let r = 0; r < nh; r++) {
    const fy = ry * r;
    const y0 = Math.max(0, Math.floor(fy)), y1 = Math.min(h - 1, Math.ceil(fy));
    const dy = fy - y0;
    for (let c = 0; c < nw; c++) {
      const fx = rx * c;
      const x0 = Math.max(0, Math.floor(fx)), x1 = Math.min(w - 1, Math.ceil(fx));
      const dx = fx - x0;
      const tl = (y0 * w + x0) * 3, tr = (y0 * w + x1) * 3;
      const bl = (y1 * w + x0) * 3, br = (y1 * w + x1) * 3;
      for (let k = 0; k < 3; k++) {
        const top = src[tl + k] + (src[tr + k] - src[tl + k]) * dx;
        const bottom = src[bl + k] + (src[br + k] - src[bl + k]) * dx;
        out[o++] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

const pair = (v: unknown, what: string): [number, number] => {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n))) {
    return [v[0], v[1]];
  }
  throw new Error(`${what}: expected a number or a pair, got ${JSON.stringify(v)}`);
};

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

/** Builds one Keras layer as a module; `channels` is the number of input channels. */
function buildLayer(
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
function stateFromTfjs(model: TfjsModel, layers: Map<string, TensorModule>): Map<string, Tensor> {
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

/** Options of {@link Darknet.fromTfjs}. */
export interface DarknetOptions {
  /** Device of the weights (cpu). */
  device?: Device;
}

/**
 * Darknet-tiny (or any chain-shaped Keras CNN from a TF.js layers model) on libtorch.
 *
 * ```ts
 * const net = await models.Darknet.fromTfjs("../shared/data/weights/darknet-tiny-tfjs");
 * const x = models.Darknet.preprocess(await decodeImage("airport_1.jpg")); // [1, 3, 224, 224]
 * const logits = net.forward(x);  // [1, 1000], as the TF.js model's output
 * const fmap = net.features(x);   // [1, 128, 14, 14], the classifier's input
 * ```
 *
 * Returned in `eval()` mode (BatchNorm uses the pretrained moving statistics). The 1000
 * outputs follow Darknet's ImageNet class order (ml5's `IMAGENET_CLASSES_DARKNET`), which is
 * not the usual synset-sorted order.
 */
export class Darknet extends Module {
  /** The Keras layer names, in order (each a child module, InputLayer excepted). */
  readonly layerNames: string[];
  /** The default layer of {@link Darknet.features}: the input of the last convolution (the
   * 1000-way 1×1 classifier), i.e. the last backbone feature map. */
  readonly featureLayer: string;
  /** [H, W] the model was trained at (from the InputLayer), when fixed. */
  readonly inputSize: [number, number] | null;
  /** Input channels (3, RGB). */
  readonly inChannels: number;
  readonly #layers: [string, TensorModule][] = [];

  private constructor(model: TfjsModel, device: Device | undefined) {
    super();
    const input = model.layers.find((l) => l.className === "InputLayer");
    const shape = (input?.config.batch_input_shape ?? input?.config.batch_shape) as
      | (number | null)[]
      | undefined;
    if (!shape || shape.length !== 4 || typeof shape[3] !== "number") {
      throw new Error(`${model.path}: expected an NHWC image input with known channels`);
    }
    this.inChannels = shape[3];
    this.inputSize = typeof shape[1] === "number" && typeof shape[2] === "number"
      ? [shape[1], shape[2]]
      : null;
    // A chain: every layer fed by the one before it, the last one the output.
    const lastName = model.layers.at(-1)?.name;
    if (model.outputs.length !== 1 || model.outputs[0] !== lastName) {
      throw new Error(
        `${model.path}: outputs [${model.outputs}] are not the last layer ${lastName}; ` +
          "only chain-shaped models are supported",
      );
    }
    for (const [i, l] of model.layers.entries()) {
      const want = i === 0 ? [] : [model.layers[i - 1].name];
      if (l.inbound.length !== want.length || l.inbound.some((n, j) => n !== want[j])) {
        throw new Error(
          `${model.path}: layer "${l.name}" is fed by [${l.inbound}], not [${want}]; ` +
            "only chain-shaped models are supported",
        );
      }
    }
    let channels = this.inChannels;
    try {
      for (const l of model.layers) {
        const built = buildLayer(l, channels, device);
        channels = built.channels;
        if (built.module) this.#layers.push([l.name, this.registerModule(l.name, built.module)]);
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
    this.layerNames = this.#layers.map(([n]) => n);
    const convs = this.#layers.filter(([, m]) => m instanceof KerasConv2d);
    const last = convs.at(-1)?.[0];
    const at = last ? this.layerNames.indexOf(last) : -1;
    this.featureLayer = at > 0 ? this.layerNames[at - 1] : this.layerNames.at(-1)!;
  }

  /** Builds the network from a TF.js layers model folder (or its `model.json`) and loads its
   * weights with `strict` names and shapes. */
  static async fromTfjs(path: string, opts: DarknetOptions = {}): Promise<Darknet> {
    using model = await loadTfjsModel(path, { device: opts.device });
    const net = new Darknet(model, opts.device);
    try {
      const layers = new Map(net.#layers);
      const state = noGrad(() => stateFromTfjs(model, layers));
      try {
        noGrad(() => net.loadStateDict(state, { strict: true }));
      } finally {
        for (const t of state.values()) t.dispose();
      }
    } catch (e) {
      net.dispose();
      throw e;
    }
    return net.eval();
  }

  /** The child module of the Keras layer `name`. */
  layer(name: string): TensorModule {
    const hit = this.#layers.find(([n]) => n === name);
    if (!hit) throw new RangeError(`Darknet: no layer "${name}" (have ${this.layerNames})`);
    return hit[1];
  }

  #run(x: Tensor, upTo: number): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new RangeError(
        `Darknet: expected input [N, ${this.inChannels}, H, W] (NCHW, RGB in [0, 1]), got [${x.shape}]`,
      );
    }
    return scope(() => {
      let h = x;
      for (let i = 0; i <= upTo; i++) h = this.#layers[i][1].forward(h);
      return h;
    });
  }

  /** The feature map after Keras layer `layer` (default {@link Darknet.featureLayer}):
   * [N, C, h, w], e.g. [N, 128, 14, 14] for Darknet-tiny at 224×224. */
  features(x: Tensor, layer: string = this.featureLayer): Tensor {
    const i = this.layerNames.indexOf(layer);
    if (i < 0) throw new RangeError(`Darknet: no layer "${layer}" (have ${this.layerNames})`);
    return this.#run(x, i);
  }

  /** The model's output, as TF.js `model.predict` gives it: for Darknet-tiny the
   * global-average-pooled 1000-way logits [N, 1000] (the model has no softmax). */
  forward(x: Tensor): Tensor {
    return this.#run(x, this.#layers.length - 1);
  }

  /** softmax(forward(x)) over classes, as ml5's `classify` computes. */
  probabilities(x: Tensor): Tensor {
    return scope(() => this.forward(x).softmax(-1));
  }

  /** ml5's Darknet preprocessing of an 8-bit RGB image (HWC, interleaved): pixels / 255, then,
   * when the image is not `size` (the model's 224×224), TF.js's `resizeBilinear` with
   * `alignCorners = true`, computed on the host exactly as the TF.js CPU kernel does (source
   * coordinates and blending in double precision, rounded to float32 once). Returns
   * [1, 3, size, size] float32 on `device`. */
  static preprocess(
    img: { width: number; height: number; data: Uint8Array },
    opts: { size?: number | [number, number]; device?: Device } = {},
  ): Tensor {
    const [sh, sw] = pair(opts.size ?? 224, "Darknet.preprocess size");
    const { width, height, data } = img;
    if (data.length !== width * height * 3) {
      throw new RangeError(`Darknet.preprocess: ${data.length} bytes is not ${width}×${height}×3`);
    }
    const px = Float32Array.from(data, (v) => v / 255);
    const hwc = height === sh && width === sw
      ? px
      : resizeBilinearAligned(px, height, width, sh, sw);
    return scope(() =>
      fromBuffer(hwc, [1, sh, sw, 3], { dtype: "float32", device: opts.device })
        .permute(0, 3, 1, 2).contiguous()
    );
  }
}

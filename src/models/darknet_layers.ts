/** The Keras layers of a TF.js CNN (Darknet-tiny) as modules, with Keras semantics kept exactly:
 * TensorFlow's `same` padding (the odd pixel goes right/bottom), max-pool padding that never
 * wins the max, Keras activations by name, global average pooling, and Dropout as the identity
 * (inference). `buildLayer` in `darknet_tfjs.ts` makes them from `model.json`. */
import { conv2d, type Device, maxPool2d, ops, scope, type Tensor } from "../tensor/index.ts";
import { Conv2d, Module, type TensorModule } from "../nn/index.ts";

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
export class Identity extends Module implements TensorModule {
  forward(x: Tensor): Tensor {
    return x.view(...x.shape);
  }
}

/** A Keras size argument (`kernel_size`, `strides`, ...): a number or an integer pair. */
export const pair = (v: unknown, what: string): [number, number] => {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n))) {
    return [v[0], v[1]];
  }
  throw new Error(`${what}: expected a number or a pair, got ${JSON.stringify(v)}`);
};

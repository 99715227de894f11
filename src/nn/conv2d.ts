/** `Conv2d`: 2-d convolution over NCHW input. */
import { conv2d, empty, type Tensor } from "../tensor/index.ts";
import { defaultLayerInit_ } from "./init.ts";
import { type FactoryOptions, Module } from "./module.ts";

/** Options of `Conv2d`. */
export interface Conv2dLayerOptions extends FactoryOptions {
  /** Step of the kernel (1). */
  stride?: number | [number, number];
  /** Zero padding on each side (0). */
  padding?: number | [number, number];
  /** Spacing of kernel taps (1). */
  dilation?: number | [number, number];
  /** Channel groups (1); in and out channels must divide by it. */
  groups?: number;
  /** Learned bias (true by default). */
  bias?: boolean;
}

const pair = (x: number | [number, number]): [number, number] => typeof x === "number" ? [x, x] : x;

/** A 2-d convolution: `weight` [out, in / groups, kh, kw], `bias` [out].
 * Initialized as PyTorch's nn.Conv2d. */
export class Conv2d extends Module {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** [kh, kw]. */
  readonly kernelSize: [number, number];
  /** [sh, sw]. */
  readonly stride: [number, number];
  /** [ph, pw]. */
  readonly padding: [number, number];
  /** [dh, dw]. */
  readonly dilation: [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** [out, in / groups, kh, kw]. */
  readonly weight: Tensor;
  /** [out], or null. */
  readonly bias: Tensor | null;

  /** A convolution from `inChannels` to `outChannels` with a `kernelSize` kernel, PyTorch's default init. */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | [number, number],
    opts: Conv2dLayerOptions = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(
        `Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.dilation = pair(opts.dilation ?? 1);
    this.groups = groups;
    const f = { dtype: opts.dtype, device: opts.device };
    this.weight = this.registerParameter(
      "weight",
      empty([outChannels, inChannels / groups, ...this.kernelSize], f),
    );
    this.bias = this.registerParameter(
      "bias",
      opts.bias === false ? null : empty([outChannels], f),
    );
    defaultLayerInit_(this.weight, this.bias);
  }

  /** [N, in, H, W] → [N, out, H', W']. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  /** Channels, kernel, stride and padding. */
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}]`;
  }
}

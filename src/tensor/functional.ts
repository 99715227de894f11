/** Free functions of the `torch` namespace that are not methods of one tensor:
 * joins, linear layers, normalization, convolution, pooling, resampling,
 * attention, and losses. */
import { W } from "./args.ts";
import { op } from "./dispatch.ts";
import { internal, type Scalar, Tensor } from "./tensor.ts";
import { TorchError } from "./runtime.ts";

const { result1 } = internal;

const O = {
  where: op("aten::where", "self"),
  whereSO: op("aten::where", "ScalarOther"),
  whereSS: op("aten::where", "ScalarSelf"),
  whereS: op("aten::where", "Scalar"),
  cat: op("aten::cat"),
  stack: op("aten::stack"),
  einsum: op("aten::einsum"),
  linear: op("aten::linear"),
  addmm: op("aten::addmm"),
  layerNorm: op("aten::layer_norm"),
  dropout: op("aten::dropout"),
  conv1d: op("aten::conv1d"),
  conv2d: op("aten::conv2d"),
  maxPool2d: op("aten::max_pool2d"),
  avgPool2d: op("aten::avg_pool2d"),
  adaptiveAvgPool2d: op("aten::adaptive_avg_pool2d"),
  bilinear: op("aten::upsample_bilinear2d", "vec"),
  bicubic: op("aten::upsample_bicubic2d", "vec"),
  nearest: op("aten::upsample_nearest2d", "vec"),
  sdpa: op("aten::scaled_dot_product_attention"),
  crossEntropy: op("aten::cross_entropy_loss"),
  mseLoss: op("aten::mse_loss"),
};

const pair2 = (x: number | readonly number[]) => (typeof x === "number" ? [x, x] : x);

/** `torch.where(cond, a, b)`: `cond ? a : b` elementwise, with broadcasting; a and b may be
 * scalars. */
export function where(cond: Tensor, a: Tensor | Scalar, b: Tensor | Scalar): Tensor {
  W.reset().handle(cond.handle);
  const at = a instanceof Tensor, bt = b instanceof Tensor;
  at ? W.handle(a.handle) : W.scalar(a);
  bt ? W.handle(b.handle) : W.scalar(b);
  return result1(at ? (bt ? O.where : O.whereSO) : bt ? O.whereSS : O.whereS);
}

/** `torch.cat(tensors, dim)`: joins tensors along an existing dimension. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  W.reset().handles(tensors.map((t) => t.handle)).int(dim);
  return result1(O.cat);
}

/** `torch.stack(tensors, dim)`: joins same-shaped tensors along a new dimension. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  W.reset().handles(tensors.map((t) => t.handle)).int(dim);
  return result1(O.stack);
}

/** `torch.einsum(equation, *operands)`: Einstein summation, e.g. `einsum("ij,jk->ik", a, b)`. */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  W.reset().str(equation).handles(operands.map((t) => t.handle));
  return result1(O.einsum);
}

/** `torch.nn.functional.linear(x, weight, bias)`: `x @ weight.T + bias`. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  W.reset().handle(x.handle).handle(weight.handle);
  bias ? W.handle(bias.handle) : W.none();
  return result1(O.linear);
}

/** `torch.addmm(input, mat1, mat2, beta=..., alpha=...)`: `beta * input + alpha * (mat1 @ mat2)`. */
export function addmm(
  input: Tensor,
  mat1: Tensor,
  mat2: Tensor,
  opts: { beta?: number; alpha?: number } = {},
): Tensor {
  W.reset().handle(input.handle).handle(mat1.handle).handle(mat2.handle)
    .scalar(opts.beta ?? 1).scalar(opts.alpha ?? 1);
  return result1(O.addmm);
}

/** `torch.nn.functional.layer_norm(x, normalized_shape, weight, bias, eps)`: normalizes over
 * the last dimensions, then scales and shifts. */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  W.reset().handle(x.handle).ints(normalizedShape);
  weight ? W.handle(weight.handle) : W.none();
  bias ? W.handle(bias.handle) : W.none();
  W.float(eps);
  return result1(O.layerNorm);
}

/** `torch.nn.functional.dropout(x, p, training)`: zeroes elements with probability `p` and
 * scales the rest by `1 / (1 - p)`; the identity when not training. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  W.reset().handle(x.handle).float(p).bool(training);
  return result1(O.dropout);
}

/** `torch.nn.functional.conv1d(x, weight, bias, stride, padding, dilation, groups)`: 1-d
 * convolution of an NCL tensor. */
export function conv1d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: { stride?: number; padding?: number; dilation?: number; groups?: number } = {},
): Tensor {
  W.reset().handle(x.handle).handle(weight.handle);
  bias ? W.handle(bias.handle) : W.none();
  W.ints([opts.stride ?? 1]).ints([opts.padding ?? 0]).ints([opts.dilation ?? 1])
    .int(opts.groups ?? 1);
  return result1(O.conv1d);
}

/** The keywords of `torch.nn.functional.conv2d`; a number stands for both spatial dims. */
export interface Conv2dOptions {
  /** `stride=` (1 by default). */
  stride?: number | readonly number[];
  /** `padding=`: zeros added on each side (0 by default). */
  padding?: number | readonly number[];
  /** `dilation=`: spacing between kernel elements (1 by default). */
  dilation?: number | readonly number[];
  /** `groups=`: input and output channels split into this many groups (1 by default). */
  groups?: number;
}

/** `torch.nn.functional.conv2d(x, weight, bias, ...)`: 2-d convolution of an NCHW tensor. */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  W.reset().handle(x.handle).handle(weight.handle);
  bias ? W.handle(bias.handle) : W.none();
  W.ints(pair2(opts.stride ?? 1)).ints(pair2(opts.padding ?? 0)).ints(pair2(opts.dilation ?? 1))
    .int(opts.groups ?? 1);
  return result1(O.conv2d);
}

/** The keywords shared by the 2-d pools; a number stands for both spatial dims. */
export interface Pool2dOptions {
  /** `stride=` (the kernel size by default, as PyTorch). */
  stride?: number | readonly number[];
  /** `padding=`: implicit padding on each side (0 by default). */
  padding?: number | readonly number[];
  /** `ceil_mode=`: round the output size up instead of down. */
  ceilMode?: boolean;
}

/** `torch.nn.functional.max_pool2d(x, kernel_size, ...)`: the maximum of each window. */
export function maxPool2d(
  x: Tensor,
  kernelSize: number | readonly number[],
  opts: Pool2dOptions & { dilation?: number | readonly number[] } = {},
): Tensor {
  W.reset().handle(x.handle).ints(pair2(kernelSize)).ints(pair2(opts.stride ?? kernelSize))
    .ints(pair2(opts.padding ?? 0)).ints(pair2(opts.dilation ?? 1)).bool(opts.ceilMode ?? false);
  return result1(O.maxPool2d);
}

/** `torch.nn.functional.avg_pool2d(x, kernel_size, ...)`: the mean of each window. */
export function avgPool2d(
  x: Tensor,
  kernelSize: number | readonly number[],
  opts: Pool2dOptions & { countIncludePad?: boolean; divisorOverride?: number } = {},
): Tensor {
  W.reset().handle(x.handle).ints(pair2(kernelSize)).ints(pair2(opts.stride ?? kernelSize))
    .ints(pair2(opts.padding ?? 0)).bool(opts.ceilMode ?? false)
    .bool(opts.countIncludePad ?? true);
  opts.divisorOverride === undefined ? W.none() : W.int(opts.divisorOverride);
  return result1(O.avgPool2d);
}

/** `torch.nn.functional.adaptive_avg_pool2d(x, output_size)`: mean pooling to a given output
 * size. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly number[]): Tensor {
  W.reset().handle(x.handle).ints(pair2(outputSize));
  return result1(O.adaptiveAvgPool2d);
}

/** The keywords of `torch.nn.functional.interpolate` (give `size` or `scaleFactor`). */
export interface InterpolateOptions {
  /** `size=`: the output height and width (one number for both). */
  size?: number | readonly number[];
  /** `scale_factor=`: the output size as a multiple of the input's. */
  scaleFactor?: number | readonly number[];
  /** `mode=`: `"nearest"` (the default), `"bilinear"` or `"bicubic"`. */
  mode?: "bilinear" | "bicubic" | "nearest";
  /** `align_corners=`: for bilinear and bicubic only (false by default). */
  alignCorners?: boolean;
}

/** `torch.nn.functional.interpolate(x, ...)`: resamples an NCHW tensor to `size` or by
 * `scaleFactor`. */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  const mode = opts.mode ?? "nearest";
  if (mode !== "nearest" && mode !== "bilinear" && mode !== "bicubic") {
    throw new TorchError(
      `interpolate: unknown mode "${mode}"; expected nearest, bilinear or bicubic`,
    );
  }
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) {
    throw new TorchError("interpolate: give exactly one of size and scaleFactor");
  }
  if (mode === "nearest" && opts.alignCorners !== undefined) {
    throw new TorchError("interpolate: alignCorners only applies to bilinear and bicubic");
  }
  W.reset().handle(x.handle);
  opts.size === undefined ? W.none() : W.ints(pair2(opts.size));
  if (mode !== "nearest") W.bool(opts.alignCorners ?? false);
  opts.scaleFactor === undefined ? W.none() : W.floats(pair2(opts.scaleFactor));
  return result1(mode === "bilinear" ? O.bilinear : mode === "bicubic" ? O.bicubic : O.nearest);
}

/** `torch.nn.functional.scaled_dot_product_attention(q, k, v, ...)`: fused attention,
 * `softmax(q kᵀ · scale + mask) v`. */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { attnMask?: Tensor | null; dropoutP?: number; isCausal?: boolean; scale?: number } = {},
): Tensor {
  W.reset().handle(q.handle).handle(k.handle).handle(v.handle);
  opts.attnMask ? W.handle(opts.attnMask.handle) : W.none();
  W.float(opts.dropoutP ?? 0).bool(opts.isCausal ?? false);
  opts.scale === undefined ? W.none() : W.float(opts.scale);
  return result1(O.sdpa);
}

/** The `reduction=` of PyTorch's losses (libtorch's at::Reduction). */
export type Reduction = "none" | "mean" | "sum";
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };
function reductionCode(r: Reduction): number {
  if (!Object.hasOwn(REDUCTION, r)) {
    throw new TorchError(`unknown reduction "${r}"; expected "none", "mean" or "sum"`);
  }
  return REDUCTION[r];
}

/** `torch.nn.functional.cross_entropy(logits, target, ...)`: cross-entropy of logits against
 * class indices (int64) or class probabilities. */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  opts: { weight?: Tensor; reduction?: Reduction; ignoreIndex?: number; labelSmoothing?: number } =
    {},
): Tensor {
  W.reset().handle(logits.handle).handle(target.handle);
  opts.weight ? W.handle(opts.weight.handle) : W.none();
  W.int(reductionCode(opts.reduction ?? "mean")).int(opts.ignoreIndex ?? -100)
    .float(opts.labelSmoothing ?? 0);
  return result1(O.crossEntropy);
}

/** `torch.nn.functional.mse_loss(input, target, reduction)`: the squared error. */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  W.reset().handle(input.handle).handle(target.handle).int(reductionCode(reduction));
  return result1(O.mseLoss);
}

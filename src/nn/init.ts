/** Parameter initialization, in place and without recording gradients, drawn
 * from libtorch's default generator: after `torch.manualSeed(s)` the values
 * are those of `torch.nn.init` after `torch.manual_seed(s)` (the same draws in
 * the same order, the same bound arithmetic). */
import { emptyLike, noGrad, ops, scope, type Tensor, where } from "../tensor/index.ts";
import { tensor as makeTensor } from "../tensor/creation.ts";

/** Nonlinearities known to `calculateGain`. */
export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "conv_transpose1d"
  | "conv_transpose2d"
  | "conv_transpose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leaky_relu"
  | "selu";

/** Which fan kaiming init preserves: the forward pass's (`fanIn`) or the backward's. */
export type FanMode = "fanIn" | "fanOut";

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain);
 * `param` is leaky_relu's negative slope (0.01 by default). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "conv_transpose1d":
    case "conv_transpose2d":
    case "conv_transpose3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5.0 / 3;
    case "relu":
      return Math.sqrt(2.0);
    case "leaky_relu": {
      const s = param ?? 0.01;
      return Math.sqrt(2.0 / (1 + s * s));
    }
    case "selu":
      return 3.0 / 4;
    default:
      throw new TypeError(`calculateGain: unsupported nonlinearity "${nonlinearity}"`);
  }
}

/** Fan-in and fan-out of a weight of shape [out, in, ...receptive field]. */
export function fanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  const s = t.shape;
  if (s.length < 2) {
    throw new RangeError(
      `fan in and fan out need a tensor with at least 2 dimensions, got shape [${s}]`,
    );
  }
  let receptive = 1;
  for (const d of s.slice(2)) receptive *= d;
  return { fanIn: s[1] * receptive, fanOut: s[0] * receptive };
}

const inPlace = (t: Tensor, fn: () => void): Tensor => {
  noGrad(() => scope(fn));
  return t;
};

/** Uniform on [a, b). */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return inPlace(t, () => ops.aten.uniform_(t, a, b));
}

/** Normal with `mean` and `std`. */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return inPlace(t, () => ops.aten.normal_(t, mean, std));
}

/** Every element set to `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  return inPlace(t, () => t.fill_(value));
}

/** Every element 0. */
export function zeros_(t: Tensor): Tensor {
  return inPlace(t, () => t.zero_());
}

/** Every element 1. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Identity matrix in a 2-d tensor (ones on the diagonal). */
export function eye_(t: Tensor): Tensor {
  if (t.ndim !== 2) throw new RangeError(`eye_ needs a 2-d tensor, got shape [${t.shape}]`);
  return inPlace(t, () => t.copy_(ops.aten.eye.m(t.size(0), t.size(1))));
}

/** Double-precision erf, from libtorch (JS has no Math.erf). */
function erf(x: number): number {
  return scope(() => ops.aten.erf(makeTensor([x], { dtype: "float64" })).item());
}

const normCdf = (x: number) => (1.0 + erf(x / Math.sqrt(2.0))) / 2.0;

/** Normal with `mean` and `std`, truncated to [a, b] (absolute bounds, as in
 * PyTorch and timm: `truncNormal_(w, { std: 0.02 })` cuts at ±2). Same
 * algorithm and draws as torch.nn.init.trunc_normal_ in torch 2.13: rejection
 * of normal draws when [a, b] holds much of the mass, else uniform proposals
 * accepted by the density. */
export function truncNormal_(
  t: Tensor,
  opts: { mean?: number; std?: number; a?: number; b?: number } = {},
): Tensor {
  const mean = opts.mean ?? 0, std = opts.std ?? 1, a = opts.a ?? -2, b = opts.b ?? 2;
  const p = normCdf((b - mean) / std) - normCdf((a - mean) / std);
  return inPlace(t, () => {
    if (p > 0.3) {
      // The bounds in the tensor's own type, so the mask matches representable values.
      const lo = makeTensor([a], { dtype: t.dtype }).item();
      const hi = makeTensor([b], { dtype: t.dtype }).item();
      let result = ops.aten.normal_(t, mean, std);
      for (;;) {
        const mask = scope(() => ops.aten.logical_or(result.lt(lo), result.gt(hi)));
        if (!mask.any().item()) break;
        result = where(mask, ops.aten.normal_(emptyLike(result), mean, std), result);
      }
      if (result !== t) t.copy_(result);
      return;
    }
    const mode = Math.max(a, Math.min(mean, b));
    const z = (mode - mean) / std;
    const logPeak = -0.5 * (z * z);
    const candidates = emptyLike(t);
    const acceptBuf = emptyLike(t);
    const logPdfShift = () => {
      candidates.add_(-mean);
      candidates.div_(std);
      ops.aten.pow_.Scalar(candidates, 2);
      candidates.mul_(-0.5);
      candidates.add_(-logPeak);
    };
    const draw = () => ops.aten.log_(ops.aten.uniform_(acceptBuf)).gt(candidates);
    ops.aten.uniform_(t, a, b);
    candidates.copy_(t);
    logPdfShift();
    let pending = draw();
    if (!pending.any().item()) return;
    let result: Tensor = t;
    for (;;) {
      ops.aten.uniform_(candidates, a, b);
      result = where(pending, candidates, result);
      logPdfShift();
      pending = where(pending, draw(), pending);
      if (!pending.any().item()) break;
    }
    t.copy_(result);
  });
}

/** Xavier/Glorot uniform: U(-a, a) with a = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return uniform_(t, -a, a);
}

/** Xavier/Glorot normal: N(0, gain²·2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  return normal_(t, 0, std);
}

/** Options of the kaiming (He) initializers. */
export interface KaimingOptions {
  /** Negative slope of the following leaky_relu (0 by default). */
  a?: number;
  /** `fanIn` (default) or `fanOut`. */
  mode?: FanMode;
  /** The nonlinearity after the layer (`leaky_relu` by default). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const { fanIn, fanOut } = fanInAndFanOut(t);
  const fan = (opts.mode ?? "fanIn") === "fanIn" ? fanIn : fanOut;
  const gain = calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** Kaiming/He uniform: U(-bound, bound) with bound = gain·√(3 / fan). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.numel === 0) return t;
  const bound = Math.sqrt(3.0) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound);
}

/** Kaiming/He normal: N(0, gain² / fan). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.numel === 0) return t;
  return normal_(t, 0, kaimingStd(t, opts));
}

/** PyTorch's default init of a Linear or Conv weight and bias:
 * kaiming_uniform(a=√5) for the weight, U(-1/√fanIn, 1/√fanIn) for the bias. */
export function defaultLayerInit_(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias !== null) {
    const { fanIn } = fanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

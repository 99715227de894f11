/** `Tensor`: PyTorch's tensor methods (arithmetic, comparisons, elementwise functions,
 * reductions, shape and indexing ops, conversion, in-place updates) on top of `TensorCore`,
 * which holds the handle, metadata, data out and autograd state. Each method writes its
 * arguments in the order of its ATen overload's schema (`method_ops.ts`). */
import { W } from "./args.ts";
import { type Device, DEVICE_TYPE, parseDevice } from "./device.ts";
import { call1, callN, op, type OpRef, type RawResult } from "./dispatch.ts";
import { assertDType, type DType, DTYPE_CODE } from "./dtype.ts";
import { TensorCore } from "./core.ts";
import { formatTensor } from "./format.ts";
import { CMP_OPS, O, UNARY_OPS } from "./method_ops.ts";
import { lib, TorchError } from "./runtime.ts";
import { track } from "./scope.ts";
import { type ShapeArgs, shapeFrom } from "./shape_args.ts";

/** PyTorch's `Number` / Scalar argument: a number or a boolean. */
export type Scalar = number | boolean;
/** One dimension or several (PyTorch's `int` or tuple of ints for `dim`). */
export type Dims = number | readonly number[];

const dimList = (d: Dims): readonly number[] => (typeof d === "number" ? [d] : d);

/** Wraps a fresh handle (0 = undefined result → error) as a tracked Tensor. */
export function fromHandle(h: number): Tensor {
  const t = new Tensor(h);
  track(t);
  return t;
}

function result1(o: OpRef): Tensor {
  const h = call1(o);
  if (h === 0) throw new TorchError("operator returned no tensor", o.label);
  return fromHandle(h);
}

/** Turns raw results into Tensors (tracked), numbers and arrays. */
export function wrapRaw(r: RawResult): unknown {
  if (r === null || typeof r !== "object") return r;
  if (Array.isArray(r)) return r.map(wrapRaw);
  return fromHandle(r.handle);
}

function pair(o: OpRef): { values: Tensor; indices: Tensor } {
  const [values, indices] = callN(o).map(wrapRaw) as Tensor[];
  return { values, indices };
}

function list(o: OpRef): Tensor[] {
  return wrapRaw(callN(o)[0]) as Tensor[];
}

/** Writes an optional ScalarType argument. */
function encodeDtype(d: DType | undefined) {
  if (d === undefined) W.none();
  else W.int(DTYPE_CODE[assertDType(d)]);
}

/** `torch.Tensor`: a handle to a libtorch tensor with PyTorch's methods, named in camelCase
 * with keyword arguments in an options object. Free it with `dispose()` / `using`, or create it
 * inside `torch.scope()`; every other operator is in `torch.ops.aten`.
 *
 * @example Methods chain as in PyTorch
 * ```ts
 * import assert from "node:assert/strict";
 * import { torch } from "../../mod.ts";
 * torch.scope(() => {
 *   const x = torch.arange(6).reshape(2, 3);
 *   assert.deepEqual(x.mul(2).sum(1).toArray(), [6, 24]);
 *   assert.deepEqual(x.reshape([3, 2]).shape, [3, 2]);
 *   assert.deepEqual(x.maxDim(1).indices.toArray(), [2, 2]);
 * });
 * ```
 */
export class Tensor extends TensorCore {
  /** `str(t)`: what PyTorch prints, e.g. `tensor([1., 2.], requires_grad=True)`. */
  override toString(): string {
    return formatTensor(this);
  }
  /** How `console.log` and Deno's inspector show a tensor: its `toString()`. */
  [Symbol.for("Deno.customInspect")](): string {
    return this._h === 0 ? "tensor(<disposed>)" : formatTensor(this);
  }

  // ---- conversion ----
  /** `torch.Tensor.to(dtype | device, copy=...)`: a copy with another dtype or device, or this
   * tensor's alias if nothing changes (unless `copy`). */
  to(target: DType | Device, opts: { copy?: boolean } = {}): Tensor {
    if (Object.hasOwn(DTYPE_CODE, target)) {
      W.reset().handle(this.handle).int(DTYPE_CODE[target as DType]).bool(false).bool(
        opts.copy ?? false,
      );
      return result1(O.toDtype);
    }
    const { type, index } = parseDevice(target);
    W.reset().handle(this.handle).device(type, index).int(DTYPE_CODE[this.dtype]).bool(false)
      .bool(opts.copy ?? false);
    return result1(O.toDevice);
  }
  /** `torch.Tensor.cpu()`: `to("cpu")`. */
  cpu(): Tensor {
    return this.to("cpu");
  }
  /** `torch.Tensor.cuda(index)`: `to("cuda:<index>")`. */
  cuda(index = 0): Tensor {
    return this.to(`cuda:${index}`);
  }
  /** `torch.Tensor.float()`: `to("float32")`. */
  float(): Tensor {
    return this.to("float32");
  }
  /** `torch.Tensor.double()`: `to("float64")`. */
  double(): Tensor {
    return this.to("float64");
  }
  /** `torch.Tensor.long()`: `to("int64")`. */
  long(): Tensor {
    return this.to("int64");
  }
  /** `torch.Tensor.clone()`: a copy with its own storage, recorded by autograd. */
  clone(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.clone);
  }
  /** `torch.Tensor.detach()`: the same storage, cut from the autograd graph. */
  detach(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.detach);
  }

  // ---- arithmetic ----
  #binary(t: OpRef, s: OpRef, other: Tensor | Scalar): Tensor {
    W.reset().handle(this.handle);
    if (other instanceof Tensor) {
      W.handle(other.handle);
      return result1(t);
    }
    W.scalar(other);
    return result1(s);
  }
  /** `torch.Tensor.add(other, alpha=...)`: `this + alpha * other`, broadcasting. */
  add(other: Tensor | Scalar, alpha?: number): Tensor {
    W.reset().handle(this.handle);
    if (other instanceof Tensor) {
      W.handle(other.handle);
      if (alpha !== undefined) W.scalar(alpha);
      return result1(O.add);
    }
    W.scalar(other);
    if (alpha !== undefined) W.scalar(alpha);
    return result1(O.addS);
  }
  /** `torch.Tensor.sub(other, alpha=...)`: `this - alpha * other`, broadcasting. */
  sub(other: Tensor | Scalar, alpha?: number): Tensor {
    W.reset().handle(this.handle);
    if (other instanceof Tensor) {
      W.handle(other.handle);
      if (alpha !== undefined) W.scalar(alpha);
      return result1(O.sub);
    }
    W.scalar(other);
    if (alpha !== undefined) W.scalar(alpha);
    return result1(O.subS);
  }
  /** `torch.rsub(t, other)`: `other - this` for a scalar `other` (Python's `2 - t`). */
  rsub(other: Scalar): Tensor {
    W.reset().handle(this.handle).scalar(other);
    return result1(O.rsubS);
  }
  /** `torch.Tensor.mul`: elementwise product, broadcasting. */
  mul(other: Tensor | Scalar): Tensor {
    return this.#binary(O.mul, O.mulS, other);
  }
  /** `torch.Tensor.div(other, rounding_mode=...)`: true division, or rounded with
   * `roundingMode` `"trunc"` or `"floor"`. */
  div(other: Tensor | Scalar, opts: { roundingMode?: "trunc" | "floor" } = {}): Tensor {
    if (opts.roundingMode) {
      const o = other instanceof Tensor ? other : full([], other, { dtype: this.dtype });
      try {
        W.reset().handle(this.handle).handle(o.handle).str(opts.roundingMode);
        return result1(O.divMode);
      } finally {
        if (o !== other) o.dispose();
      }
    }
    return this.#binary(O.div, O.divS, other);
  }
  /** `torch.Tensor.pow`: elementwise power. */
  pow(exponent: Tensor | Scalar): Tensor {
    return this.#binary(O.powT, O.powS, exponent);
  }
  /** `torch.Tensor.remainder`: Python's `%` (the result has the divisor's sign). */
  remainder(other: Tensor | Scalar): Tensor {
    return this.#binary(O.remainder, O.remainderS, other);
  }
  /** `torch.Tensor.maximum`: elementwise maximum of two tensors. */
  maximum(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.maximum);
  }
  /** `torch.Tensor.minimum`: elementwise minimum of two tensors. */
  minimum(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.minimum);
  }
  /** `torch.Tensor.clamp(min, max)`: limits the elements to `[min, max]`; either bound may
   * be omitted; both numbers or both tensors. */
  clamp(min?: number | Tensor | null, max?: number | Tensor | null): Tensor {
    W.reset().handle(this.handle);
    if (min instanceof Tensor || max instanceof Tensor) {
      for (const b of [min, max]) {
        if (b instanceof Tensor) W.handle(b.handle);
        else if (b === null || b === undefined) W.none();
        else throw new TorchError("clamp: give both bounds as tensors, or both as numbers");
      }
      return result1(O.clampT);
    }
    for (const b of [min, max]) b === null || b === undefined ? W.none() : W.scalar(b);
    return result1(O.clamp);
  }
  /** `torch.Tensor.eq` (`==`): elementwise, a bool tensor. */
  eq(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.eq.t, CMP_OPS.eq.s, other);
  }
  /** `torch.Tensor.ne` (`!=`): elementwise, a bool tensor. */
  ne(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.ne.t, CMP_OPS.ne.s, other);
  }
  /** `torch.Tensor.lt` (`<`): elementwise, a bool tensor. */
  lt(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.lt.t, CMP_OPS.lt.s, other);
  }
  /** `torch.Tensor.le` (`<=`): elementwise, a bool tensor. */
  le(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.le.t, CMP_OPS.le.s, other);
  }
  /** `torch.Tensor.gt` (`>`): elementwise, a bool tensor. */
  gt(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.gt.t, CMP_OPS.gt.s, other);
  }
  /** `torch.Tensor.ge` (`>=`): elementwise, a bool tensor. */
  ge(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.ge.t, CMP_OPS.ge.s, other);
  }

  // ---- elementwise unary ----
  #unary(o: OpRef): Tensor {
    W.reset().handle(this.handle);
    return result1(o);
  }
  /** `torch.Tensor.neg`: `-x`. */
  neg(): Tensor {
    return this.#unary(UNARY_OPS.neg);
  }
  /** `torch.Tensor.abs`: `|x|`. */
  abs(): Tensor {
    return this.#unary(UNARY_OPS.abs);
  }
  /** `torch.Tensor.sqrt`: the square root. */
  sqrt(): Tensor {
    return this.#unary(UNARY_OPS.sqrt);
  }
  /** `torch.Tensor.rsqrt`: `1 / sqrt(x)`. */
  rsqrt(): Tensor {
    return this.#unary(UNARY_OPS.rsqrt);
  }
  /** `torch.Tensor.exp`: `e^x`. */
  exp(): Tensor {
    return this.#unary(UNARY_OPS.exp);
  }
  /** `torch.Tensor.log`: the natural logarithm. */
  log(): Tensor {
    return this.#unary(UNARY_OPS.log);
  }
  /** `torch.Tensor.log1p`: `log(1 + x)`, accurate for small `x`. */
  log1p(): Tensor {
    return this.#unary(UNARY_OPS.log1p);
  }
  /** `torch.Tensor.expm1`: `e^x - 1`, accurate for small `x`. */
  expm1(): Tensor {
    return this.#unary(UNARY_OPS.expm1);
  }
  /** `torch.Tensor.sin`: the sine (radians). */
  sin(): Tensor {
    return this.#unary(UNARY_OPS.sin);
  }
  /** `torch.Tensor.cos`: the cosine (radians). */
  cos(): Tensor {
    return this.#unary(UNARY_OPS.cos);
  }
  /** `torch.Tensor.tanh`: the hyperbolic tangent. */
  tanh(): Tensor {
    return this.#unary(UNARY_OPS.tanh);
  }
  /** `torch.Tensor.sigmoid`: `1 / (1 + e^-x)`. */
  sigmoid(): Tensor {
    return this.#unary(UNARY_OPS.sigmoid);
  }
  /** `torch.Tensor.relu`: `max(x, 0)`. */
  relu(): Tensor {
    return this.#unary(UNARY_OPS.relu);
  }
  /** `torch.nn.functional.silu`: `x * sigmoid(x)`. */
  silu(): Tensor {
    return this.#unary(UNARY_OPS.silu);
  }
  /** `torch.Tensor.floor`: rounds down. */
  floor(): Tensor {
    return this.#unary(UNARY_OPS.floor);
  }
  /** `torch.Tensor.ceil`: rounds up. */
  ceil(): Tensor {
    return this.#unary(UNARY_OPS.ceil);
  }
  /** `torch.Tensor.round`: rounds half to even, as PyTorch. */
  round(): Tensor {
    return this.#unary(UNARY_OPS.round);
  }
  /** `torch.Tensor.sign`: -1, 0 or 1. */
  sign(): Tensor {
    return this.#unary(UNARY_OPS.sign);
  }
  /** `torch.Tensor.reciprocal`: `1 / x`. */
  reciprocal(): Tensor {
    return this.#unary(UNARY_OPS.reciprocal);
  }
  /** `torch.Tensor.logical_not`: elementwise NOT, a bool tensor. */
  logicalNot(): Tensor {
    return this.#unary(UNARY_OPS.logicalNot);
  }
  /** `torch.Tensor.isnan`: where the elements are NaN, a bool tensor. */
  isnan(): Tensor {
    return this.#unary(UNARY_OPS.isnan);
  }
  /** `torch.Tensor.isfinite`: where the elements are neither infinite nor NaN, a bool tensor. */
  isfinite(): Tensor {
    return this.#unary(UNARY_OPS.isfinite);
  }
  /** `torch.nn.functional.gelu(x, approximate=...)`: the exact GELU, or its tanh
   * approximation. */
  gelu(opts: { approximate?: "none" | "tanh" } = {}): Tensor {
    W.reset().handle(this.handle).str(opts.approximate ?? "none");
    return result1(O.gelu);
  }
  /** `torch.nn.functional.leaky_relu(x, negative_slope)`. */
  leakyRelu(negativeSlope = 0.01): Tensor {
    W.reset().handle(this.handle).scalar(negativeSlope);
    return result1(O.leakyRelu);
  }
  /** `torch.Tensor.softmax(dim, dtype=...)`: along `dim` (required, as PyTorch advises),
   * computed in `dtype` when given. */
  softmax(dim: number, dtype?: DType): Tensor {
    W.reset().handle(this.handle).int(dim);
    encodeDtype(dtype);
    return result1(O.softmax);
  }
  /** `torch.Tensor.log_softmax(dim, dtype=...)`: `log(softmax(x))`, computed stably. */
  logSoftmax(dim: number, dtype?: DType): Tensor {
    W.reset().handle(this.handle).int(dim);
    encodeDtype(dtype);
    return result1(O.logSoftmax);
  }

  // ---- linear algebra ----
  /** `torch.Tensor.matmul` (`@`): matrix product with PyTorch's broadcasting rules. */
  matmul(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.matmul);
  }
  /** `torch.Tensor.mm`: product of two 2-d matrices (no broadcasting). */
  mm(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.mm);
  }
  /** `torch.Tensor.bmm`: batched product of two 3-d tensors. */
  bmm(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.bmm);
  }

  // ---- reductions ----
  #reduce(
    all: OpRef,
    byDim: OpRef,
    dim: Dims | null | undefined,
    opts: { keepdim?: boolean; dtype?: DType },
  ): Tensor {
    W.reset().handle(this.handle);
    if (dim === undefined || dim === null) {
      if (!opts.keepdim) {
        encodeDtype(opts.dtype);
        return result1(all);
      }
      W.none();
    } else W.ints(dimList(dim));
    W.bool(opts.keepdim ?? false);
    encodeDtype(opts.dtype);
    return result1(byDim);
  }
  /** `torch.Tensor.sum(dim, keepdim=..., dtype=...)`: over `dim` (one or several), or over
   * all elements. */
  sum(dim?: Dims | null, opts: { keepdim?: boolean; dtype?: DType } = {}): Tensor {
    return this.#reduce(O.sum, O.sumDim, dim, opts);
  }
  /** `torch.Tensor.mean(dim, keepdim=..., dtype=...)`: over `dim` (one or several), or over
   * all elements. */
  mean(dim?: Dims | null, opts: { keepdim?: boolean; dtype?: DType } = {}): Tensor {
    return this.#reduce(O.mean, O.meanDim, dim, opts);
  }
  /** `torch.Tensor.max()`: the maximum of all elements (a 0-d tensor); for PyTorch's
   * `max(dim)`, see `maxDim`. */
  max(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.max);
  }
  /** `torch.Tensor.max(dim, keepdim)`: the maximum along `dim`, values and their indices. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    W.reset().handle(this.handle).int(dim).bool(keepdim);
    return pair(O.maxDim);
  }
  /** `torch.Tensor.min()`: the minimum of all elements (a 0-d tensor); with a dim, see
   * `minDim`. */
  min(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.min);
  }
  /** `torch.Tensor.min(dim, keepdim)`: the minimum along `dim`, values and their indices. */
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    W.reset().handle(this.handle).int(dim).bool(keepdim);
    return pair(O.minDim);
  }
  /** `torch.Tensor.amax(dim, keepdim)`: the maximum over `dim` (all dims by default). */
  amax(dim: Dims = [], keepdim = false): Tensor {
    W.reset().handle(this.handle).ints(dimList(dim)).bool(keepdim);
    return result1(O.amax);
  }
  /** `torch.Tensor.amin(dim, keepdim)`: the minimum over `dim` (all dims by default). */
  amin(dim: Dims = [], keepdim = false): Tensor {
    W.reset().handle(this.handle).ints(dimList(dim)).bool(keepdim);
    return result1(O.amin);
  }
  /** `torch.Tensor.argmax(dim, keepdim)`: the index of the maximum along `dim`, or in the
   * flattened tensor. */
  argmax(dim?: number, keepdim = false): Tensor {
    W.reset().handle(this.handle);
    dim === undefined ? W.none() : W.int(dim);
    W.bool(keepdim);
    return result1(O.argmax);
  }
  /** `torch.Tensor.argmin(dim, keepdim)`: the index of the minimum along `dim`, or in the
   * flattened tensor. */
  argmin(dim?: number, keepdim = false): Tensor {
    W.reset().handle(this.handle);
    dim === undefined ? W.none() : W.int(dim);
    W.bool(keepdim);
    return result1(O.argmin);
  }
  /** `torch.Tensor.logsumexp(dim, keepdim)`: `log(sum(exp(x)))` over `dim`, computed stably. */
  logsumexp(dim: Dims, keepdim = false): Tensor {
    W.reset().handle(this.handle).ints(dimList(dim)).bool(keepdim);
    return result1(O.logsumexp);
  }
  /** `torch.Tensor.std(dim, correction=..., keepdim=...)`: the standard deviation;
   * `correction` 1 (the default) is Bessel's. */
  std(dim?: Dims | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return this.#moment(O.std, dim, opts);
  }
  /** `torch.Tensor.var(dim, correction=..., keepdim=...)`: the variance; `correction` 1 (the
   * default) is Bessel's. */
  var(dim?: Dims | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return this.#moment(O.var, dim, opts);
  }
  #moment(
    o: OpRef,
    dim: Dims | null | undefined,
    opts: { correction?: number; keepdim?: boolean },
  ) {
    W.reset().handle(this.handle);
    dim === undefined || dim === null ? W.none() : W.ints(dimList(dim));
    W.scalar(opts.correction ?? 1).bool(opts.keepdim ?? false);
    return result1(o);
  }
  /** `torch.linalg.vector_norm(x, ord=p, dim, keepdim)`: the vector p-norm over `dim` (all
   * elements by default), as `Tensor.norm` computes it for vectors. */
  norm(p = 2, dim?: Dims | null, keepdim = false): Tensor {
    W.reset().handle(this.handle).scalar(p);
    dim === undefined || dim === null ? W.none() : W.ints(dimList(dim));
    W.bool(keepdim);
    return result1(O.norm);
  }
  /** `torch.Tensor.prod()`: the product of all elements. */
  prod(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.prod);
  }
  /** `torch.Tensor.all()`: whether every element is nonzero (a 0-d bool tensor). */
  all(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.all);
  }
  /** `torch.Tensor.any()`: whether some element is nonzero (a 0-d bool tensor). */
  any(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.any);
  }

  // ---- shape ----
  /** `torch.Tensor.view(*shape)`: the same storage in another shape (`-1` infers one size);
   * `view(2, 3)` or `view([2, 3])`. */
  view(...shape: ShapeArgs): Tensor {
    W.reset().handle(this.handle).ints(shapeFrom(shape));
    return result1(O.view);
  }
  /** `torch.Tensor.reshape(*shape)`: a view if possible, else a copy; `reshape(2, 3)` or
   * `reshape([2, 3])`. */
  reshape(...shape: ShapeArgs): Tensor {
    W.reset().handle(this.handle).ints(shapeFrom(shape));
    return result1(O.reshape);
  }
  /** `torch.Tensor.permute(*dims)`: reorders the dimensions; `permute(2, 0, 1)` or
   * `permute([2, 0, 1])`. */
  permute(...dims: ShapeArgs): Tensor {
    W.reset().handle(this.handle).ints(shapeFrom(dims));
    return result1(O.permute);
  }
  /** `torch.Tensor.transpose(dim0, dim1)`: swaps two dimensions (a view). */
  transpose(dim0: number, dim1: number): Tensor {
    W.reset().handle(this.handle).int(dim0).int(dim1);
    return result1(O.transpose);
  }
  /** `torch.Tensor.mT`: the transpose of the last two dimensions. */
  get mT(): Tensor {
    return this.transpose(-2, -1);
  }
  /** `torch.Tensor.contiguous()`: this tensor if row-major already, else a row-major copy. */
  contiguous(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.contiguous);
  }
  /** `torch.Tensor.flatten(start_dim, end_dim)`: merges dimensions `startDim..endDim`. */
  flatten(startDim = 0, endDim = -1): Tensor {
    W.reset().handle(this.handle).int(startDim).int(endDim);
    return result1(O.flatten);
  }
  /** `torch.Tensor.squeeze(dim)`: drops size-1 dimensions (all of them, or those in `dim`). */
  squeeze(dim?: Dims): Tensor {
    W.reset().handle(this.handle);
    if (dim === undefined) return result1(O.squeeze);
    W.ints(dimList(dim));
    return result1(O.squeezeDims);
  }
  /** `torch.Tensor.unsqueeze(dim)`: inserts a size-1 dimension at `dim`. */
  unsqueeze(dim: number): Tensor {
    W.reset().handle(this.handle).int(dim);
    return result1(O.unsqueeze);
  }
  /** `torch.Tensor.expand(*sizes)`: broadcasts size-1 dimensions without copying (`-1` keeps
   * a size); `expand(4, 3)` or `expand([4, 3])`. */
  expand(...shape: ShapeArgs): Tensor {
    W.reset().handle(this.handle).ints(shapeFrom(shape));
    return result1(O.expand);
  }
  /** `torch.Tensor.expand_as(other)`: `expand(other.shape)`. */
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  /** `torch.Tensor.repeat(*repeats)`: tiles the tensor (copies); `repeat(2, 1)` or
   * `repeat([2, 1])`. */
  repeat(...repeats: ShapeArgs): Tensor {
    W.reset().handle(this.handle).ints(shapeFrom(repeats));
    return result1(O.repeat);
  }
  /** `torch.Tensor.split(split_size_or_sections, dim)`: pieces of `size` (a number; the last
   * may be shorter) or of the given sizes. */
  split(size: number | readonly number[], dim = 0): Tensor[] {
    W.reset().handle(this.handle);
    if (typeof size === "number") {
      W.int(size).int(dim);
      return list(O.split);
    }
    W.ints(size).int(dim);
    return list(O.splitSizes);
  }
  /** `torch.Tensor.chunk(chunks, dim)`: at most `chunks` pieces of equal size (the last may be
   * smaller). */
  chunk(chunks: number, dim = 0): Tensor[] {
    W.reset().handle(this.handle).int(chunks).int(dim);
    return list(O.chunk);
  }
  /** `torch.Tensor.narrow(dim, start, length)`: `length` entries from `start` along `dim`
   * (a view). */
  narrow(dim: number, start: number, length: number): Tensor {
    W.reset().handle(this.handle).int(dim).int(start).int(length);
    return result1(O.narrow);
  }
  /** `torch.Tensor.select(dim, index)`: Python's `x[..., index]` at `dim`, which drops the
   * dimension (a view). */
  select(dim: number, index: number): Tensor {
    W.reset().handle(this.handle).int(dim).int(index);
    return result1(O.select);
  }
  /** Python's `x[start:end:step]` along `dim` (ATen's `slice`; a view). */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    W.reset().handle(this.handle).int(dim);
    start === undefined || start === null ? W.none() : W.int(start);
    end === undefined || end === null ? W.none() : W.int(end);
    W.int(step);
    return result1(O.slice);
  }
  /** `torch.Tensor.index_select(dim, index)`: the entries at the int64 `index` along `dim`. */
  indexSelect(dim: number, index: Tensor): Tensor {
    W.reset().handle(this.handle).int(dim).handle(index.handle);
    return result1(O.indexSelect);
  }
  /** Advanced indexing `x[i0, i1, ...]` with index tensors (null = `:`). */
  index(indices: readonly (Tensor | null)[]): Tensor {
    W.reset().handle(this.handle).handles(indices.map((t) => (t ? t.handle : 0)), true);
    return result1(O.index);
  }
  /** `torch.Tensor.gather(dim, index)`: `out[i][j] = x[index[i][j]][j]` for `dim` 0, and so
   * on. */
  gather(dim: number, index: Tensor): Tensor {
    W.reset().handle(this.handle).int(dim).handle(index.handle);
    return result1(O.gather);
  }
  /** `torch.Tensor.scatter(dim, index, src | value)`: a copy with `src` (or the scalar)
   * written at `index` along `dim`; the inverse of `gather`. */
  scatter(dim: number, index: Tensor, src: Tensor | Scalar): Tensor {
    W.reset().handle(this.handle).int(dim).handle(index.handle);
    if (src instanceof Tensor) {
      W.handle(src.handle);
      return result1(O.scatter);
    }
    W.scalar(src);
    return result1(O.scatterV);
  }
  /** `torch.Tensor.scatter_add(dim, index, src)`: a copy with `src` added at `index` along
   * `dim` (repeated indices add up). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    W.reset().handle(this.handle).int(dim).handle(index.handle).handle(src.handle);
    return result1(O.scatterAdd);
  }
  /** `torch.Tensor.masked_fill(mask, value)`: a copy with `value` where the bool `mask` is
   * true. */
  maskedFill(mask: Tensor, value: Tensor | Scalar): Tensor {
    W.reset().handle(this.handle).handle(mask.handle);
    if (value instanceof Tensor) {
      W.handle(value.handle);
      return result1(O.maskedFillT);
    }
    W.scalar(value);
    return result1(O.maskedFill);
  }
  /** `torch.Tensor.topk(k, dim=-1, largest=True, sorted=True)`: the `k` largest (or
   * smallest) entries along `dim` and their indices. */
  topk(k: number, opts: { dim?: number; largest?: boolean; sorted?: boolean } = {}): {
    values: Tensor;
    indices: Tensor;
  } {
    W.reset().handle(this.handle).int(k).int(opts.dim ?? -1).bool(opts.largest ?? true).bool(
      opts.sorted ?? true,
    );
    return pair(O.topk);
  }
  /** `torch.Tensor.sort(dim=-1, descending=False)`: sorted values along `dim` and where they
   * came from. */
  sort(opts: { dim?: number; descending?: boolean } = {}): { values: Tensor; indices: Tensor } {
    W.reset().handle(this.handle).int(opts.dim ?? -1).bool(opts.descending ?? false);
    return pair(O.sort);
  }

  // ---- in place (return this) ----
  #inplace(o: OpRef): this {
    const h = call1(o);
    if (h !== 0) lib.dt_tensor_free(h); // the result aliases this tensor
    this._invalidate();
    return this;
  }
  /** `torch.Tensor.add_(other, alpha=...)`: `this += alpha * other`; returns this tensor. */
  add_(other: Tensor | Scalar, alpha?: number): this {
    W.reset().handle(this.handle);
    other instanceof Tensor ? W.handle(other.handle) : W.scalar(other);
    if (alpha !== undefined) W.scalar(alpha);
    return this.#inplace(other instanceof Tensor ? O.add_ : O.addS_);
  }
  /** `torch.Tensor.sub_(other, alpha=...)`: `this -= alpha * other`; returns this tensor. */
  sub_(other: Tensor, alpha?: number): this {
    W.reset().handle(this.handle).handle(other.handle);
    if (alpha !== undefined) W.scalar(alpha);
    return this.#inplace(O.sub_);
  }
  /** `torch.Tensor.mul_`: `this *= other`; returns this tensor. */
  mul_(other: Tensor | Scalar): this {
    W.reset().handle(this.handle);
    other instanceof Tensor ? W.handle(other.handle) : W.scalar(other);
    return this.#inplace(other instanceof Tensor ? O.mul_ : O.mulS_);
  }
  /** `torch.Tensor.div_`: `this /= other`; returns this tensor. */
  div_(other: Tensor | Scalar): this {
    W.reset().handle(this.handle);
    other instanceof Tensor ? W.handle(other.handle) : W.scalar(other);
    return this.#inplace(other instanceof Tensor ? O.div_ : O.divS_);
  }
  /** `torch.Tensor.zero_()`: fills with zeros; returns this tensor. */
  zero_(): this {
    W.reset().handle(this.handle);
    return this.#inplace(O.zero_);
  }
  /** `torch.Tensor.fill_(value)`: fills with `value`; returns this tensor. */
  fill_(value: Scalar): this {
    W.reset().handle(this.handle).scalar(value);
    return this.#inplace(O.fill_);
  }
  /** `torch.Tensor.copy_(src)`: copies `src` (broadcast, converted) into this tensor. */
  copy_(src: Tensor): this {
    W.reset().handle(this.handle).handle(src.handle);
    return this.#inplace(O.copy_);
  }
  /** `torch.Tensor.clamp_(min, max)`: `clamp` in place; returns this tensor. */
  clamp_(min?: number | null, max?: number | null): this {
    W.reset().handle(this.handle);
    for (const b of [min, max]) b === null || b === undefined ? W.none() : W.scalar(b);
    return this.#inplace(O.clamp_);
  }
}

/** `torch.full(size, fill_value)`: a tensor of `shape` filled with `value` (float32 unless a
 * dtype is given). Here, not in `creation.ts`, because `div` needs a 0-d operand. */
export function full(
  shape: readonly number[],
  value: Scalar,
  opts: { dtype?: DType; device?: Device } = {},
): Tensor {
  W.reset().ints(shape).scalar(value);
  W.int(DTYPE_CODE[assertDType(opts.dtype ?? "float32")]).none();
  if (opts.device) {
    const d = parseDevice(opts.device);
    W.device(d.type, d.index);
  } else W.none();
  W.none();
  return result1(FULL);
}
const FULL = op("aten::full");

/** @internal shared helpers for the functional layer. */
export const internal = { result1, pair, list, encodeDtype, DEVICE_TYPE };

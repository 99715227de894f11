/** The Tensor class: a handle to a libtorch tensor plus PyTorch's method surface. */
import { W } from "./args.ts";
import { type Device, DEVICE_TYPE, deviceName, parseDevice } from "./device.ts";
import { call1, callN, op, type OpRef, type RawResult } from "./dispatch.ts";
import {
  assertDType,
  type DType,
  DTYPE_BYTES,
  DTYPE_CODE,
  dtypeOfCode,
  type HostArray,
} from "./dtype.ts";
import { formatTensor } from "./format.ts";
import { checkWarnings, lastError, lib, readCString, TorchError } from "./runtime.ts";
import { type Owned, setTensorPredicate, track, untrackBackstop } from "./scope.ts";

/** A number, a boolean, or a 0-d value usable where PyTorch takes a Scalar. */
export type Scalar = number | boolean;
/** One dimension or several. */
export type Dims = number | readonly number[];

const META_CAP = 7 + 2 * 64;
const metaBuf = new BigInt64Array(META_CAP);
const metaPtr = Deno.UnsafePointer.of(metaBuf);

interface Meta {
  dtype: DType;
  device: Device;
  shape: number[];
  strides: number[];
  numel: number;
}

const O = {
  add: op("aten::add", "Tensor"),
  addS: op("aten::add", "Scalar"),
  sub: op("aten::sub", "Tensor"),
  subS: op("aten::sub", "Scalar"),
  rsubS: op("aten::rsub", "Scalar"),
  mul: op("aten::mul", "Tensor"),
  mulS: op("aten::mul", "Scalar"),
  div: op("aten::div", "Tensor"),
  divS: op("aten::div", "Scalar"),
  divMode: op("aten::div", "Tensor_mode"),
  powT: op("aten::pow", "Tensor_Tensor"),
  powS: op("aten::pow", "Tensor_Scalar"),
  remainder: op("aten::remainder", "Tensor"),
  remainderS: op("aten::remainder", "Scalar"),
  maximum: op("aten::maximum"),
  minimum: op("aten::minimum"),
  clamp: op("aten::clamp"),
  clampT: op("aten::clamp", "Tensor"),
  where: op("aten::where", "self"),
  whereSO: op("aten::where", "ScalarOther"),
  whereSS: op("aten::where", "ScalarSelf"),
  whereS: op("aten::where", "Scalar"),
  matmul: op("aten::matmul"),
  mm: op("aten::mm"),
  bmm: op("aten::bmm"),
  sum: op("aten::sum"),
  sumDim: op("aten::sum", "dim_IntList"),
  mean: op("aten::mean"),
  meanDim: op("aten::mean", "dim"),
  max: op("aten::max"),
  maxDim: op("aten::max", "dim"),
  min: op("aten::min"),
  minDim: op("aten::min", "dim"),
  amax: op("aten::amax"),
  amin: op("aten::amin"),
  argmax: op("aten::argmax"),
  argmin: op("aten::argmin"),
  logsumexp: op("aten::logsumexp"),
  std: op("aten::std", "correction"),
  var: op("aten::var", "correction"),
  norm: op("aten::linalg_vector_norm"),
  prod: op("aten::prod"),
  all: op("aten::all"),
  any: op("aten::any"),
  softmax: op("aten::softmax", "int"),
  logSoftmax: op("aten::log_softmax", "int"),
  gelu: op("aten::gelu"),
  leakyRelu: op("aten::leaky_relu"),
  view: op("aten::view"),
  reshape: op("aten::reshape"),
  permute: op("aten::permute"),
  transpose: op("aten::transpose", "int"),
  contiguous: op("aten::contiguous"),
  flatten: op("aten::flatten", "using_ints"),
  squeeze: op("aten::squeeze"),
  squeezeDims: op("aten::squeeze", "dims"),
  unsqueeze: op("aten::unsqueeze"),
  expand: op("aten::expand"),
  repeat: op("aten::repeat"),
  split: op("aten::split", "Tensor"),
  splitSizes: op("aten::split_with_sizes"),
  chunk: op("aten::chunk"),
  narrow: op("aten::narrow"),
  select: op("aten::select", "int"),
  slice: op("aten::slice", "Tensor"),
  indexSelect: op("aten::index_select"),
  index: op("aten::index", "Tensor"),
  gather: op("aten::gather"),
  scatter: op("aten::scatter", "src"),
  scatterV: op("aten::scatter", "value"),
  scatterAdd: op("aten::scatter_add"),
  maskedFill: op("aten::masked_fill", "Scalar"),
  maskedFillT: op("aten::masked_fill", "Tensor"),
  topk: op("aten::topk"),
  sort: op("aten::sort"),
  toDtype: op("aten::to", "dtype"),
  toDevice: op("aten::to", "device"),
  clone: op("aten::clone"),
  detach: op("aten::detach"),
  add_: op("aten::add_", "Tensor"),
  addS_: op("aten::add_", "Scalar"),
  mul_: op("aten::mul_", "Tensor"),
  mulS_: op("aten::mul_", "Scalar"),
  sub_: op("aten::sub_", "Tensor"),
  div_: op("aten::div_", "Tensor"),
  divS_: op("aten::div_", "Scalar"),
  zero_: op("aten::zero_"),
  fill_: op("aten::fill_", "Scalar"),
  copy_: op("aten::copy_"),
  clamp_: op("aten::clamp_"),
  requiresGrad_: op("aten::requires_grad_"),
  item: op("aten::item"),
  isContiguous: op("aten::is_contiguous"),
};

const CMP = ["eq", "ne", "lt", "le", "gt", "ge"] as const;
const CMP_OPS = Object.fromEntries(
  CMP.map((n) => [n, { t: op(`aten::${n}`, "Tensor"), s: op(`aten::${n}`, "Scalar") }]),
) as Record<(typeof CMP)[number], { t: OpRef; s: OpRef }>;

const UNARY = [
  "neg",
  "abs",
  "sqrt",
  "rsqrt",
  "exp",
  "log",
  "log1p",
  "expm1",
  "sin",
  "cos",
  "tanh",
  "sigmoid",
  "relu",
  "silu",
  "floor",
  "ceil",
  "round",
  "sign",
  "reciprocal",
  "logicalNot",
  "isnan",
  "isfinite",
] as const;
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
const UNARY_OPS = Object.fromEntries(UNARY.map((n) => [n, op(`aten::${snake(n)}`)])) as Record<
  (typeof UNARY)[number],
  OpRef
>;

/** Most JS values toFlat()/toArray() build: past it, V8 would die of heap
 * exhaustion, which no try/catch can stop. toTypedArray() has no such limit. */
const MAX_JS_VALUES = 2 ** 27;
function checkJsValues(what: string, n: number) {
  if (n > MAX_JS_VALUES) {
    throw new TorchError(
      `${what}: ${n} JS values (elements and nested arrays) exceed the ${MAX_JS_VALUES} limit; use toTypedArray()`,
    );
  }
}

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

/** A handle to a libtorch tensor. Free it with `dispose()` / `using`, or create
 * it inside `torch.scope()`. */
export class Tensor implements Owned, Disposable {
  /** @internal native handle; 0 once disposed. */
  _h: number;
  /** @internal kept past every scope. */
  _kept = false;
  #meta: Meta | null = null;
  #grad: Tensor | null = null;
  #gradId = 0;

  /** @internal use the creation functions instead. */
  constructor(handle: number) {
    this._h = handle;
  }

  /** The native handle; throws if the tensor was disposed. */
  get handle(): number {
    if (this._h === 0) throw new TorchError("tensor used after dispose()");
    return this._h;
  }

  /** @internal */
  _release(): number {
    const h = this._h;
    this._h = 0;
    this.#dropGrad();
    untrackBackstop(this);
    return h;
  }

  #dropGrad() {
    if (this.#grad) {
      const g = this.#grad._release();
      if (g !== 0) lib.dt_tensor_free(g);
      this.#grad = null;
      this.#gradId = 0;
    }
  }

  /** Frees the native tensor now. Safe to call twice. */
  dispose(): void {
    const h = this._release();
    if (h !== 0) lib.dt_tensor_free(h);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  get isDisposed(): boolean {
    return this._h === 0;
  }

  // ---- metadata ----
  #loadMeta(): Meta {
    if (this.#meta) return this.#meta;
    const nd = lib.dt_tensor_meta(this.handle, metaPtr, META_CAP);
    if (nd < 0) throw lastError("meta");
    const m = metaBuf;
    const shape: number[] = [];
    const strides: number[] = [];
    for (let i = 0; i < nd; i++) {
      shape.push(Number(m[7 + i]));
      strides.push(Number(m[7 + nd + i]));
    }
    this.#meta = {
      dtype: dtypeOfCode(Number(m[0])),
      device: deviceName(Number(m[1]), Number(m[2])),
      shape,
      strides,
      numel: Number(m[5]),
    };
    return this.#meta;
  }
  /** @internal forget cached metadata after an in-place op that may change it. */
  _invalidate(): void {
    this.#meta = null;
  }
  get shape(): number[] {
    return this.#loadMeta().shape.slice();
  }
  get strides(): number[] {
    return this.#loadMeta().strides.slice();
  }
  get dtype(): DType {
    return this.#loadMeta().dtype;
  }
  get device(): Device {
    return this.#loadMeta().device;
  }
  get ndim(): number {
    return this.#loadMeta().shape.length;
  }
  get numel(): number {
    return this.#loadMeta().numel;
  }
  /** Size of one dimension (negative counts from the end). */
  size(dim: number): number {
    const s = this.#loadMeta().shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (!Number.isInteger(d) || d < 0 || d >= s.length) {
      throw new TorchError(`dimension ${dim} out of range for a ${s.length}-d tensor`);
    }
    return s[d];
  }
  get requiresGrad(): boolean {
    if (lib.dt_tensor_meta(this.handle, metaPtr, META_CAP) < 0) throw lastError("meta");
    return metaBuf[3] !== 0n;
  }
  set requiresGrad(flag: boolean) {
    if (lib.dt_tensor_set_requires_grad(this.handle, flag ? 1 : 0) < 0) {
      throw lastError("requiresGrad");
    }
  }
  /** Sets requiresGrad in place and returns this tensor. */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }
  /** The autograd node that made this tensor, e.g. `"MulBackward0"` (PyTorch's `grad_fn`),
   * or null for a leaf or a tensor made without gradient recording. */
  get gradFn(): string | null {
    const name = readCString(lib.dt_tensor_grad_fn(this.handle));
    if (name === null) throw lastError("gradFn");
    return name === "" ? null : name;
  }
  get isLeaf(): boolean {
    if (lib.dt_tensor_meta(this.handle, metaPtr, META_CAP) < 0) throw lastError("meta");
    return metaBuf[4] !== 0n;
  }
  isContiguous(): boolean {
    W.reset().handle(this.handle);
    return callN(O.isContiguous)[0] as boolean;
  }

  // ---- data out ----
  /** Raw little-endian bytes of the elements (moved to CPU, contiguous). */
  toBuffer(): Uint8Array {
    const m = this.#loadMeta();
    const n = m.numel * DTYPE_BYTES[m.dtype];
    let out: Uint8Array;
    try {
      out = new Uint8Array(n);
    } catch {
      throw new TorchError(`cannot copy ${m.numel} elements (${n} bytes) into JS memory`);
    }
    if (lib.dt_tensor_copy_out(this.handle, out, BigInt(out.length)) < 0) {
      throw lastError("copy out");
    }
    return out;
  }
  /** Elements as a flat typed array. Half types are widened to float32. */
  toTypedArray(): HostArray {
    const d = this.dtype;
    if (d === "float16" || d === "bfloat16") {
      const f = this.to("float32");
      try {
        return f.toTypedArray();
      } finally {
        f.dispose();
      }
    }
    const b = this.toBuffer().buffer;
    switch (d) {
      case "float32":
        return new Float32Array(b);
      case "float64":
        return new Float64Array(b);
      case "int64":
        return new BigInt64Array(b);
      case "int32":
        return new Int32Array(b);
      case "int16":
        return new Int16Array(b);
      case "int8":
        return new Int8Array(b);
      default:
        return new Uint8Array(b);
    }
  }
  /** Elements as flat JS values (numbers, or booleans for bool tensors). */
  toFlat(): (number | boolean)[] {
    checkJsValues("toFlat", this.numel);
    const a = this.toTypedArray();
    if (this.dtype === "bool") return Array.from(a as Uint8Array, (x) => x !== 0);
    if (a instanceof BigInt64Array) return Array.from(a, Number);
    return Array.from(a as Float32Array);
  }
  /** Nested JS arrays in the tensor's shape (a bare value for 0-d tensors). */
  toArray(): unknown {
    const shape = this.shape;
    // Count the nested arrays too: [2**40, 0] holds no element but 2**40 arrays.
    let arrays = 0;
    for (let d = 0, n = 1; d < shape.length; n *= shape[d++]) arrays += n;
    checkJsValues("toArray", this.numel + arrays);
    const flat = this.toFlat();
    if (shape.length === 0) return flat[0];
    let i = 0;
    const build = (d: number): unknown[] => {
      const out: unknown[] = [];
      for (let k = 0; k < shape[d]; k++) {
        out.push(d === shape.length - 1 ? flat[i++] : build(d + 1));
      }
      return out;
    };
    return build(0);
  }
  /** The value of a one-element tensor. */
  item(): number {
    W.reset().handle(this.handle);
    const v = callN(O.item)[0];
    return typeof v === "boolean" ? Number(v) : v as number;
  }
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for("Deno.customInspect")](): string {
    return this._h === 0 ? "tensor(<disposed>)" : formatTensor(this);
  }

  // ---- conversion ----
  /** A copy (or this tensor's alias if nothing changes) with another dtype or device. */
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
  cpu(): Tensor {
    return this.to("cpu");
  }
  cuda(index = 0): Tensor {
    return this.to(`cuda:${index}`);
  }
  float(): Tensor {
    return this.to("float32");
  }
  double(): Tensor {
    return this.to("float64");
  }
  long(): Tensor {
    return this.to("int64");
  }
  clone(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.clone);
  }
  detach(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.detach);
  }

  // ---- autograd ----
  /** Backpropagates from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    const retain = opts.retainGraph === undefined ? -1 : opts.retainGraph ? 1 : 0;
    const rc = lib.dt_backward(
      this.handle,
      grad ? grad.handle : 0,
      retain,
      opts.createGraph ? 1 : 0,
    );
    checkWarnings();
    if (rc < 0) throw lastError("backward");
  }
  /** The accumulated gradient, or null. Owned by this tensor: the same wrapper
   * is returned while libtorch accumulates into the same tensor. */
  get grad(): Tensor | null {
    const id = lib.dt_tensor_grad_id(this.handle);
    checkWarnings(); // libtorch warns when .grad of a non-leaf is read
    if (id === 0) {
      this.#dropGrad();
      return null;
    }
    if (id !== this.#gradId || this.#grad === null) {
      this.#dropGrad();
      const h = lib.dt_tensor_grad(this.handle);
      if (h === 0) throw lastError("grad");
      this.#grad = new Tensor(h);
      this.#gradId = id;
    }
    return this.#grad;
  }
  set grad(g: Tensor | null) {
    // PyTorch's checks on `.grad =` (libtorch's mutable_grad() has none).
    if (g) {
      if (g === this) throw new TorchError("can't assign a tensor as its own grad");
      if (
        g.dtype !== this.dtype || g.device !== this.device || g.shape.join() !== this.shape.join()
      ) {
        throw new TorchError(
          `assigned grad (${g.dtype}, [${g.shape}], ${g.device}) does not match the tensor (${this.dtype}, [${this.shape}], ${this.device})`,
        );
      }
    }
    if (lib.dt_tensor_set_grad(this.handle, g ? g.handle : 0) < 0) throw lastError("grad");
    // Free the cached wrapper of the old grad now, not at the next `.grad` read
    // (else zeroGrad() would hold every old gradient alive).
    if (g !== this.#grad) this.#dropGrad();
  }
  /** Drops the gradient (PyTorch's `set_to_none=True`). */
  zeroGrad(): void {
    this.grad = null;
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
  /** `other - this` for a scalar `other`. */
  rsub(other: Scalar): Tensor {
    W.reset().handle(this.handle).scalar(other);
    return result1(O.rsubS);
  }
  mul(other: Tensor | Scalar): Tensor {
    return this.#binary(O.mul, O.mulS, other);
  }
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
  pow(exponent: Tensor | Scalar): Tensor {
    return this.#binary(O.powT, O.powS, exponent);
  }
  remainder(other: Tensor | Scalar): Tensor {
    return this.#binary(O.remainder, O.remainderS, other);
  }
  maximum(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.maximum);
  }
  minimum(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.minimum);
  }
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
  // comparisons (bool results)
  eq(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.eq.t, CMP_OPS.eq.s, other);
  }
  ne(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.ne.t, CMP_OPS.ne.s, other);
  }
  lt(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.lt.t, CMP_OPS.lt.s, other);
  }
  le(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.le.t, CMP_OPS.le.s, other);
  }
  gt(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.gt.t, CMP_OPS.gt.s, other);
  }
  ge(other: Tensor | Scalar): Tensor {
    return this.#binary(CMP_OPS.ge.t, CMP_OPS.ge.s, other);
  }

  // ---- elementwise unary ----
  #unary(o: OpRef): Tensor {
    W.reset().handle(this.handle);
    return result1(o);
  }
  neg(): Tensor {
    return this.#unary(UNARY_OPS.neg);
  }
  abs(): Tensor {
    return this.#unary(UNARY_OPS.abs);
  }
  sqrt(): Tensor {
    return this.#unary(UNARY_OPS.sqrt);
  }
  rsqrt(): Tensor {
    return this.#unary(UNARY_OPS.rsqrt);
  }
  exp(): Tensor {
    return this.#unary(UNARY_OPS.exp);
  }
  log(): Tensor {
    return this.#unary(UNARY_OPS.log);
  }
  log1p(): Tensor {
    return this.#unary(UNARY_OPS.log1p);
  }
  expm1(): Tensor {
    return this.#unary(UNARY_OPS.expm1);
  }
  sin(): Tensor {
    return this.#unary(UNARY_OPS.sin);
  }
  cos(): Tensor {
    return this.#unary(UNARY_OPS.cos);
  }
  tanh(): Tensor {
    return this.#unary(UNARY_OPS.tanh);
  }
  sigmoid(): Tensor {
    return this.#unary(UNARY_OPS.sigmoid);
  }
  relu(): Tensor {
    return this.#unary(UNARY_OPS.relu);
  }
  silu(): Tensor {
    return this.#unary(UNARY_OPS.silu);
  }
  floor(): Tensor {
    return this.#unary(UNARY_OPS.floor);
  }
  ceil(): Tensor {
    return this.#unary(UNARY_OPS.ceil);
  }
  round(): Tensor {
    return this.#unary(UNARY_OPS.round);
  }
  sign(): Tensor {
    return this.#unary(UNARY_OPS.sign);
  }
  reciprocal(): Tensor {
    return this.#unary(UNARY_OPS.reciprocal);
  }
  logicalNot(): Tensor {
    return this.#unary(UNARY_OPS.logicalNot);
  }
  isnan(): Tensor {
    return this.#unary(UNARY_OPS.isnan);
  }
  isfinite(): Tensor {
    return this.#unary(UNARY_OPS.isfinite);
  }
  gelu(opts: { approximate?: "none" | "tanh" } = {}): Tensor {
    W.reset().handle(this.handle).str(opts.approximate ?? "none");
    return result1(O.gelu);
  }
  leakyRelu(negativeSlope = 0.01): Tensor {
    W.reset().handle(this.handle).scalar(negativeSlope);
    return result1(O.leakyRelu);
  }
  softmax(dim: number, dtype?: DType): Tensor {
    W.reset().handle(this.handle).int(dim);
    encodeDtype(dtype);
    return result1(O.softmax);
  }
  logSoftmax(dim: number, dtype?: DType): Tensor {
    W.reset().handle(this.handle).int(dim);
    encodeDtype(dtype);
    return result1(O.logSoftmax);
  }

  // ---- linear algebra ----
  matmul(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.matmul);
  }
  mm(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.mm);
  }
  bmm(other: Tensor): Tensor {
    W.reset().handle(this.handle).handle(other.handle);
    return result1(O.bmm);
  }

  // ---- reductions ----
  sum(dim?: Dims | null, opts: { keepdim?: boolean; dtype?: DType } = {}): Tensor {
    W.reset().handle(this.handle);
    if (dim === undefined || dim === null) {
      if (!opts.keepdim) {
        encodeDtype(opts.dtype);
        return result1(O.sum);
      }
      W.none();
    } else W.ints(dimList(dim));
    W.bool(opts.keepdim ?? false);
    encodeDtype(opts.dtype);
    return result1(O.sumDim);
  }
  mean(dim?: Dims | null, opts: { keepdim?: boolean; dtype?: DType } = {}): Tensor {
    W.reset().handle(this.handle);
    if (dim === undefined || dim === null) {
      if (!opts.keepdim) {
        encodeDtype(opts.dtype);
        return result1(O.mean);
      }
      W.none();
    } else W.ints(dimList(dim));
    W.bool(opts.keepdim ?? false);
    encodeDtype(opts.dtype);
    return result1(O.meanDim);
  }
  /** Maximum of all elements (a 0-d tensor). With a dim, see `maxDim`. */
  max(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.max);
  }
  /** Maximum along `dim`: values and their indices. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    W.reset().handle(this.handle).int(dim).bool(keepdim);
    return pair(O.maxDim);
  }
  min(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.min);
  }
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    W.reset().handle(this.handle).int(dim).bool(keepdim);
    return pair(O.minDim);
  }
  amax(dim: Dims = [], keepdim = false): Tensor {
    W.reset().handle(this.handle).ints(dimList(dim)).bool(keepdim);
    return result1(O.amax);
  }
  amin(dim: Dims = [], keepdim = false): Tensor {
    W.reset().handle(this.handle).ints(dimList(dim)).bool(keepdim);
    return result1(O.amin);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    W.reset().handle(this.handle);
    dim === undefined ? W.none() : W.int(dim);
    W.bool(keepdim);
    return result1(O.argmax);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    W.reset().handle(this.handle);
    dim === undefined ? W.none() : W.int(dim);
    W.bool(keepdim);
    return result1(O.argmin);
  }
  logsumexp(dim: Dims, keepdim = false): Tensor {
    W.reset().handle(this.handle).ints(dimList(dim)).bool(keepdim);
    return result1(O.logsumexp);
  }
  /** Standard deviation; `correction` 1 (default) is Bessel's. */
  std(dim?: Dims | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return this.#moment(O.std, dim, opts);
  }
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
  /** Vector p-norm over `dim` (all elements by default). */
  norm(p = 2, dim?: Dims | null, keepdim = false): Tensor {
    W.reset().handle(this.handle).scalar(p);
    dim === undefined || dim === null ? W.none() : W.ints(dimList(dim));
    W.bool(keepdim);
    return result1(O.norm);
  }
  prod(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.prod);
  }
  all(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.all);
  }
  any(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.any);
  }

  // ---- shape ----
  view(...shape: number[]): Tensor {
    W.reset().handle(this.handle).ints(shape);
    return result1(O.view);
  }
  reshape(...shape: number[]): Tensor {
    W.reset().handle(this.handle).ints(shape);
    return result1(O.reshape);
  }
  permute(...dims: number[]): Tensor {
    W.reset().handle(this.handle).ints(dims);
    return result1(O.permute);
  }
  transpose(dim0: number, dim1: number): Tensor {
    W.reset().handle(this.handle).int(dim0).int(dim1);
    return result1(O.transpose);
  }
  /** Transpose of the last two dimensions. */
  get mT(): Tensor {
    return this.transpose(-2, -1);
  }
  contiguous(): Tensor {
    W.reset().handle(this.handle);
    return result1(O.contiguous);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    W.reset().handle(this.handle).int(startDim).int(endDim);
    return result1(O.flatten);
  }
  squeeze(dim?: Dims): Tensor {
    W.reset().handle(this.handle);
    if (dim === undefined) return result1(O.squeeze);
    W.ints(dimList(dim));
    return result1(O.squeezeDims);
  }
  unsqueeze(dim: number): Tensor {
    W.reset().handle(this.handle).int(dim);
    return result1(O.unsqueeze);
  }
  expand(...shape: number[]): Tensor {
    W.reset().handle(this.handle).ints(shape);
    return result1(O.expand);
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(...other.shape);
  }
  repeat(...repeats: number[]): Tensor {
    W.reset().handle(this.handle).ints(repeats);
    return result1(O.repeat);
  }
  /** Splits into pieces of `size` (a number) or of the given sizes. */
  split(size: number | readonly number[], dim = 0): Tensor[] {
    W.reset().handle(this.handle);
    if (typeof size === "number") {
      W.int(size).int(dim);
      return list(O.split);
    }
    W.ints(size).int(dim);
    return list(O.splitSizes);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    W.reset().handle(this.handle).int(chunks).int(dim);
    return list(O.chunk);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    W.reset().handle(this.handle).int(dim).int(start).int(length);
    return result1(O.narrow);
  }
  select(dim: number, index: number): Tensor {
    W.reset().handle(this.handle).int(dim).int(index);
    return result1(O.select);
  }
  /** Python's `x[start:end:step]` along `dim`. */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    W.reset().handle(this.handle).int(dim);
    start === undefined || start === null ? W.none() : W.int(start);
    end === undefined || end === null ? W.none() : W.int(end);
    W.int(step);
    return result1(O.slice);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    W.reset().handle(this.handle).int(dim).handle(index.handle);
    return result1(O.indexSelect);
  }
  /** Advanced indexing `x[i0, i1, ...]` with index tensors (null = `:`). */
  index(indices: readonly (Tensor | null)[]): Tensor {
    W.reset().handle(this.handle).handles(indices.map((t) => (t ? t.handle : 0)), true);
    return result1(O.index);
  }
  gather(dim: number, index: Tensor): Tensor {
    W.reset().handle(this.handle).int(dim).handle(index.handle);
    return result1(O.gather);
  }
  scatter(dim: number, index: Tensor, src: Tensor | Scalar): Tensor {
    W.reset().handle(this.handle).int(dim).handle(index.handle);
    if (src instanceof Tensor) {
      W.handle(src.handle);
      return result1(O.scatter);
    }
    W.scalar(src);
    return result1(O.scatterV);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    W.reset().handle(this.handle).int(dim).handle(index.handle).handle(src.handle);
    return result1(O.scatterAdd);
  }
  maskedFill(mask: Tensor, value: Tensor | Scalar): Tensor {
    W.reset().handle(this.handle).handle(mask.handle);
    if (value instanceof Tensor) {
      W.handle(value.handle);
      return result1(O.maskedFillT);
    }
    W.scalar(value);
    return result1(O.maskedFill);
  }
  topk(k: number, opts: { dim?: number; largest?: boolean; sorted?: boolean } = {}): {
    values: Tensor;
    indices: Tensor;
  } {
    W.reset().handle(this.handle).int(k).int(opts.dim ?? -1).bool(opts.largest ?? true).bool(
      opts.sorted ?? true,
    );
    return pair(O.topk);
  }
  sort(opts: { dim?: number; descending?: boolean } = {}): { values: Tensor; indices: Tensor } {
    W.reset().handle(this.handle).int(opts.dim ?? -1).bool(opts.descending ?? false);
    return pair(O.sort);
  }

  // ---- in place (return this) ----
  #inplace(o: OpRef): this {
    const h = call1(o);
    if (h !== 0) lib.dt_tensor_free(h); // the result aliases this tensor
    this.#meta = null;
    return this;
  }
  add_(other: Tensor | Scalar, alpha?: number): this {
    W.reset().handle(this.handle);
    other instanceof Tensor ? W.handle(other.handle) : W.scalar(other);
    if (alpha !== undefined) W.scalar(alpha);
    return this.#inplace(other instanceof Tensor ? O.add_ : O.addS_);
  }
  sub_(other: Tensor, alpha?: number): this {
    W.reset().handle(this.handle).handle(other.handle);
    if (alpha !== undefined) W.scalar(alpha);
    return this.#inplace(O.sub_);
  }
  mul_(other: Tensor | Scalar): this {
    W.reset().handle(this.handle);
    other instanceof Tensor ? W.handle(other.handle) : W.scalar(other);
    return this.#inplace(other instanceof Tensor ? O.mul_ : O.mulS_);
  }
  div_(other: Tensor | Scalar): this {
    W.reset().handle(this.handle);
    other instanceof Tensor ? W.handle(other.handle) : W.scalar(other);
    return this.#inplace(other instanceof Tensor ? O.div_ : O.divS_);
  }
  zero_(): this {
    W.reset().handle(this.handle);
    return this.#inplace(O.zero_);
  }
  fill_(value: Scalar): this {
    W.reset().handle(this.handle).scalar(value);
    return this.#inplace(O.fill_);
  }
  copy_(src: Tensor): this {
    W.reset().handle(this.handle).handle(src.handle);
    return this.#inplace(O.copy_);
  }
  clamp_(min?: number | null, max?: number | null): this {
    W.reset().handle(this.handle);
    for (const b of [min, max]) b === null || b === undefined ? W.none() : W.scalar(b);
    return this.#inplace(O.clamp_);
  }
}

setTensorPredicate((x): x is Tensor => x instanceof Tensor);

/** A tensor filled with `value` (used by ops that need a 0-d operand). */
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

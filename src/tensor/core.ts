/** The core of every tensor: its native handle and lifetime, metadata, data out and autograd
 * state. The operators are the subclass `Tensor` (`tensor.ts`); this file needs none of them. */
import { W } from "./args.ts";
import { type Device, deviceName } from "./device.ts";
import { call1, callN, op } from "./dispatch.ts";
import { type DType, DTYPE_BYTES, DTYPE_CODE, dtypeOfCode, type HostArray } from "./dtype.ts";
import { checkWarnings, lastError, lib, readCString, TorchError } from "./runtime.ts";
import { type Owned, setTensorPredicate, untrackBackstop } from "./scope.ts";

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

const IS_CONTIGUOUS = op("aten::is_contiguous");
const ITEM = op("aten::item");
const TO_DTYPE = op("aten::to", "dtype");

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

/** Copies the elements of the tensor `handle` (`numel` of `dtype`) into new JS memory. */
function copyOut(handle: number, numel: number, dtype: DType): Uint8Array {
  const n = numel * DTYPE_BYTES[dtype];
  let out: Uint8Array;
  try {
    out = new Uint8Array(n);
  } catch {
    throw new TorchError(`cannot copy ${numel} elements (${n} bytes) into JS memory`);
  }
  if (lib.dt_tensor_copy_out(handle, out, BigInt(out.length)) < 0) throw lastError("copy out");
  return out;
}

/** The part of `torch.Tensor` that is not an operator: handle and lifetime, metadata
 * (`shape`, `dtype`, ...), data out (`toArray`, `item`, ...) and autograd state (`backward`,
 * `grad`). Every tensor is a {@linkcode Tensor}, this class's subclass. */
export class TensorCore implements Owned, Disposable {
  /** @internal native handle; 0 once disposed. */
  _h: number;
  /** @internal kept past every scope. */
  _kept = false;
  #meta: Meta | null = null;
  #grad: this | null = null;
  #gradId = 0;

  /** @internal use the creation functions instead. */
  constructor(handle: number) {
    this._h = handle;
  }

  /** The native handle (no PyTorch equivalent); throws if the tensor was disposed. */
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

  /** Frees the native tensor now (PyTorch frees by reference counting; JS needs this or a
   * `torch.scope`). Safe to call twice. */
  dispose(): void {
    const h = this._release();
    if (h !== 0) lib.dt_tensor_free(h);
  }
  /** `using t = ...`: the same as {@linkcode TensorCore.dispose}. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Whether `dispose()` was called (or a scope freed the tensor). */
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
  /** `torch.Tensor.shape`: the sizes, as a fresh array (PyTorch's `torch.Size`). */
  get shape(): number[] {
    return this.#loadMeta().shape.slice();
  }
  /** `torch.Tensor.stride()`: elements to step in each dimension. */
  get strides(): number[] {
    return this.#loadMeta().strides.slice();
  }
  /** `torch.Tensor.dtype`: the element type, e.g. `"float32"` for `torch.float32`. */
  get dtype(): DType {
    return this.#loadMeta().dtype;
  }
  /** `torch.Tensor.device`: `"cpu"`, `"cuda"` or `"cuda:N"`. */
  get device(): Device {
    return this.#loadMeta().device;
  }
  /** `torch.Tensor.ndim`: the number of dimensions. */
  get ndim(): number {
    return this.#loadMeta().shape.length;
  }
  /** `torch.Tensor.numel()`: the number of elements (a property here). */
  get numel(): number {
    return this.#loadMeta().numel;
  }
  /** `torch.Tensor.size(dim)`: the size of one dimension (negative counts from the end); for
   * all of them, read `shape`. */
  size(dim: number): number {
    const s = this.#loadMeta().shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (!Number.isInteger(d) || d < 0 || d >= s.length) {
      throw new TorchError(`dimension ${dim} out of range for a ${s.length}-d tensor`);
    }
    return s[d];
  }
  /** `torch.Tensor.requires_grad`: whether autograd records operations on this tensor. */
  get requiresGrad(): boolean {
    if (lib.dt_tensor_meta(this.handle, metaPtr, META_CAP) < 0) throw lastError("meta");
    return metaBuf[3] !== 0n;
  }
  set requiresGrad(flag: boolean) {
    if (lib.dt_tensor_set_requires_grad(this.handle, flag ? 1 : 0) < 0) {
      throw lastError("requiresGrad");
    }
  }
  /** `torch.Tensor.requires_grad_`: sets `requiresGrad` in place and returns this tensor. */
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
  /** `torch.Tensor.is_leaf`: made by the user, not by a recorded operation. */
  get isLeaf(): boolean {
    if (lib.dt_tensor_meta(this.handle, metaPtr, META_CAP) < 0) throw lastError("meta");
    return metaBuf[4] !== 0n;
  }
  /** `torch.Tensor.is_contiguous()`: whether the elements lie in row-major order. */
  isContiguous(): boolean {
    W.reset().handle(this.handle);
    return callN(IS_CONTIGUOUS)[0] as boolean;
  }

  // ---- data out ----
  /** Raw little-endian bytes of the elements (moved to CPU, contiguous); like
   * `t.numpy().tobytes()`. */
  toBuffer(): Uint8Array {
    const m = this.#loadMeta();
    return copyOut(this.handle, m.numel, m.dtype);
  }
  /** The elements as a flat typed array (like `t.flatten().numpy()`). Half types are widened
   * to float32; their raw bits are in `toBuffer`. */
  toTypedArray(): HostArray {
    const d = this.dtype;
    if (d === "float16" || d === "bfloat16") {
      W.reset().handle(this.handle).int(DTYPE_CODE.float32).bool(false).bool(false);
      const h = call1(TO_DTYPE);
      try {
        return new Float32Array(copyOut(h, this.numel, "float32").buffer);
      } finally {
        lib.dt_tensor_free(h);
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
  /** The elements as flat JS values (numbers, or booleans for bool tensors), like
   * `t.flatten().tolist()`. */
  toFlat(): (number | boolean)[] {
    checkJsValues("toFlat", this.numel);
    const a = this.toTypedArray();
    if (this.dtype === "bool") return Array.from(a as Uint8Array, (x) => x !== 0);
    if (a instanceof BigInt64Array) return Array.from(a, Number);
    return Array.from(a as Float32Array);
  }
  /** `torch.Tensor.tolist()`: nested JS arrays in the tensor's shape (a bare value for 0-d
   * tensors). */
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
  /** `torch.Tensor.item()`: the value of a one-element tensor (booleans as 0 or 1). */
  item(): number {
    W.reset().handle(this.handle);
    const v = callN(ITEM)[0];
    return typeof v === "boolean" ? Number(v) : v as number;
  }

  // ---- autograd ----
  /** `torch.Tensor.backward`: backpropagates from this tensor (a scalar unless `grad` is
   * given), accumulating into the `.grad` of the leaves. */
  backward(
    grad?: TensorCore,
    opts: { retainGraph?: boolean; createGraph?: boolean } = {},
  ): void {
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
  /** `torch.Tensor.grad`: the accumulated gradient, or null. Owned by this tensor: the same
   * wrapper is returned while libtorch accumulates into the same tensor. */
  get grad(): this | null {
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
      // The wrapper has this tensor's class (`Tensor`), which this file does not import.
      this.#grad = new (this.constructor as new (handle: number) => this)(h);
      this.#gradId = id;
    }
    return this.#grad;
  }
  set grad(g: TensorCore | null) {
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
  /** Drops the gradient: `t.grad = None`, as `zero_grad(set_to_none=True)` does. */
  zeroGrad(): void {
    this.grad = null;
  }
}

setTensorPredicate((x): x is TensorCore => x instanceof TensorCore);

/** Creating tensors: from JS data, host buffers, constants, ranges and random draws. */
import { W } from "./args.ts";
import { type Device, parseDevice } from "./device.ts";
import { op, type OpRef } from "./dispatch.ts";
import { assertDType, type DType, DTYPE_BYTES, DTYPE_CODE, dtypeOfArray } from "./dtype.ts";
import { lastError, lib, TorchError } from "./runtime.ts";
import { type SizeArgs, sizeFrom } from "./shape_args.ts";
import { fromHandle, full, internal, type Scalar, Tensor } from "./tensor.ts";

export { full };

/** PyTorch's factory keywords, shared by the creation functions. */
export interface CreateOptions {
  /** `dtype=`: the element type (float32 by default for most creators). */
  dtype?: DType;
  /** `device=`: `"cpu"` (the default), `"cuda"` or `"cuda:N"`. */
  device?: Device;
  /** `requires_grad=`: make the new tensor a leaf that autograd tracks. */
  requiresGrad?: boolean;
}

/** The data `torch.tensor()` takes: nested arrays of numbers, booleans or bigints. */
export type NestedArray = number | boolean | bigint | readonly NestedArray[];

const O = {
  zeros: op("aten::zeros"),
  ones: op("aten::ones"),
  empty: op("aten::empty", "memory_format"),
  rand: op("aten::rand"),
  randn: op("aten::randn"),
  randint: op("aten::randint", "low"),
  arange: op("aten::arange", "start_step"),
  linspace: op("aten::linspace"),
  eye: op("aten::eye", "m"),
  zerosLike: op("aten::zeros_like"),
  onesLike: op("aten::ones_like"),
  emptyLike: op("aten::empty_like"),
  fullLike: op("aten::full_like"),
  randLike: op("aten::rand_like"),
  randnLike: op("aten::randn_like"),
};

/** Writes the `*, dtype, layout, device, pin_memory` tail of factory ops. */
function factoryTail(opts: CreateOptions, defaultDtype: DType | null = "float32") {
  const d = opts.dtype ?? defaultDtype;
  d === null ? W.none() : W.int(DTYPE_CODE[assertDType(d)]);
  W.none();
  if (opts.device) {
    const p = parseDevice(opts.device);
    W.device(p.type, p.index);
  } else W.none();
  W.none();
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

function factory(o: OpRef, opts: CreateOptions): Tensor {
  return finish(internal.result1(o), opts);
}

const shapeOf = (s: readonly number[]) => {
  for (const d of s) {
    if (!Number.isInteger(d)) throw new TorchError(`shape entries must be integers, got [${s}]`);
  }
  return s;
};

/** A factory op over a size given PyTorch's ways (`[2, 3]` or `2, 3`, options last). */
function sized(o: OpRef, args: SizeArgs<CreateOptions>): Tensor {
  const { size, opts } = sizeFrom<CreateOptions>(args);
  W.reset().ints(shapeOf(size));
  factoryTail(opts);
  return factory(o, opts);
}

/** `torch.zeros(*size, dtype=..., device=..., requires_grad=...)`: `zeros([2, 3])`,
 * `zeros(2, 3)` or `zeros(2, 3, { dtype: "int64" })`; float32 unless a dtype is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { torch } from "../../mod.ts";
 * using z = torch.zeros(2, 3, { dtype: "int64" });
 * assert.deepEqual(z.toArray(), [[0, 0, 0], [0, 0, 0]]);
 * assert.equal(z.dtype, "int64");
 * ```
 */
export function zeros(...args: SizeArgs<CreateOptions>): Tensor {
  return sized(O.zeros, args);
}
/** `torch.ones(*size, ...)`: `ones([2, 3])`, `ones(2, 3)` or `ones(2, 3, opts)`. */
export function ones(...args: SizeArgs<CreateOptions>): Tensor {
  return sized(O.ones, args);
}
/** `torch.empty(*size, ...)`: uninitialized memory; `empty([2, 3])` or `empty(2, 3)`. */
export function empty(...args: SizeArgs<CreateOptions>): Tensor {
  return sized(O.empty, args);
}
/** `torch.rand(*size, ...)`: uniform on [0, 1) from the generator `manualSeed` seeds;
 * `rand([2, 3])` or `rand(2, 3)`. */
export function rand(...args: SizeArgs<CreateOptions>): Tensor {
  return sized(O.rand, args);
}
/** `torch.randn(*size, ...)`: standard normal from the generator `manualSeed` seeds;
 * `randn([2, 3])` or `randn(2, 3)`. */
export function randn(...args: SizeArgs<CreateOptions>): Tensor {
  return sized(O.randn, args);
}
/** `torch.randint(low, high, size)`: integers uniform on [low, high); int64 unless a dtype is
 * given. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts: CreateOptions = {},
): Tensor {
  W.reset().int(low).int(high).ints(shapeOf(shape));
  factoryTail(opts, "int64");
  return factory(O.randint, opts);
}
/** `torch.arange(start, end, step)`: `[start, end)` by `step` (`arange(n)` is `[0, n)`);
 * float32 unless a dtype is given, where PyTorch infers int64 from integer arguments. */
export function arange(
  start: number,
  end?: number,
  step = 1,
  opts: CreateOptions = {},
): Tensor {
  if (end === undefined) [start, end] = [0, start];
  W.reset().scalar(start).scalar(end).scalar(step);
  factoryTail(opts);
  return factory(O.arange, opts);
}
/** `torch.linspace(start, end, steps)`: `steps` evenly spaced values from `start` to `end`
 * inclusive. */
export function linspace(
  start: number,
  end: number,
  steps: number,
  opts: CreateOptions = {},
): Tensor {
  W.reset().scalar(start).scalar(end).int(steps);
  factoryTail(opts);
  return factory(O.linspace, opts);
}
/** `torch.eye(n, m)`: the `n` × `m` identity matrix (square by default). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  W.reset().int(n).int(m);
  factoryTail(opts);
  return factory(O.eye, opts);
}

function like(o: OpRef, t: Tensor, opts: CreateOptions, fill?: Scalar): Tensor {
  W.reset().handle(t.handle);
  if (fill !== undefined) W.scalar(fill);
  factoryTail(opts, null);
  W.none(); // memory_format
  return factory(o, opts);
}
/** `torch.zeros_like(t)`: zeros of `t`'s shape, dtype and device unless `opts` say otherwise. */
export const zerosLike = (t: Tensor, opts: CreateOptions = {}): Tensor =>
  like(O.zerosLike, t, opts);
/** `torch.ones_like(t)`: ones of `t`'s shape, dtype and device unless `opts` say otherwise. */
export const onesLike = (t: Tensor, opts: CreateOptions = {}): Tensor => like(O.onesLike, t, opts);
/** `torch.empty_like(t)`: uninitialized memory of `t`'s shape, dtype and device. */
export const emptyLike = (t: Tensor, opts: CreateOptions = {}): Tensor =>
  like(O.emptyLike, t, opts);
/** `torch.rand_like(t)`: uniform on [0, 1) in `t`'s shape, dtype and device. */
export const randLike = (t: Tensor, opts: CreateOptions = {}): Tensor => like(O.randLike, t, opts);
/** `torch.randn_like(t)`: standard normal in `t`'s shape, dtype and device. */
export const randnLike = (t: Tensor, opts: CreateOptions = {}): Tensor =>
  like(O.randnLike, t, opts);
/** `torch.full_like(t, value)`: `value` in `t`'s shape, dtype and device. */
export const fullLike = (t: Tensor, value: Scalar, opts: CreateOptions = {}): Tensor =>
  like(O.fullLike, t, opts, value);

/** `torch.frombuffer(data, dtype=...).reshape(shape)`, but copied: a new tensor of `shape` and
 * `dtype` from a host buffer. The bytes are
 * little-endian elements (bf16/f16 as their raw 16-bit patterns). */
export function fromBuffer(
  data: ArrayBufferView | ArrayBuffer,
  shape: readonly number[],
  opts: CreateOptions & { dtype: DType },
): Tensor {
  const dtype = assertDType(opts.dtype);
  const bytes = data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const numel = shapeOf(shape).reduce((a, b) => a * b, 1);
  if (numel * DTYPE_BYTES[dtype] !== bytes.byteLength) {
    throw new TorchError(
      `fromBuffer: ${bytes.byteLength} bytes do not hold shape [${shape}] of ${dtype} (${
        numel * DTYPE_BYTES[dtype]
      } bytes)`,
    );
  }
  const dev = parseDevice(opts.device ?? "cpu");
  const h = lib.dt_tensor_from_buffer(
    bytes,
    BigInt(bytes.byteLength),
    DTYPE_CODE[dtype],
    new BigInt64Array(shape.map(BigInt)),
    shape.length,
    dev.type,
    dev.index,
    opts.requiresGrad ? 1 : 0,
  );
  if (h === 0) throw lastError("fromBuffer");
  return fromHandle(h);
}

function flatten(data: NestedArray, shape: number[], out: (number | boolean | bigint)[], d = 0) {
  if (!Array.isArray(data)) {
    if (d !== shape.length && shape.length > 0) {
      throw new TorchError(`tensor(): ragged nested array at depth ${d}`);
    }
    out.push(data as number | boolean | bigint);
    return;
  }
  if (d === shape.length) shape.push(data.length);
  else if (shape[d] !== data.length) {
    throw new TorchError(
      `tensor(): ragged nested array: expected length ${
        shape[d]
      } at depth ${d}, got ${data.length}`,
    );
  }
  for (const x of data) flatten(x, shape, out, d + 1);
}

function hostArray(values: (number | boolean | bigint)[], dtype: DType): ArrayBufferView {
  const num = (v: number | boolean | bigint) => (typeof v === "bigint" ? Number(v) : Number(v));
  switch (dtype) {
    case "float64":
      return Float64Array.from(values, num);
    case "int64":
      return BigInt64Array.from(values, (v) => {
        if (typeof v === "bigint") return v;
        const x = Math.trunc(num(v));
        if (!Number.isFinite(x)) {
          throw new TorchError(`tensor(): ${v} cannot be converted to int64`);
        }
        return BigInt(x);
      });
    case "int32":
      return Int32Array.from(values, num);
    case "int16":
      return Int16Array.from(values, num);
    case "int8":
      return Int8Array.from(values, num);
    case "uint8":
    case "bool":
      return Uint8Array.from(values, (v) => (dtype === "bool" ? (v ? 1 : 0) : num(v)));
    default:
      return Float32Array.from(values, num);
  }
}

/** `torch.tensor(data)`: a tensor from nested JS arrays or a typed array. JS numbers do not tell 1
 * from 1.0, so numbers give float32 unless `dtype` says otherwise; booleans
 * give bool, bigints int64, typed arrays their own type. Half types are
 * converted from float32.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { torch } from "../../mod.ts";
 * using t = torch.tensor([[1, 2], [3, 4]]);
 * assert.deepEqual(t.shape, [2, 2]);
 * assert.equal(t.dtype, "float32");
 * assert.equal(t.toString(), "tensor([[1., 2.],\n        [3., 4.]])");
 * using ids = torch.tensor([1, 0], { dtype: "int64" });
 * using swapped = t.indexSelect(1, ids);
 * assert.deepEqual(swapped.toArray(), [[2, 1], [4, 3]]);
 * ```
 */
export function tensor(
  data: NestedArray | ArrayBufferView,
  opts: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  if (ArrayBuffer.isView(data)) {
    const own = dtypeOfArray(data);
    const shape = opts.shape ?? [(data as Float32Array).length];
    const t = fromBuffer(data, shape, { dtype: own, device: opts.device });
    return retype(t, opts);
  }
  const shape: number[] = [];
  const values: (number | boolean | bigint)[] = [];
  flatten(data, shape, values);
  const first = values[0];
  const inferred: DType = typeof first === "boolean"
    ? "bool"
    : typeof first === "bigint"
    ? "int64"
    : "float32";
  const dtype = opts.dtype ?? inferred;
  const hostType = dtype === "float16" || dtype === "bfloat16" ? "float32" : dtype;
  const t = fromBuffer(hostArray(values, hostType), shape, {
    dtype: hostType,
    device: opts.device,
  });
  return retype(t, { ...opts, dtype });
}

function retype(t: Tensor, opts: CreateOptions): Tensor {
  let out = t;
  if (opts.dtype && opts.dtype !== t.dtype) {
    out = t.to(opts.dtype);
    t.dispose();
  }
  return finish(out, opts);
}

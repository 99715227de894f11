/** Encodes operator arguments into the shim's tagged byte stream (see
 * native/src/ops.cpp) and decodes results from its 8-byte slots. One buffer
 * per process, reused by every call: its address is taken once. */
import { TorchError } from "../../ffi/errors.ts";

export const TAG = {
  tensor: 1,
  int: 2,
  float: 3,
  bool: 4,
  none: 5,
  intList: 6,
  tensorList: 7,
  scalarInt: 8,
  scalarFloat: 9,
  scalarBool: 10,
  str: 11,
  optTensorList: 12,
  floatList: 13,
  default: 14,
  device: 15,
  boolList: 16,
} as const;

export const KIND = { tensor: 1, int: 2, float: 3, bool: 4, none: 5, list: 7 } as const;

const ARG_BYTES = 1 << 16;
const TWO32 = 4294967296;

/** Writes a safe integer as int64 without allocating a BigInt. */
function setI64(v: DataView, o: number, x: number) {
  if (!Number.isSafeInteger(x)) {
    throw new TorchError(`expected an integer argument (a safe integer), got ${x}`);
  }
  const hi = Math.floor(x / TWO32);
  v.setUint32(o, x - hi * TWO32, true);
  v.setInt32(o + 4, hi, true);
}
const MAX_OUTS = 1024;

/** The reusable argument writer. `n` counts arguments, `o` is the byte offset. */
export class ArgWriter {
  readonly buf: ArrayBuffer;
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly ptr: Deno.PointerValue;
  o = 0;
  n = 0;

  constructor(size = ARG_BYTES) {
    this.buf = new ArrayBuffer(size);
    this.view = new DataView(this.buf);
    this.bytes = new Uint8Array(this.buf);
    this.ptr = Deno.UnsafePointer.of(this.buf);
  }

  reset(): this {
    this.o = 0;
    this.n = 0;
    return this;
  }
  #room(k: number) {
    if (this.o + k > this.buf.byteLength) {
      throw new TorchError("operator arguments exceed the argument buffer");
    }
  }
  handle(h: number): this {
    const v = this.view, o = this.o;
    v.setUint8(o, TAG.tensor);
    v.setFloat64(o + 1, h, true);
    this.o = o + 9;
    this.n++;
    return this;
  }
  int(x: number): this {
    const v = this.view, o = this.o;
    v.setUint8(o, TAG.int);
    setI64(v, o + 1, x);
    this.o = o + 9;
    this.n++;
    return this;
  }
  float(x: number): this {
    const v = this.view, o = this.o;
    v.setUint8(o, TAG.float);
    v.setFloat64(o + 1, x, true);
    this.o = o + 9;
    this.n++;
    return this;
  }
  bool(x: boolean): this {
    this.view.setUint8(this.o, TAG.bool);
    this.view.setUint8(this.o + 1, x ? 1 : 0);
    this.o += 2;
    this.n++;
    return this;
  }
  tag(t: number): this {
    this.view.setUint8(this.o++, t);
    this.n++;
    return this;
  }
  none(): this {
    return this.tag(TAG.none);
  }
  /** The schema default of this position. */
  dflt(): this {
    return this.tag(TAG.default);
  }
  /** A Scalar: integers go as int scalars, other numbers as float, booleans as bool. */
  scalar(x: number | boolean): this {
    const v = this.view, o = this.o;
    if (typeof x === "boolean") {
      v.setUint8(o, TAG.scalarBool);
      v.setUint8(o + 1, x ? 1 : 0);
      this.o = o + 2;
    } else if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER) {
      v.setUint8(o, TAG.scalarInt);
      setI64(v, o + 1, x);
      this.o = o + 9;
    } else {
      v.setUint8(o, TAG.scalarFloat);
      v.setFloat64(o + 1, x, true);
      this.o = o + 9;
    }
    this.n++;
    return this;
  }
  #listHead(tag: number, n: number, each: number) {
    this.#room(5 + n * each);
    this.view.setUint8(this.o, tag);
    this.view.setUint32(this.o + 1, n, true);
    this.o += 5;
    this.n++;
  }
  ints(xs: readonly number[]): this {
    this.#listHead(TAG.intList, xs.length, 8);
    for (const x of xs) {
      setI64(this.view, this.o, x);
      this.o += 8;
    }
    return this;
  }
  floats(xs: readonly number[]): this {
    this.#listHead(TAG.floatList, xs.length, 8);
    for (const x of xs) {
      this.view.setFloat64(this.o, x, true);
      this.o += 8;
    }
    return this;
  }
  bools(xs: readonly boolean[]): this {
    this.#listHead(TAG.boolList, xs.length, 1);
    for (const x of xs) this.view.setUint8(this.o++, x ? 1 : 0);
    return this;
  }
  handles(hs: readonly number[], optional = false): this {
    this.#listHead(optional ? TAG.optTensorList : TAG.tensorList, hs.length, 8);
    for (const h of hs) {
      this.view.setFloat64(this.o, h, true);
      this.o += 8;
    }
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.#listHead(TAG.str, b.length, 1);
    this.bytes.set(b, this.o);
    this.o += b.length;
    return this;
  }
  device(type: number, index: number): this {
    this.view.setUint8(this.o, TAG.device);
    this.view.setInt8(this.o + 1, type);
    this.view.setInt8(this.o + 2, index);
    this.o += 3;
    this.n++;
    return this;
  }
}

/** Result slots of `dt_op_call`: 8 bytes each, kinds alongside. */
export class ResultSlots {
  readonly buf = new ArrayBuffer(MAX_OUTS * 8);
  readonly f64 = new Float64Array(this.buf);
  readonly i64 = new BigInt64Array(this.buf);
  readonly bytes = new Uint8Array(this.buf);
  readonly kinds = new Uint8Array(MAX_OUTS);
  readonly ptr = Deno.UnsafePointer.of(this.buf);
  readonly kindsPtr = Deno.UnsafePointer.of(this.kinds);
  readonly max = MAX_OUTS;
}

export const W = new ArgWriter();
export const R = new ResultSlots();

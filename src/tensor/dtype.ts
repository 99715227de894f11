/** Data types: names, libtorch codes (c10::ScalarType ordinals), host arrays. */
import { TorchError } from "../../ffi/errors.ts";

/** A tensor element type. */
export type DType =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

/** c10::ScalarType ordinals. */
export const DTYPE_CODE: Readonly<Record<DType, number>> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const BY_CODE = new Map<number, DType>(
  Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]),
);

export function dtypeOfCode(code: number): DType {
  const d = BY_CODE.get(code);
  if (!d) throw new TorchError(`unsupported libtorch scalar type ${code}`);
  return d;
}

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  float16: 2,
  float32: 4,
  float64: 8,
  bool: 1,
  bfloat16: 2,
};

/** The host array a tensor of each dtype is read into (`toTypedArray`). Half
 * types are widened to float32 on the way out; their raw bits are in `toBuffer`. */
export type HostArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export function isFloating(d: DType): boolean {
  return d === "float32" || d === "float64" || d === "float16" || d === "bfloat16";
}

export function assertDType(d: string): DType {
  if (typeof d !== "string" || !Object.hasOwn(DTYPE_CODE, d)) {
    throw new TorchError(
      `unknown dtype "${d}"; expected one of ${Object.keys(DTYPE_CODE).join(", ")}`,
    );
  }
  return d as DType;
}

/** The dtype of a typed array given to `tensor()` / `fromBuffer()`. */
export function dtypeOfArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Uint8Array) return "uint8";
  throw new TorchError(
    `unsupported typed array ${a.constructor.name}; use Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, Int8Array or Uint8Array`,
  );
}

/** The safetensors header: dtype names, strict parsing and validation, and building one.
 *
 * Layout: an unsigned 64-bit little-endian length N, then N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`,
 * then the data section; offsets are relative to the start of the data section. */
import type { DType } from "../tensor/index.ts";
import { WeightFileError } from "./errors.ts";

/** safetensors dtype names and ours. */
export const SAFETENSORS_DTYPE: Readonly<Record<string, DType>> = {
  F64: "float64",
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  I64: "int64",
  I32: "int32",
  I16: "int16",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};

/** Our dtypes and their safetensors names. */
export const DTYPE_TO_SAFETENSORS: Readonly<Record<DType, string>> = Object.fromEntries(
  Object.entries(SAFETENSORS_DTYPE).map(([k, v]) => [v, k]),
) as Record<DType, string>;

/** Bytes per element. */
export const ITEM_SIZE: Readonly<Record<DType, number>> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** safetensors dtypes that exist in the format but have no tensor type here. */
const KNOWN_UNSUPPORTED = new Set([
  "U16",
  "U32",
  "U64",
  "F8_E4M3",
  "F8_E5M2",
  "F8_E8M0",
  "F6_E2M3",
  "F6_E3M2",
  "F4",
  "C64",
]);

/** Header lengths above this are refused (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor as the header describes it. */
export interface SafetensorsEntry {
  /** The tensor's name (header key). */
  name: string;
  /** Its element type. */
  dtype: DType;
  /** Its shape (`[]` for a scalar). */
  shape: number[];
  /** First byte, relative to the data section. */
  begin: number;
  /** One past the last byte, relative to the data section. */
  end: number;
}

/** A parsed and validated header. */
export interface SafetensorsHeader {
  /** Tensors in file (offset) order. */
  entries: SafetensorsEntry[];
  /** The `__metadata__` strings (empty when absent). */
  metadata: Record<string, string>;
  /** Absolute file offset of the data section (8 + header length). */
  dataStart: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Reads the header length prefix, checking it against the file size. */
export function parseHeaderLength(path: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) {
    throw new WeightFileError(
      path,
      `not a safetensors file: ${fileSize} bytes is shorter than the 8-byte header length`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) {
    throw new WeightFileError(
      path,
      `header length ${n} runs past the end of the file (${fileSize} bytes): truncated or not a safetensors file`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new WeightFileError(
      path,
      `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  if (n < 2n) throw new WeightFileError(path, `header length ${n} is too small for a JSON object`);
  return Number(n);
}

/** Parses and validates the JSON header of a file of `fileSize` bytes. */
export function parseHeader(path: string, json: Uint8Array, fileSize: number): SafetensorsHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (e) {
    throw new WeightFileError(path, `header is not valid UTF-8 JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!isObject(raw)) throw new WeightFileError(path, "header is not a JSON object");
  const dataStart = 8 + json.length;
  const dataSize = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, v] of Object.entries(raw)) {
    if (name === "__metadata__") {
      if (!isObject(v)) throw new WeightFileError(path, "__metadata__ is not a JSON object");
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== "string") {
          throw new WeightFileError(path, `__metadata__ value of "${k}" is not a string`);
        }
        metadata[k] = s;
      }
      continue;
    }
    entries.push(parseEntry(path, name, v));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const [i, e] of entries.entries()) {
    if (e.begin < pos) {
      const prev = entries[i - 1];
      throw new WeightFileError(
        path,
        `data_offsets [${e.begin}, ${e.end}] overlap those of "${prev.name}" [${prev.begin}, ${prev.end}]`,
        { entry: e.name },
      );
    }
    if (e.begin > pos) {
      throw new WeightFileError(
        path,
        `data_offsets [${e.begin}, ${e.end}] leave a gap: the previous tensor ends at ${pos}`,
        { entry: e.name },
      );
    }
    if (e.end > dataSize) {
      throw new WeightFileError(
        path,
        `data_offsets [${e.begin}, ${e.end}] run past the end of the data section (${dataSize} bytes): the file is truncated`,
        { entry: e.name },
      );
    }
    pos = e.end;
  }
  if (pos !== dataSize) {
    throw new WeightFileError(
      path,
      `the data section holds ${dataSize} bytes but the tensors cover ${pos}: trailing bytes`,
    );
  }
  return { entries, metadata, dataStart };
}

function parseEntry(path: string, name: string, v: unknown): SafetensorsEntry {
  const fail = (msg: string) => new WeightFileError(path, msg, { entry: name });
  if (!isObject(v)) throw fail("header entry is not a JSON object");
  const { dtype: st, shape, data_offsets: off } = v;
  if (typeof st !== "string") throw fail("dtype is missing or not a string");
  const dtype = SAFETENSORS_DTYPE[st];
  if (dtype === undefined) {
    throw fail(
      KNOWN_UNSUPPORTED.has(st)
        ? `dtype ${st} has no tensor type here (supported: ${
          Object.keys(SAFETENSORS_DTYPE).join(", ")
        })`
        : `unknown dtype "${st}" (supported: ${Object.keys(SAFETENSORS_DTYPE).join(", ")})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[0] > off[1]) {
    throw fail(`data_offsets ${JSON.stringify(off)} is not [begin, end] with 0 <= begin <= end`);
  }
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  const want = numel * ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(want) || off[1] - off[0] !== want) {
    throw fail(
      `data_offsets [${off[0]}, ${off[1]}] span ${
        off[1] - off[0]
      } bytes, but shape [${shape}] of ${st} needs ${want}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin: off[0], end: off[1] };
}

/** Builds the header bytes (length prefix included) for tensors laid out in the given
 * order. The JSON is padded with spaces to a multiple of 8 bytes, as the reference
 * writer does, so every tensor whose offset is aligned in the data section stays
 * aligned in the file. */
export function buildHeader(
  entries: readonly { name: string; dtype: DType; shape: readonly number[]; bytes: number }[],
  metadata: Record<string, string> | undefined,
): { bytes: Uint8Array; offsets: number[] } {
  const obj: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) obj.__metadata__ = metadata;
  const offsets: number[] = [];
  let pos = 0;
  for (const e of entries) {
    obj[e.name] = {
      dtype: DTYPE_TO_SAFETENSORS[e.dtype],
      shape: e.shape,
      data_offsets: [pos, pos + e.bytes],
    };
    offsets.push(pos);
    pos += e.bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(obj));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return { bytes: out, offsets };
}

/** Reading NumPy `.npy` arrays (any numeric dtype, either byte order, C or Fortran order).
 *
 * Hand-written: the format is a magic string, a Python-literal header and raw data, and no
 * maintained npm package reads it without pulling in a numpy clone. */
import { DataError } from "./errors.ts";

/** A numeric array read from a `.npy` file, converted to float64 in C (row-major) order. */
export interface NpyArray {
  /** The array's shape. */
  readonly shape: readonly number[];
  /** The file's dtype string, e.g. `<f8`. */
  readonly dtype: string;
  /** The values as float64, C order. */
  readonly data: Float64Array;
}

const KINDS: Record<string, (v: DataView, o: number, le: boolean) => number> = {
  f2: (v, o, le) => f16(v.getUint16(o, le)),
  f4: (v, o, le) => v.getFloat32(o, le),
  f8: (v, o, le) => v.getFloat64(o, le),
  i1: (v, o) => v.getInt8(o),
  i2: (v, o, le) => v.getInt16(o, le),
  i4: (v, o, le) => v.getInt32(o, le),
  i8: (v, o, le) => Number(v.getBigInt64(o, le)),
  u1: (v, o) => v.getUint8(o),
  u2: (v, o, le) => v.getUint16(o, le),
  u4: (v, o, le) => v.getUint32(o, le),
  u8: (v, o, le) => Number(v.getBigUint64(o, le)),
  b1: (v, o) => (v.getUint8(o) ? 1 : 0),
};

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Parses `.npy` bytes; `name` is used in errors. */
export function parseNpy(bytes: Uint8Array, name = "<npy>"): NpyArray {
  const bad = (why: string) => new DataError(name, `not a readable .npy file: ${why}`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw bad("no \\x93NUMPY magic");
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [hlen, hstart] = major === 1
    ? [view.getUint16(8, true), 10]
    : [view.getUint32(8, true), 12];
  if (hstart + hlen > bytes.length) throw bad("header runs past the end");
  const header = new TextDecoder(major >= 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(hstart, hstart + hlen),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad(`cannot parse the header ${JSON.stringify(header.trim())}`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`bad shape (${shapeText})`);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const read = m ? KINDS[m[2] + m[3]] : undefined;
  if (!m || !read) {
    throw bad(`dtype ${descr} is not numeric (supported: float16/32/64, int, uint, bool)`);
  }
  const le = m[1] !== ">";
  const size = Number(m[3]);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  if (bytes.length - start < n * size) {
    throw bad(
      `holds ${bytes.length - start} data bytes, shape (${shape}) of ${descr} needs ${n * size}`,
    );
  }
  const data = new Float64Array(n);
  if (descr === "<f8" && (bytes.byteOffset + start) % 8 === 0 && fortran === "False") {
    data.set(new Float64Array(bytes.buffer, bytes.byteOffset + start, n));
  } else {
    for (let i = 0; i < n; i++) data[i] = read(view, start + i * size, le);
  }
  return { shape, dtype: descr, data: fortran === "True" ? fortranToC(data, shape) : data };
}

function fortranToC(f: Float64Array, shape: readonly number[]): Float64Array {
  const out = new Float64Array(f.length);
  const nd = shape.length;
  const idx = new Array(nd).fill(0);
  const fstride = shape.map((_, i) => shape.slice(0, i).reduce((a, b) => a * b, 1));
  for (let c = 0; c < f.length; c++) {
    let o = 0;
    for (let d = 0; d < nd; d++) o += idx[d] * fstride[d];
    out[c] = f[o];
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Reads a `.npy` file. */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new DataError(
      path,
      e instanceof Deno.errors.NotFound ? "no such file" : `cannot read: ${e}`,
    );
  }
  return parseNpy(bytes, path);
}

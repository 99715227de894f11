/** Reading MATLAB `.mat` files: level 5 (v5/v6/v7, what `scipy.io.savemat` writes) here, v7.3
 * (HDF5) through {@link "./mat73.ts"}.
 *
 * Hand-written for v5: the format is a sequence of tagged elements (zlib-compressed from v7),
 * and no maintained npm package reads it; HDF5 is left to a library. Arrays are given in
 * MATLAB's column-major order with MATLAB's dimensions; {@link matToRows} turns a 2-D numeric
 * array into rows. */
import { inflateSync } from "node:zlib";
import { DataError } from "./errors.ts";

/** A MATLAB value. Numeric and logical arrays hold float64 `data` in column-major order. */
export type MatValue =
  | { kind: "numeric"; class: string; dims: number[]; data: Float64Array }
  | { kind: "char"; dims: number[]; text: string[] }
  | { kind: "cell"; dims: number[]; cells: MatValue[] }
  | { kind: "struct"; dims: number[]; fields: Record<string, MatValue[]> };

const CLASS: Record<number, string> = {
  1: "cell",
  2: "struct",
  3: "object",
  4: "char",
  5: "sparse",
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
};

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
};
const SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 2,
  5: 4,
  6: 4,
  7: 4,
  9: 8,
  12: 8,
  13: 8,
  16: 1,
  17: 2,
  18: 4,
};

interface Element {
  type: number;
  body: Uint8Array;
  next: number;
}

class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly le: boolean, readonly file: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  bad(why: string): DataError {
    return new DataError(this.file, `not a readable MATLAB v5 file: ${why}`);
  }

  element(at: number, end = this.bytes.length): Element {
    if (at + 8 > end) throw this.bad(`element header past the end at byte ${at}`);
    const w0 = this.view.getUint32(at, this.le);
    if (w0 >>> 16 !== 0) { // small data element: size and type in one word, data in the next
      const size = w0 >>> 16, type = w0 & 0xffff;
      return { type, body: this.bytes.subarray(at + 4, at + 4 + size), next: at + 8 };
    }
    const size = this.view.getUint32(at + 4, this.le);
    if (at + 8 + size > end) {
      throw this.bad(`element of ${size} bytes at byte ${at} runs past the end`);
    }
    const padded = w0 === MI.COMPRESSED ? size : Math.ceil(size / 8) * 8;
    return { type: w0, body: this.bytes.subarray(at + 8, at + 8 + size), next: at + 8 + padded };
  }

  numbers(e: Element): Float64Array {
    const size = SIZE[e.type];
    if (!size) throw this.bad(`unexpected element type ${e.type} where numbers were expected`);
    const n = e.body.length / size;
    const v = new DataView(e.body.buffer, e.body.byteOffset, e.body.byteLength);
    const out = new Float64Array(n);
    const le = this.le;
    for (let i = 0; i < n; i++) {
      const o = i * size;
      switch (e.type) {
        case MI.INT8:
          out[i] = v.getInt8(o);
          break;
        case MI.UINT8:
        case MI.UTF8:
          out[i] = v.getUint8(o);
          break;
        case MI.INT16:
          out[i] = v.getInt16(o, le);
          break;
        case MI.UINT16:
        case MI.UTF16:
          out[i] = v.getUint16(o, le);
          break;
        case MI.INT32:
          out[i] = v.getInt32(o, le);
          break;
        case MI.UINT32:
        case MI.UTF32:
          out[i] = v.getUint32(o, le);
          break;
        case MI.SINGLE:
          out[i] = v.getFloat32(o, le);
          break;
        case MI.DOUBLE:
          out[i] = v.getFloat64(o, le);
          break;
        case MI.INT64:
          out[i] = Number(v.getBigInt64(o, le));
          break;
        case MI.UINT64:
          out[i] = Number(v.getBigUint64(o, le));
          break;
      }
    }
    return out;
  }

  /** A miMATRIX body: flags, dims, name, then the class's parts. */
  matrix(body: Uint8Array): { name: string; value: MatValue } {
    if (body.length === 0) {
      return {
        name: "",
        value: { kind: "numeric", class: "double", dims: [0, 0], data: new Float64Array(0) },
      };
    }
    const r = new Reader(body, this.le, this.file);
    const flags = r.element(0);
    const f0 = new DataView(flags.body.buffer, flags.body.byteOffset, 8).getUint32(0, this.le);
    const cls = CLASS[f0 & 0xff] ?? `class ${f0 & 0xff}`;
    const logical = (f0 & 0x200) !== 0, complex = (f0 & 0x800) !== 0;
    const dimsEl = r.element(flags.next);
    const dims = Array.from(r.numbers(dimsEl));
    const nameEl = r.element(dimsEl.next);
    const name = new TextDecoder().decode(nameEl.body);
    const count = dims.reduce((a, b) => a * b, 1);
    let at = nameEl.next;
    if (cls === "cell") {
      const cells: MatValue[] = [];
      for (let i = 0; i < count; i++) {
        const e = r.element(at);
        cells.push(r.matrix(e.body).value);
        at = e.next;
      }
      return { name, value: { kind: "cell", dims, cells } };
    }
    if (cls === "struct") {
      const lenEl = r.element(at);
      const len = r.numbers(lenEl)[0];
      const namesEl = r.element(lenEl.next);
      const names: string[] = [];
      for (let i = 0; i < namesEl.body.length / len; i++) {
        names.push(
          new TextDecoder().decode(namesEl.body.subarray(i * len, (i + 1) * len)).replace(
            /\0+$/,
            "",
          ),
        );
      }
      at = namesEl.next;
      const fields: Record<string, MatValue[]> = Object.fromEntries(names.map((n) => [n, []]));
      for (let i = 0; i < count; i++) {
        for (const n of names) {
          const e = r.element(at);
          fields[n].push(r.matrix(e.body).value);
          at = e.next;
        }
      }
      return { name, value: { kind: "struct", dims, fields } };
    }
    if (cls === "sparse" || cls === "object") {
      throw new DataError(
        this.file,
        `variable "${name}" is a MATLAB ${cls} array, which is not supported`,
      );
    }
    const real = r.element(at);
    if (complex) {
      throw new DataError(this.file, `variable "${name}" is complex, which is not supported`);
    }
    const data = r.numbers(real);
    if (cls === "char") {
      const rows = dims[0] ?? 0, cols = count / Math.max(rows, 1);
      const text: string[] = [];
      for (let i = 0; i < rows; i++) {
        let s = "";
        for (let j = 0; j < cols; j++) s += String.fromCharCode(data[j * rows + i]);
        text.push(s);
      }
      return { name, value: { kind: "char", dims, text } };
    }
    return { name, value: { kind: "numeric", class: logical ? "logical" : cls, dims, data } };
  }
}

/** Reads the variables of a MATLAB v5/v6/v7 file from its bytes. */
export function parseMat5(bytes: Uint8Array, file = "<mat>"): Record<string, MatValue> {
  if (bytes.length < 128) {
    throw new DataError(file, "not a MATLAB file: shorter than its 128-byte header");
  }
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 116));
  if (!head.startsWith("MATLAB")) {
    throw new DataError(file, "not a MATLAB file: no 'MATLAB' header text");
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian !== "IM" && endian !== "MI") {
    throw new DataError(file, `bad endian indicator "${endian}"`);
  }
  const r = new Reader(bytes, endian === "IM", file);
  const out: Record<string, MatValue> = {};
  for (let at = 128; at < bytes.length;) {
    const e = r.element(at);
    at = e.next;
    let body = e.body, type = e.type;
    if (type === MI.COMPRESSED) {
      let raw: Uint8Array;
      try {
        raw = new Uint8Array(inflateSync(body));
      } catch (err) {
        throw new DataError(file, `corrupted compressed variable: ${(err as Error).message}`);
      }
      const inner = new Reader(raw, r.le, file).element(0);
      body = inner.body;
      type = inner.type;
    }
    if (type !== MI.MATRIX) continue;
    const { name, value } = r.matrix(body);
    out[name] = value;
  }
  return out;
}

/** Reads a `.mat` file of any version: v5/v6/v7 here, v7.3 (HDF5) with h5wasm. */
export async function readMat(path: string): Promise<Record<string, MatValue>> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new DataError(
      path,
      e instanceof Deno.errors.NotFound ? "no such file" : `cannot read: ${e}`,
    );
  }
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 20));
  if (head.startsWith("MATLAB 7.3")) {
    const { parseMat73 } = await import("./mat73.ts");
    return await parseMat73(bytes, path);
  }
  return parseMat5(bytes, path);
}

/** A 2-D numeric variable as rows (row-major float64), checking that it exists and is 2-D. */
export function matToRows(
  vars: Record<string, MatValue>,
  name: string,
  file = "",
): { rows: number; cols: number; values: Float64Array } {
  const v = vars[name];
  if (!v) {
    throw new DataError(
      file,
      `has no variable "${name}" (it has: ${Object.keys(vars).join(", ")})`,
    );
  }
  if (v.kind !== "numeric" || v.dims.length !== 2) {
    throw new DataError(
      file,
      `variable "${name}" is a ${v.kind} array of size ${
        v.dims.join("×")
      }, not a 2-D numeric matrix`,
    );
  }
  const [rows, cols] = v.dims;
  const values = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) values[r * cols + c] = v.data[c * rows + r];
  }
  return { rows, cols, values };
}

/** A numeric variable's values as a flat list (e.g. a column of indices). */
export function matNumbers(vars: Record<string, MatValue>, name: string, file = ""): number[] {
  const v = vars[name];
  if (!v) {
    throw new DataError(
      file,
      `has no variable "${name}" (it has: ${Object.keys(vars).join(", ")})`,
    );
  }
  if (v.kind !== "numeric") {
    throw new DataError(file, `variable "${name}" is a ${v.kind} array, not numbers`);
  }
  return Array.from(v.data);
}

/** A variable holding strings (a char matrix or a cell array of strings) as a list. */
export function matStrings(vars: Record<string, MatValue>, name: string, file = ""): string[] {
  const v = vars[name];
  if (!v) {
    throw new DataError(
      file,
      `has no variable "${name}" (it has: ${Object.keys(vars).join(", ")})`,
    );
  }
  const flat = (x: MatValue): string[] => {
    if (x.kind === "char") return x.text.map((s) => s.replace(/\s+$/, ""));
    if (x.kind === "cell") return x.cells.flatMap(flat);
    throw new DataError(
      file,
      `variable "${name}" holds a ${x.kind} array where strings were expected`,
    );
  };
  return flat(v);
}

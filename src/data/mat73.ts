/** MATLAB v7.3 `.mat` files: HDF5 read with h5wasm (HDF5 compiled to WebAssembly). MATLAB
 * stores an m×n variable as an HDF5 dataset of shape (n, m), so the flat data is already
 * column-major for MATLAB's dimensions. Cell arrays are datasets of object references into
 * `#refs#`. Loaded only when a v7.3 file is read. */
import { DataError } from "./errors.ts";
import type { MatValue } from "./mat.ts";
import { type H5wasm, loadH5wasm } from "./npm.ts";

type H5 = H5wasm;
type H5File = InstanceType<H5["File"]>;
type H5Dataset = InstanceType<H5["Dataset"]>;

let counter = 0;

/** Reads the variables of a MATLAB v7.3 (HDF5) file from its bytes. */
export async function parseMat73(
  bytes: Uint8Array,
  file = "<mat>",
): Promise<Record<string, MatValue>> {
  const h5wasm = await loadH5wasm();
  const { FS } = await h5wasm.ready;
  const name = `/dsva-mat73-${Deno.pid}-${counter++}.mat`;
  FS.writeFile(name, bytes);
  let f: H5File | null = null;
  try {
    try {
      f = new h5wasm.File(name, "r");
    } catch (e) {
      throw new DataError(file, `not a readable MATLAB v7.3 (HDF5) file: ${(e as Error).message}`);
    }
    const out: Record<string, MatValue> = {};
    for (const key of f.keys()) {
      if (key.startsWith("#")) continue; // #refs#, #subsystem#
      const entity = f.get(key);
      if (entity instanceof h5wasm.Dataset) out[key] = value(h5wasm, f, entity, key, file);
    }
    return out;
  } finally {
    f?.close();
    FS.unlink(name);
  }
}

function value(h5wasm: H5, f: H5File, d: H5Dataset, key: string, file: string): MatValue {
  const cls = String(d.attrs["MATLAB_class"]?.value ?? "double");
  const dims = [...(d.shape ?? [])].reverse();
  while (dims.length < 2) dims.push(1);
  if (d.attrs["MATLAB_empty"]?.value) {
    return { kind: "numeric", class: cls, dims: [0, 0], data: new Float64Array(0) };
  }
  const raw = d.value;
  if (cls === "cell") {
    const refs = (Array.isArray(raw) ? raw : [raw]) as unknown[];
    const cells = refs.map((r, i) => {
      const t = f.dereference(r as Parameters<H5File["dereference"]>[0]);
      if (!(t instanceof h5wasm.Dataset)) {
        throw new DataError(file, `cell ${i} of "${key}" is not a dataset`);
      }
      return value(h5wasm, f, t, `${key}{${i}}`, file);
    });
    return { kind: "cell", dims, cells };
  }
  if (cls === "struct") {
    throw new DataError(file, `variable "${key}" is a v7.3 struct, which is not supported`);
  }
  const data = Float64Array.from(raw as ArrayLike<number>, Number);
  if (cls === "char") {
    const rows = dims[0], cols = data.length / Math.max(rows, 1);
    const text: string[] = [];
    for (let i = 0; i < rows; i++) {
      let s = "";
      for (let j = 0; j < cols; j++) s += String.fromCharCode(data[j * rows + i]);
      text.push(s);
    }
    return { kind: "char", dims, text };
  }
  return { kind: "numeric", class: cls, dims, data };
}

/** Reading and writing safetensors files, tensor by tensor.
 *
 * Loading reads the header first, then each tensor's bytes at its offset into one
 * reusable buffer the size of the largest tensor, which is copied into the new tensor:
 * the peak is the loaded tensors plus that buffer, never the file twice. Saving builds
 * the header from the tensors' shapes and dtypes, then writes each tensor's bytes in
 * turn into a temporary file that replaces the target only once complete. */
import { type Device, type DType, fromBuffer, Tensor } from "../tensor/index.ts";
import { lastError, lib } from "../tensor/runtime.ts";
import { WeightFileError } from "./errors.ts";
import { openForRead, readExactlyAt, writeAll, writeAtomically } from "./files.ts";
import {
  buildHeader,
  ITEM_SIZE,
  parseHeader,
  parseHeaderLength,
  type SafetensorsHeader,
} from "./safetensors_header.ts";
import { TensorMap } from "./tensor_map.ts";

export type { SafetensorsEntry, SafetensorsHeader } from "./safetensors_header.ts";

/** Options for {@link loadSafetensors}. */
export interface LoadSafetensorsOptions {
  /** Where the tensors go (default `"cpu"`). */
  device?: Device;
  /** Converts floating-point tensors to this dtype; integer and bool tensors keep theirs
   * (so index buffers such as `position_ids` stay int64). */
  dtype?: DType;
  /** Loads only the tensors whose name passes (the others are skipped, not read). */
  filter?: (name: string) => boolean;
}

const FLOATING = new Set<DType>(["float64", "float32", "float16", "bfloat16"]);

async function readHeaderFrom(file: Deno.FsFile, path: string): Promise<SafetensorsHeader> {
  const size = (await file.stat()).size;
  const prefix = new Uint8Array(Math.min(8, size));
  await readExactlyAt(file, path, 0, prefix);
  const n = parseHeaderLength(path, prefix, size);
  const json = new Uint8Array(n);
  await readExactlyAt(file, path, 8, json);
  return parseHeader(path, json, size);
}

/** Reads and validates only the header of a safetensors file: tensor names, dtypes,
 * shapes, offsets and the `__metadata__` strings. No tensor data is read. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  using file = await openForRead(path);
  return await readHeaderFrom(file, path);
}

/** Loads every tensor of a safetensors file (a `Map` from name to tensor, in file order,
 * with the file's `__metadata__` on `.metadata`). The caller owns the tensors: dispose
 * them, or the map with `using` / `dispose()`. A malformed or truncated file gives a
 * {@link WeightFileError} naming the file and the tensor at fault.
 *
 * ```ts
 * using weights = await io.loadSafetensors("model.safetensors", { dtype: "float32" });
 * console.log(weights.get("vision_model.embeddings.class_embedding")?.shape);
 * ```
 */
export async function loadSafetensors(
  path: string,
  opts: LoadSafetensorsOptions = {},
): Promise<TensorMap> {
  using file = await openForRead(path);
  const header = await readHeaderFrom(file, path);
  const wanted = opts.filter ? header.entries.filter((e) => opts.filter!(e.name)) : header.entries;
  const out = new TensorMap(header.metadata);
  const largest = wanted.reduce((m, e) => Math.max(m, e.end - e.begin), 0);
  const scratch = new Uint8Array(largest);
  try {
    for (const e of wanted) {
      const bytes = scratch.subarray(0, e.end - e.begin);
      await readExactlyAt(file, path, header.dataStart + e.begin, bytes, { entry: e.name });
      let t: Tensor;
      try {
        t = fromBuffer(bytes, e.shape, { dtype: e.dtype, device: opts.device });
      } catch (err) {
        throw new WeightFileError(path, `cannot create the tensor: ${(err as Error).message}`, {
          entry: e.name,
          cause: err,
        });
      }
      if (opts.dtype !== undefined && opts.dtype !== e.dtype && FLOATING.has(e.dtype)) {
        const c = t.to(opts.dtype);
        t.dispose();
        t = c;
      }
      out.set(e.name, t);
    }
  } catch (err) {
    out.dispose();
    throw err;
  }
  return out;
}

/** Tensors to save: a `Map` or a plain object from name to tensor. */
export type NamedTensors = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

/** The entries of a Map or a plain object of tensors. */
function namedEntries(tensors: NamedTensors): [string, Tensor][] {
  return tensors instanceof Map
    ? [...tensors.entries()]
    : Object.entries(tensors as Record<string, Tensor>);
}

/** Saves tensors to a safetensors file that Python's `safetensors` reads, with
 * optional `__metadata__` strings. Tensors are written one at a time (any device,
 * any layout; the bytes are copied out contiguously), largest item size first so that
 * every tensor is aligned in the file. The write is atomic: a temporary file beside
 * `path` is flushed and renamed over it, so `path` is either the old file or the
 * complete new one. */
export async function saveSafetensors(
  path: string,
  tensors: NamedTensors,
  metadata?: Record<string, string>,
): Promise<void> {
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== "string") {
      throw new WeightFileError(path, `metadata value of "${k}" is not a string`);
    }
  }
  const items = namedEntries(tensors).map(([name, t]) => {
    if (name === "__metadata__" || name === "") {
      throw new WeightFileError(path, "this tensor name is reserved", { entry: name });
    }
    if (!(t instanceof Tensor) || t.isDisposed) {
      throw new WeightFileError(path, "not a live Tensor", { entry: name });
    }
    const dtype = t.dtype;
    const shape = t.shape;
    const bytes = shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype];
    return { name, t, dtype, shape, bytes };
  });
  items.sort((a, b) =>
    ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
  const header = buildHeader(items, metadata);
  // One reusable buffer instead of a fresh toBuffer() per tensor: 4x faster on large
  // files (no page faults on new memory) and the peak stays at one tensor.
  const scratch = new Uint8Array(items.reduce((m, it) => Math.max(m, it.bytes), 0));
  await writeAtomically(path, async (file) => {
    await writeAll(file, header.bytes);
    for (const it of items) {
      const data = scratch.subarray(0, it.bytes);
      if (it.bytes > 0 && lib.dt_tensor_copy_out(it.t.handle, data, BigInt(it.bytes)) < 0) {
        const err = lastError("copy out");
        throw new WeightFileError(path, `cannot copy out: ${err.message}`, {
          entry: it.name,
          cause: err,
        });
      }
      await writeAll(file, data);
    }
  });
}

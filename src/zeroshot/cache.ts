/** The embedding cache: image and text embeddings written once as safetensors under the cache
 * root (`<cache>/embeddings/<key>.safetensors`) and read back instead of encoding again. A key
 * is the SHA-256 of what decides the embeddings: the bytes of the CLIP's files, and the
 * transform and image list (images), or the exact prompt texts (text), and the autocast the
 * towers ran under (`bf16` entries are others than float32's). An image that changes on disk
 * (size or modification time) changes the key. Beside them, a weights file's input geometry
 * (`<cache>/geometry/<weights>.json`), so that a full hit need not read the weights at all. */
import { createHash } from "node:crypto";
import { cacheRoot } from "../../ffi/cache_root.ts";
import { loadSafetensors, saveSafetensors } from "../io/index.ts";
import type { Tensor } from "../tensor/index.ts";
import type { EncodeAutocast } from "../attributes/collect.ts";

const VERSION = 1;

/** SHA-256 (hex) of the files' names and bytes, read in chunks (a ViT-B/32 is 600 MB). */
export async function hashFiles(paths: readonly string[]): Promise<string> {
  const h = createHash("sha256");
  for (const p of paths) {
    h.update(`${p.split("/").pop()}\0`);
    using f = await Deno.open(p);
    const buf = new Uint8Array(1 << 22);
    for (let n; (n = await f.read(buf)) !== null;) h.update(buf.subarray(0, n));
  }
  return h.digest("hex");
}

/** The SHA-256 (hex) of a JSON description. */
export function hashJson(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/** The autocast part of a key: nothing for float32 (so the keys of float32 entries stay what
 * they were before autocast existed), `{autocast: "bf16"}` otherwise. */
const autocastPart = (autocast: EncodeAutocast = "none") => autocast === "none" ? {} : { autocast };

/** The key of the image embeddings of `paths` by the CLIP `weights` (its files' hash) under
 * `transform` (e.g. `{resize, crop, mean, std}`) and `autocast`. */
export function imageCacheKey(
  weights: string,
  transform: unknown,
  paths: readonly string[],
  autocast?: EncodeAutocast,
) {
  const files = paths.map((p) => {
    const s = Deno.statSync(p);
    return [p, s.size, s.mtime?.getTime() ?? 0];
  });
  return hashJson({
    v: VERSION,
    kind: "image",
    weights,
    transform,
    files,
    ...autocastPart(autocast),
  });
}

/** The key of the text embeddings of the prompt set (every class's texts, in order) under
 * `autocast`. */
export function textCacheKey(
  weights: string,
  prompts: readonly (readonly string[])[],
  autocast?: EncodeAutocast,
) {
  return hashJson({ v: VERSION, kind: "text", weights, prompts, ...autocastPart(autocast) });
}

/** Where the input geometry of the CLIP whose files hash to `weights` is kept. */
export function geometryPath(weights: string): string {
  return `${cacheRoot()}/geometry/${weights}.json`;
}

/** The cached input side (pixels) of the CLIP `weights`, or null when none is kept (or the file
 * cannot be read). */
export function readCachedImageSize(weights: string): number | null {
  try {
    const size = JSON.parse(Deno.readTextFileSync(geometryPath(weights))).imageSize;
    return Number.isSafeInteger(size) && size > 0 ? size : null;
  } catch {
    return null;
  }
}

/** Keeps the input side of the CLIP `weights` (atomically: written aside, then renamed). */
export async function writeCachedImageSize(weights: string, imageSize: number): Promise<void> {
  const path = geometryPath(weights);
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify({ imageSize }));
  await Deno.rename(tmp, path);
}

/** Where the entry of `key` lives. */
export function cachePath(key: string): string {
  return `${cacheRoot()}/embeddings/${key}.safetensors`;
}

/** A cached embedding matrix and its metadata, or null when the key is not cached (or its
 * file cannot be read: then it is encoded again and rewritten). */
export async function readCached(
  key: string,
): Promise<{ embeddings: Tensor; meta: Record<string, string> } | null> {
  try {
    const m = await loadSafetensors(cachePath(key));
    const e = m.get("embeddings");
    if (!e) {
      for (const t of m.values()) t.dispose();
      return null;
    }
    for (const [k, t] of m) if (k !== "embeddings") t.dispose();
    return { embeddings: e, meta: { ...(m.metadata ?? {}) } };
  } catch {
    return null;
  }
}

/** Writes `embeddings` (with string `meta`) as the entry of `key` (atomically). */
export async function writeCached(
  key: string,
  embeddings: Tensor,
  meta: Record<string, string>,
): Promise<string> {
  const path = cachePath(key);
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await saveSafetensors(path, new Map([["embeddings", embeddings]]), meta);
  return path;
}

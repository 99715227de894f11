/** The embedding cache: image and text embeddings written once as safetensors under the cache
 * root (`<cache>/embeddings/<key>.safetensors`) and read back instead of encoding again. A key
 * is the SHA-256 of what decides the embeddings: the bytes of the CLIP's files, and the
 * transform and image list (images), or the exact prompt texts (text). An image that changes on
 * disk (size or modification time) changes the key. */
import { createHash } from "node:crypto";
import { cacheRoot } from "../../ffi/cache_root.ts";
import { loadSafetensors, saveSafetensors } from "../io/index.ts";
import type { Tensor } from "../tensor/index.ts";

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

/** The key of the image embeddings of `paths` by the CLIP `weights` (its files' hash) under
 * `transform` (e.g. `{resize, crop, mean, std}`). */
export function imageCacheKey(weights: string, transform: unknown, paths: readonly string[]) {
  const files = paths.map((p) => {
    const s = Deno.statSync(p);
    return [p, s.size, s.mtime?.getTime() ?? 0];
  });
  return hashJson({ v: VERSION, kind: "image", weights, transform, files });
}

/** The key of the text embeddings of the prompt set (every class's texts, in order). */
export function textCacheKey(weights: string, prompts: readonly (readonly string[])[]) {
  return hashJson({ v: VERSION, kind: "text", weights, prompts });
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

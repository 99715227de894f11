/** The worker side of {@link "./worker_pool.ts"}: decodes a file, applies a built-in transform
 * with the job's seeded generator, and returns normalised CHW float32 planes. */
import { BufferPool } from "./buffer_pool.ts";
import { DataError } from "./errors.ts";
import { decodeImage } from "./image.ts";
import type { Normalization } from "./normalize.ts";
import { Rng } from "./rng.ts";
import { type Transform, transformFromSpec, type TransformSpec } from "./transforms.ts";
import { transformToChw } from "./to_chw.ts";

/** A job: one image. */
export interface DecodeJob {
  id: number;
  path: string;
  /** Keys of the image's generator: `Rng(...keys)`. */
  keys: number[];
  spec: TransformSpec;
  norm: Normalization;
}

/** A job's answer: pixels or an error. */
export type DecodeReply =
  | { id: number; ok: true; data: Float32Array; width: number; height: number }
  | { id: number; ok: false; file?: string; problem?: string; message: string };

/** Main → worker: a buffer whose pixels have been copied into their batch, to reuse. */
export interface RecycledBuffer {
  recycle: Float32Array;
}

const cache = new Map<string, Transform>();
const buffers = new BufferPool(4); // a worker has a few images in flight at a time

async function run(job: DecodeJob): Promise<DecodeReply> {
  try {
    const key = JSON.stringify(job.spec);
    let t = cache.get(key);
    if (!t) cache.set(key, t = transformFromSpec(job.spec));
    const img = transformToChw(
      await decodeImage(job.path),
      t,
      new Rng(...job.keys),
      job.norm,
      (n) => buffers.take(n),
    );
    return { id: job.id, ok: true, ...img };
  } catch (e) {
    if (e instanceof DataError) {
      return { id: job.id, ok: false, file: e.file, problem: e.problem, message: e.message };
    }
    return { id: job.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<DecodeJob | RecycledBuffer>) => void) | null;
  postMessage(m: DecodeReply, transfer?: Transferable[]): void;
};
scope.onmessage = async (e) => {
  if ("recycle" in e.data) return buffers.give(e.data.recycle);
  const r = await run(e.data);
  scope.postMessage(r, r.ok ? [r.data.buffer as ArrayBuffer] : []);
};

/** The worker side of {@link "./worker_pool.ts"}: decodes a file, applies a built-in transform
 * with the job's seeded generator, and returns normalised CHW float32 planes. */
import { DataError } from "./errors.ts";
import { decodeImage } from "./image.ts";
import { type Normalization, writeChw } from "./normalize.ts";
import { Rng } from "./rng.ts";
import { type Transform, transformFromSpec, type TransformSpec } from "./transforms.ts";

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

const cache = new Map<string, Transform>();

async function run(job: DecodeJob): Promise<DecodeReply> {
  try {
    const key = JSON.stringify(job.spec);
    let t = cache.get(key);
    if (!t) cache.set(key, t = transformFromSpec(job.spec));
    const img = t.apply(await decodeImage(job.path), new Rng(...job.keys));
    const data = new Float32Array(img.width * img.height * 3);
    writeChw(img, data, 0, job.norm);
    return { id: job.id, ok: true, data, width: img.width, height: img.height };
  } catch (e) {
    if (e instanceof DataError) {
      return { id: job.id, ok: false, file: e.file, problem: e.problem, message: e.message };
    }
    return { id: job.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<DecodeJob>) => void) | null;
  postMessage(m: DecodeReply, transfer?: Transferable[]): void;
};
scope.onmessage = async (e) => {
  const r = await run(e.data);
  scope.postMessage(r, r.ok ? [r.data.buffer as ArrayBuffer] : []);
};

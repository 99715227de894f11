/** A pool of worker threads that decode and transform images off the main thread. */
import type { DecodeJob, DecodeReply, RecycledBuffer } from "./decode_worker.ts";
import { DataError } from "./errors.ts";
import type { Normalization } from "./normalize.ts";
import type { TransformSpec } from "./transforms.ts";

/** A decoded, transformed, normalised image: CHW float32 planes. */
export interface ChwImage {
  /** `3 × height × width` float32 values. */
  data: Float32Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

interface Pending {
  resolve: (v: ChwImage) => void;
  reject: (e: unknown) => void;
}

/** `n` worker threads running `decode_worker.ts`; each job goes to the least busy one. */
export class DecodePool {
  readonly #workers: { w: Worker; busy: number }[] = [];
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #nextRecycle = 0;
  #closed = false;

  /** Starts `n` workers (at least one). */
  constructor(n: number) {
    for (let i = 0; i < Math.max(1, n); i++) {
      const w = new Worker(new URL("./decode_worker.ts", import.meta.url), { type: "module" });
      const slot = { w, busy: 0 };
      w.onmessage = (e: MessageEvent<DecodeReply>) => {
        slot.busy--;
        const r = e.data, p = this.#pending.get(r.id);
        if (!p) return;
        this.#pending.delete(r.id);
        if (r.ok) p.resolve({ data: r.data, width: r.width, height: r.height });
        else if (r.file !== undefined && r.problem !== undefined) {
          p.reject(new DataError(r.file, r.problem));
        } else p.reject(new Error(r.message));
      };
      w.onerror = (e) => {
        e.preventDefault();
        this.#failAll(new Error(`image worker failed: ${e.message}`));
      };
      this.#workers.push(slot);
    }
  }

  /** Runs one image through a worker. */
  run(path: string, keys: number[], spec: TransformSpec, norm: Normalization): Promise<ChwImage> {
    if (this.#closed) return Promise.reject(new Error("DecodePool is closed"));
    const id = this.#next++;
    const slot = this.#workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    return new Promise<ChwImage>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const job: DecodeJob = { id, path, keys, spec, norm: { mean: norm.mean, std: norm.std } };
      slot.w.postMessage(job);
    });
  }

  /** Hands a buffer that a worker returned back to a worker, to fill again. */
  recycle(data: Float32Array): void {
    if (this.#closed) return;
    const slot = this.#workers[this.#nextRecycle++ % this.#workers.length];
    slot.w.postMessage({ recycle: data } satisfies RecycledBuffer, [data.buffer as ArrayBuffer]);
  }

  #failAll(e: Error) {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  /** Stops the workers; jobs still running fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { w } of this.#workers) w.terminate();
    this.#failAll(new Error("DecodePool closed"));
  }

  /** Same as {@link DecodePool.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

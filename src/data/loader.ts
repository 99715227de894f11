/** Decoding and augmenting batches of images concurrently, in a fixed order, within a budget. */
import { DataError } from "./errors.ts";
import { decodeImage, type RgbImage } from "./image.ts";
import { IMAGENET, type Normalization } from "./normalize.ts";
import { transformToChw } from "./to_chw.ts";
import { BufferPool } from "./buffer_pool.ts";
import { Rng } from "./rng.ts";
import type { BatchPlan } from "./sampler.ts";
import type { Transform } from "./transforms.ts";
import type { ImageProblem } from "./validate.ts";
import { type ChwImage, DecodePool } from "./worker_pool.ts";

/** One image of a dataset: a file and its class. */
export interface Sample {
  /** The image file. */
  readonly path: string;
  /** Class index. */
  readonly label: number;
}

/** A loaded batch: NCHW float32 pixels on the host plus labels and where it came from. */
export interface LoadedBatch {
  /** `N × 3 × H × W` normalised float32 pixels. */
  readonly data: Float32Array;
  /** `[N, 3, H, W]` (N can be below the plan's size after skipped images). */
  readonly shape: [number, number, number, number];
  /** Class of each image. */
  readonly labels: Int32Array;
  /** Dataset sample indices, in batch order. */
  readonly indices: readonly number[];
  /** The epoch of the plan. */
  readonly epoch: number;
  /** The batch's number within its epoch. */
  readonly batch: number;
}

/** Options for {@link ImageLoader}. */
export interface LoaderOptions {
  /** Applied to each decoded image with its own seeded generator; must give one size. */
  transform: Transform;
  /** Default: ImageNet statistics. */
  normalization?: Normalization;
  /** Images being decoded and transformed at once (default 4). */
  concurrency?: number;
  /** Batches being prepared ahead of the consumer, in memory at most (default 2). */
  prefetch?: number;
  /** Seed of the augmentation randomness (default 0). */
  seed?: number;
  /** "throw" (default): a bad image fails the batch with a {@link DataError}. "skip": it is left
   * out of its batch with a warning and counted in {@link ImageLoader.skipped}. */
  onError?: "throw" | "skip";
  /** Where skip warnings go (default `console.warn`). */
  warn?: (message: string) => void;
  /** Decodes a file (default {@link decodeImage}); for tests and custom storage. Runs on the
   * main thread: not with `workers`. */
  decode?: (path: string) => Promise<RgbImage>;
  /** Worker threads that decode, transform and normalise (default 0: decode on sharp's threads,
   * transform on the main thread). Needs a built-in transform (one with a `spec`). The workers
   * start with each `batches()` call and stop when it ends. Same pixels either way. */
  workers?: number;
}

interface OpenBatch {
  plan: BatchPlan;
  data: Float32Array | null;
  size: [number, number] | null;
  ok: boolean[];
  remaining: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Loads batches planned by a sampler. Up to `concurrency` images are decoded at once and up to
 * `prefetch` batches are open (allocated or being filled) at any time; batches come out in plan
 * order and image `k` of batch `b` of epoch `e` is augmented with `Rng(seed, e, b, k)`, so the
 * pixels do not depend on the concurrency or on timing.
 */
export class ImageLoader {
  /** The dataset's images; plans index into it. */
  readonly samples: readonly Sample[];
  readonly #o: Required<Omit<LoaderOptions, "warn" | "decode">>;
  #pool: DecodePool | null = null;
  readonly #buffers: BufferPool;
  readonly #warn: (m: string) => void;
  readonly #decode: (path: string) => Promise<RgbImage>;
  /** Images left out with `onError: "skip"`. */
  skipped = 0;
  /** The images left out with `onError: "skip"`, each with its problem, in the order met. */
  readonly skippedImages: ImageProblem[] = [];
  /** Peak counts seen so far: open batches and images in flight. */
  readonly peak = { openBatches: 0, inFlight: 0 };

  /** A loader over `samples`. */
  constructor(samples: readonly Sample[], opts: LoaderOptions) {
    this.samples = samples;
    this.#o = {
      transform: opts.transform,
      normalization: opts.normalization ?? IMAGENET,
      concurrency: Math.max(1, Math.floor(opts.concurrency ?? 4)),
      prefetch: Math.max(1, Math.floor(opts.prefetch ?? 2)),
      seed: opts.seed ?? 0,
      onError: opts.onError ?? "throw",
      workers: Math.max(0, Math.floor(opts.workers ?? 0)),
    };
    if (this.#o.workers > 0 && !opts.transform.spec) {
      throw new RangeError(
        `ImageLoader: workers need a built-in transform (Resize, crops, flips, Compose of them); ` +
          `"${opts.transform.name}" has no spec: use workers: 0`,
      );
    }
    if (this.#o.workers > 0 && opts.decode) {
      throw new RangeError("ImageLoader: a custom decode runs on the main thread: use workers: 0");
    }
    this.#buffers = new BufferPool(this.#o.concurrency);
    this.#warn = opts.warn ?? ((m) => console.warn(m));
    this.#decode = opts.decode ?? ((p) => decodeImage(p));
  }

  /** Loads one image with the augmentation of slot `slot` of batch (`epoch`, `batch`). */
  async loadOne(index: number, epoch: number, batch: number, slot: number): Promise<RgbImage> {
    const s = this.samples[index];
    if (!s) throw new RangeError(`sample index ${index} is out of range (${this.samples.length})`);
    const img = await this.#decode(s.path);
    return this.#o.transform.apply(img, new Rng(this.#o.seed, epoch, batch, slot));
  }

  /** Yields the batches of `plans` in order (e.g. `loader.batches(sampler.epoch())`). */
  async *batches(plans: Iterable<BatchPlan>): AsyncGenerator<LoadedBatch> {
    const { concurrency, prefetch } = this.#o;
    const it = plans[Symbol.iterator]();
    const open: OpenBatch[] = [];
    const pending: { b: OpenBatch; slot: number }[] = [];
    let inFlight = 0, exhausted = false, stopped = false;

    const openNext = (): boolean => {
      if (exhausted || open.length >= prefetch) return false;
      const n = it.next();
      if (n.done) {
        exhausted = true;
        return false;
      }
      let resolve!: () => void, reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      done.catch(() => {});
      const k = n.value.indices.length;
      const b: OpenBatch = {
        plan: n.value,
        data: null,
        size: null,
        ok: new Array(k).fill(false),
        remaining: k,
        done,
        resolve,
        reject,
      };
      open.push(b);
      this.peak.openBatches = Math.max(this.peak.openBatches, open.length);
      for (let slot = 0; slot < k; slot++) pending.push({ b, slot });
      if (k === 0) resolve();
      return true;
    };

    const pump = () => {
      while (!stopped && inFlight < concurrency) {
        if (pending.length === 0 && !openNext()) break;
        if (pending.length === 0) continue;
        const { b, slot } = pending.shift()!;
        inFlight++;
        this.peak.inFlight = Math.max(this.peak.inFlight, inFlight);
        const { epoch, batch, indices, firstSlot = 0 } = b.plan;
        this.#loadChw(indices[slot], epoch, batch, firstSlot + slot)
          .then((img) => this.#place(b, slot, img))
          .catch((e) => this.#fail(b, slot, e))
          .catch((e) => {
            stopped = true;
            b.reject(e);
          })
          .finally(() => {
            inFlight--;
            if (--b.remaining === 0) b.resolve();
            pump();
          });
      }
    };

    if (this.#o.workers > 0) this.#pool = new DecodePool(this.#o.workers);
    try {
      pump();
      while (open.length > 0) {
        const b = open[0];
        await b.done;
        open.shift();
        pump();
        yield this.#finish(b);
      }
    } finally {
      stopped = true;
      this.#pool?.close();
      this.#pool = null;
    }
  }

  /** One image as normalised CHW planes, in a worker or here. */
  async #loadChw(index: number, epoch: number, batch: number, slot: number): Promise<ChwImage> {
    const s = this.samples[index];
    if (!s) throw new RangeError(`sample index ${index} is out of range (${this.samples.length})`);
    const { seed, transform, normalization } = this.#o;
    if (this.#pool) {
      return await this.#pool.run(
        s.path,
        [seed, epoch, batch, slot],
        transform.spec!,
        normalization,
      );
    }
    const rng = new Rng(seed, epoch, batch, slot);
    const img = await this.#decode(s.path);
    return transformToChw(img, transform, rng, normalization, (n) => this.#buffers.take(n));
  }

  #place(b: OpenBatch, slot: number, img: ChwImage) {
    const plane = img.width * img.height * 3;
    if (!b.size) {
      b.size = [img.height, img.width];
      b.data = new Float32Array(b.plan.indices.length * plane);
    } else if (b.size[0] !== img.height || b.size[1] !== img.width) {
      throw new DataError(
        this.samples[b.plan.indices[slot]].path,
        `transformed to ${img.width}×${img.height}, other images of the batch are ` +
          `${b.size[1]}×${b.size[0]}: end the transform with a crop or a resize to a fixed size`,
      );
    }
    b.data!.set(img.data, slot * plane);
    b.ok[slot] = true;
    if (this.#pool) this.#pool.recycle(img.data);
    else this.#buffers.give(img.data);
  }

  #fail(b: OpenBatch, slot: number, e: unknown) {
    if (this.#o.onError !== "skip" || !(e instanceof DataError)) throw e;
    this.skipped++;
    this.skippedImages.push({
      path: e.file || this.samples[b.plan.indices[slot]].path,
      problem: e.problem,
    });
    this.#warn(
      `skipping ${e.message} (epoch ${b.plan.epoch}, batch ${b.plan.batch}, slot ${slot})`,
    );
  }

  #finish(b: OpenBatch): LoadedBatch {
    const keep = b.ok.flatMap((ok, i) => (ok ? [i] : []));
    const [h, w] = b.size ?? [0, 0];
    const plane = 3 * h * w;
    let data = b.data ?? new Float32Array(0);
    if (keep.length < b.ok.length) {
      const packed = new Float32Array(keep.length * plane);
      keep.forEach((src, dst) =>
        packed.set(data.subarray(src * plane, (src + 1) * plane), dst * plane)
      );
      data = packed;
    }
    const indices = keep.map((i) => b.plan.indices[i]);
    return {
      data,
      shape: [keep.length, 3, h, w],
      labels: Int32Array.from(indices, (i) => this.samples[i].label),
      indices,
      epoch: b.plan.epoch,
      batch: b.plan.batch,
    };
  }
}

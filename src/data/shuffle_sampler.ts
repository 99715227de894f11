/** Plain batches: a seeded permutation per epoch cut into fixed-size batches. */
import { Rng } from "./rng.ts";
import { BatchSampler } from "./sampler.ts";

/** Options for {@link ShuffledBatchSampler}. */
export interface ShuffledOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Seed of the permutations (default 0). */
  seed?: number;
  /** Permute each epoch (default true); false keeps the dataset order (evaluation). */
  shuffle?: boolean;
  /** Drop the last, smaller batch (default false). */
  dropLast?: boolean;
}

/** Every sample once per epoch, in a permutation drawn from (seed, epoch). */
export class ShuffledBatchSampler extends BatchSampler {
  /** Samples per epoch. */
  readonly size: number;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch is permuted. */
  readonly shuffle: boolean;
  /** Whether the last, smaller batch is dropped. */
  readonly dropLast: boolean;
  #cache: { epoch: number; order: number[] } | null = null;

  /** Samples `0..size-1` (or the given sample indices, e.g. a split's training images). */
  constructor(samples: number | readonly number[], opts: ShuffledOptions) {
    super(opts.seed ?? 0);
    if (!(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) {
      throw new RangeError(`ShuffledBatchSampler: batchSize must be ≥ 1, got ${opts.batchSize}`);
    }
    this.#ids = typeof samples === "number" ? null : samples.slice();
    this.size = typeof samples === "number" ? samples : samples.length;
    this.batchSize = opts.batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.dropLast = opts.dropLast ?? false;
    if (this.batchesPerEpoch === 0) {
      throw new RangeError(
        `ShuffledBatchSampler: ${this.size} samples make no batch of ${this.batchSize}`,
      );
    }
  }

  readonly #ids: number[] | null;

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast
      ? Math.floor(this.size / this.batchSize)
      : Math.ceil(this.size / this.batchSize);
  }

  #order(epoch: number): number[] {
    if (this.#cache?.epoch !== epoch) {
      const order = this.shuffle
        ? new Rng(this.seed, epoch).permutation(this.size)
        : Array.from({ length: this.size }, (_, i) => i);
      this.#cache = { epoch, order };
    }
    return this.#cache.order;
  }

  /** Batch `batch` of epoch `epoch`: a slice of that epoch's permutation. */
  plan(epoch: number, batch: number): number[] {
    if (batch >= this.batchesPerEpoch) throw new RangeError(`batch ${batch} is past the epoch`);
    const o = this.#order(epoch).slice(batch * this.batchSize, (batch + 1) * this.batchSize);
    return this.#ids ? o.map((i) => this.#ids![i]) : o;
  }
}

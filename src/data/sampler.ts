/** What samplers share: batch plans keyed by (epoch, batch) and a resumable position. */

/** The images of one batch, as dataset sample indices, with the batch's place in training. */
export interface BatchPlan {
  /** The epoch this batch belongs to. */
  readonly epoch: number;
  /** The batch's number within its epoch. */
  readonly batch: number;
  /** Sample indices, in batch order. */
  readonly indices: readonly number[];
  /** The augmentation slot of `indices[0]` (default 0; the others follow): a rank's share of a
   * global batch keeps the global batch's augmentation of each image. */
  readonly firstSlot?: number;
}

/** A sampler's position: the next batch it will hand out. Plain JSON, for checkpoints. */
export interface SamplerState {
  /** The sampler's seed (checked on restore). */
  seed: number;
  /** The epoch of the next batch. */
  epoch: number;
  /** The number of the next batch within its epoch. */
  batch: number;
}

/** A seeded batch sampler. Batch `b` of epoch `e` depends only on (seed, e, b), so a sampler
 * restored from {@link SamplerState} continues exactly where the saved one stopped. */
export abstract class BatchSampler {
  /** Its seed. */
  readonly seed: number;
  #epoch = 0;
  #batch = 0;

  /** A sampler with seed `seed`. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`sampler seed must be an integer: ${seed}`);
    }
    this.seed = seed;
  }

  /** Batches in one epoch. */
  abstract get batchesPerEpoch(): number;

  /** The sample indices of batch `batch` of epoch `epoch` (pure). */
  abstract plan(epoch: number, batch: number): number[];

  /** The position to save. */
  state(): SamplerState {
    return { seed: this.seed, epoch: this.#epoch, batch: this.#batch };
  }

  /** Moves to a saved position; the seed must be this sampler's. */
  restore(s: SamplerState): void {
    if (s.seed !== this.seed) {
      throw new RangeError(`sampler state has seed ${s.seed}, this sampler has ${this.seed}`);
    }
    if (!(Number.isInteger(s.epoch) && s.epoch >= 0 && Number.isInteger(s.batch) && s.batch >= 0)) {
      throw new RangeError(`bad sampler state ${JSON.stringify(s)}`);
    }
    this.#epoch = s.epoch;
    this.#batch = s.batch;
    if (this.#batch >= this.batchesPerEpoch) {
      this.#epoch++;
      this.#batch = 0;
    }
  }

  /** The next batch, advancing the position (into the next epoch after the last batch). */
  next(): BatchPlan {
    const p = {
      epoch: this.#epoch,
      batch: this.#batch,
      indices: this.plan(this.#epoch, this.#batch),
    };
    if (++this.#batch >= this.batchesPerEpoch) {
      this.#epoch++;
      this.#batch = 0;
    }
    return p;
  }

  /** The rest of the current epoch, advancing the position as each batch is taken. */
  *epoch(): Generator<BatchPlan> {
    const e = this.#epoch;
    while (this.#epoch === e) yield this.next();
  }
}

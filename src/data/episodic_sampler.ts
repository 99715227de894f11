/** DSVA's episodic sampler (`CategoriesSampler`): `ways` classes × `shots` images per batch. */
import { Rng } from "./rng.ts";
import { BatchSampler } from "./sampler.ts";

/** Options for {@link EpisodicSampler}. */
export interface EpisodicOptions {
  /** Distinct classes per batch (DSVA: 8). */
  ways: number;
  /** Images per class per batch (DSVA: 3). */
  shots: number;
  /** Batches per epoch (DSVA's `n_batch`: 300). */
  batchesPerEpoch: number;
  /** Seed of the draws (default 0). */
  seed?: number;
}

/**
 * Each batch draws `ways` distinct classes, then `shots` distinct images of each, as DSVA's
 * `CategoriesSampler` does, and lists them shot-major: `[c0 s0, c1 s0, ..., c(ways-1) s0, c0 s1,
 * ...]`. The official sampler lists them class-major (`torch.stack(episode).view(-1)`, no
 * transpose: `[c0 s0, c0 s1, ..., c1 s0, ...]`); the order within a batch changes no loss term
 * (each is a mean or sum over the batch), only the order of floating-point sums. Batches are
 * independent draws (images can recur across batches of one epoch, as in DSVA).
 */
export class EpisodicSampler extends BatchSampler {
  /** Classes per batch. */
  readonly ways: number;
  /** Images per class per batch. */
  readonly shots: number;
  readonly #perEpoch: number;
  /** Sample indices of each class that has any, in label order. */
  readonly #byClass: number[][];
  /** The label of each entry of `#byClass`. */
  readonly classes: readonly number[];

  /** `labels[i]` is the class of sample `i` (restrict it to the training samples first). */
  constructor(labels: ArrayLike<number>, opts: EpisodicOptions) {
    super(opts.seed ?? 0);
    const { ways, shots, batchesPerEpoch } = opts;
    for (const [k, v] of Object.entries({ ways, shots, batchesPerEpoch })) {
      if (!(Number.isInteger(v) && v >= 1)) {
        throw new RangeError(`EpisodicSampler: ${k} must be ≥ 1, got ${v}`);
      }
    }
    const groups = new Map<number, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      if (!groups.has(l)) groups.set(l, []);
      groups.get(l)!.push(i);
    }
    const classes = [...groups.keys()].sort((a, b) => a - b);
    if (classes.length < ways) {
      throw new RangeError(
        `EpisodicSampler: ${ways} ways but the labels hold ${classes.length} classes`,
      );
    }
    const small = classes.filter((c) => groups.get(c)!.length < shots);
    if (small.length > 0) {
      throw new RangeError(
        `EpisodicSampler: ${shots} shots but class(es) ${small.join(", ")} have fewer images`,
      );
    }
    this.ways = ways;
    this.shots = shots;
    this.#perEpoch = batchesPerEpoch;
    this.classes = classes;
    this.#byClass = classes.map((c) => groups.get(c)!);
  }

  /** Batches per epoch, as given. */
  get batchesPerEpoch(): number {
    return this.#perEpoch;
  }

  /** Batch `batch` of epoch `epoch`: shot-major `ways × shots` sample indices. */
  plan(epoch: number, batch: number): number[] {
    const rng = new Rng(this.seed, epoch, batch);
    const chosen = partialShuffle(this.#byClass.length, this.ways, rng);
    const picks = chosen.map((c) => {
      const members = this.#byClass[c];
      return partialShuffle(members.length, this.shots, rng).map((i) => members[i]);
    });
    const out: number[] = [];
    for (let s = 0; s < this.shots; s++) for (const p of picks) out.push(p[s]);
    return out;
  }
}

/** The first `k` entries of a uniform random permutation of 0..n-1. */
function partialShuffle(n: number, k: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

/** Scoring images with a DSVA model: every branch's softmax probabilities over all classes (the
 * space the official code evaluates and applies calibrated stacking in). */
import type { DSVA } from "../dsva/model.ts";
import { ImageLoader, type Sample } from "../data/loader.ts";
import { CLIP, IMAGENET, type Normalization, UNIT } from "../data/normalize.ts";
import { ShuffledBatchSampler } from "../data/shuffle_sampler.ts";
import { batchToTensor } from "../data/tensor.ts";
import { evalTransform, trainTransform } from "../data/transforms.ts";
import type { ImageProblem } from "../data/validate.ts";
import type { Device } from "../tensor/device.ts";
import { autocast, noGrad, scope, type Tensor } from "../tensor/index.ts";
import type { TrainConfig } from "../config/types.ts";

/** The prediction branches: VAM (`a·Aᵀ`, the official headline), the global ALE branch, and the
 * fused output (global + AC crop, or global alone without the AC). */
export const BRANCHES = ["vam", "global", "fused"] as const;
/** A branch name. */
export type Branch = (typeof BRANCHES)[number];

/** Softmax probabilities `[n, c]` row-major per branch, with the true labels. */
export interface ScoredSet {
  n: number;
  c: number;
  labels: Int32Array;
  scores: Record<Branch, Float32Array>;
  /** Images left out as unreadable (`onBadImage: "skip"`), when there were any. */
  badImages?: ImageProblem[];
}

/** What evaluation does with an image that cannot be decoded: `fail` (the default) stops with
 * the loader's `DataError` naming the file; `skip` leaves the image out of the metrics and lists
 * it (`ScoredSet.badImages`, `eval.json`'s `badImages`). */
export type BadImagePolicy = "skip" | "fail";

/** The normalisation named in the config. */
export function normalizationOf(config: TrainConfig): Normalization {
  return config.normalization === "clip" ? CLIP : config.normalization === "unit" ? UNIT : IMAGENET;
}

/** The run's test-time transform (Resize → CenterCrop). */
export function testTransform(config: TrainConfig) {
  return evalTransform(config.imageSize, config.resize);
}

/** The run's training augmentation (Resize → RandomCrop → horizontal flip). */
export function trainingTransform(config: TrainConfig) {
  return trainTransform(config.imageSize, config.resize);
}

/** Runs `fn` under CUDA bf16 autocast when the config asks for it. */
export function maybeAutocast<T>(config: TrainConfig, fn: () => T): T {
  return config.autocast === "bf16" && config.device.startsWith("cuda")
    ? autocast("cuda", fn, "bfloat16")
    : fn();
}

/** Scores `samples` (in order) with `model` against the class-attribute matrix `classAttributes`
 * `[C, K]` (all classes), in evaluation mode and without gradients. With `onBadImage: "skip"`,
 * unreadable images are left out (the set then has fewer rows than `samples`) and listed. */
export async function scoreSamples(
  model: DSVA,
  samples: readonly Sample[],
  classAttributes: Tensor,
  config: TrainConfig,
  opts: { useAC: boolean; onBadImage?: BadImagePolicy },
): Promise<ScoredSet> {
  const n = samples.length, c = classAttributes.size(0);
  const scores = {
    vam: new Float32Array(n * c),
    global: new Float32Array(n * c),
    fused: new Float32Array(n * c),
  };
  const labels = Int32Array.from(samples, (s) => s.label);
  if (n === 0) return { n, c, labels, scores };
  const loader = new ImageLoader(samples, {
    transform: testTransform(config),
    normalization: normalizationOf(config),
    concurrency: config.loaderConcurrency,
    workers: config.workers,
    onError: opts.onBadImage === "skip" ? "skip" : "throw",
    // Skipped images are returned, not printed: the caller lists them where the results go.
    warn: () => {},
  });
  const sampler = new ShuffledBatchSampler(n, { batchSize: config.testBatchSize, shuffle: false });
  const wasTraining = model.training;
  model.eval();
  try {
    let row = 0;
    for await (const b of loader.batches(sampler.epoch())) {
      noGrad(() =>
        scope(() => {
          const x = batchToTensor(b, config.device as Device);
          const out = maybeAutocast(
            config,
            () => model.forward(x, classAttributes, { useAC: opts.useAC }),
          );
          const put = (dst: Float32Array, logits: Tensor) =>
            dst.set(logits.float().softmax(1).cpu().toTypedArray() as Float32Array, row * c);
          put(scores.vam, out.vamLogits);
          put(scores.global, out.globalLogits);
          put(scores.fused, out.fusedLogits);
        })
      );
      row += b.shape[0];
    }
  } finally {
    model.train(wasTraining);
  }
  if (loader.skippedImages.length === 0) return { n, c, labels, scores };
  // Rows were written in sample order without the skipped images: keep the filled part.
  const skipped = new Set(loader.skippedImages.map((b) => b.path));
  const kept = samples.filter((s) => !skipped.has(s.path));
  const rows = kept.length * c;
  return {
    n: kept.length,
    c,
    labels: Int32Array.from(kept, (s) => s.label),
    scores: {
      vam: scores.vam.slice(0, rows),
      global: scores.global.slice(0, rows),
      fused: scores.fused.slice(0, rows),
    },
    badImages: [...loader.skippedImages],
  };
}

/** Two scored sets one after the other. */
export function concatSets(a: ScoredSet, b: ScoredSet): ScoredSet {
  const cat = (x: Float32Array, y: Float32Array) => {
    const out = new Float32Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  const labels = new Int32Array(a.n + b.n);
  labels.set(a.labels);
  labels.set(b.labels, a.n);
  const bad = [...(a.badImages ?? []), ...(b.badImages ?? [])];
  return {
    n: a.n + b.n,
    c: a.c,
    labels,
    scores: {
      vam: cat(a.scores.vam, b.scores.vam),
      global: cat(a.scores.global, b.scores.global),
      fused: cat(a.scores.fused, b.scores.fused),
    },
    ...(bad.length ? { badImages: bad } : {}),
  };
}

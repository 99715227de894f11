/** CLIP zero-shot results under both protocols, from class probabilities (softmax over every
 * class of exp(logit_scale) · cosine similarity):
 *
 * - **all classes** (RemoteCLIP's / GeoRSCLIP's protocol): every class a candidate for every
 *   image; top-1 over the images and the mean per-class top-1;
 * - **ZSL / GZSL** of a seen/unseen split (Xian et al., as `deno task eval` reports DSVA): ZSL =
 *   mean per-class top-1 of the unseen test images among the unseen classes; GZSL S, U, H with
 *   calibrated stacking at γ; the exact seen–unseen curve and its area (AUSUC).
 *
 * γ for CLIP is 0 unless given: CLIP is trained on none of the split's seen classes, so there is
 * no seen-class bias to calibrate, and no held-out seen images are needed; the curve's AUSUC
 * covers every γ and its best H is reported as an upper bound (γ picked on the test set). The
 * counting is src/eval's. */
import { perClassAccuracy } from "../eval/per_class.ts";
import { predictAmong } from "../eval/predict.ts";
import { toScoreMatrix } from "../eval/inputs.ts";
import { splitMetrics } from "../eval/split_metrics.ts";
import { noGrad, scope, type Tensor } from "../tensor/index.ts";

/** Class probabilities [N, C] row-major: softmax over the classes of `scale · images · textᵀ`
 * (both unit-length), as float32. */
export function classProbabilities(images: Tensor, text: Tensor, scale: number): Float32Array {
  return noGrad(() =>
    scope(() =>
      images.matmul(text.transpose(0, 1)).mul(scale).softmax(1).float()
        .toTypedArray() as Float32Array
    )
  );
}

/** Scored images: probabilities `[n, c]` and true labels. */
export interface ScoredImages {
  n: number;
  c: number;
  labels: Int32Array;
  probs: Float32Array;
}

/** The rows of `s` at `rows`. */
export function selectRows(s: ScoredImages, rows: readonly number[]): ScoredImages {
  const probs = new Float32Array(rows.length * s.c);
  rows.forEach((r, j) => probs.set(s.probs.subarray(r * s.c, (r + 1) * s.c), j * s.c));
  return { n: rows.length, c: s.c, labels: Int32Array.from(rows, (r) => s.labels[r]), probs };
}

/** All-class results. Fractions. */
export interface AllClassResult {
  /** Images predicted right / images. */
  top1: number;
  /** Mean over the classes present of per-class top-1. */
  meanPerClass: number;
  images: number;
  classes: number;
  /** Predicted class of every image. */
  predictions: Int32Array;
}

/** Every class a candidate (no split). */
export function allClassAccuracy(s: ScoredImages): AllClassResult {
  const all = Array.from({ length: s.c }, (_, i) => i);
  const predictions = predictAmong(
    toScoreMatrix({ data: s.probs, shape: [s.n, s.c] }),
    Int32Array.from(all),
  );
  const r = perClassAccuracy(predictions, s.labels, all, { onEmptyClass: "skip" });
  return {
    top1: r.overall,
    meanPerClass: r.mean,
    images: s.n,
    classes: r.perClass.length,
    predictions,
  };
}

/** ZSL / GZSL results. Fractions. */
export interface SplitResult {
  zsl: number;
  chance: number;
  gzsl: { S: number; U: number; H: number; gamma: number; gammaRule: string };
  ausuc: number;
  /** The curve's best H: γ chosen on the test set itself, an upper bound, not a result. */
  oracleH: { H: number; S: number; U: number; gamma: number };
  curve: { S: number[]; U: number[] };
  /** GZSL predictions at γ, for the confusion matrix. */
  predictions: Int32Array;
}

/** The split protocol on `test` (test-seen and test-unseen images together). */
export function splitAccuracy(
  test: ScoredImages,
  seen: readonly number[],
  unseen: readonly number[],
  gamma: { gamma: number; rule: string } = {
    gamma: 0,
    rule: "CLIP default 0 (no held-out images)",
  },
): SplitResult {
  const m = splitMetrics(
    { data: test.probs, shape: [test.n, test.c] },
    test.labels,
    seen,
    unseen,
    gamma.gamma,
  );
  return {
    zsl: m.zsl,
    chance: 1 / unseen.length,
    gzsl: { S: m.S, U: m.U, H: m.H, gamma: gamma.gamma, gammaRule: gamma.rule },
    ausuc: m.ausuc,
    oracleH: m.oracleH,
    curve: { S: Array.from(m.curve.S), U: Array.from(m.curve.U) },
    predictions: m.predictions,
  };
}

/** Generalized zero-shot accuracy: S, U and their harmonic mean H, with calibrated stacking. */
import {
  type ClassList,
  gzslInputs,
  type LabelsInput,
  type ScoreMatrix,
  type ScoresInput,
} from "./inputs.ts";
import { type ClassAccuracy, type EmptyClassPolicy, perClassCore } from "./per_class.ts";
import { predictAmong } from "./predict.ts";

/** The harmonic mean `2·S·U / (S + U)`, and 0 when `S + U = 0` (as DSVA's `main.py`). */
export function harmonicMean(s: number, u: number): number {
  return s + u === 0 ? 0 : (2 * s * u) / (s + u);
}

/** Options of {@link gzslAccuracy}. */
export interface GzslOptions {
  /** Seen class ids. */
  seen: ClassList;
  /** Unseen class ids; with `seen`, every score column. */
  unseen: ClassList;
  /** Calibrated-stacking γ, subtracted from every seen-class score before the argmax (default 0).
   * DSVA subtracts it from softmax probabilities (γ = 1e-4 … 1.4e-4 in its scripts). */
  gamma?: number;
  /** Arithmetic of `score − γ`: `"float64"` (default) or `"float32"`, i.e. `fround(score −
   * fround(γ))` as the official code computes it on float32 probabilities in numpy (the two can
   * only differ where two scores come within a float32 ulp of each other after the shift). */
  precision?: "float64" | "float32";
  /** Listed classes without test images: see {@link EmptyClassPolicy}. */
  onEmptyClass?: EmptyClassPolicy;
  /** Class names indexed by class id, copied into the per-class reports. */
  names?: readonly string[];
}

/** GZSL result at one γ. */
export interface GzslResult {
  /** S: mean per-class top-1 over seen classes, on the images of seen classes. */
  S: number;
  /** U: mean per-class top-1 over unseen classes, on the images of unseen classes. */
  U: number;
  /** H = 2SU / (S + U). */
  H: number;
  /** The γ used. */
  gamma: number;
  /** Per seen class, ascending class id. */
  perClassSeen: ClassAccuracy[];
  /** Per unseen class, ascending class id. */
  perClassUnseen: ClassAccuracy[];
  /** Classes left out for having no test images. */
  skipped: { seen: number[]; unseen: number[] };
  /** Predicted class id (among all classes) of every image. */
  predictions: Int32Array;
}

/** GZSL accuracy as Xian et al. define it and DSVA computes it (`test_gzsl`, `calibrated_stacking`,
 * `compute_per_class_acc_gzsl`): every test image (test-seen and test-unseen together, told apart by
 * their labels) is assigned `argmax_y score(x, y) − γ·1[y ∈ seen]` over all classes (ties: lowest
 * class id); S = mean per-class top-1 over seen classes on the seen-class images, U = the same
 * over unseen classes on the unseen-class images, H = 2SU/(S+U).
 * @param labels true class id of every row (seen or unseen). */
export function gzslAccuracy(
  scores: ScoresInput | ScoreMatrix,
  labels: LabelsInput,
  opts: GzslOptions,
): GzslResult {
  const { s, y, seen, unseen, flag } = gzslInputs(scores, labels, opts);
  const gamma = opts.gamma ?? 0;
  const all = new Int32Array(s.cols).map((_, i) => i);
  const predictions = predictAmong(s, all, gamma, flag, opts.precision === "float32");
  const common = { onEmptyClass: opts.onEmptyClass, names: opts.names };
  const rs = perClassCore(predictions, y, seen, { ...common, classesArg: "seen" });
  const ru = perClassCore(predictions, y, unseen, { ...common, classesArg: "unseen" });
  return {
    S: rs.mean,
    U: ru.mean,
    H: harmonicMean(rs.mean, ru.mean),
    gamma,
    perClassSeen: rs.perClass,
    perClassUnseen: ru.perClass,
    skipped: { seen: rs.skipped, unseen: ru.skipped },
    predictions,
  };
}

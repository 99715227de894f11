/** Choosing the calibrated-stacking γ on held-out data (never on the test set). */
import { EvalInputError } from "./errors.ts";
import {
  type ClassList,
  gzslInputs,
  type LabelsInput,
  type ScoreMatrix,
  type ScoresInput,
} from "./inputs.ts";
import type { EmptyClassPolicy } from "./per_class.ts";
import { seenUnseenCurve } from "./seen_unseen_curve.ts";

/** How γ is chosen on held-out data.
 *
 * * `seen-retention` — for held-out images of **seen classes only** (the usual case: a part of the
 *   seen training images kept out of training). γ is put as far toward the unseen classes as it
 *   can go while at least `retain` of the held-out seen images (per image) are still assigned a
 *   seen class, i.e. the (1 − retain) quantile of `d(x) = max_seen score − max_unseen score`
 *   over those images, the way an out-of-distribution threshold is set at a fixed true-positive
 *   rate (95% by convention). Exactly: with the d(x) sorted, `k = ⌊(1 − retain)·n⌋` images may
 *   switch to an unseen class; γ is the midpoint of the last open interval between distinct
 *   critical values on which at most k have switched (for an unbounded interval, its finite end
 *   ∓ the mean gap between critical values, as in {@link seenUnseenCurve}).
 * * `max-h` — for a validation set that also holds images of classes the model was not trained
 *   on (pseudo-unseen classes split off the seen ones, as Chao et al. 2016 and Xian et al.'s
 *   val classes do): γ maximizes H on the exact seen–unseen curve of that set; ties go to the
 *   interval nearest γ = 0, then the lower γ; γ = 0 when the chosen interval contains 0, else
 *   the interval's representative γ. */
export type GammaRule =
  | { kind: "seen-retention"; retain: number }
  | { kind: "max-h" };

/** Options of {@link selectGamma}. */
export interface SelectGammaOptions {
  /** The rule (see {@link GammaRule}). */
  rule: GammaRule;
  /** Seen class ids (the classes trained on, or in `max-h` the validation's "seen" classes). */
  seen: ClassList;
  /** Unseen class ids; with `seen`, every score column. */
  unseen: ClassList;
  /** `max-h` only: listed classes without validation images. Default `"error"`. */
  onEmptyClass?: EmptyClassPolicy;
}

/** The chosen γ and what it gives on the held-out data. */
export interface GammaSelection {
  /** The γ to use on the test set. */
  gamma: number;
  /** The rule, as given. */
  rule: GammaRule;
  /** The open interval of γ values that give the same held-out predictions. */
  interval: [number, number];
  /** `seen-retention`: fraction of held-out images still assigned a seen class at γ. */
  retained?: number;
  /** `max-h`: S, U and H on the validation set at γ. */
  S?: number;
  U?: number;
  H?: number;
}

/** Chooses the calibrated-stacking γ on held-out data by one of the {@link GammaRule}s.
 * @param scores held-out images × all classes (same columns as the test scores).
 * @param labels their true class ids (all seen for `seen-retention`). */
export function selectGamma(
  scores: ScoresInput | ScoreMatrix,
  labels: LabelsInput,
  opts: SelectGammaOptions,
): GammaSelection {
  const rule = opts.rule;
  if (rule.kind === "max-h") {
    const c = seenUnseenCurve(scores, labels, opts);
    const j = c.best.index;
    return {
      gamma: c.best.gamma,
      rule,
      interval: [c.gammaLo[j], c.gammaHi[j]],
      S: c.best.S,
      U: c.best.U,
      H: c.best.H,
    };
  }
  if (rule.kind !== "seen-retention") {
    throw new EvalInputError("rule", `unknown γ rule ${JSON.stringify(rule)}`);
  }
  if (!(rule.retain >= 0 && rule.retain <= 1)) {
    throw new EvalInputError("rule.retain", `must be in [0, 1], got ${rule.retain}`);
  }
  const { s, y, flag } = gzslInputs(scores, labels, opts);
  for (let i = 0; i < y.length; i++) {
    if (flag[y[i]] !== 1) {
      throw new EvalInputError(
        "labels",
        `row ${i} has class ${y[i]}, an unseen class; the seen-retention rule takes held-out ` +
          `images of seen classes only`,
      );
    }
  }
  const n = s.rows;
  if (n === 0) throw new EvalInputError("scores", "there are no held-out images");
  const d = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let ms = -Infinity;
    let mu = -Infinity;
    const base = r * s.cols;
    for (let c = 0; c < s.cols; c++) {
      const v = s.data[base + c];
      if (flag[c] === 1) ms = v > ms ? v : ms;
      else mu = v > mu ? v : mu;
    }
    d[r] = ms - mu;
  }
  d.sort();
  // A tiny slack so that e.g. (1 - 0.9) * 10 counts as 1 image, not 0.9999999999999998.
  const k = Math.floor((1 - rule.retain) * n + 1e-9);
  const crit: number[] = [];
  const flippedAfter: number[] = []; // images switched once γ passes crit[j]
  for (let i = 0; i < n; i++) {
    if (crit.length === 0 || d[i] !== crit[crit.length - 1]) crit.push(d[i]);
    flippedAfter[crit.length - 1] = i + 1;
  }
  const m = crit.length;
  let j = 0; // interval index: j switched-value groups below it
  while (j < m && flippedAfter[j] <= k) j++;
  const gap = m >= 2 ? (crit[m - 1] - crit[0]) / (m - 1) : 1;
  const lo = j === 0 ? -Infinity : crit[j - 1];
  const hi = j === m ? Infinity : crit[j];
  const gamma = j === 0 ? crit[0] - gap : j === m ? crit[m - 1] + gap : lo + (hi - lo) / 2;
  return {
    gamma,
    rule,
    interval: [lo, hi],
    retained: (n - (j === 0 ? 0 : flippedAfter[j - 1])) / n,
  };
}

/** The exact seen–unseen accuracy curve of calibrated stacking over all γ, and its area (AUSUC,
 * Chao et al. 2016). */
import { EvalInputError } from "./errors.ts";
import {
  type ClassList,
  gzslInputs,
  type LabelsInput,
  type ScoreMatrix,
  type ScoresInput,
} from "./inputs.ts";
import { harmonicMean } from "./gzsl.ts";
import type { EmptyClassPolicy } from "./per_class.ts";

/** Options of {@link seenUnseenCurve}. */
export interface CurveOptions {
  /** Seen class ids. */
  seen: ClassList;
  /** Unseen class ids; with `seen`, every score column. */
  unseen: ClassList;
  /** Listed classes without test images: see {@link EmptyClassPolicy}. */
  onEmptyClass?: EmptyClassPolicy;
}

/** The seen–unseen curve: one point per open γ interval on which every prediction is constant,
 * in ascending γ (so S is non-increasing and U non-decreasing along it). */
export interface SeenUnseenCurve {
  /** Distinct critical values `d = max_seen score − max_unseen score` over the images, ascending.
   * Point j covers `(criticalGammas[j-1], criticalGammas[j])`, with -∞ / +∞ at the ends. */
  criticalGammas: Float64Array;
  /** Lower end of each point's γ interval (-Infinity for the first). */
  gammaLo: Float64Array;
  /** Upper end of each point's γ interval (+Infinity for the last). */
  gammaHi: Float64Array;
  /** A γ inside each interval: the midpoint `lo + (hi − lo)/2`; for the two unbounded intervals
   * the finite end ∓ the mean gap between critical values (∓ 1 when there is only one). */
  gamma: Float64Array;
  /** S (seen per-class mean top-1) on each interval; the first point is S with seen candidates
   * only (γ → −∞). */
  S: Float64Array;
  /** U (unseen per-class mean top-1) on each interval; the last point is the ZSL-style accuracy
   * among unseen candidates (γ → +∞). */
  U: Float64Array;
  /** H = 2SU/(S+U) on each interval. */
  H: Float64Array;
  /** Area under the curve of S against U by the trapezoid rule, summed in ascending γ:
   * `Σ_j (U[j+1] − U[j])·(S[j] + S[j+1])/2`. From (0, S_max) to (U_max, 0). */
  ausuc: number;
  /** The point of highest H (ties: the interval nearest γ = 0, then the lower γ); its γ is 0 when
   * that interval contains 0. Chosen on the data itself: an upper bound, not a protocol result. */
  best: { index: number; gamma: number; S: number; U: number; H: number };
  /** Classes left out for having no test images. */
  skipped: { seen: number[]; unseen: number[] };
}

/** The whole seen–unseen accuracy curve of calibrated stacking and its area, computed exactly.
 *
 * With `ŷ(x, γ) = argmax_y score(x, y) − γ·1[y ∈ seen]`, the seen candidate that wins is the same
 * for every γ (all seen scores move together), so each image's prediction changes once, at
 * `γ = d(x) = max_{seen} score(x) − max_{unseen} score(x)` (both argmaxes taking the lowest class
 * id on ties): the best seen class for `γ < d(x)`, the best unseen class for `γ > d(x)`. Sorting
 * the d(x) gives every distinct (S, U) pair; the curve has one point per open interval between
 * consecutive distinct critical values (at exactly `γ = d(x)` the two scores tie and the lower
 * class id wins; those single γ values are not points of the curve). This is exact, unlike a
 * dense γ grid, which can step over intervals, and costs O(N log N + points × classes).
 *
 * S and U at every point are computed from integer counts as in {@link gzslAccuracy} (sequential
 * sum in ascending class id), so each point equals `gzslAccuracy` at that point's `gamma` except
 * where a subtraction `score − γ` rounds two scores within an ulp of each other onto a tie. */
export function seenUnseenCurve(
  scores: ScoresInput | ScoreMatrix,
  labels: LabelsInput,
  opts: CurveOptions,
): SeenUnseenCurve {
  const { s, y, seen, unseen, flag } = gzslInputs(scores, labels, opts);
  if (s.rows === 0) throw new EvalInputError("scores", "there are no test images");
  const { data, rows, cols } = s;

  // Class id -> position in its (sorted) list.
  const pos = new Int32Array(cols);
  seen.forEach((c, k) => (pos[c] = k));
  unseen.forEach((c, k) => (pos[c] = k));
  const nS = new Float64Array(seen.length);
  const nU = new Float64Array(unseen.length);
  const cS = new Float64Array(seen.length); // seen images still predicted (correctly) seen
  const cU = new Float64Array(unseen.length); // unseen images already predicted (correctly) unseen

  const d = new Float64Array(rows);
  const flipDelta = new Int8Array(rows); // what crossing d(x) does to its class's count
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const bs = argmaxOf(data, base, seen);
    const bu = argmaxOf(data, base, unseen);
    d[r] = data[base + bs] - data[base + bu];
    const c = y[r];
    if (flag[c] === 1) {
      nS[pos[c]]++;
      if (bs === c) {
        cS[pos[c]]++;
        flipDelta[r] = -1;
      }
    } else {
      nU[pos[c]]++;
      if (bu === c) flipDelta[r] = 1;
    }
  }
  const policy = opts.onEmptyClass ?? "error";
  const skipped = {
    seen: emptyClasses(seen, nS, policy, "seen"),
    unseen: emptyClasses(unseen, nU, policy, "unseen"),
  };

  const order = Array.from({ length: rows }, (_, i) => i).sort((a, b) => d[a] - d[b]);
  const crit: number[] = [];
  for (const r of order) if (crit.length === 0 || d[r] !== crit[crit.length - 1]) crit.push(d[r]);
  const m = crit.length;
  const S = new Float64Array(m + 1);
  const U = new Float64Array(m + 1);
  const H = new Float64Array(m + 1);
  const lo = new Float64Array(m + 1);
  const hi = new Float64Array(m + 1);
  const g = new Float64Array(m + 1);
  const gap = m >= 2 ? (crit[m - 1] - crit[0]) / (m - 1) : 1;

  let k = 0; // next row (in d order) not yet flipped to its unseen prediction
  for (let j = 0; j <= m; j++) {
    if (j > 0) {
      const v = crit[j - 1];
      for (; k < rows && d[order[k]] === v; k++) {
        const r = order[k];
        if (flipDelta[r] < 0) cS[pos[y[r]]]--;
        else if (flipDelta[r] > 0) cU[pos[y[r]]]++;
      }
    }
    S[j] = classMean(cS, nS);
    U[j] = classMean(cU, nU);
    H[j] = harmonicMean(S[j], U[j]);
    lo[j] = j === 0 ? -Infinity : crit[j - 1];
    hi[j] = j === m ? Infinity : crit[j];
    g[j] = j === 0 ? crit[0] - gap : j === m ? crit[m - 1] + gap : lo[j] + (hi[j] - lo[j]) / 2;
  }
  let ausuc = 0;
  for (let j = 0; j < m; j++) ausuc += (U[j + 1] - U[j]) * (S[j] + S[j + 1]) / 2;

  const bi = bestHarmonicIndex(H, lo, hi);
  const best = {
    index: bi,
    gamma: lo[bi] < 0 && hi[bi] > 0 ? 0 : g[bi],
    S: S[bi],
    U: U[bi],
    H: H[bi],
  };
  return {
    criticalGammas: Float64Array.from(crit),
    gammaLo: lo,
    gammaHi: hi,
    gamma: g,
    S,
    U,
    H,
    ausuc,
    best,
    skipped,
  };
}

/** @internal Index of the highest H; ties go to the interval nearest γ = 0, then the lower γ. */
export function bestHarmonicIndex(H: Float64Array, lo: Float64Array, hi: Float64Array): number {
  const dist = (j: number) => (lo[j] >= 0 ? lo[j] : hi[j] <= 0 ? -hi[j] : 0);
  let bi = 0;
  for (let j = 1; j < H.length; j++) {
    if (H[j] > H[bi] || (H[j] === H[bi] && dist(j) < dist(bi))) bi = j;
  }
  return bi;
}

/** First (lowest class id) argmax of one row over a sorted class list. */
function argmaxOf(data: Float64Array, base: number, classes: Int32Array): number {
  let bc = classes[0];
  let bv = data[base + bc];
  for (let j = 1; j < classes.length; j++) {
    const v = data[base + classes[j]];
    if (v > bv) {
      bv = v;
      bc = classes[j];
    }
  }
  return bc;
}

/** Mean of correct/count over classes with images: sequential sum in list order, then divide. */
function classMean(correct: Float64Array, count: Float64Array): number {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < count.length; k++) {
    if (count[k] === 0) continue;
    sum += correct[k] / count[k];
    n++;
  }
  return sum / n;
}

function emptyClasses(
  classes: Int32Array,
  count: Float64Array,
  policy: EmptyClassPolicy,
  arg: string,
): number[] {
  const out: number[] = [];
  classes.forEach((c, k) => {
    if (count[k] > 0) return;
    if (policy === "error") {
      throw new EvalInputError(
        arg,
        `class ${c} has no test images, so its accuracy is undefined; pass ` +
          `onEmptyClass: "skip" to leave it out of the mean`,
      );
    }
    out.push(c);
  });
  if (out.length === classes.length) {
    throw new EvalInputError(arg, `none of the ${arg} classes has test images`);
  }
  return out;
}

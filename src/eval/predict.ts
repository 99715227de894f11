/** Top-1 prediction among a set of candidate classes, with optional calibrated stacking. */
import { EvalInputError } from "./errors.ts";
import type { ScoreMatrix } from "./inputs.ts";

/** Predicts, for every row, the candidate class with the highest score; with `gamma`, `gamma` is
 * first subtracted from the scores of the classes flagged seen (calibrated stacking, Chao et al.
 * 2016: `argmax_y score(x, y) − γ·1[y ∈ seen]`, as DSVA's `calibrated_stacking` does it, literally
 * subtracting then taking the argmax).
 *
 * Ties go to the lowest class id, as `torch.max(dim)` / `numpy.argmax` do over columns in class-id
 * order.
 *
 * @param candidates class ids to choose among, sorted ascending (see `toClassList`).
 * @param seenFlag per-column 1 = seen; required when `gamma` is not 0.
 * @param float32 compute `score − γ` as float32 arithmetic (`fround(score − fround(γ))`), as the
 *   official code does on float32 probabilities, instead of float64.
 * @returns the predicted class id of every row. */
export function predictAmong(
  scores: ScoreMatrix,
  candidates: Int32Array,
  gamma = 0,
  seenFlag?: Uint8Array,
  float32 = false,
): Int32Array {
  if (!Number.isFinite(gamma)) throw new EvalInputError("gamma", `must be finite, got ${gamma}`);
  if (gamma !== 0 && !seenFlag) {
    throw new EvalInputError("gamma", "calibrated stacking needs the seen-class list");
  }
  const { data, rows, cols } = scores;
  const g32 = Math.fround(gamma);
  const shifted = (v: number, c: number) =>
    gamma === 0 || seenFlag![c] !== 1 ? v : float32 ? Math.fround(v - g32) : v - gamma;
  const out = new Int32Array(rows);
  const k = candidates.length;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let bestC = candidates[0];
    let best = shifted(data[base + bestC], bestC);
    for (let j = 1; j < k; j++) {
      const c = candidates[j];
      const v = shifted(data[base + c], c);
      if (v > best) {
        best = v;
        bestC = c;
      }
    }
    out[r] = bestC;
  }
  return out;
}

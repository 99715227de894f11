/** The three numbers of a seen/unseen split from one score matrix over the test images
 * (test-seen and test-unseen together): ZSL accuracy on the unseen images among unseen classes,
 * GZSL S / U / H at a calibrated-stacking γ, and the seen–unseen curve (AUSUC, its best H). */
import { gzslAccuracy } from "./gzsl.ts";
import type { HostScores } from "./inputs.ts";
import { seenUnseenCurve } from "./seen_unseen_curve.ts";
import { zslAccuracy } from "./zsl.ts";

/** ZSL, GZSL at γ and the curve of one split. Fractions. */
export interface SplitMetrics {
  zsl: number;
  S: number;
  U: number;
  H: number;
  ausuc: number;
  /** The curve's best H: γ chosen on the test set itself, an upper bound, not a result. */
  oracleH: { H: number; S: number; U: number; gamma: number };
  curve: { S: Float64Array; U: Float64Array };
  /** GZSL predictions at γ (for a confusion matrix). */
  predictions: Int32Array;
}

/** {@link SplitMetrics} of `scores` [N, C] (float32 host data) with `labels`; classes without
 * test images are skipped, as DSVA's evaluation does. */
export function splitMetrics(
  scores: HostScores & { readonly data: Float32Array },
  labels: ArrayLike<number>,
  seen: readonly number[],
  unseen: readonly number[],
  gamma: number,
): SplitMetrics {
  const [n, c] = scores.shape;
  const isUnseen = new Set(unseen);
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (isUnseen.has(labels[i])) rows.push(i);
  const u = new Float32Array(rows.length * c);
  rows.forEach((r, j) => u.set(scores.data.subarray(r * c, (r + 1) * c), j * c));
  const zsl = zslAccuracy({ data: u, shape: [rows.length, c] }, rows.map((r) => labels[r]), {
    unseen,
    onEmptyClass: "skip",
  });
  const g = gzslAccuracy(scores, labels, { seen, unseen, gamma, onEmptyClass: "skip" });
  const curve = seenUnseenCurve(scores, labels, { seen, unseen, onEmptyClass: "skip" });
  return {
    zsl: zsl.accuracy,
    S: g.S,
    U: g.U,
    H: g.H,
    ausuc: curve.ausuc,
    oracleH: { H: curve.best.H, S: curve.best.S, U: curve.best.U, gamma: curve.best.gamma },
    curve: { S: curve.S, U: curve.U },
    predictions: g.predictions,
  };
}

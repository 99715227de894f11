/** ZSL / GZSL numbers of one prediction branch from scored images (src/eval does the counting):
 * ZSL accuracy, calibrated-stacking γ (given, or chosen on held-out seen images), S / U / H at
 * that γ, the seen–unseen curve and its area, and the held-out seen accuracy used for model
 * selection. */
import { gzslAccuracy } from "../eval/gzsl.ts";
import { selectGamma } from "../eval/gamma.ts";
import { seenUnseenCurve } from "../eval/seen_unseen_curve.ts";
import { zslAccuracy } from "../eval/zsl.ts";
import type { Branch, ScoredSet } from "./scoring.ts";
import type { TrainConfig } from "../config/types.ts";

/** The results of one branch. Accuracies are fractions in [0, 1]. */
export interface BranchResult {
  /** ZSL: mean per-class top-1 over the unseen classes, unseen candidates only. */
  zsl: number;
  /** GZSL at the γ below. */
  S: number;
  U: number;
  H: number;
  /** The calibrated-stacking γ (subtracted from seen-class softmax probabilities). */
  gamma: number;
  /** How γ was set. */
  gammaRule: string;
  /** Area under the seen–unseen curve. */
  ausuc: number;
  /** The curve's best H: γ chosen on the test set itself, an upper bound, not a result. */
  oracleH: { H: number; S: number; U: number; gamma: number };
  /** The curve (S and U at every point, ascending γ), when asked for. */
  curve?: { S: number[]; U: number[] };
}

/** Mean per-class top-1 of held-out seen images among the seen classes (the `heldout` model
 * selection score). */
export function heldoutSeenAccuracy(
  heldout: ScoredSet,
  seen: readonly number[],
  branch: Branch,
): number {
  if (heldout.n === 0) return NaN;
  return zslAccuracy(
    { data: heldout.scores[branch], shape: [heldout.n, heldout.c] },
    heldout.labels,
    {
      unseen: seen,
      onEmptyClass: "skip",
    },
  ).accuracy;
}

/** The γ of a branch: the config's number, or the seen-retention choice on held-out images. */
export function chooseGamma(
  config: TrainConfig,
  heldout: ScoredSet | null,
  seen: readonly number[],
  unseen: readonly number[],
  branch: Branch,
  override?: number | "heldout",
): { gamma: number; rule: string } {
  const g = override ?? config.gamma;
  if (typeof g === "number") return { gamma: g, rule: "given" };
  if (!heldout || heldout.n === 0) {
    throw new Error('gamma "heldout": this run has no held-out seen images (heldoutFraction 0)');
  }
  const sel = selectGamma(
    { data: heldout.scores[branch], shape: [heldout.n, heldout.c] },
    heldout.labels,
    {
      rule: { kind: "seen-retention", retain: config.gammaRetain },
      seen,
      unseen,
    },
  );
  return { gamma: sel.gamma, rule: `held-out seen, retain ${config.gammaRetain}` };
}

/** One branch's ZSL and GZSL results on the test images (`test` = test-seen and test-unseen
 * images together). */
export function branchResult(
  test: ScoredSet,
  seen: readonly number[],
  unseen: readonly number[],
  branch: Branch,
  gamma: { gamma: number; rule: string },
  opts: { curve?: boolean } = {},
): BranchResult {
  const scores = { data: test.scores[branch], shape: [test.n, test.c] as [number, number] };
  const isUnseen = new Set(unseen);
  const rows: number[] = [];
  test.labels.forEach((l, i) => isUnseen.has(l) && rows.push(i));
  const u = new Float32Array(rows.length * test.c);
  rows.forEach((r, j) =>
    u.set(test.scores[branch].subarray(r * test.c, (r + 1) * test.c), j * test.c)
  );
  const zsl = zslAccuracy(
    { data: u, shape: [rows.length, test.c] },
    rows.map((r) => test.labels[r]),
    {
      unseen,
      onEmptyClass: "skip",
    },
  );
  const g = gzslAccuracy(scores, test.labels, {
    seen,
    unseen,
    gamma: gamma.gamma,
    onEmptyClass: "skip",
  });
  const curve = seenUnseenCurve(scores, test.labels, { seen, unseen, onEmptyClass: "skip" });
  return {
    zsl: zsl.accuracy,
    S: g.S,
    U: g.U,
    H: g.H,
    gamma: gamma.gamma,
    gammaRule: gamma.rule,
    ausuc: curve.ausuc,
    oracleH: { H: curve.best.H, S: curve.best.S, U: curve.best.U, gamma: curve.best.gamma },
    ...(opts.curve ? { curve: { S: Array.from(curve.S), U: Array.from(curve.U) } } : {}),
  };
}

/** GZSL predictions of a branch at γ (for the confusion matrix). */
export function gzslPredictions(
  test: ScoredSet,
  seen: readonly number[],
  unseen: readonly number[],
  branch: Branch,
  gamma: number,
): Int32Array {
  return gzslAccuracy({ data: test.scores[branch], shape: [test.n, test.c] }, test.labels, {
    seen,
    unseen,
    gamma,
    onEmptyClass: "skip",
  }).predictions;
}

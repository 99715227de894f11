/** ZSL / GZSL numbers of one prediction branch from scored images (src/eval does the counting):
 * ZSL accuracy, calibrated-stacking γ (given, or chosen on held-out seen images), S / U / H at
 * that γ, the seen–unseen curve and its area, and the held-out seen accuracy used for model
 * selection. */
import { gzslAccuracy } from "../eval/gzsl.ts";
import { selectGamma } from "../eval/gamma.ts";
import { splitMetrics } from "../eval/split_metrics.ts";
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
  const m = splitMetrics(
    { data: test.scores[branch], shape: [test.n, test.c] },
    test.labels,
    seen,
    unseen,
    gamma.gamma,
  );
  return {
    zsl: m.zsl,
    S: m.S,
    U: m.U,
    H: m.H,
    gamma: gamma.gamma,
    gammaRule: gamma.rule,
    ausuc: m.ausuc,
    oracleH: m.oracleH,
    ...(opts.curve ? { curve: { S: Array.from(m.curve.S), U: Array.from(m.curve.U) } } : {}),
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

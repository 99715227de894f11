/** The lines of a DSVA run's `metrics.jsonl`: one per training step (`"type": "step"`) and one
 * per evaluated epoch (`"type": "epoch"`), appended as training goes (with
 * `run/metrics_log.ts`'s {@link MetricsLog}).
 * @module
 */
import { MetricsLog } from "../run/metrics_log.ts";

/** One step's record. */
export interface StepRecord {
  type: "step";
  /** Optimizer steps done after this one (1-based). */
  step: number;
  epoch: number;
  batch: number;
  /** Total loss and each unweighted term. */
  loss: number;
  terms: Record<string, number>;
  /** Each parameter group's learning rate. */
  lr: number[];
  /** Training images per second over this step (data wait included). */
  imagesPerSecond: number;
  /** Seconds since the run started (resumes included). */
  time: number;
}

/** One evaluated epoch's record. Accuracies are fractions. */
export interface EpochRecord {
  type: "epoch";
  epoch: number;
  step: number;
  /** Mean training loss over the epoch's steps. */
  trainLoss: number;
  /** Held-out seen accuracy (VAM branch, seen candidates). */
  heldoutSeenAcc: number | null;
  /** Test results of the VAM branch (monitoring; selection only with `official`). */
  test: { zsl: number; S: number; U: number; H: number; gamma: number; ausuc: number } | null;
  /** The selection score and whether this epoch is the best so far. */
  selectionScore: number;
  best: boolean;
  time: number;
  /** Seconds this epoch's evaluation took. */
  evalSeconds: number;
}

/** A record of either kind. */
export type MetricsRecord = StepRecord | EpochRecord;

/** A DSVA run's `metrics.jsonl`. */
export class DsvaMetricsLog extends MetricsLog<MetricsRecord> {}

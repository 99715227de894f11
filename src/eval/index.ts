/**
 * The `evaluation` namespace: one small pure metric per file. Per-class top-1 (Xian et al.'s
 * definitions, as DSVA evaluates), ZSL accuracy, GZSL S / U / H with calibrated stacking and the
 * choice of its γ, the seen–unseen curve and its AUSUC, confusion matrices, predictions from
 * score matrices, the input checks they share, and JSON / Markdown reports.
 * @module
 */
export { EvalInputError } from "./errors.ts";
export type { ClassList, HostScores, LabelsInput, ScoreMatrix, ScoresInput } from "./inputs.ts";
export { toScoreMatrix } from "./inputs.ts";
export {
  type ClassAccuracy,
  type EmptyClassPolicy,
  perClassAccuracy,
  type PerClassOptions,
  type PerClassResult,
} from "./per_class.ts";
export { zslAccuracy, type ZslOptions, type ZslResult } from "./zsl.ts";
export { gzslAccuracy, type GzslOptions, type GzslResult, harmonicMean } from "./gzsl.ts";
export { type CurveOptions, type SeenUnseenCurve, seenUnseenCurve } from "./seen_unseen_curve.ts";
export { type SplitMetrics, splitMetrics } from "./split_metrics.ts";
export {
  type GammaRule,
  type GammaSelection,
  selectGamma,
  type SelectGammaOptions,
} from "./gamma.ts";
export { type ConfusionMatrix, confusionMatrix } from "./confusion.ts";
export {
  type EvalReport,
  type MarkdownOptions,
  reportToJson,
  reportToMarkdown,
  type ResultRow,
  writeReport,
} from "./report.ts";

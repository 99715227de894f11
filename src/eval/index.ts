/** The `evaluation` namespace: ZSL / GZSL metrics (Xian et al.'s per-class definitions, as DSVA
 * evaluates), calibrated stacking and its γ, the seen–unseen curve and AUSUC, confusion matrices,
 * and JSON / Markdown reports. */
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

/**
 * The `train` namespace: DSVA training runs as `deno task train` drives them. Data setup (the
 * held-out split, attribute scaling, host batches to tensors), model building, the one training
 * step, the resumable trainer on the shared run loop (`src/run/`), scoring and evaluation with
 * model selection and γ, checkpoints and their records, pictures with their own titles, and the
 * HTML report. The config (its type, re-exported here, defaults, schema and resolution) is in
 * `src/config/`, the command-line front ends in `src/cli/`.
 * @module
 */
export type { BackboneConfig, DatasetConfig, SelectionRule, TrainConfig } from "../config/types.ts";
export { describeData, holdOut, loadTrainData, trainingAttributes } from "./data.ts";
export type { LoadTrainDataOptions, TrainData } from "./data.ts";
export { batchToTensor, imagesToTensor, labelsToTensor } from "../data/tensor.ts";
export { buildBackbone, buildModel } from "./model.ts";
export { acInTraining, runRecipe } from "./recipe.ts";
export { BRANCHES, concatSets, scoreSamples } from "./scoring.ts";
export type { Branch, ScoredSet } from "./scoring.ts";
export { branchResult, chooseGamma, heldoutSeenAccuracy } from "./metrics.ts";
export type { BranchResult } from "./metrics.ts";
export { evaluateModel, writeEvaluation } from "./evaluate.ts";
export type { EvalSource, Evaluation } from "./evaluate.ts";
export { DsvaMetricsLog } from "./records.ts";
export type { EpochRecord, MetricsRecord, StepRecord } from "./records.ts";
export { CHECKPOINTS, readCheckpoint, RNG_NOTE } from "./state.ts";
export type { BestState, ModelCheckpoint, TrainCheckpoint } from "./state.ts";
export { type DsvaStepInputs, dsvaTrainStep, NonFiniteLossError } from "./step.ts";
export { Trainer } from "./trainer.ts";
export type { TrainHooks, TrainOutcome } from "./trainer.ts";
export { attentionPictures } from "./pictures.ts";
export { confusionPng } from "./confusion_picture.ts";
export type { AttentionPicture } from "./pictures.ts";
export { reportHtml, writeReportHtml } from "./report_html.ts";
export { lineChart } from "./svg_chart.ts";

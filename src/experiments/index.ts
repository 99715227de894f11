/** The `experiments` namespace: experiment grids (config, planning, attribute subsets, the
 * resumable runner, aggregation and the report), the ablation, and run pictures. The command-line
 * front ends are in `src/cli/` (`experiments.ts`, `ablate.ts`, `viz.ts`). */
export {
  type ExperimentConfig,
  ExperimentConfigError,
  ExperimentConfigSchema,
  parseExperimentConfig,
  readExperimentConfig,
} from "./config.ts";
export {
  type AttributeSubset,
  type AttributeTable,
  expandAttributeSets,
  randomColumns,
  selectColumns,
  tableToCsv,
  writeAttributeTable,
} from "./attribute_sets.ts";
export { alternativeUnseen, isSyntheticSplit, writeSyntheticSplits } from "./synthetic_splits.ts";
export { type Cell, type CellAxes, type GridPlan, planGrid } from "./grid.ts";
export {
  cellDir,
  type CellResult,
  findRunDir,
  type GridOutcome,
  type GridStop,
  isFinished,
  readCellResult,
  runGrid,
} from "./runner.ts";
export {
  compareAlong,
  formatMeanStd,
  meanStd,
  summarize,
  summaryCsv,
  summaryMarkdown,
  vocabularyCurves,
} from "./aggregate.ts";
export { writeGridReport } from "./report.ts";
export { ablationConfig, quickConfig } from "./presets.ts";
export { ablationMarkdown, ablationRows } from "./ablation_table.ts";
export { vizRun } from "./viz.ts";
export { type GridRun, type GridRunOptions, runExperimentGrid } from "./run_grid.ts";

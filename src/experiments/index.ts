/**
 * The `experiments` namespace: experiment grids (their config, planning, attribute subsets and
 * synthetic splits), the resumable runner that runs each cell as a child training process and
 * survives a kill, aggregation into tables and curves, the experiment report, the ablation table,
 * and the pictures of a finished run (`viz`). The command-line front ends are in `src/cli/`
 * (`experiments.ts`, `ablate.ts`, `viz.ts`).
 * @module
 */
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

/**
 * The training configuration, in one place: its type (`types.ts`, every field resolved), the
 * defaults (`defaults.ts`; the recipe-dependent ones are the recipe's, `src/dsva/recipes.ts`),
 * the zod schema of a partial config with the shared integer schemas and issue formatting
 * (`schema.ts`), config files (`file.ts`), resolution of partial configs into a complete one
 * (`resolve.ts`), paths made absolute against the caller's or the config file's folder
 * (`paths.ts`), the `--official-script` presets (`official_script.ts`), where each resolved
 * field came from (`sources.ts`), and the one table of config flags that the commands build their options from
 * (`flags.ts`). Pure TypeScript: no command-line code; the commands live in `src/cli/`.
 * @module
 */
export type {
  BackboneConfig,
  ClipBackboneConfig,
  DarknetBackboneConfig,
  DatasetConfig,
  FolderDatasetConfig,
  RssdivcsDatasetConfig,
  SelectionRule,
  SyntheticDatasetConfig,
  TrainConfig,
  VitBackboneConfig,
} from "./types.ts";
export { ConfigError } from "./errors.ts";
export { autoThreads, DEFAULTS } from "./defaults.ts";
export {
  describeIssues,
  int,
  nonNegInt,
  parsePartialConfig,
  type PartialConfig,
  PartialConfigSchema,
  posInt,
} from "./schema.ts";
export { readConfigFile } from "./file.ts";
export { absolutePath, parentDir, PATH_FIELDS, resolvePathFields } from "./paths.ts";
export {
  checkResolvedConfig,
  datasetKind,
  mergePartial,
  resolveConfig,
  withOfficialScript,
} from "./resolve.ts";
export { officialScriptPreset } from "./official_script.ts";
export {
  type ConfigLayer,
  formatSources,
  resolveConfigLayers,
  type SourcedConfig,
} from "./sources.ts";
export {
  CONFIG_FLAGS,
  type ConfigFlag,
  configFlag,
  flagName,
  type FlagParse,
  LAUNCH_FLAGS,
  type LaunchFlag,
  type LaunchFlags,
  RESUMABLE_FIELDS,
} from "./flags.ts";

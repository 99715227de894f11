/**
 * The one table of configuration flags: every flag that sets a training config field, with its
 * config path, how its text is read, its help, and whether a resumed run (`train --resume`) or
 * an evaluation (`eval`) may change it. `src/cli/` builds the commander options of `train`,
 * `eval` and `ablate` from it; `--set path=value` reaches every other field.
 * @module
 */

/** How a flag's text becomes a value: as is, a number, a number or one word (`word`), `false`
 * for a `--no-...` switch, or `true` for a plain switch. A text that is not a number stays text,
 * so that the schema names the bad value. */
export type FlagParse = "string" | "number" | "numberOr" | "negate" | "switch";

/** A flag that sets one config field. */
export interface ConfigFlag {
  /** The commander flag, e.g. `--epochs <n>`. */
  flag: string;
  /** The dotted config path it sets. */
  path: string;
  parse: FlagParse;
  /** For `numberOr`: the word accepted besides a number. */
  word?: string;
  help: string;
  /** A resumed run may change it: it does not change the weights the run ends with. */
  resumable?: boolean;
  /** `eval` takes it as an override of the checkpoint's config. */
  evalOverride?: boolean;
}

/** Every config flag, in `--help` order. */
export const CONFIG_FLAGS: readonly ConfigFlag[] = [
  { flag: "--name <name>", path: "name", parse: "string", help: "run name (run folder suffix)" },
  {
    flag: "--dataset <synthetic|DIR>",
    path: "dataset",
    parse: "string",
    help: "the synthetic scenes (default) or a dataset folder (e.g. ../shared/data/aid, or the " +
      "official RSSDIVCS layout: files/<tag>_images.mat + ann_attr_finetune_<tag>_splits.mat)",
  },
  {
    flag: "--split <name>",
    path: "dataset.split",
    parse: "string",
    help: "split name, e.g. 25_5 (RSSDIVCS layout: the files' tag, e.g. 43)",
  },
  { flag: "--images <dir>", path: "dataset.images", parse: "string", help: "image folder" },
  { flag: "--attributes <file>", path: "dataset.attributes", parse: "string", help: "attributes" },
  { flag: "--groups <file>", path: "dataset.groups", parse: "string", help: "attribute groups" },
  { flag: "--splits <file>", path: "dataset.splits", parse: "string", help: "split file" },
  {
    flag: "--attribute-scale <none|max|l2>",
    path: "dataset.attributeScale",
    parse: "string",
    help: "scaling of the class attributes (default max)",
  },
  {
    flag: "--skip-missing",
    path: "dataset.skipMissing",
    parse: "switch",
    help: "leave out images the split file names but the folder lacks (warned and counted)",
  },
  {
    flag: "--backbone <name>",
    path: "backbone",
    parse: "string",
    help: "ViT preset trained from scratch (cpu-tiny, ...), clip or darknet",
  },
  {
    flag: "--weights <dir>",
    path: "backbone.dir",
    parse: "string",
    help: "weights folder of a clip / darknet backbone (clip: also an OpenAI / open_clip file)",
  },
  {
    flag: "--clip-format <hf|openai|open_clip>",
    path: "backbone.format",
    parse: "string",
    help: "clip backbone: the weights' format (default detected from the file)",
  },
  {
    flag: "--clip-activation <quick_gelu|gelu>",
    path: "backbone.activation",
    parse: "string",
    help: "clip backbone: MLP activation (default the source's: OpenAI quick_gelu, open_clip gelu)",
  },
  { flag: "--recipe <official|clean>", path: "recipe", parse: "string", help: "training recipe" },
  {
    flag: "--official-script <name>",
    path: "officialScript",
    parse: "string",
    help: "every setting of an official script (01_ZSL_43_11 ... 13_gzsl_61_12); flags override",
  },
  {
    flag: "--train-list <train_zsl_loc|train_gzsl_loc>",
    path: "dataset.trainList",
    parse: "string",
    help: "RSSDIVCS layout: the training list (default train_zsl_loc, the official code's)",
  },
  { flag: "--epochs <n>", path: "epochs", parse: "number", help: "epochs", resumable: true },
  { flag: "--batches <n>", path: "batchesPerEpoch", parse: "number", help: "batches per epoch" },
  {
    flag: "--warmup-epochs <n>",
    path: "warmupEpochs",
    parse: "number",
    help: "frozen-backbone warm-up epochs",
  },
  { flag: "--ways <n>", path: "ways", parse: "number", help: "classes per batch" },
  { flag: "--shots <n>", path: "shots", parse: "number", help: "images per class per batch" },
  { flag: "--image-size <n>", path: "imageSize", parse: "number", help: "input side in pixels" },
  { flag: "--resize <n>", path: "resize", parse: "number", help: "shorter side before the crop" },
  {
    flag: "--normalization <imagenet|clip|unit>",
    path: "normalization",
    parse: "string",
    help: "pixel normalisation",
  },
  { flag: "--lr <x>", path: "lr", parse: "number", help: "learning rate of heads and backbone" },
  { flag: "--lr-heads <x>", path: "lr.heads", parse: "number", help: "learning rate of the heads" },
  { flag: "--lr-backbone <x>", path: "lr.backbone", parse: "number", help: "backbone lr" },
  {
    flag: "--lr-warmup-steps <n>",
    path: "lr.warmupSteps",
    parse: "number",
    help: "linear lr warm-up steps (clean recipe)",
  },
  { flag: "--ac-iterations <n>", path: "ac.iterations", parse: "number", help: "AC rounds" },
  { flag: "--ac-thr <x>", path: "ac.thr", parse: "number", help: "AC threshold factor" },
  {
    flag: "--ac-from-epoch <n>",
    path: "ac.fromEpoch",
    parse: "number",
    help: "first epoch the AC trains",
  },
  { flag: "--seed <n>", path: "seed", parse: "number", help: "seed" },
  {
    flag: "--device <cpu|cuda|cuda:N>",
    path: "device",
    parse: "string",
    help: "device",
    resumable: true,
    evalOverride: true,
  },
  {
    flag: "--autocast <none|bf16>",
    path: "autocast",
    parse: "string",
    help: "CUDA autocast",
    resumable: true,
    evalOverride: true,
  },
  {
    flag: "--threads <n|auto>",
    path: "threads",
    parse: "numberOr",
    word: "auto",
    help: "libtorch threads",
    resumable: true,
    evalOverride: true,
  },
  {
    flag: "--selection <official|heldout|last>",
    path: "selection",
    parse: "string",
    help: "model selection: best epoch on test (official), on held-out seen images, or last",
  },
  {
    flag: "--selection-metric <zsl|H>",
    path: "selectionMetric",
    parse: "string",
    help: "what official selection maximises",
  },
  {
    flag: "--heldout-fraction <x>",
    path: "heldoutFraction",
    parse: "number",
    help: "fraction of seen training images held out",
  },
  {
    flag: "--gamma <x|heldout>",
    path: "gamma",
    parse: "numberOr",
    word: "heldout",
    help: "calibrated-stacking γ, or chosen on held-out seen images",
    evalOverride: true,
  },
  {
    flag: "--gamma-retain <x>",
    path: "gammaRetain",
    parse: "number",
    help: "with γ heldout: the fraction of held-out seen images kept seen",
    evalOverride: true,
  },
  {
    flag: "--eval-every <n>",
    path: "evalEvery",
    parse: "number",
    help: "evaluate every n epochs",
    resumable: true,
  },
  {
    flag: "--test-batch-size <n>",
    path: "testBatchSize",
    parse: "number",
    help: "evaluation batch size",
    resumable: true,
  },
  {
    flag: "--loader-concurrency <n>",
    path: "loaderConcurrency",
    parse: "number",
    help: "images decoded at once",
    resumable: true,
  },
  {
    flag: "--workers <n>",
    path: "workers",
    parse: "number",
    help: "image decode worker threads",
    resumable: true,
  },
  {
    flag: "--on-bad-image <skip|fail>",
    path: "onBadImage",
    parse: "string",
    help: "an evaluation image that cannot be decoded: fail (default) stops naming it; skip " +
      "leaves it out of every metric and lists it in eval.json and the report",
    resumable: true,
    evalOverride: true,
  },
  {
    flag: "--runs-dir <dir>",
    path: "runsDir",
    parse: "string",
    help: "where run folders go",
    resumable: true,
  },
  {
    flag: "--pictures <n>",
    path: "pictures",
    parse: "number",
    help: "attention-map pictures",
    resumable: true,
  },
  {
    flag: "--max-steps <n>",
    path: "maxSteps",
    parse: "number",
    help: "stop after n steps",
    resumable: true,
  },
  {
    flag: "--no-ac",
    path: "ac.enabled",
    parse: "negate",
    help: "no Attention Concentration (training and test)",
  },
  {
    flag: "--no-monitor-test",
    path: "monitorTest",
    parse: "negate",
    help: "do not evaluate on the test set during training",
    resumable: true,
  },
];

/** The flag's long name (`--epochs <n>` → `--epochs`). */
export function flagName(f: ConfigFlag): string {
  return f.flag.split(" ")[0];
}

/** The top-level config fields a resumed run may change. */
export const RESUMABLE_FIELDS: readonly string[] = [
  ...new Set(CONFIG_FLAGS.filter((f) => f.resumable).map((f) => f.path.split(".")[0])),
];

/** The flag that sets `path`; throws for a path no flag sets. */
export function configFlag(path: string): ConfigFlag {
  const f = CONFIG_FLAGS.find((x) => x.path === path);
  if (!f) throw new RangeError(`no config flag sets ${path}`);
  return f;
}

/** A flag of the multi-process launcher (`train --nproc-per-node N`, torchrun's names). These
 * are not config fields: how many processes train does not change what they train (N ranks
 * take one process's steps), so a run's config.json is the same either way. */
export interface LaunchFlag {
  /** The commander flag. */
  flag: string;
  /** The option's key in the parsed {@link LaunchFlags}. */
  key: keyof LaunchFlags;
  help: string;
}

/** What the launch flags say (nulls: not given). */
export interface LaunchFlags {
  /** Processes on this machine. */
  nprocPerNode: number | null;
  /** Machines in the job. */
  nnodes: number | null;
  /** This machine's number. */
  nodeRank: number | null;
  /** Rank 0's host. */
  masterAddr: string | null;
  /** Rank 0's rendezvous port. */
  masterPort: number | null;
}

/** The launcher's flags, torchrun's names. */
export const LAUNCH_FLAGS: readonly LaunchFlag[] = [
  {
    flag: "--nproc-per-node <n>",
    key: "nprocPerNode",
    help: "train with n processes on this machine (data-parallel; threads split between them)",
  },
  { flag: "--nnodes <n>", key: "nnodes", help: "machines in the job (default 1)" },
  { flag: "--node-rank <i>", key: "nodeRank", help: "this machine's number, 0..nnodes-1" },
  {
    flag: "--master-addr <host>",
    key: "masterAddr",
    help: "host of rank 0 (default 127.0.0.1; needed with --nnodes > 1)",
  },
  {
    flag: "--master-port <port>",
    key: "masterPort",
    help: "rank 0's rendezvous port (default: a free one; needed with --nnodes > 1)",
  },
];

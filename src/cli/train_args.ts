/** `deno task train` command-line flags (commander), turned into a validated partial config. */
import { Command } from "npm:commander@^15";
import { ConfigError, parsePartialConfig, type PartialConfig } from "./config.ts";

type Kind = "string" | "number" | "numberOr" | "json";

/** A flag that sets one config field. */
interface FlagSpec {
  flag: string;
  /** Dotted config path. */
  path: string;
  kind: Kind;
  help: string;
  /** For `numberOr`: the word accepted besides a number. */
  word?: string;
}

const FLAGS: FlagSpec[] = [
  { flag: "--name <name>", path: "name", kind: "string", help: "run name (run folder suffix)" },
  {
    flag: "--dataset <synthetic|DIR>",
    path: "dataset",
    kind: "string",
    help: "the synthetic scenes (default) or a dataset folder (e.g. ../shared/data/aid)",
  },
  { flag: "--split <name>", path: "dataset.split", kind: "string", help: "split name, e.g. 25_5" },
  { flag: "--images <dir>", path: "dataset.images", kind: "string", help: "image folder" },
  { flag: "--attributes <file>", path: "dataset.attributes", kind: "string", help: "attributes" },
  { flag: "--groups <file>", path: "dataset.groups", kind: "string", help: "attribute groups" },
  { flag: "--splits <file>", path: "dataset.splits", kind: "string", help: "split file" },
  {
    flag: "--attribute-scale <none|max|l2>",
    path: "dataset.attributeScale",
    kind: "string",
    help: "scaling of the class attributes (default max)",
  },
  {
    flag: "--backbone <name>",
    path: "backbone",
    kind: "string",
    help: "ViT preset trained from scratch (cpu-tiny, ...), clip or darknet",
  },
  {
    flag: "--weights <dir>",
    path: "backbone.dir",
    kind: "string",
    help: "weights folder of a clip / darknet backbone",
  },
  { flag: "--recipe <official|clean>", path: "recipe", kind: "string", help: "training recipe" },
  { flag: "--epochs <n>", path: "epochs", kind: "number", help: "epochs" },
  { flag: "--batches <n>", path: "batchesPerEpoch", kind: "number", help: "batches per epoch" },
  {
    flag: "--warmup-epochs <n>",
    path: "warmupEpochs",
    kind: "number",
    help: "frozen-backbone warm-up epochs",
  },
  { flag: "--ways <n>", path: "ways", kind: "number", help: "classes per batch" },
  { flag: "--shots <n>", path: "shots", kind: "number", help: "images per class per batch" },
  { flag: "--image-size <n>", path: "imageSize", kind: "number", help: "input side in pixels" },
  { flag: "--resize <n>", path: "resize", kind: "number", help: "shorter side before the crop" },
  {
    flag: "--normalization <imagenet|clip|unit>",
    path: "normalization",
    kind: "string",
    help: "pixel normalisation",
  },
  { flag: "--lr <x>", path: "lr", kind: "number", help: "learning rate of heads and backbone" },
  { flag: "--lr-heads <x>", path: "lr.heads", kind: "number", help: "learning rate of the heads" },
  { flag: "--lr-backbone <x>", path: "lr.backbone", kind: "number", help: "backbone lr" },
  {
    flag: "--lr-warmup-steps <n>",
    path: "lr.warmupSteps",
    kind: "number",
    help: "linear lr warm-up steps (clean recipe)",
  },
  { flag: "--ac-iterations <n>", path: "ac.iterations", kind: "number", help: "AC rounds" },
  { flag: "--ac-thr <x>", path: "ac.thr", kind: "number", help: "AC threshold factor" },
  {
    flag: "--ac-from-epoch <n>",
    path: "ac.fromEpoch",
    kind: "number",
    help: "first epoch the AC trains",
  },
  { flag: "--seed <n>", path: "seed", kind: "number", help: "seed" },
  { flag: "--device <cpu|cuda|cuda:N>", path: "device", kind: "string", help: "device" },
  { flag: "--autocast <none|bf16>", path: "autocast", kind: "string", help: "CUDA autocast" },
  {
    flag: "--threads <n|auto>",
    path: "threads",
    kind: "numberOr",
    word: "auto",
    help: "libtorch threads",
  },
  {
    flag: "--selection <official|heldout|last>",
    path: "selection",
    kind: "string",
    help: "model selection: best epoch on test (official), on held-out seen images, or last",
  },
  {
    flag: "--selection-metric <zsl|H>",
    path: "selectionMetric",
    kind: "string",
    help: "what official selection maximises",
  },
  {
    flag: "--heldout-fraction <x>",
    path: "heldoutFraction",
    kind: "number",
    help: "fraction of seen training images held out",
  },
  {
    flag: "--gamma <x|heldout>",
    path: "gamma",
    kind: "numberOr",
    word: "heldout",
    help: "calibrated-stacking γ, or chosen on held-out seen images",
  },
  {
    flag: "--gamma-retain <x>",
    path: "gammaRetain",
    kind: "number",
    help: "held-out seen images kept seen by γ",
  },
  { flag: "--eval-every <n>", path: "evalEvery", kind: "number", help: "evaluate every n epochs" },
  {
    flag: "--test-batch-size <n>",
    path: "testBatchSize",
    kind: "number",
    help: "evaluation batch size",
  },
  { flag: "--workers <n>", path: "workers", kind: "number", help: "image decode worker threads" },
  { flag: "--runs-dir <dir>", path: "runsDir", kind: "string", help: "where run folders go" },
  { flag: "--pictures <n>", path: "pictures", kind: "number", help: "attention-map pictures" },
  { flag: "--max-steps <n>", path: "maxSteps", kind: "number", help: "stop after n steps" },
];

/** What the command line asks for. */
export interface TrainArgs {
  /** The config file, if any. */
  config: string | null;
  /** A run folder to resume. */
  resume: string | null;
  /** Print the resolved config and exit. */
  printConfig: boolean;
  /** The fields the flags set (validated). */
  partial: PartialConfig;
}

function camel(flag: string): string {
  return flag.replace(/^--/, "").split(" ")[0].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

function convert(raw: string, spec: FlagSpec): unknown {
  if (spec.kind === "string") return raw;
  if (spec.kind === "numberOr" && raw === spec.word) return raw;
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) ? n : raw; // zod names the bad value
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    const cur = o[k];
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys.at(-1)!] = value;
}

/** The commander program (also used for `--help`). */
export function trainProgram(): Command {
  const p = new Command("deno task train")
    .description(
      "Train DSVA and evaluate it (no arguments: the built-in synthetic CPU run). Flags override " +
        "the config file; the last output line is a JSON summary.",
    )
    .option("--config <file>", "JSON config file (fields of the resolved config, any subset)")
    .option("--resume <runDir>", "continue an interrupted run from its last checkpoint")
    .option("--print-config", "print the resolved config and exit")
    .option("--no-ac", "no Attention Concentration (training and test)")
    .option("--no-monitor-test", "do not evaluate on the test set during training")
    .option(
      "--set <path=value>",
      "set any config field, e.g. --set loss.weights.mseVam=0.5 (value parsed as JSON)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .allowExcessArguments(false)
    .exitOverride();
  for (const f of FLAGS) p.option(f.flag, f.help);
  return p;
}

/** Parses the train command line. Throws {@link ConfigError} for bad values (naming the flag),
 * commander's error for unknown flags. */
export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const prog = trainProgram();
  prog.parse([...argv], { from: "user" });
  const o = prog.opts() as Record<string, unknown>;
  const given = (name: string) => prog.getOptionValueSource(name) === "cli";
  const obj: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const f of FLAGS) {
    const name = camel(f.flag);
    if (!given(name)) continue;
    const raw = String(o[name]);
    let value = convert(raw, f);
    let path = f.path;
    if (f.path === "dataset") {
      value = raw === "synthetic" ? { kind: "synthetic" } : { kind: "folder", dir: raw };
    } else if (f.path === "backbone") {
      value = raw === "clip" || raw === "darknet" ? { kind: raw } : { kind: "vit", preset: raw };
    } else if (f.path === "lr") {
      path = "lr";
      value = typeof value === "number" ? { heads: value, backbone: value } : value;
    }
    if (isPlain(value) && isPlain(obj[path])) {
      Object.assign(obj[path] as object, value);
    } else if (isPlain(value)) {
      for (const [k, v] of Object.entries(value)) setPath(obj, `${path}.${k}`, v);
    } else setPath(obj, path, value);
    sources.set(f.path, f.flag.split(" ")[0]);
  }
  if (given("ac")) {
    setPath(obj, "ac.enabled", o.ac);
    sources.set("ac", "--no-ac");
  }
  if (given("monitorTest")) {
    setPath(obj, "monitorTest", o.monitorTest);
    sources.set("monitorTest", "--no-monitor-test");
  }
  for (const s of (o.set as string[]) ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--set ${s}: expected path=value`);
    const path = s.slice(0, eq), raw = s.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    setPath(obj, path, value);
    sources.set(path, `--set ${path}`);
  }
  const source = (path: string) => {
    let best = "command line";
    let len = -1;
    for (const [p, flag] of sources) {
      if ((path === p || path.startsWith(`${p}.`) || p.startsWith(`${path}.`)) && p.length > len) {
        best = flag;
        len = p.length;
      }
    }
    return best;
  };
  const partial = parsePartialConfig(obj, source);
  return {
    config: (o.config as string | undefined) ?? null,
    resume: (o.resume as string | undefined) ?? null,
    printConfig: o.printConfig === true,
    partial,
  };
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * `deno task zeroshot --model <folder or file> [--dataset ...] [--split ...]`: CLIP's
 * prompt-based zero-shot classification of a dataset (default the built-in synthetic scenes),
 * under both protocols — all classes (top-1, mean per-class) and ZSL / GZSL of the seen/unseen
 * split (ZSL, S, U, H at γ = 0 unless `--gamma`, AUSUC) — on the same dataset and split files as
 * `deno task train`. Writes `eval.json`, `eval.md`, `confusion.png` and `seen_unseen_curve.json`
 * (a new folder under `--runs-dir`, or `--out`, never overwritten without `--overwrite`); image
 * and text embeddings are cached. The last output line is one JSON object with `zsl`,
 * `gzsl: {S, U, H}`, `allClasses: {top1, meanPerClass}` and the paths. Exit status: 0 done, 1 bad
 * data / model / prompts, 2 bad command line.
 * @module
 */
import { Command } from "npm:commander@^15";
import { cuda, setNumThreads } from "../tensor/index.ts";
import type { Device } from "../tensor/index.ts";
import { CONFIG_FLAGS } from "../config/flags.ts";
import {
  ConfigError,
  parsePartialConfig,
  resolveConfig,
  resolvePathFields,
} from "../config/index.ts";
import { callerDir, userPath } from "./paths.ts";
import { absolutePath } from "../config/paths.ts";
import { describeData, loadTrainData } from "../train/data.ts";
import { exists, isFile } from "../../ffi/fs.ts";
import type { CLIPActivation, CLIPFormat } from "../models/clip_sources.ts";
import type { EncodeAutocast } from "../attributes/collect.ts";
import { type ClipSource, describeClipSource } from "../zeroshot/load.ts";
import { timestamp } from "../run/run_dir.ts";
import { checkTemplates, readPromptFile, REMOTE_SENSING_TEMPLATES } from "../zeroshot/prompts.ts";
import { readAliases } from "../zeroshot/names.ts";
import { runZeroShot } from "../zeroshot/run.ts";
import { writeZeroShotEvaluation, ZEROSHOT_FILES } from "../zeroshot/report.ts";
import { addConfigFlags, flagSource, readConfigFlags } from "./config_flags.ts";
import { flagReader, givenFlags } from "./flag_reader.ts";
import { parseOrExit, runCommand, UsageError } from "./task_exit.ts";

const TASK = "zeroshot";

/** The training-config flags that choose the data and where it runs (as `train` takes them). */
const DATA_FLAGS = CONFIG_FLAGS.filter((f) =>
  [
    "dataset",
    "dataset.split",
    "dataset.images",
    "dataset.attributes",
    "dataset.groups",
    "dataset.splits",
    "dataset.attributeScale",
    "dataset.trainList",
    "device",
    "threads",
  ].includes(f.path)
);

/** The command's flags. */
export function zeroshotProgram(): Command {
  const p = new Command("deno task zeroshot")
    .description(
      "CLIP's prompt zero-shot classification: all classes (top-1, mean per-class) and the " +
        "ZSL / GZSL protocol of a seen/unseen split, written as deno task eval writes DSVA's.",
    )
    .option(
      "--model <path>",
      "a Hugging Face CLIP folder, a clip:finetune run folder, an OpenAI archive (ViT-B-32.pt) " +
        "or an open_clip checkpoint (.pt / .bin / .safetensors)",
      userPath,
    )
    .option("--format <hf|openai|open_clip>", "the weights' format (default detected)")
    .option(
      "--activation <quick_gelu|gelu>",
      "MLP activation (default the source's: OpenAI quick_gelu, open_clip gelu, HF config.json); " +
        "quick_gelu for OpenAI-initialised open_clip fine-tunes (RemoteCLIP, GeoRSCLIP, SkyCLIP)",
    )
    .option(
      "--tokenizer <file>",
      "tokenizer.json or bpe_simple_vocab_16e6.txt.gz (default: in the folder / beside the file)",
      userPath,
    )
    .optionsGroup("Prompts:")
    .option("--prompts <file>", "prompt templates, one per line with {} for the class", userPath)
    .option("--template <t>", 'one template, e.g. "a satellite image of a {}."')
    .option("--aliases <file>", 'JSON {"ClassName": "text in the prompts", ...}', userPath)
    .optionsGroup("Protocols:")
    .option("--gamma <x>", "calibrated-stacking γ of the GZSL numbers (0)")
    .option(
      "--all-images",
      "all-class protocol on every image of the split's lists, not only the test images",
    )
    .option("--limit <n>", "at most n images per class from each list (a quick run)")
    .optionsGroup("Output and run:")
    .option("--out <dir>", "output folder (default <runs-dir>/<timestamp>-zeroshot)", userPath)
    .option("--overwrite", "write into --out even when it holds an evaluation")
    .option("--runs-dir <dir>", "where the default output folder goes (runs)", userPath)
    .option("--batch-size <n>", "images per CLIP batch (64)")
    .option(
      "--autocast <none|bf16>",
      "encode in float32 (none) or under bf16 autocast (CUDA's, or libtorch's CPU autocast); " +
        "own cache entries",
    )
    .option("--no-cache", "neither read nor write the embedding cache")
    .optionsGroup("Data (as deno task train):")
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride();
  return addConfigFlags(p, DATA_FLAGS);
}

const fail = (msg: string): never => {
  throw new UsageError(msg);
};

/** Runs the command on `argv`; returns the last line's object. */
export async function runZeroshotCommand(
  argv: readonly string[],
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const prog = zeroshotProgram();
  parseOrExit(TASK, prog, argv);
  const v = givenFlags(prog) as Record<string, string | boolean | undefined>;
  const { z, flag } = await flagReader(v);
  if (!v.model) fail("--model is required (a CLIP folder or weights file, or a clip:finetune run)");
  const format = flag<CLIPFormat | undefined>(
    "format",
    z.enum(["hf", "openai", "open_clip"]),
    undefined,
  );
  const activation = flag<CLIPActivation | undefined>(
    "activation",
    z.enum(["quick_gelu", "gelu"]),
    undefined,
  );
  const tokenizer = v.tokenizer === undefined ? undefined : String(v.tokenizer);
  if (tokenizer !== undefined && !isFile(tokenizer)) fail(`--tokenizer ${tokenizer}: no such file`);
  if (v.prompts && v.template) fail("give --prompts FILE or --template T, not both");
  const gamma = flag<number | undefined>(
    "gamma",
    z.coerce.number().refine(Number.isFinite, "not a number"),
    undefined,
  );
  const limit = flag("limit", z.coerce.number().int().positive(), 0) || null;
  const batchSize = flag("batch-size", z.coerce.number().int().positive(), 64);
  const autocast = flag<EncodeAutocast>("autocast", z.enum(["none", "bf16"]), "none");
  const runsDir = flag("runs-dir", z.string().min(1), "runs");
  const out = String(
    v.out ?? absolutePath(Deno.cwd(), `${runsDir.replace(/\/+$/, "")}/${timestamp()}-zeroshot`),
  );
  const clash = ZEROSHOT_FILES.filter((f) => exists(`${out}/${f}`));
  if (clash.length && !v.overwrite) {
    fail(`--out ${out} already holds ${clash.join(", ")}; pass --overwrite to replace them`);
  }

  let config;
  try {
    const { fields, sources } = readConfigFlags(prog, DATA_FLAGS);
    // Paths on the command line are the caller's, as in deno task train.
    config = resolveConfig(
      parsePartialConfig(resolvePathFields(fields, callerDir()), flagSource(sources)),
    );
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  if (config.device.startsWith("cuda") && !cuda.isAvailable()) {
    fail(`--device ${config.device}: CUDA is not available in the linked libtorch`);
  }
  setNumThreads(config.threads);

  let templates: readonly string[] = REMOTE_SENSING_TEMPLATES;
  let templateSource = "built-in remote-sensing set";
  if (v.prompts) {
    templates = await readPromptFile(String(v.prompts));
    templateSource = String(v.prompts);
  } else if (v.template) {
    templates = checkTemplates([String(v.template)], "--template");
    templateSource = "--template";
  }
  const data = await loadTrainData(config);
  console.log(describeData(data));
  const aliases = v.aliases ? await readAliases(String(v.aliases), data.classes) : {};
  const model = String(v.model);
  const source: ClipSource = { path: model, format, activation, tokenizer };
  console.log(
    `zeroshot: ${
      describeClipSource(source)
    }; ${templates.length} template(s) (${templateSource}); γ ${
      gamma ?? "0 (CLIP default)"
    }; ${config.device}, ${autocast === "bf16" ? "bf16 autocast" : "float32"}` +
      (limit ? `; at most ${limit} images per class and list` : ""),
  );
  const zs = await runZeroShot({
    model: source,
    data,
    templates,
    aliases,
    gamma,
    allImages: v["all-images"] === true,
    limit,
    device: config.device as Device,
    batchSize,
    autocast,
    useCache: v.cache !== false,
    log: (l) => console.log(`  ${l}`),
  });
  const summary = await writeZeroShotEvaluation(out, zs, data, model, templateSource);
  console.log(await Deno.readTextFile(`${out}/eval.md`));
  console.log(
    `cache: images ${zs.cache.images}, text ${zs.cache.text}; wrote ${
      summary.files.map((f) => `${out}/${f}`).join(", ")
    }`,
  );
  const last = {
    zsl: summary.zsl,
    chance: summary.chance,
    gzsl: summary.gzsl,
    ausuc: summary.ausuc,
    oracleH: summary.oracleH,
    allClasses: { top1: summary.allClasses.top1, meanPerClass: summary.allClasses.meanPerClass },
    split: data.split,
    model,
    out,
    device: config.device,
    autocast,
    cache: zs.cache,
    encoded: zs.encoded,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  console.log(JSON.stringify(last));
  return last;
}

/** Runs `deno task zeroshot` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand(TASK, argv, async (rest) => {
    await runZeroshotCommand(rest);
  }, () => zeroshotProgram().helpInformation());
}

/**
 * `deno task eval --run <runDir>` (or `--checkpoint <file>`): evaluate a trained DSVA — ZSL
 * accuracy; GZSL S, U, H with calibrated stacking (a given γ, or γ chosen on the held-out seen
 * images); the seen–unseen curve and AUSUC; every branch (VAM, global, fused). Writes
 * `eval.json`, `eval.md`, `confusion.png` and `seen_unseen_curve.json`; the last output line is
 * the content of `eval.json`. Nothing is replaced silently: without `--out` the files go into a
 * new folder `<run>/evals/NNN/` (the training-time `eval.json` and `report.html` stay as they
 * were); `--out` into a folder that is not empty needs `--overwrite`.
 * @module
 */
import { Command } from "npm:commander@^15";
import { failTask, noteDatasetFolder, parseOrExit, runCommand } from "./task_exit.ts";
import { cuda, noGrad, setNumThreads } from "../tensor/index.ts";
import { describeData, loadTrainData } from "../train/data.ts";
import { evaluateModel, writeEvaluation } from "../train/evaluate.ts";
import { buildModel } from "../train/model.ts";
import { attentionPictures } from "../train/pictures.ts";
import { CHECKPOINTS, readCheckpoint } from "../train/state.ts";
import { fromBuffer } from "../tensor/index.ts";
import {
  checkResolvedConfig,
  CONFIG_FLAGS,
  ConfigError,
  mergePartial,
  parsePartialConfig,
  resolveConfig,
} from "../config/index.ts";
import { addConfigFlags, flagSource, readConfigFlags } from "./config_flags.ts";
import { isDir } from "../run/run_dir.ts";
import { parentDir } from "../config/paths.ts";
import { nonEmpty, userPath } from "./paths.ts";

/** The config flags `eval` takes as overrides of the checkpoint's config. */
const EVAL_FLAGS = CONFIG_FLAGS.filter((f) => f.evalOverride);

function program(): Command {
  const p = new Command("deno task eval")
    .description("Evaluate a DSVA checkpoint: ZSL, GZSL (S, U, H), AUSUC, per branch.")
    .option("--run <runDir>", "a run folder (uses its checkpoints/best.safetensors)", userPath)
    .option(
      "--checkpoint <file>",
      "a checkpoint file (best.safetensors or last.safetensors)",
      userPath,
    )
    .option("--which <best|last>", "with --run: which checkpoint", "best")
    .option("--no-ac", "no Attention Concentration at test time")
    .option(
      "--out <dir>",
      "where to write eval.json etc. (default: a new folder <run>/evals/NNN)",
      userPath,
    )
    .option("--overwrite", "with --out: replace the files of a folder that is not empty")
    .option("--pictures <n>", "also write n attention pictures into <out>/pictures", "0")
    .allowExcessArguments(false)
    .exitOverride();
  return addConfigFlags(p, EVAL_FLAGS);
}

function fail(code: number, msg: string): never {
  return failTask("eval", code, msg);
}

/** A new, numbered evaluation folder `<home>/evals/NNN` (001, 002, ...: the next free one,
 * created here so that two evaluations at once never share one). */
async function newEvalDir(home: string): Promise<string> {
  const evals = `${home}/evals`;
  await Deno.mkdir(evals, { recursive: true });
  let n = 0;
  for (const e of Deno.readDirSync(evals)) {
    if (/^\d+$/.test(e.name)) n = Math.max(n, Number(e.name));
  }
  for (;; n++) {
    const dir = `${evals}/${String(n + 1).padStart(3, "0")}`;
    try {
      await Deno.mkdir(dir);
      return dir;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
}

/** Runs `deno task eval` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand("eval", argv, evaluate, () => program().helpInformation());
}

async function evaluate(argv: readonly string[]): Promise<void> {
  const prog = program();
  const o = parseOrExit("eval", prog, argv) as Record<string, string | boolean | undefined>;
  const given = (k: string) => prog.getOptionValueSource(k) === "cli";
  if (!o.run === !o.checkpoint) {
    fail(2, "give exactly one of --run <runDir> or --checkpoint <file>");
  }
  if (o.which !== "best" && o.which !== "last") {
    fail(2, `--which: expected best or last, got ${o.which}`);
  }
  let path: string, home: string;
  if (o.run) {
    const dir = String(o.run).replace(/\/+$/, "");
    if (!isDir(dir)) fail(2, `--run ${dir}: no such run folder`);
    path = `${dir}/${CHECKPOINTS[o.which as "best" | "last"]}`;
    home = dir;
  } else {
    path = String(o.checkpoint);
    const parent = parentDir(path);
    home = parent.endsWith("/checkpoints") ? parentDir(parent) : parent;
  }
  const out = o.out === undefined ? null : String(o.out).replace(/\/+$/, "") || "/";
  if (out !== null && o.overwrite !== true && nonEmpty(out)) {
    fail(
      2,
      `--out ${out}: not empty; give a new or empty folder, or --overwrite to replace its files`,
    );
  }

  // Overrides of the run's config, read and validated like the train flags.
  const num = (
    v: unknown,
  ) => (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v);
  let picturesN = 0;
  let config;
  try {
    const over = readConfigFlags(prog, EVAL_FLAGS);
    const partial = parsePartialConfig(over.fields, flagSource(over.sources));
    const pn = num(o.pictures);
    if (typeof pn !== "number" || !Number.isInteger(pn) || pn < 0) {
      throw new ConfigError(
        `pictures: expected a non-negative integer (got ${
          JSON.stringify(o.pictures)
        }) [--pictures]`,
      );
    }
    picturesN = pn;
    // The checkpoint's config (validated), with the overrides.
    using probe = await readCheckpoint(path);
    const saved = checkResolvedConfig(probe.config, `${path} (config)`);
    config = resolveConfig(mergePartial(saved as never, partial));
    if (partial.gamma === "heldout" && config.heldoutFraction === 0) {
      throw new ConfigError("--gamma heldout: this run has no held-out seen images; give a number");
    }
  } catch (e) {
    if (e instanceof ConfigError) fail(2, e.message);
    if (e instanceof Error && /no such file|not found|NotFound/i.test(e.message)) {
      fail(2, `${path}: ${e.message}`);
    }
    throw e;
  }
  if (config.device.startsWith("cuda") && !cuda.isAvailable()) {
    fail(2, `device ${config.device}: CUDA is not available in the linked libtorch`);
  }
  setNumThreads(config.threads);
  if (config.dataset.kind === "folder") noteDatasetFolder(config.dataset.dir);
  const data = await loadTrainData(config);
  console.log(describeData(data));
  const model = await buildModel(config, data.numAttributes, data.groups);
  using ck = await readCheckpoint(path, config.device as "cpu");
  noGrad(() => model.loadStateDict(ck.model, { strict: true }));
  const src = {
    checkpoint: path,
    epoch: ck.epoch - (ck.kind === "train-state" ? 1 : 0),
    step: ck.step,
    selection: ck.kind === "model" ? ck.best.metric : `last checkpoint (${ck.reason})`,
  };
  const c = data.classes.length, k = data.numAttributes;
  using classAttributes = fromBuffer(data.attributes, [c, k], {
    dtype: "float32",
    device: config.device as "cpu",
  });
  const useAC = given("ac") ? o.ac === true && config.ac.enabled : undefined;
  const ev = await evaluateModel(model, data, config, classAttributes, {
    gamma: given("gamma") || given("gammaRetain") ? config.gamma : undefined,
    ...(useAC !== undefined ? { useAC } : {}),
    onBadImage: config.onBadImage,
  });
  // Made only now, with the evaluation done: a failed one leaves no empty folder behind.
  const outDir = out ?? await newEvalDir(home);
  console.log(`evaluation folder: ${outDir}`);
  const summary = await writeEvaluation(outDir, ev, data, config, src);
  if (picturesN > 0) {
    const pics = await attentionPictures(
      model,
      data,
      config,
      classAttributes,
      outDir,
      picturesN,
      summary.gzsl.gamma,
    );
    console.log(`pictures: ${pics.map((p) => `${outDir}/${p.file}`).join(", ")}`);
  }
  console.log(await Deno.readTextFile(`${outDir}/eval.md`));
  console.log(`wrote ${summary.files.map((f) => `${outDir}/${f}`).join(", ")}`);
  console.log(JSON.stringify(summary));
  model.dispose();
  Deno.exit(0);
}

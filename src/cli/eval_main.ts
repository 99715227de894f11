/**
 * `deno task eval --run <runDir>` (or `--checkpoint <file>`): evaluate a trained DSVA — ZSL
 * accuracy; GZSL S, U, H with calibrated stacking (a given γ, or γ chosen on the held-out seen
 * images); the seen–unseen curve and AUSUC; every branch (VAM, global, fused). Writes
 * `eval.json`, `eval.md`, `confusion.png` and `seen_unseen_curve.json`; the last output line is
 * the content of `eval.json`.
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

/** The config flags `eval` takes as overrides of the checkpoint's config. */
const EVAL_FLAGS = CONFIG_FLAGS.filter((f) => f.evalOverride);

function program(): Command {
  const p = new Command("deno task eval")
    .description("Evaluate a DSVA checkpoint: ZSL, GZSL (S, U, H), AUSUC, per branch.")
    .option("--run <runDir>", "a run folder (uses its checkpoints/best.safetensors)")
    .option("--checkpoint <file>", "a checkpoint file (best.safetensors or last.safetensors)")
    .option("--which <best|last>", "with --run: which checkpoint", "best")
    .option("--no-ac", "no Attention Concentration at test time")
    .option("--out <dir>", "where to write eval.json etc. (default: the run folder)")
    .option("--pictures <n>", "also write n attention pictures into <out>/pictures", "0")
    .allowExcessArguments(false)
    .exitOverride();
  return addConfigFlags(p, EVAL_FLAGS);
}

function fail(code: number, msg: string): never {
  return failTask("eval", code, msg);
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
  let path: string, outDir: string;
  if (o.run) {
    const dir = String(o.run).replace(/\/+$/, "");
    if (!isDir(dir)) fail(2, `--run ${dir}: no such run folder`);
    path = `${dir}/${CHECKPOINTS[o.which as "best" | "last"]}`;
    outDir = String(o.out ?? dir);
  } else {
    path = String(o.checkpoint);
    const parent = path.replace(/\/[^/]*$/, "") || ".";
    outDir = String(o.out ?? (parent.endsWith("/checkpoints") ? parent.slice(0, -12) : parent));
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
  });
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

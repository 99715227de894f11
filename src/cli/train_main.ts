/**
 * `deno task train`: resolve the config (file + flags), train DSVA with progress and checkpoints,
 * evaluate the selected epoch, write the report. The last output line is a JSON summary with at
 * least `runDir`, `zsl`, `chance` and `gzsl: {S, U, H}`.
 *
 * Exit status: 0 finished; 130 / 143 stopped by SIGINT / SIGTERM (checkpoint saved, resume with
 * `--resume <runDir>`); 1 training failed (e.g. a non-finite loss); 2 bad configuration.
 * @module
 */
import { missingGroupsWarning } from "../data/groups.ts";
import { ensureSyntheticDataset } from "../data/synthetic/generate.ts";
import { cuda, setNumThreads } from "../tensor/index.ts";
import { describeData, loadTrainData } from "../train/data.ts";
import { evaluateModel, writeEvaluation } from "../train/evaluate.ts";
import { DsvaMetricsLog } from "../train/records.ts";
import { buildModel } from "../train/model.ts";
import { attentionPictures } from "../train/pictures.ts";
import { writeReportHtml } from "../train/report_html.ts";
import {
  CHECKPOINTS,
  type ModelCheckpoint,
  readCheckpoint,
  type TrainCheckpoint,
} from "../train/state.ts";
import { NonFiniteLossError } from "../train/step.ts";
import { Trainer, type TrainOutcome } from "../train/trainer.ts";
import {
  absolutePath,
  checkResolvedConfig,
  ConfigError,
  formatSources,
  type PartialConfig,
  readConfigFile,
  resolveConfigLayers,
  RESUMABLE_FIELDS,
  type SourcedConfig,
} from "../config/index.ts";
import { Progress } from "../run/progress.ts";
import { createRunDir, isDir, writeJsonAtomic } from "../run/run_dir.ts";
import { stopOnSignals } from "./stop.ts";
import { failTask, noteDatasetFolder, runCommand, TaskError } from "./task_exit.ts";
import { parseTrainArgs, trainProgram } from "./train_args.ts";

/** The resolved config of a new run, or of the run being resumed (with the allowed changes). */
async function resolve(
  args: ReturnType<typeof parseTrainArgs>,
): Promise<SourcedConfig & { resumeDir: string | null }> {
  if (args.resume) {
    const dir = args.resume.replace(/\/+$/, "");
    if (!isDir(dir)) throw new ConfigError(`--resume ${dir}: no such run folder`);
    if (args.config) throw new ConfigError("--resume takes the run's own config; drop --config");
    let json: unknown;
    try {
      json = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    } catch (e) {
      throw new ConfigError(`--resume ${dir}: cannot read config.json: ${(e as Error).message}`);
    }
    const saved = checkResolvedConfig(json, `${dir}/config.json`);
    const bad = Object.keys(args.partial).filter((k) => !RESUMABLE_FIELDS.includes(k));
    if (bad.length > 0) {
      throw new ConfigError(
        `--resume: ${bad.join(", ")} cannot change when resuming (only ${
          RESUMABLE_FIELDS.join(", ")
        })`,
      );
    }
    const run = { partial: saved as unknown as PartialConfig, source: () => `${dir}/config.json` };
    const flags = { partial: args.partial, source: args.source };
    return { ...resolveConfigLayers([run, flags]), resumeDir: dir };
  }
  const file = args.config ? await readConfigFile(args.config) : {};
  return {
    ...resolveConfigLayers([
      { partial: file, source: () => `file ${args.config}` },
      { partial: args.partial, source: args.source },
    ]),
    resumeDir: null,
  };
}

function exitWith(code: number, last: unknown): never {
  console.log(JSON.stringify(last));
  Deno.exit(code);
}

/** Runs `deno task train` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand("train", argv, train, () => trainProgram().helpInformation());
}

async function train(argv: readonly string[]): Promise<void> {
  const wall0 = performance.now();
  const args = parseTrainArgs(argv);
  const resolved = await resolve(args);
  const { config, resumeDir } = resolved;
  console.log(`resolved config${resumeDir ? ` (resuming ${resumeDir})` : ""}:`);
  console.log(JSON.stringify(config, null, 2));
  console.log("where each setting came from:");
  console.log(formatSources(resolved));
  if (args.printConfig) exitWith(0, config);

  if (config.device.startsWith("cuda") && !cuda.isAvailable()) {
    failTask("train", 2, `device ${config.device}: CUDA is not available in the linked libtorch`);
  }
  setNumThreads(config.threads);
  if (config.dataset.kind === "folder") noteDatasetFolder(config.dataset.dir);

  if (config.dataset.kind === "synthetic") {
    const d = config.dataset;
    const g = await ensureSyntheticDataset({
      seed: d.seed,
      imagesPerClass: d.imagesPerClass,
      size: d.size,
    });
    console.log(
      g.generated
        ? `generated the synthetic scenes in ${g.dir} (${g.seconds.toFixed(1)} s)`
        : `synthetic scenes: ${g.dir}`,
    );
  }
  const data = await loadTrainData(config);
  const dataDescription = describeData(data);
  console.log(dataDescription);
  if (!data.groupsFromFile) {
    // Named by the dataset folder, where the groups file goes (data.root is its image folder).
    const dir = config.dataset.kind === "synthetic" ? data.root : config.dataset.dir;
    console.error(`train: warning: ${missingGroupsWarning(dir, data.numAttributes)}`);
  }

  // Printed paths are absolute (a default runsDir is the project root's runs/).
  const runDir = resumeDir ?? absolutePath(
    Deno.cwd(),
    await createRunDir(config.runsDir, config.name),
  );
  await Deno.mkdir(`${runDir}/checkpoints`, { recursive: true });
  await writeJsonAtomic(`${runDir}/config.json`, config);
  if (!resumeDir) await writeJsonAtomic(`${runDir}/config_sources.json`, resolved.sources);
  const metrics = new DsvaMetricsLog(`${runDir}/metrics.jsonl`);
  console.log(`run folder: ${runDir}`);

  const model = await buildModel(config, data.numAttributes, data.groups);
  const trainer = new Trainer(model, data, config, runDir, metrics);
  if (resumeDir) {
    using ck = await readCheckpoint(`${runDir}/${CHECKPOINTS.last}`, config.device as "cpu");
    if (ck.kind !== "train-state") throw new Error(`${CHECKPOINTS.last} is not a training state`);
    trainer.restore(ck as TrainCheckpoint);
    metrics.truncateTo(ck.step, ck.epoch);
    console.log(
      `resumed at step ${ck.step} (epoch ${ck.sampler.epoch + 1}, batch ${ck.sampler.batch})`,
    );
  }

  using stop = stopOnSignals();
  const progress = new Progress();
  let outcome: TrainOutcome;
  try {
    outcome = await trainer.run({
      onStep: (s) => progress.update({ ...s, epochs: config.epochs }),
      log: (line) => progress.log(line),
      stopRequested: stop.reason,
    });
  } catch (e) {
    progress.clear();
    stop.dispose();
    if (e instanceof NonFiniteLossError) {
      throw new TaskError(e.message, { fields: { runDir, step: e.step }, cause: e });
    }
    throw e;
  }
  progress.clear();
  stop.dispose();

  if (outcome.status === "interrupted") {
    exitWith(outcome.reason === "SIGTERM" ? 143 : 130, {
      runDir,
      status: "interrupted",
      signal: outcome.reason,
      step: outcome.step,
      checkpoint: `${runDir}/${CHECKPOINTS.last}`,
      resume: `deno task train --resume ${runDir}`,
    });
  }

  // The selected epoch's weights, then the full evaluation and the report.
  let source = {
    checkpoint: `${runDir}/${CHECKPOINTS.last}`,
    epoch: outcome.epochsDone - 1,
    step: outcome.step,
    selection: "last epoch",
    testBest: outcome.testBest,
  };
  if (outcome.best) {
    using best = await readCheckpoint(`${runDir}/${CHECKPOINTS.best}`, config.device as "cpu");
    model.loadStateDict((best as ModelCheckpoint).model, { strict: true });
    source = {
      checkpoint: `${runDir}/${CHECKPOINTS.best}`,
      epoch: best.epoch,
      step: best.step,
      selection: outcome.best.metric,
      testBest: outcome.testBest,
    };
  }
  console.log(`evaluating epoch ${source.epoch + 1} (${source.selection}) ...`);
  const ev = await evaluateModel(model, data, config, trainer.classAttributes, {
    onBadImage: config.onBadImage,
  });
  const summary = await writeEvaluation(runDir, ev, data, config, source);
  const pictures = await attentionPictures(
    model,
    data,
    config,
    trainer.classAttributes,
    runDir,
    config.pictures,
    summary.gzsl.gamma,
  );
  await writeReportHtml({
    runDir,
    config,
    records: metrics.read(),
    evaluation: { ...summary, curve: ev.branches.vam.curve },
    pictures,
    status: outcome.status,
    seconds: outcome.seconds,
    dataDescription,
    confusion: "confusion.png",
  });
  console.log(await Deno.readTextFile(`${runDir}/eval.md`));
  console.log(`report: ${runDir}/report.html`);
  trainer.dispose();
  exitWith(0, {
    runDir,
    status: "finished",
    zsl: summary.zsl,
    chance: summary.chance,
    zslOverChance: summary.zsl / summary.chance,
    gzsl: summary.gzsl,
    ausuc: summary.ausuc,
    branch: summary.branch,
    epoch: summary.epoch,
    selection: summary.selection,
    testBest: summary.testBest,
    steps: outcome.step,
    trainSeconds: Math.round(outcome.seconds * 10) / 10,
    wallSeconds: Math.round((performance.now() - wall0) / 100) / 10,
    report: `${runDir}/report.html`,
  });
}

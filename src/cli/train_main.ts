/**
 * `deno task train`: resolve the config (file + flags), train DSVA with progress and checkpoints,
 * evaluate the selected epoch, write the report. The last output line is a JSON summary with at
 * least `runDir`, `zsl`, `chance` and `gzsl: {S, U, H}`.
 *
 * Exit status: 0 finished; 130 / 143 stopped by SIGINT / SIGTERM (checkpoint saved, resume with
 * `--resume <runDir>`); 1 training failed (e.g. a non-finite loss); 2 bad configuration.
 *
 * Data-parallel: `--nproc-per-node N` starts N ranks of this command (`launch.ts`); a process
 * whose environment describes a multi-process job (torchrun's variables, or `srun`'s) is one
 * rank: it joins the process group, trains its share of every episode, and leaves the run
 * folder, the final evaluation and the report to rank 0.
 * @module
 */
import { missingGroupsWarning } from "../data/groups.ts";
import { ensureSyntheticDataset } from "../data/synthetic/generate.ts";
import { launchedDistributed, rendezvousFromEnv } from "../distributed/env.ts";
import { destroyProcessGroup, initProcessGroup, type ProcessGroup } from "../distributed/group.ts";
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
  autoThreads,
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
import { launchRanks, withoutLaunchFlags } from "./launch.ts";
import { stopOnSignals, type StopToken } from "./stop.ts";
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

/** This process's rank of a data-parallel job, when it is one. */
interface Rank {
  group: ProcessGroup;
  localWorldSize: number;
}

/** Joins the job the environment describes (Gloo on CPU, NCCL for a CUDA device). */
function joinJob(device: string): Rank {
  const rdv = rendezvousFromEnv();
  const group = initProcessGroup({ backend: device.startsWith("cuda") ? "nccl" : "gloo" });
  return { group, localWorldSize: rdv.localWorldSize };
}

/** The stop token of a rank: a launcher (torchrun, `--nproc-per-node`) passes a terminal's
 * Ctrl-C on to ranks that got it from the terminal too, so a second signal within 2 s of the
 * first is the same request; a later one exits at once, as in one process. */
function rankStop(): StopToken {
  let firstAt = 0;
  const token = stopOnSignals({ secondMessage: "the launcher's copy of it; still stopping" });
  token.onSignal((sig, first) => {
    if (first) firstAt = performance.now();
    else if (performance.now() - firstAt > 2000) Deno.exit(sig === "SIGTERM" ? 143 : 130);
  });
  return token;
}

async function train(argv: readonly string[]): Promise<void> {
  const wall0 = performance.now();
  const args = parseTrainArgs(argv);
  const distributed = launchedDistributed();
  if (args.launch && !distributed) {
    const script = new URL("../../scripts/train.ts", import.meta.url).pathname;
    Deno.exit(await launchRanks(script, withoutLaunchFlags(argv), args.launch));
  }
  const resolved = await resolve(args);
  let { config } = resolved;
  const { resumeDir } = resolved;
  const rank = distributed ? joinJob(config.device) : null;
  const writes = rank === null || rank.group.rank === 0;
  if (rank) {
    // Threads split between the machine's ranks unless set; one GPU per local rank.
    const threads = resolved.sources.threads === "default"
      ? Math.max(1, Math.floor(autoThreads() / rank.localWorldSize))
      : config.threads;
    const device = config.device === "cuda"
      ? `cuda:${rendezvousFromEnv().localRank}`
      : config.device;
    config = { ...config, threads, device };
  }
  // Rank 0 speaks for the job; the other ranks say only what fails.
  const say = writes ? (...xs: unknown[]) => console.log(...xs) : () => {};
  say(`resolved config${resumeDir ? ` (resuming ${resumeDir})` : ""}:`);
  say(JSON.stringify(config, null, 2));
  say("where each setting came from:");
  say(formatSources(resolved));
  if (rank) {
    say(
      `rank 0 of ${rank.group.worldSize} (${rank.group.backend}; ${config.threads} threads each)`,
    );
  }
  if (args.printConfig) exitWith(0, config);

  if (config.device.startsWith("cuda") && !cuda.isAvailable()) {
    failTask("train", 2, `device ${config.device}: CUDA is not available in the linked libtorch`);
  }
  setNumThreads(config.threads);
  if (config.dataset.kind === "folder") noteDatasetFolder(config.dataset.dir);

  // Rank 0 makes the synthetic scenes; the others find them made.
  if (rank && !writes) rank.group.barrier();
  if (config.dataset.kind === "synthetic") {
    const d = config.dataset;
    const g = await ensureSyntheticDataset({
      seed: d.seed,
      imagesPerClass: d.imagesPerClass,
      size: d.size,
    });
    say(
      g.generated
        ? `generated the synthetic scenes in ${g.dir} (${g.seconds.toFixed(1)} s)`
        : `synthetic scenes: ${g.dir}`,
    );
  }
  if (rank && writes) rank.group.barrier();
  const data = await loadTrainData(config);
  const dataDescription = describeData(data);
  say(dataDescription);
  if (!data.groupsFromFile && writes) {
    // Named by the dataset folder, where the groups file goes (data.root is its image folder).
    const dir = config.dataset.kind === "synthetic" ? data.root : config.dataset.dir;
    console.error(`train: warning: ${missingGroupsWarning(dir, data.numAttributes)}`);
  }

  // Only rank 0 writes the run folder; the others know it only when resuming (they read its
  // checkpoint), and never need it otherwise. Printed paths are absolute (a default runsDir is
  // the project root's runs/).
  const runDir = resumeDir ??
    (writes
      ? absolutePath(Deno.cwd(), await createRunDir(config.runsDir, config.name))
      : "(rank 0's run folder)");
  if (writes) {
    await Deno.mkdir(`${runDir}/checkpoints`, { recursive: true });
    await writeJsonAtomic(`${runDir}/config.json`, config);
    if (!resumeDir) await writeJsonAtomic(`${runDir}/config_sources.json`, resolved.sources);
  }
  const metrics = new DsvaMetricsLog(`${runDir}/metrics.jsonl`);
  say(`run folder: ${runDir}`);

  const model = await buildModel(config, data.numAttributes, data.groups);
  const trainer = new Trainer(model, data, config, runDir, metrics, rank && { group: rank.group });
  if (resumeDir) {
    // Every rank loads rank 0's checkpoint (DDP's first broadcast makes them equal anyway).
    using ck = await readCheckpoint(`${runDir}/${CHECKPOINTS.last}`, config.device as "cpu");
    if (ck.kind !== "train-state") throw new Error(`${CHECKPOINTS.last} is not a training state`);
    trainer.restore(ck as TrainCheckpoint);
    if (writes) metrics.truncateTo(ck.step, ck.epoch);
    say(`resumed at step ${ck.step} (epoch ${ck.sampler.epoch + 1}, batch ${ck.sampler.batch})`);
  }

  using stop = rank ? rankStop() : stopOnSignals();
  const progress = new Progress();
  let outcome: TrainOutcome;
  try {
    outcome = await trainer.run({
      onStep: (s) => writes && progress.update({ ...s, epochs: config.epochs }),
      log: (line) => writes && progress.log(line),
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
  if (rank) {
    // Training is over on every rank; rank 0 evaluates and reports alone.
    rank.group.barrier();
    destroyProcessGroup();
    if (!writes) {
      trainer.dispose();
      exitWith(outcome.status === "interrupted" ? (outcome.reason === "SIGTERM" ? 143 : 130) : 0, {
        rank: Number(Deno.env.get("RANK")),
        status: outcome.status,
        step: outcome.step,
      });
    }
  }

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

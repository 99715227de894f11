/**
 * `deno task clip:finetune [options]`: contrastive CLIP training on image–caption pairs.
 *
 * With no options: a small CLIP trained from scratch (BPE tokenizer learned from the captions)
 * on the synthetic scenes' captions, seen classes' training images only. The run folder
 * (`runs/<timestamp>-<name>/`, see `src/clip/finetune.ts`) ends with `model/`, a Hugging Face
 * CLIP folder that `deno task attributes --model` takes. The last line printed is a JSON object
 * (the run's summary, or `{"error": ...}`). Exit status: 0 done, 1 bad data / model /
 * checkpoint, 2 bad command line, 130 / 143 stopped by SIGINT / SIGTERM (checkpoint saved;
 * continue with `--resume RUN_DIR`).
 *
 * Data-parallel: `--nproc-per-node N` (and torchrun's other launch flags) starts N ranks of
 * this command (`launch.ts`); a process that torchrun (or `srun`) started is a rank: it joins
 * the process group, encodes its share of every batch, and leaves the run folder to rank 0.
 * @module
 */
import { Command } from "npm:commander@^15";
import { DataError } from "../data/errors.ts";
import { FINETUNE_DEFAULTS, type FinetuneConfig } from "../clip/finetune_config.ts";
import { finetuneClip } from "../clip/finetune.ts";
import { flagReader, givenFlags } from "./flag_reader.ts";
import { signalExitCode, stopOnSignals, type StopToken } from "./stop.ts";
import { parseOrExit, runCommand, UsageError } from "./task_exit.ts";
import { userPath } from "./paths.ts";
import { autoThreads, LAUNCH_FLAGS, type LaunchFlags } from "../config/index.ts";
import { launchedDistributed, rendezvousFromEnv } from "../distributed/env.ts";
import { destroyProcessGroup, initProcessGroup } from "../distributed/group.ts";
import { launchRanks, withoutLaunchFlags } from "./launch.ts";
import { readLaunchFlags } from "./train_args.ts";

const TASK = "clip:finetune";

/** The command's flags (every value is read as text and checked with zod afterwards, so that
 * an error names the flag and the value). */
export function finetuneProgram(): Command {
  const d = FINETUNE_DEFAULTS;
  const m = d.model as Extract<FinetuneConfig["model"], { kind: "scratch" }>;
  const prog = new Command("deno task clip:finetune")
    .description(
      "Contrastive CLIP training on image–caption pairs (a small CLIP from scratch on the synthetic scenes' captions by default).",
    )
    .optionsGroup("Data (default: the synthetic scenes' captions):")
    .option(
      "--captions <file>",
      'RSICD/UCM-captions JSON ({"images":[{"filename","sentences":[{"raw"}]}]}), a captions.json ({"image": ["caption", ...]}) or a CSV of image,sentence',
      userPath,
    )
    .option(
      "--images <dir>",
      "folder the caption file's image paths are relative to (default: the caption file's folder)",
      userPath,
    )
    .option(
      "--caption-split <list>",
      'JSON layout: only images whose "split" is in the list (e.g. train,val)',
    )
    .option(
      "--synthetic-part <part>",
      "trainval (default: seen classes' training images) or all",
    )
    .optionsGroup(
      "Model (default: a small CLIP from scratch, BPE tokenizer trained on the captions):",
    )
    .option("--model <dir>", "fine-tune this Hugging Face CLIP folder instead", userPath)
    .option("--image-size <n>", `input side (${m.imageSize})`)
    .option("--patch-size <n>", `patch side (${m.patchSize})`)
    .option("--width <n>", `width of both towers (${m.width})`)
    .option("--vision-layers <n>", `vision layers (${m.visionLayers})`)
    .option("--text-layers <n>", `text layers (${m.textLayers})`)
    .option("--heads <n>", `attention heads (${m.heads})`)
    .option("--projection-dim <n>", `joint embedding width (${m.projectionDim})`)
    .option("--context-length <n>", `text context length (${m.contextLength})`)
    .option("--max-merges <n>", `BPE merges learned on the captions (${m.maxMerges})`)
    .optionsGroup("Training:")
    .option("--epochs <n>", `epochs (${d.epochs})`)
    .option("--batch-size <n>", `batch size (${d.batchSize})`)
    .option("--lr <x>", `AdamW learning rate (${d.lr})`)
    .option("--weight-decay <x>", `weight decay of the matrices (${d.weightDecay})`)
    .option("--warmup-steps <n>", `linear warm-up steps before the cosine decay (${d.warmupSteps})`)
    .option("--min-scale <x>", `RandomResizedCrop's smallest area fraction (${d.augment.minScale})`)
    .option("--no-hflip", "no horizontal flips")
    .option("--no-vflip", "no vertical flips")
    .option("--seed <n>", `seed (${d.seed})`)
    .option("--threads <n>", "libtorch threads (the cores, at most 16)")
    .option("--device <device>", "cpu, cuda or cuda:N (cpu)")
    .option("--name <name>", `run name, the run folder's suffix (${d.name})`)
    .option("--runs-dir <dir>", `where run folders go (${d.runsDir})`, userPath)
    .option("--checkpoint-every <n>", `save the checkpoint every n steps (${d.checkpointEvery})`)
    .option("--log-every <n>", "log a line every n steps (default: once an epoch)")
    .option("--max-steps <n>", "stop after n steps in all")
    .option(
      "--resume <runDir>",
      "continue a run from its last checkpoint (its config.json is used; only --threads and the launch flags may be given with it)",
    )
    .optionsGroup("Data-parallel (torchrun's names; rank 0 writes the run):");
  for (const f of LAUNCH_FLAGS) prog.option(f.flag, f.help.replace(/^train /, "fine-tune "));
  return prog.helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride();
}

/** The launch flags' names as {@link givenFlags} keys them (`nproc-per-node`, ...). */
const LAUNCH_KEYS = LAUNCH_FLAGS.map((f) => f.flag.split(" ")[0].slice(2));

const SCRATCH_FLAGS = [
  "image-size",
  "patch-size",
  "width",
  "vision-layers",
  "text-layers",
  "heads",
  "projection-dim",
  "context-length",
  "max-merges",
];

/** The resolved configuration of a command line (defaults filled in), or the run folder to
 * resume with its own configuration. */
export async function finetuneConfigFromArgs(
  argv: readonly string[],
): Promise<{ config: FinetuneConfig; resumeDir?: string; launch: LaunchFlags | null }> {
  const prog = finetuneProgram();
  parseOrExit(TASK, prog, argv);
  const launch = readLaunchFlags(prog.opts());
  const v = Object.fromEntries(
    Object.entries(givenFlags(prog)).filter(([k]) => !LAUNCH_KEYS.includes(k)),
  );
  const { z, flag } = await flagReader(v);
  const posInt = z.coerce.number().int().positive();
  const nonNegInt = z.coerce.number().int().nonnegative();
  const str = (k: string) => v[k] as string | undefined;

  if (v.resume) {
    const dir = (v.resume as string).replace(/\/+$/, "");
    const others = Object.keys(v).filter((k) => k !== "resume" && k !== "threads");
    if (others.length) {
      const f = others[0];
      const name = f === "hflip" || f === "vflip" ? `no-${f}` : f;
      throw new UsageError(`--resume continues a run with its own config; drop --${name}`);
    }
    let json: FinetuneConfig;
    try {
      json = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    } catch (e) {
      throw new DataError(
        dir,
        `cannot resume: no readable config.json (${(e as Error).message}); ` +
          "is it a clip:finetune run folder?",
      );
    }
    try {
      await Deno.stat(`${dir}/checkpoints/last.safetensors`);
    } catch {
      throw new DataError(dir, "cannot resume: no checkpoints/last.safetensors yet");
    }
    return {
      config: { ...json, threads: flag("threads", posInt, json.threads) },
      resumeDir: dir,
      launch,
    };
  }

  const d = FINETUNE_DEFAULTS;
  const dm = d.model as Extract<FinetuneConfig["model"], { kind: "scratch" }>;
  const dd = d.data as Extract<FinetuneConfig["data"], { kind: "synthetic" }>;
  if (!v.captions && (v.images || v["caption-split"])) {
    throw new UsageError("--images and --caption-split go with --captions FILE");
  }
  if (v.captions && v["synthetic-part"]) {
    throw new UsageError("--synthetic-part is for the synthetic captions, not --captions");
  }
  const data: FinetuneConfig["data"] = v.captions
    ? {
      kind: "file",
      file: str("captions")!,
      images: str("images") ?? null,
      splits: v["caption-split"]
        ? str("caption-split")!.split(",").map((s) => s.trim()).filter((s) => s !== "")
        : null,
    }
    : { ...dd, part: flag("synthetic-part", z.enum(["trainval", "all"]), dd.part) };
  if (v.model) {
    const given = SCRATCH_FLAGS.filter((f) => v[f] !== undefined);
    if (given.length) {
      throw new UsageError(`--${given[0]} shapes a model from scratch; --model DIR has its own`);
    }
  }
  const model: FinetuneConfig["model"] = v.model
    ? { kind: "pretrained", dir: str("model")!.replace(/\/+$/, "") }
    : {
      kind: "scratch",
      imageSize: flag("image-size", posInt, dm.imageSize),
      patchSize: flag("patch-size", posInt, dm.patchSize),
      width: flag("width", posInt, dm.width),
      visionLayers: flag("vision-layers", posInt, dm.visionLayers),
      textLayers: flag("text-layers", posInt, dm.textLayers),
      heads: flag("heads", posInt, dm.heads),
      projectionDim: flag("projection-dim", posInt, dm.projectionDim),
      contextLength: flag("context-length", z.coerce.number().int().min(3), dm.contextLength),
      maxMerges: flag("max-merges", nonNegInt, dm.maxMerges),
    };
  if (model.kind === "scratch") {
    if (model.imageSize % model.patchSize !== 0) {
      throw new UsageError(
        `--image-size ${model.imageSize} must be a multiple of --patch-size ${model.patchSize}`,
      );
    }
    if (model.width % model.heads !== 0) {
      throw new UsageError(`--width ${model.width} must be a multiple of --heads ${model.heads}`);
    }
  }
  const config: FinetuneConfig = {
    name: flag("name", z.string().regex(/^[\w.-]+$/, "use letters, digits, . _ -"), d.name),
    data,
    model,
    epochs: flag("epochs", posInt, d.epochs),
    batchSize: flag("batch-size", z.coerce.number().int().min(2), d.batchSize),
    lr: flag("lr", z.coerce.number().positive(), d.lr),
    weightDecay: flag("weight-decay", z.coerce.number().nonnegative(), d.weightDecay),
    warmupSteps: flag("warmup-steps", nonNegInt, d.warmupSteps),
    augment: {
      minScale: flag("min-scale", z.coerce.number().gt(0).max(1), d.augment.minScale),
      hflip: v.hflip !== false,
      vflip: v.vflip !== false,
    },
    seed: flag("seed", nonNegInt, d.seed),
    threads: flag("threads", posInt, d.threads),
    device: flag(
      "device",
      z.string().regex(/^(cpu|cuda(:\d+)?)$/, "cpu, cuda or cuda:N"),
      d.device,
    ),
    runsDir: flag("runs-dir", z.string().min(1), d.runsDir),
    checkpointEvery: flag("checkpoint-every", posInt, d.checkpointEvery),
    logEvery: flag("log-every", nonNegInt, d.logEvery),
    maxSteps: flag("max-steps", nonNegInt, d.maxSteps),
    loaderConcurrency: d.loaderConcurrency,
  };
  return { config, launch };
}

/** Runs `deno task clip:finetune` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand(TASK, argv, finetune, () => finetuneProgram().helpInformation());
}

/** The stop token of a rank: a launcher (torchrun, `--nproc-per-node`) passes a terminal's
 * Ctrl-C on to ranks that got it from the terminal too, so a second signal within 2 s of the
 * first is the same request; a later one exits at once, as in one process. */
function rankStop(): StopToken {
  let firstAt = 0;
  const token = stopOnSignals({ secondMessage: "the launcher's copy of it; still stopping" });
  token.onSignal((sig, first) => {
    if (first) firstAt = performance.now();
    else if (performance.now() - firstAt > 2000) Deno.exit(signalExitCode(sig));
  });
  return token;
}

async function finetune(argv: readonly string[]): Promise<void> {
  const { config: given, resumeDir, launch } = await finetuneConfigFromArgs(argv);
  const distributed = launchedDistributed();
  if (launch && !distributed) {
    const script = new URL("../../scripts/clip_finetune.ts", import.meta.url).pathname;
    Deno.exit(await launchRanks(script, withoutLaunchFlags(argv), launch));
  }
  let config = given;
  const group = distributed
    ? initProcessGroup({ backend: config.device.startsWith("cuda") ? "nccl" : "gloo" })
    : null;
  if (group) {
    // Threads split between the machine's ranks unless given; one GPU per local rank.
    const rdv = rendezvousFromEnv();
    const threadsGiven = argv.some((a) => a === "--threads" || a.startsWith("--threads="));
    config = {
      ...config,
      threads: threadsGiven
        ? config.threads
        : Math.max(1, Math.floor(autoThreads() / rdv.localWorldSize)),
      device: config.device === "cuda" ? `cuda:${rdv.localRank}` : config.device,
    };
  }
  const writes = group === null || group.rank === 0;
  using stop = group ? rankStop() : stopOnSignals();
  const r = await finetuneClip(config, {
    resumeDir,
    stopRequested: stop.reason,
    ...(group ? { dist: { group } } : {}),
    ...(writes ? {} : { log: () => {}, progress: false }),
  });
  if (group) {
    // Every rank is done; rank 0 has written the model and the summary.
    group.barrier();
    destroyProcessGroup();
    if (!writes) {
      console.log(JSON.stringify({ rank: group.rank, status: r.status, steps: r.steps }));
      if (r.status === "stopped") Deno.exit(signalExitCode(stop.reason()));
      return;
    }
  }
  if (r.status === "finished") {
    console.log(
      `done: ${r.steps} steps in ${r.seconds.toFixed(1)} s (${
        r.imagesPerSecond.toFixed(1)
      } img/s), loss ${r.finalLoss.toFixed(4)}; model in ${r.modelDir}`,
    );
  }
  console.log(JSON.stringify(r));
  if (r.status === "stopped") Deno.exit(signalExitCode(stop.reason()));
}

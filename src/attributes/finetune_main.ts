/**
 * `deno task clip:finetune [options]`: contrastive CLIP training on image–caption pairs.
 *
 * With no options: a small CLIP trained from scratch (BPE tokenizer learned from the captions)
 * on the synthetic scenes' captions, seen classes' training images only. The run folder
 * (`runs/<timestamp>-<name>/`, see `finetune.ts`) ends with `model/`, a Hugging Face CLIP folder
 * that `deno task attributes --model` takes. The last line printed is a JSON object (the run's
 * summary). Exit status: 0 done, 1 bad data / model / checkpoint, 2 bad command line, 130
 * stopped by SIGINT/SIGTERM (checkpoint saved; continue with `--resume RUN_DIR`).
 * @module
 */
import { parseArgs } from "node:util";
import { DataError } from "../data/errors.ts";
import { FINETUNE_DEFAULTS, finetuneClip, type FinetuneConfig } from "./finetune.ts";
import { flagReader, runCommand, UsageError } from "./usage.ts";

/** The help text. */
export const FINETUNE_USAGE = `usage: deno task clip:finetune [options]

data (default: the synthetic scenes' captions)
  --captions FILE          RSICD/UCM-captions JSON ({"images":[{"filename","sentences":[{"raw"}]}]}),
                           a captions.json ({"image": ["caption", ...]}) or a CSV of image,sentence
  --images DIR             folder the caption file's image paths are relative to
                           (default: the caption file's folder)
  --caption-split LIST     JSON layout: only images whose "split" is in LIST (e.g. train,val)
  --synthetic-part P       trainval (default: seen classes' training images) or all
model (default: a small CLIP from scratch, BPE tokenizer trained on the captions)
  --model DIR              fine-tune this Hugging Face CLIP folder instead
  --image-size N (48) --patch-size N (8) --width N (96) --vision-layers N (3)
  --text-layers N (2) --heads N (4) --projection-dim N (96) --context-length N (64)
  --max-merges N (4000)    BPE merges learned on the captions
training
  --epochs N (60) --batch-size N (64) --lr X (1e-3) --weight-decay X (0.1) --warmup-steps N (50)
  --min-scale X (0.5)      RandomResizedCrop's smallest area fraction
  --no-hflip --no-vflip    turn the flips off
  --seed N (0) --threads N (cores) --device cpu|cuda|cuda:N
  --name NAME (clip) --runs-dir DIR (runs) --checkpoint-every N (100) --log-every N (an epoch)
  --max-steps N            stop after N steps in all
  --resume RUN_DIR         continue a run from its last checkpoint (its config.json is used;
                           only --threads may be given with it)`;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  captions: { type: "string" },
  images: { type: "string" },
  "caption-split": { type: "string" },
  "synthetic-part": { type: "string" },
  model: { type: "string" },
  "image-size": { type: "string" },
  "patch-size": { type: "string" },
  width: { type: "string" },
  "vision-layers": { type: "string" },
  "text-layers": { type: "string" },
  heads: { type: "string" },
  "projection-dim": { type: "string" },
  "context-length": { type: "string" },
  "max-merges": { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  "weight-decay": { type: "string" },
  "warmup-steps": { type: "string" },
  "min-scale": { type: "string" },
  "no-hflip": { type: "boolean" },
  "no-vflip": { type: "boolean" },
  seed: { type: "string" },
  threads: { type: "string" },
  device: { type: "string" },
  name: { type: "string" },
  "runs-dir": { type: "string" },
  "checkpoint-every": { type: "string" },
  "log-every": { type: "string" },
  "max-steps": { type: "string" },
  resume: { type: "string" },
} as const;

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

/** The resolved configuration of a command line (defaults filled in). */
export async function finetuneConfigFromArgs(
  args: string[],
): Promise<{ config: FinetuneConfig; resumeDir?: string; help?: boolean }> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({ args, strict: true, options: OPTIONS }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.help) return { config: FINETUNE_DEFAULTS, help: true };
  const { z, flag } = await flagReader(v);
  const posInt = z.coerce.number().int().positive();
  const nonNegInt = z.coerce.number().int().nonnegative();
  const str = (k: string) => v[k] as string | undefined;

  if (v.resume) {
    const dir = (v.resume as string).replace(/\/+$/, "");
    const others = Object.keys(v).filter((k) => k !== "resume" && k !== "threads");
    if (others.length) {
      throw new UsageError(`--resume continues a run with its own config; drop --${others[0]}`);
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
    return { config: { ...json, threads: flag("threads", posInt, json.threads) }, resumeDir: dir };
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
      hflip: !v["no-hflip"],
      vflip: !v["no-vflip"],
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
  return { config };
}

/** The command. */
export async function main(args: string[]): Promise<void> {
  await runCommand("clip:finetune", FINETUNE_USAGE, async () => {
    const { config, resumeDir, help } = await finetuneConfigFromArgs(args);
    if (help) {
      console.log(FINETUNE_USAGE);
      return;
    }
    const r = await finetuneClip(config, { resumeDir });
    if (r.status === "finished") {
      console.log(
        `done: ${r.steps} steps in ${r.seconds.toFixed(1)} s (${
          r.imagesPerSecond.toFixed(1)
        } img/s), loss ${r.finalLoss.toFixed(4)}; model in ${r.modelDir}`,
      );
    }
    console.log(JSON.stringify(r));
    if (r.status === "stopped") Deno.exit(130);
  });
}

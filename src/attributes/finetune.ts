/** CLIP contrastive fine-tuning (or training from scratch) on image–caption pairs: the loop of
 * `deno task clip:finetune`.
 *
 * One step: a batch of images (augmented: RandomResizedCrop, flips), one of each image's
 * captions drawn at random, the symmetric contrastive loss with the learned temperature, AdamW
 * (weight decay on matrices only), a linear warm-up then cosine decay, and the logit scale
 * clamped to ln 100 after the step (OpenAI CLIP). Batch `b` of epoch `e` and its captions
 * depend only on (seed, e, b), so a resumed run continues exactly where the checkpoint was
 * taken.
 *
 * The run folder follows `deno task train`'s convention (`src/cli/run_dir.ts`, reused):
 * `<runsDir>/<YYYYMMDD-HHMMSS>-<name>/` with `config.json` (the resolved configuration),
 * `log.jsonl` (one JSON object per logged step), `checkpoints/last.safetensors` (model,
 * optimizer and schedule: what `--resume` needs), `tokenizer/` (a from-scratch run's BPE) and,
 * at the end, `model/` (a Hugging Face CLIP folder) and `summary.json`.
 * @module
 */
import { manualSeed, scope, setNumThreads, type Tensor } from "../tensor/index.ts";
import type { Device } from "../tensor/index.ts";
import { CLIPModel } from "../models/clip.ts";
import { CLIPTokenizer } from "../models/tokenizer.ts";
import { CosineWithWarmup } from "../optim/index.ts";
import { loadCheckpoint, saveCheckpoint } from "../io/index.ts";
import { DataError } from "../data/errors.ts";
import { ImageLoader } from "../data/loader.ts";
import { CLIP as CLIP_NORM } from "../data/normalize.ts";
import { Rng } from "../data/rng.ts";
import { ShuffledBatchSampler } from "../data/shuffle_sampler.ts";
import type { BatchPlan } from "../data/sampler.ts";
import {
  CenterCrop,
  Compose,
  RandomHorizontalFlip,
  RandomResizedCrop,
  RandomVerticalFlip,
  Resize,
  type Transform,
} from "../data/transforms.ts";
import { batchToTensor } from "../data/tensor.ts";
import { ensureSyntheticDataset, SYNTHETIC_SPLIT } from "../data/synthetic/generate.ts";
import { openDatasetFolder } from "../data/dataset.ts";
import { Progress } from "../run/progress.ts";
import { type CaptionedImage, readCaptions } from "./captions.ts";
import { bpeTokenizerFiles, trainBpe } from "./bpe.ts";
import {
  clampLogitScale,
  clipOptimizer,
  contrastiveLoss,
  initClipWeights,
  saveHfClip,
  tinyClipConfig,
  type TinyClipOptions,
} from "./clip_train.ts";
import { createRunDir, writeJsonAtomic as writeJson } from "../run/run_dir.ts";

/** Appends one JSON line to `<dir>/log.jsonl`. */
async function appendLog(dir: string, entry: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(`${dir}/log.jsonl`, JSON.stringify(entry) + "\n", { append: true });
}

/** Where the image–caption pairs come from. */
export type CaptionSource =
  /** The synthetic scenes' `captions.json`; `part` `trainval` = the seen classes' training
   * images only (the default: the CLIP never sees an unseen class), `all` = every image. */
  | {
    kind: "synthetic";
    seed: number;
    imagesPerClass: number;
    size: number;
    part: "trainval" | "all";
  }
  /** A caption file (RSICD/UCM JSON, `captions.json` or CSV; see `captions.ts`). */
  | { kind: "file"; file: string; images: string | null; splits: string[] | null };

/** The model trained: a small CLIP from scratch (with a BPE tokenizer trained on the captions),
 * or a Hugging Face CLIP folder fine-tuned. */
export type FinetuneModel =
  | {
    kind: "scratch";
    imageSize: number;
    patchSize: number;
    width: number;
    visionLayers: number;
    textLayers: number;
    heads: number;
    projectionDim: number;
    contextLength: number;
    /** Most BPE merges learned on the captions. */
    maxMerges: number;
  }
  | { kind: "pretrained"; dir: string };

/** Every setting of a fine-tuning run, resolved (written to `config.json`). */
export interface FinetuneConfig {
  name: string;
  data: CaptionSource;
  model: FinetuneModel;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  /** RandomResizedCrop's smallest area fraction, and the flips (aerial images have no up). */
  augment: { minScale: number; hflip: boolean; vflip: boolean };
  seed: number;
  threads: number;
  device: string;
  runsDir: string;
  /** Save `checkpoints/last.safetensors` every this many steps (and at the end). */
  checkpointEvery: number;
  /** Log a line every this many steps (0: once per epoch). */
  logEvery: number;
  /** Stop after this many steps in total (0: no limit). */
  maxSteps: number;
  loaderConcurrency: number;
}

/** The default run: the synthetic scenes' captions (seen classes' training images), a small
 * CLIP from scratch at 48×48 (patch 8, width 96, 3 vision and 2 text layers; 0.5 M
 * parameters), 60 epochs of batch 64 (360 steps), AdamW lr 1e-3, weight decay 0.1, 50 warm-up
 * steps, then cosine decay. */
export const FINETUNE_DEFAULTS: FinetuneConfig = {
  name: "clip",
  data: { kind: "synthetic", seed: 0, imagesPerClass: 40, size: 96, part: "trainval" },
  model: {
    kind: "scratch",
    imageSize: 48,
    patchSize: 8,
    width: 96,
    visionLayers: 3,
    textLayers: 2,
    heads: 4,
    projectionDim: 96,
    contextLength: 64,
    maxMerges: 4000,
  },
  epochs: 60,
  batchSize: 64,
  lr: 1e-3,
  weightDecay: 0.1,
  warmupSteps: 50,
  augment: { minScale: 0.5, hflip: true, vflip: true },
  seed: 0,
  threads: Math.max(1, Math.min(16, navigator.hardwareConcurrency ?? 1)),
  device: "cpu",
  runsDir: "runs",
  checkpointEvery: 100,
  logEvery: 0,
  maxSteps: 0,
  loaderConcurrency: 4,
};

/** Image–caption pairs of a source (images checked to exist). */
export async function loadCaptionPairs(src: CaptionSource): Promise<CaptionedImage[]> {
  if (src.kind === "file") {
    return await readCaptions(src.file, {
      images: src.images ?? undefined,
      splits: src.splits ?? undefined,
    });
  }
  const { dir } = await ensureSyntheticDataset({
    seed: src.seed,
    imagesPerClass: src.imagesPerClass,
    size: src.size,
  });
  const ds = await openDatasetFolder(dir, { split: SYNTHETIC_SPLIT });
  const caps = await readCaptions(`${dir}/captions.json`, { images: `${dir}/images` });
  const byPath = new Map(caps.map((c) => [c.path, c.captions]));
  const idx = src.part === "all" ? ds.samples.map((_, i) => i) : ds.split.trainval;
  return idx.map((i) => {
    const s = ds.samples[i];
    const captions = byPath.get(s.path);
    if (!captions) throw new DataError(`${dir}/captions.json`, `no captions for ${ds.files[i]}`);
    return { path: s.path, captions, label: s.label };
  });
}

/** The image size of the model a config trains. */
async function modelImageSize(m: FinetuneModel): Promise<number> {
  if (m.kind === "scratch") return m.imageSize;
  const cfg = JSON.parse(await Deno.readTextFile(`${m.dir}/config.json`));
  return cfg.vision_config?.image_size ?? 224;
}

/** Training augmentation of a config at `size`. */
export function finetuneTransform(c: FinetuneConfig, size: number): Transform {
  const steps = [RandomResizedCrop(size, { scale: [c.augment.minScale, 1] })];
  if (c.augment.hflip) steps.push(RandomHorizontalFlip());
  if (c.augment.vflip) steps.push(RandomVerticalFlip());
  return Compose(...steps);
}

/** The evaluation transform of a CLIP at `size`: Resize(size) → CenterCrop(size). */
export function clipEvalTransform(size: number): Transform {
  return Compose(Resize(size), CenterCrop(size));
}

/** What a finished run reports. */
export interface FinetuneResult {
  runDir: string;
  /** `finished`, or `stopped` early (SIGINT/SIGTERM or `stopAfterSteps`; checkpoint saved,
   * continue with `--resume`). */
  status: "finished" | "stopped";
  /** The Hugging Face CLIP folder written at the end (null when stopped). */
  modelDir: string | null;
  steps: number;
  pairs: number;
  finalLoss: number;
  /** Training batch retrieval accuracy (image → its own caption), mean of the last epoch. */
  finalAccuracy: number;
  logitScale: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Options of {@link finetuneClip}. */
export interface FinetuneOptions {
  /** Continue this run folder from its last checkpoint (its `config.json` is used). */
  resumeDir?: string;
  /** Where lines go (default console.log); the progress bar goes to stderr on a terminal. */
  log?: (line: string) => void;
  /** Show the progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  /** Stop (checkpoint saved) after this many steps in this session (for tests). */
  stopAfterSteps?: number;
}

/** Runs (or resumes) a fine-tuning run; returns where the model went and the last figures. */
export async function finetuneClip(
  config: FinetuneConfig,
  opts: FinetuneOptions = {},
): Promise<FinetuneResult> {
  const t0 = performance.now();
  const bar = new Progress(opts.progress === undefined ? {} : { tty: opts.progress });
  const log = (s: string) => (opts.log ? (bar.clear(), opts.log(s)) : bar.log(s));
  setNumThreads(config.threads);
  const device = config.device as Device;

  const pairs = await loadCaptionPairs(config.data);
  // A pretrained model first (a folder without a text tower fails before anything is written).
  const pretrained = config.model.kind === "pretrained"
    ? await CLIPModel.fromPretrained(config.model.dir)
    : null;

  // Tokenizer: the pretrained model's, or a BPE trained on the captions (saved in the run so a
  // resumed run uses the very same one).
  let tokFiles: { tokenizer: Record<string, unknown>; config: Record<string, unknown> };
  let tokWhere = "tokenizer.json";
  let runDir: string;
  try {
    if (config.model.kind === "pretrained") {
      const dir = config.model.dir;
      const read = async (n: string) => {
        try {
          return JSON.parse(await Deno.readTextFile(`${dir}/${n}`));
        } catch {
          return null;
        }
      };
      const tj = await read("tokenizer.json");
      if (tj === null) {
        throw new DataError(
          dir,
          "has no tokenizer.json (or it is not JSON): a CLIP model folder to fine-tune needs one",
        );
      }
      tokFiles = { tokenizer: tj, config: (await read("tokenizer_config.json")) ?? {} };
      tokWhere = `${dir}/tokenizer.json`;
    } else if (opts.resumeDir) {
      const dir = `${opts.resumeDir}/tokenizer`;
      tokFiles = {
        tokenizer: JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`)),
        config: JSON.parse(await Deno.readTextFile(`${dir}/tokenizer_config.json`)),
      };
      tokWhere = `${dir}/tokenizer.json`;
    } else {
      const bpe = trainBpe(pairs.flatMap((p) => p.captions), {
        maxMerges: config.model.maxMerges,
      });
      tokFiles = bpeTokenizerFiles(bpe, config.model.contextLength);
    }
    runDir = opts.resumeDir ?? await createRunDir(config.runsDir, config.name);
  } catch (e) {
    pretrained?.dispose();
    throw e;
  }
  if (!opts.resumeDir) {
    await writeJson(`${runDir}/config.json`, config);
    if (config.model.kind === "scratch") {
      await Deno.mkdir(`${runDir}/tokenizer`, { recursive: true });
      await writeJson(`${runDir}/tokenizer/tokenizer.json`, tokFiles.tokenizer);
      await writeJson(`${runDir}/tokenizer/tokenizer_config.json`, tokFiles.config);
    }
  }
  const tokenizer = await CLIPTokenizer.fromJSON(tokFiles.tokenizer, tokFiles.config, {}, tokWhere);

  manualSeed(config.seed);
  const model = pretrained ??
    new CLIPModel(tinyClipConfig(tokenizer.vocabSize, config.model as TinyClipOptions));
  if (!pretrained) initClipWeights(model);
  model.to(device).train();
  const size = await modelImageSize(config.model);
  const contextLength = Math.min(tokenizer.contextLength, model.config.text.maxPositionEmbeddings);

  const batchSize = Math.min(config.batchSize, pairs.length);
  if (batchSize < 2) {
    throw new DataError("", `contrastive training needs at least 2 image–caption pairs`);
  }
  const sampler = new ShuffledBatchSampler(pairs.length, {
    batchSize,
    seed: config.seed,
    dropLast: true,
  });
  const perEpoch = sampler.batchesPerEpoch;
  const totalSteps = config.maxSteps > 0
    ? Math.min(config.maxSteps, config.epochs * perEpoch)
    : config.epochs * perEpoch;
  const opt = clipOptimizer(model, { lr: config.lr, weightDecay: config.weightDecay });
  const sched = new CosineWithWarmup(opt, {
    warmupSteps: Math.min(config.warmupSteps, totalSteps),
    totalSteps,
  });

  let step = 0;
  const ckpt = `${runDir}/checkpoints/last.safetensors`;
  if (opts.resumeDir) {
    using s = await loadCheckpoint(ckpt, { device });
    model.loadStateDict(s.model as Map<string, Tensor>, { strict: true });
    opt.loadStateDict(s.optimizer as Parameters<typeof opt.loadStateDict>[0]);
    sched.loadStateDict(s.schedule as { lastStep: number });
    step = s.step;
    log(`resumed ${runDir} at step ${step}/${totalSteps}`);
  }

  const loader = new ImageLoader(pairs.map((p, i) => ({ path: p.path, label: p.label ?? i })), {
    transform: finetuneTransform(config, size),
    normalization: CLIP_NORM,
    concurrency: config.loaderConcurrency,
    seed: config.seed,
  });
  function* plans(from: number): Generator<BatchPlan> {
    for (let s = from; s < totalSteps; s++) {
      const epoch = Math.floor(s / perEpoch), batch = s % perEpoch;
      yield { epoch, batch, indices: sampler.plan(epoch, batch) };
    }
  }
  const save = async () => {
    await saveCheckpoint(ckpt, {
      step,
      epoch: Math.floor(step / perEpoch),
      model: model.stateDict(),
      optimizer: opt.stateDict(),
      schedule: sched.stateDict(),
      config,
    });
  };

  log(
    `clip:finetune → ${runDir}\n  ${pairs.length} image–caption pairs, ${
      model.numParameters().toLocaleString("en-US")
    } parameters, ${size}×${size} input, ${totalSteps} steps (${perEpoch} per epoch, batch ${batchSize})`,
  );
  const logEvery = config.logEvery > 0 ? config.logEvery : perEpoch;
  let emaLoss = NaN, lossSum = 0, accSum = 0, n = 0, lastLoss = NaN, lastAcc = NaN;
  let images = 0;
  const tLoop = performance.now();
  const startStep = step;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const sig of signals) {
    try {
      Deno.addSignalListener(sig, onSignal);
    } catch { /* not supported here */ }
  }
  try {
    for await (const b of loader.batches(plans(step))) {
      const rng = (slot: number) => new Rng(config.seed, b.epoch, b.batch, slot, 0xc1);
      const texts = b.indices.map((i, slot) => rng(slot).pick(pairs[i].captions));
      const { loss, acc } = scope(() => {
        const enc = tokenizer.encode(texts, { maxLength: contextLength });
        const pixels = batchToTensor(b, device);
        opt.zeroGrad();
        const r = contrastiveLoss(
          model,
          pixels,
          enc.inputIds.to(device),
          enc.attentionMask.to(device),
        );
        r.loss.backward();
        return { loss: r.loss.item() as number, acc: r.accuracy.item() as number };
      });
      opt.step();
      clampLogitScale(model);
      sched.step();
      step++;
      images += b.indices.length;
      if (!Number.isFinite(loss)) {
        throw new Error(`clip:finetune: the loss is ${loss} at step ${step}`);
      }
      emaLoss = Number.isNaN(emaLoss) ? loss : 0.9 * emaLoss + 0.1 * loss;
      lossSum += loss;
      accSum += acc;
      n++;
      const secs = (performance.now() - tLoop) / 1000;
      bar.update({
        step,
        totalSteps,
        epoch: b.epoch,
        epochs: Math.ceil(totalSteps / perEpoch),
        loss: emaLoss,
        imagesPerSecond: images / secs,
        etaSeconds: (secs / images) * (totalSteps - step) * batchSize,
      });
      if (step % logEvery === 0 || step === totalSteps) {
        lastLoss = lossSum / n;
        lastAcc = accSum / n;
        const scale = Math.exp(model.logitScale.item() as number);
        const entry = {
          step,
          epoch: b.epoch,
          loss: lastLoss,
          accuracy: lastAcc,
          logitScale: scale,
          lr: opt.paramGroups[0].lr,
          imagesPerSecond: images / secs,
        };
        await appendLog(runDir, entry);
        log(
          `  step ${String(step).padStart(5)}  epoch ${b.epoch + 1}  loss ${
            lastLoss.toFixed(4)
          }  ` +
            `batch acc ${(100 * lastAcc).toFixed(1)}%  exp(logit_scale) ${scale.toFixed(2)}  ` +
            `${(images / secs).toFixed(1)} img/s`,
        );
        lossSum = accSum = n = 0;
      }
      if (step % config.checkpointEvery === 0 && step < totalSteps) await save();
      if (interrupted || (opts.stopAfterSteps && step - startStep >= opts.stopAfterSteps)) break;
    }
  } finally {
    for (const sig of signals) {
      try {
        Deno.removeSignalListener(sig, onSignal);
      } catch { /* not supported here */ }
    }
  }
  bar.clear();
  await save();
  const finished = step >= totalSteps;
  let modelDir: string | null = null;
  if (finished) {
    modelDir = `${runDir}/model`;
    model.eval();
    await saveHfClip(modelDir, model, tokFiles);
  } else {
    log(`stopped at step ${step}/${totalSteps}; continue with --resume ${runDir}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const result: FinetuneResult = {
    runDir,
    status: finished ? "finished" : "stopped",
    modelDir,
    steps: step,
    pairs: pairs.length,
    finalLoss: lastLoss,
    finalAccuracy: lastAcc,
    logitScale: Math.exp(model.logitScale.item() as number),
    seconds,
    imagesPerSecond: images / ((performance.now() - tLoop) / 1000),
  };
  await writeJson(`${runDir}/summary.json`, result);
  opt.dispose();
  model.dispose();
  return result;
}

/** CLIP contrastive fine-tuning (or training from scratch) on image–caption pairs: the loop of
 * `deno task clip:finetune`, on the run loop `deno task train` uses (`src/run/loop.ts`).
 *
 * One step: a batch of images (augmented: RandomResizedCrop, flips), one of each image's
 * captions drawn at random, the symmetric contrastive loss with the learned temperature, AdamW
 * (weight decay on matrices only), a linear warm-up then cosine decay, and the logit scale
 * clamped to ln 100 after the step (OpenAI CLIP). Batch `b` of epoch `e` and its captions
 * depend only on (seed, e, b), so a resumed run continues exactly where the checkpoint was
 * taken.
 *
 * Data-parallel (`dist` given, one call per rank): every rank draws the same global batch and
 * encodes its contiguous slice inside `DistributedDataParallel`; the contrastive loss is taken
 * over the global batch from all-gathered embeddings (`gathered_loss.ts`), so N ranks take the
 * steps of one process with the same config. The stop request is agreed after every step; rank
 * 0 alone writes the run folder.
 *
 * The run folder follows `deno task train`'s convention (`src/run/run_dir.ts`):
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
import { isFile } from "../../ffi/fs.ts";
import { ImageLoader, type LoadedBatch } from "../data/loader.ts";
import { CLIP as CLIP_NORM } from "../data/normalize.ts";
import { Rng } from "../data/rng.ts";
import { ShuffledBatchSampler } from "../data/shuffle_sampler.ts";
import type { BatchPlan } from "../data/sampler.ts";
import { batchToTensor } from "../data/tensor.ts";
import { Progress } from "../run/progress.ts";
import { MetricsLog } from "../run/metrics_log.ts";
import { resumePosition, runEpochs, startPosition } from "../run/loop.ts";
import { createRunDir, writeJsonAtomic as writeJson } from "../run/run_dir.ts";
import { bpeTokenizerFiles, trainBpe } from "./bpe.ts";
import type { FinetuneConfig, FinetuneModel } from "./finetune_config.ts";
import { clampLogitScale, contrastiveLoss } from "./loss.ts";
import { ClipGatheredLoss } from "./gathered_loss.ts";
import type { ProcessGroup } from "../distributed/group.ts";
import { DistributedDataParallel } from "../nn/ddp.ts";
import { agreedStop, rankSlice } from "../train/shard.ts";
import { clipOptimizer } from "./optimizer.ts";
import { loadCaptionPairs } from "./pairs.ts";
import { saveHfClip } from "./save.ts";
import { initClipWeights, tinyClipConfig, type TinyClipOptions } from "./tiny.ts";
import { clipTrainTransform } from "./transforms.ts";

/** One line of `log.jsonl`: the figures of the steps since the previous line. */
export interface FinetuneLogEntry {
  step: number;
  epoch: number;
  /** Mean loss and training-batch retrieval accuracy over those steps. */
  loss: number;
  accuracy: number;
  /** exp(logit_scale) after the step. */
  logitScale: number;
  lr: number;
  /** Images per second of this process so far. */
  imagesPerSecond: number;
}

/** The image size of the model a config trains. */
async function modelImageSize(m: FinetuneModel): Promise<number> {
  if (m.kind === "scratch") return m.imageSize;
  const cfg = JSON.parse(await Deno.readTextFile(`${m.dir}/config.json`));
  return cfg.vision_config?.image_size ?? 224;
}

/** What a finished run reports. */
export interface FinetuneResult {
  runDir: string;
  /** `finished`, or `stopped` early (`stopRequested` or `stopAfterSteps`; checkpoint saved,
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
  /** Polled between steps: a reason to stop now (the command passes its SIGINT/SIGTERM
   * token's `reason`), or null. The run saves a checkpoint and ends `stopped`. */
  stopRequested?: () => string | null;
  /** Stop (checkpoint saved) after this many steps in this session (for tests). */
  stopAfterSteps?: number;
  /** The data-parallel job this call is one rank of (every rank calls it with the same config;
   * rank 0 writes the run folder, the others only read it when resuming). */
  dist?: { group: ProcessGroup };
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
  const group = opts.dist?.group ?? null;
  const world = group?.worldSize ?? 1;
  const writes = group === null || group.rank === 0;

  const pairs = await loadCaptionPairs(config.data);
  // Checked before anything is written: every rank takes an equal slice of each batch.
  const globalBatch = Math.min(config.batchSize, pairs.length);
  if (globalBatch % world !== 0) {
    throw new DataError(
      "",
      `the batch of ${globalBatch} image–caption pairs does not split evenly over ${world} ranks`,
    );
  }
  // A weights file is refused: the run's model/ is a Hugging Face folder, whose tokenizer.json
  // cannot carry OpenAI / open_clip's BPE text cleaning, and whose config has no format field.
  if (config.model.kind === "pretrained" && isFile(config.model.dir)) {
    throw new DataError(
      config.model.dir,
      "is a weights file (an OpenAI archive or open_clip checkpoint); clip:finetune starts " +
        "from a Hugging Face CLIP folder (config.json, weights, tokenizer.json) or from scratch. " +
        "Such a file is accepted by deno task zeroshot, attributes and train --backbone clip",
    );
  }
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
    runDir = opts.resumeDir ??
      (writes ? await createRunDir(config.runsDir, config.name) : "(rank 0's run folder)");
  } catch (e) {
    pretrained?.dispose();
    throw e;
  }
  if (!opts.resumeDir && writes) {
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
  // This rank's share of every global batch (all of it in one process).
  const share = rankSlice(batchSize, group?.rank ?? 0, world);

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

  const metrics = new MetricsLog<FinetuneLogEntry>(`${runDir}/log.jsonl`);
  const ckpt = `${runDir}/checkpoints/last.safetensors`;
  let position = startPosition();
  if (opts.resumeDir) {
    using s = await loadCheckpoint(ckpt, { device });
    model.loadStateDict(s.model as Map<string, Tensor>, { strict: true });
    opt.loadStateDict(s.optimizer as Parameters<typeof opt.loadStateDict>[0]);
    sched.loadStateDict(s.schedule as { lastStep: number });
    const done = Math.floor(s.step / perEpoch);
    position = resumePosition(
      { step: s.step, epochsDone: done, next: { epoch: done, batch: s.step % perEpoch } },
      perEpoch,
      writes ? metrics : null,
    );
    log(`resumed ${runDir} at step ${position.step}/${totalSteps}`);
  }
  // After the resume: DDP's construction broadcasts rank 0's weights and fixes the parameters
  // the reducer hooks.
  const ddp = group
    ? new DistributedDataParallel(new ClipGatheredLoss(model, group), { processGroup: group })
    : null;

  const loader = new ImageLoader(pairs.map((p, i) => ({ path: p.path, label: p.label ?? i })), {
    transform: clipTrainTransform(config.augment, size),
    normalization: CLIP_NORM,
    concurrency: config.loaderConcurrency,
    seed: config.seed,
  });
  /** Batches `from`.. of `epoch`, up to the run's last step. */
  function* plans(epoch: number, from: number): Generator<BatchPlan> {
    const end = Math.min(perEpoch, totalSteps - epoch * perEpoch);
    for (let batch = from; batch < end; batch++) {
      const indices = sampler.plan(epoch, batch);
      yield world === 1 ? { epoch, batch, indices } : {
        epoch,
        batch,
        indices: indices.slice(share.start, share.start + share.size),
        firstSlot: share.start,
      };
    }
  }

  log(
    `clip:finetune → ${runDir}\n  ${pairs.length} image–caption pairs, ${
      model.numParameters().toLocaleString("en-US")
    } parameters, ${size}×${size} input, ${totalSteps} steps (${perEpoch} per epoch, batch ${batchSize})`,
  );
  const logEvery = config.logEvery > 0 ? config.logEvery : perEpoch;
  let emaLoss = NaN, lossSum = 0, accSum = 0, n = 0, lastLoss = NaN, lastAcc = NaN;
  let images = 0;
  const tLoop = performance.now();
  const startStep = position.step;
  const stopAfter = opts.stopAfterSteps ?? 0;
  const outcome = await runEpochs<LoadedBatch>({
    epochs: Math.ceil(totalSteps / perEpoch),
    batchesPerEpoch: perEpoch,
    maxSteps: config.maxSteps,
    checkpointEvery: config.checkpointEvery,
    checkpointEachEpoch: false,
    position,
    batches: (epoch, from) => loader.batches(plans(epoch, from)),
    step: (b) => {
      const rng = (slot: number) => new Rng(config.seed, b.epoch, b.batch, slot, 0xc1);
      // A caption's draw depends on its slot in the global batch.
      const texts = b.indices.map((i, k) => rng(share.start + k).pick(pairs[i].captions));
      const { loss, acc } = scope(() => {
        const enc = tokenizer.encode(texts, { maxLength: contextLength });
        const pixels = batchToTensor(b, device);
        opt.zeroGrad();
        const ids = enc.inputIds.to(device), mask = enc.attentionMask.to(device);
        if (ddp === null) {
          const r = contrastiveLoss(model, pixels, ids, mask);
          r.loss.backward();
          return { loss: r.loss.item() as number, acc: r.accuracy.item() as number };
        }
        const r = ddp.forward(pixels, ids, mask);
        try {
          r.backpropagated.backward();
        } catch (e) {
          // The reducer all-reduces during backward: a peer that died shows here.
          throw new Error(
            `clip:finetune: step ${position.step + 1}: backward and its gradient all-reduce ` +
              `failed on rank ${group!.rank} of ${world} (a peer rank exited or did not take ` +
              `part): ${(e as Error).message}`,
          );
        }
        return { loss: r.loss.item() as number, acc: r.accuracy.item() as number };
      });
      opt.step();
      clampLogitScale(model);
      sched.step();
      const step = position.step + 1;
      images += b.indices.length * world;
      if (!Number.isFinite(loss)) {
        throw new Error(`clip:finetune: the loss is ${loss} at step ${step}`);
      }
      emaLoss = Number.isNaN(emaLoss) ? loss : 0.9 * emaLoss + 0.1 * loss;
      lossSum += loss;
      accSum += acc;
      n++;
      if (step % logEvery === 0 || step === totalSteps) {
        const secs = (performance.now() - tLoop) / 1000;
        lastLoss = lossSum / n;
        lastAcc = accSum / n;
        const scale = Math.exp(model.logitScale.item() as number);
        if (writes) {
          metrics.append({
            step,
            epoch: b.epoch,
            loss: lastLoss,
            accuracy: lastAcc,
            logitScale: scale,
            lr: opt.paramGroups[0].lr,
            imagesPerSecond: images / secs,
          });
        }
        log(
          `  step ${String(step).padStart(5)}  epoch ${b.epoch + 1}  loss ${
            lastLoss.toFixed(4)
          }  ` +
            `batch acc ${(100 * lastAcc).toFixed(1)}%  exp(logit_scale) ${scale.toFixed(2)}  ` +
            `${(images / secs).toFixed(1)} img/s`,
        );
        lossSum = accSum = n = 0;
      }
      return { images: b.indices.length * world, loss: emaLoss };
    },
    checkpoint: async () => {
      if (!writes) return ckpt; // rank 0's checkpoint is every rank's
      await saveCheckpoint(ckpt, {
        step: position.step,
        epoch: Math.floor(position.step / perEpoch),
        model: model.stateDict(),
        optimizer: opt.stateDict(),
        schedule: sched.stateDict(),
        config,
      });
      return ckpt;
    },
  }, {
    onStep: (s) => bar.update(s),
    log,
    stopRequested: () => {
      const local = opts.stopRequested?.() ??
        (stopAfter > 0 && position.step - startStep >= stopAfter ? "stopAfterSteps" : null);
      return group ? agreedStop(group, device, local) : local;
    },
  });
  bar.clear();
  const step = position.step;
  const finished = outcome.status === "finished";
  let modelDir: string | null = null;
  if (finished && writes) {
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
  if (writes) await writeJson(`${runDir}/summary.json`, result);
  ddp?.release();
  opt.dispose();
  model.dispose();
  return result;
}

/** The settings of a CLIP fine-tuning run (`deno task clip:finetune`), written to the run's
 * `config.json`, and their defaults.
 * @module
 */
import { SYNTHETIC_DEFAULTS } from "../data/synthetic/defaults.ts";
import type { ClipAugment } from "./transforms.ts";

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
  augment: ClipAugment;
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
  data: {
    kind: "synthetic",
    seed: SYNTHETIC_DEFAULTS.seed,
    imagesPerClass: SYNTHETIC_DEFAULTS.imagesPerClass,
    size: SYNTHETIC_DEFAULTS.size,
    part: "trainval",
  },
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

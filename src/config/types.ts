/**
 * The resolved training configuration: every field concrete (no "use the recipe's value" left),
 * as `deno task train` prints it and writes it to `<runDir>/config.json`. The zod schema that
 * reads config files and flags into this shape is `schema.ts`, resolution `resolve.ts` (this file
 * has no npm import, so the training code that imports its types stays importable offline).
 * @module
 */
import type { DsvaLossWeights } from "../dsva/index.ts";

/** The built-in synthetic aerial scenes (`src/data/synthetic`), generated on first use. */
export interface SyntheticDatasetConfig {
  kind: "synthetic";
  /** Seed of the images and of the split. */
  seed: number;
  /** Images per class. */
  imagesPerClass: number;
  /** Image side in pixels. */
  size: number;
}

/** A dataset folder (the layout of `../shared/data/aid`: `images/<Class>/...`, an attribute file,
 * `splits.json`, optionally `groups.json`); each file can be named explicitly. */
export interface FolderDatasetConfig {
  kind: "folder";
  /** The dataset folder. */
  dir: string;
  /** The split's name in the split file (e.g. `25_5`); needed when the file holds several. */
  split: string | null;
  /** Overrides of the files found in `dir`. */
  images: string | null;
  attributes: string | null;
  splits: string | null;
  groups: string | null;
  /** How class attributes are scaled before training: `max` divides by the largest value (AID's
   * 0–100 → 0–1), `l2` normalises each class row (xlsa17's `att`), `none` keeps them. */
  attributeScale: "none" | "max" | "l2";
  /** Leave out images the split file names but the folder lacks (counted in a warning);
   * absent: such an image is an error. */
  skipMissing?: boolean;
}

/** The official code's RSSDIVCS layout: `<dir>/files/<split>_images.mat` (each image's label and
 * file), `<dir>/files/ann_attr_finetune_<split>_splits.mat` (`train_zsl_loc_0`,
 * `train_gzsl_loc_0`, `test_seen_loc_0`, `test_unseen_loc_0`, `att`, `allclasses_names`),
 * `<dir>/files/attri_group_3.json`, and the images under an image root (`<dir>` itself: a file
 * recorded as `.../RSSDIVCS/images/x.jpg` is `<root>/images/x.jpg`, as the official loader reads
 * it). */
export interface RssdivcsDatasetConfig {
  kind: "rssdivcs";
  /** The folder holding `files/`. */
  dir: string;
  /** The `.mat` files' tag (`43`, `52`, `61`); needed when `files/` holds several. */
  split: string | null;
  /** The image root (default `dir`). */
  images: string | null;
  /** The groups file (default `files/attri_group_3.json`). */
  groups: string | null;
  /** The training list: `train_zsl_loc` (the official code's, in ZSL and GZSL runs alike) or
   * `train_gzsl_loc`. */
  trainList: "train_zsl_loc" | "train_gzsl_loc";
  /** Scaling of `att` (default `none`: as stored, as the official code uses it). */
  attributeScale: "none" | "max" | "l2";
}

/** Where the images and attributes come from. */
export type DatasetConfig = SyntheticDatasetConfig | FolderDatasetConfig | RssdivcsDatasetConfig;

/** A Vision Transformer trained from scratch (a `models.VIT_PRESETS` entry, resized). */
export interface VitBackboneConfig {
  kind: "vit";
  /** Preset name, e.g. `cpu-tiny`. */
  preset: string;
  /** Shape overrides of the preset (`imageSize` is always the run's `imageSize`). */
  patchSize: number | null;
  hiddenSize: number | null;
  numLayers: number | null;
  numHeads: number | null;
  intermediateSize: number | null;
}

/** A CLIP's vision tower: a Hugging Face folder (e.g. a local `flax-community/clip-rsicd`), an
 * OpenAI TorchScript archive or an open_clip checkpoint (see `models.CLIPModel.fromPretrained`). */
export interface ClipBackboneConfig {
  kind: "clip";
  /** The model folder (`config.json` + `model.safetensors` or `pytorch_model.bin`) or weights
   * file (`ViT-B-32.pt`, `RemoteCLIP-ViT-B-32.pt`, `open_clip_model.safetensors`). */
  dir: string;
  /** The source format, when not detected from the file (absent: detected). */
  format?: "hf" | "openai" | "open_clip";
  /** Both towers' MLP activation, when not the source's default (absent: the default: OpenAI
   * archive quick_gelu, open_clip checkpoint gelu, Hugging Face folder its config.json's). */
  activation?: "quick_gelu" | "gelu";
}

/** The Darknet-tiny CNN from a TF.js layers model folder (ImageNet-pretrained). */
export interface DarknetBackboneConfig {
  kind: "darknet";
  /** The TF.js model folder (`model.json` + shards). */
  dir: string;
}

/** The backbone. */
export type BackboneConfig = VitBackboneConfig | ClipBackboneConfig | DarknetBackboneConfig;

/** Model selection: `official` = the best epoch on the test set (the official protocol, an
 * optimistic number), `heldout` = the best epoch on held-out seen training images, `last` = the
 * last epoch. */
export type SelectionRule = "official" | "heldout" | "last";

/** Every setting of a training run, resolved. */
export interface TrainConfig {
  /** Run name (the run folder is `<runsDir>/<timestamp>-<name>`). */
  name: string;
  dataset: DatasetConfig;
  backbone: BackboneConfig;
  /** `official` (reproduces the official code, quirks included) or `clean`. */
  recipe: "official" | "clean";
  /** The official script whose settings this run took as its preset (`--official-script`,
   * `src/dsva/recipes.ts` `OFFICIAL_SCRIPTS`), or null. */
  officialScript: string | null;
  epochs: number;
  batchesPerEpoch: number;
  /** Epochs of the recipe's first phase (backbone frozen); 0 for none. */
  warmupEpochs: number;
  /** Episodic batches: `ways` seen classes × `shots` images each. */
  ways: number;
  shots: number;
  /** Input side (crop size) and the shorter side the images are resized to first. */
  imageSize: number;
  resize: number;
  /** Pixel normalisation: `imagenet` (official), `clip`, or `unit` ([0, 1], Darknet's). */
  normalization: "imagenet" | "clip" | "unit";
  /** Base learning rates: of the head parameter groups and of any group holding the backbone;
   * `warmupSteps` of the clean recipe's linear warm-up (ignored by `official`). */
  lr: { heads: number; backbone: number; warmupSteps: number };
  /** Adam's betas. */
  betas: [number, number];
  /** Loss: CE on probabilities (official quirk) or on logits, and the term weights. */
  loss: { ceOnProbabilities: boolean; weights: DsvaLossWeights };
  /** Attention Concentration: used in training from epoch `fromEpoch` when `enabled`, at test
   * time when `atTest`. */
  ac: {
    enabled: boolean;
    fromEpoch: number;
    atTest: boolean;
    thr: number;
    iterations: number;
    proWeight: number;
  };
  /** Seeds the model init, the sampler, the augmentation and the held-out split. */
  seed: number;
  /** `cpu`, `cuda` or `cuda:N`. */
  device: string;
  /** `bf16`: forward passes under CUDA autocast in bfloat16 (CUDA only). */
  autocast: "none" | "bf16";
  /** libtorch intra-op threads. */
  threads: number;
  selection: SelectionRule;
  /** With `official` selection: which test number picks the epoch (ZSL accuracy or GZSL H). */
  selectionMetric: "zsl" | "H";
  /** Fraction of each seen class's training images held out (not trained on) for model
   * selection and γ; 0 for none. */
  heldoutFraction: number;
  /** Calibrated-stacking γ, subtracted from the seen classes' softmax probabilities: a number,
   * or `heldout` = chosen on the held-out seen images (seen-retention rule, `gammaRetain`). */
  gamma: number | "heldout";
  gammaRetain: number;
  /** Evaluate every this many epochs (and always after the last). */
  evalEvery: number;
  /** Also evaluate on the test set every evaluated epoch, for the curves only (never used for
   * selection unless `selection` is `official`). */
  monitorTest: boolean;
  testBatchSize: number;
  /** Images decoded at once, and decode worker threads (0: sharp's own threads). */
  loaderConcurrency: number;
  workers: number;
  /** An evaluation image that cannot be decoded: `fail` stops with an error naming it; `skip`
   * leaves it out of every metric and lists it in `eval.json` and the report. */
  onBadImage: "skip" | "fail";
  /** Where run folders go. */
  runsDir: string;
  /** Attention-map pictures in the report. */
  pictures: number;
  /** Stop after this many optimizer steps in total (0: no limit; for tests and dry runs). */
  maxSteps: number;
}

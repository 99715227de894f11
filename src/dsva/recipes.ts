/**
 * DSVA training recipes as data, for the trainer: `official` reproduces the official code
 * (`model/main.py`, the six `script/*.sh`; reference/dsva.md §4–§5) with its quirks, `clean`
 * fixes them. Every difference, `official` → `clean`:
 *
 * 1. **Cross-entropy.** Official: CE of the softmax *probabilities* (the model returns softmax
 *    output, `nn.CrossEntropyLoss` applies log-softmax again). Clean: CE of the logits.
 * 2. **Optimizer lifetime.** Official: a new Adam at the start of every epoch (moments reset
 *    30 times). Clean: one Adam for the whole run.
 * 3. **What trains in the warm-up (epochs 0–4).** Official: only the prototypes and the ALE
 *    Linear (`ALE_vector[1]`); the ALE LayerNorm stays at its init until epoch 5. Clean: all three
 *    heads (prototypes, ALE LayerNorm, ALE Linear); the backbone is frozen in both.
 * 4. **Learning rates.** Official: 1e-4 constant in the warm-up, then *everything* — heads
 *    included — at 1e-6 · 0.9^⌊epoch/10⌋ (the heads' lr drops 100× at epoch 5). Clean: heads at
 *    1e-4 and backbone at 1e-6 as two parameter groups of the one optimizer, both under a linear
 *    warm-up (one epoch of steps) and a cosine decay to 0 at the last step. Adam's betas stay
 *    (0.5, 0.999) and weight decay 0 in both, so only the schedule differs.
 * 5. **GZSL training images.** Official: the training list is `train_zsl_loc` in GZSL too, which
 *    may hold the seen-class test images (§5 "possible protocol issue"). Clean: the seen-class
 *    training images only (`train_gzsl_loc` / seen images not in the test set).
 * 6. **Model selection.** Official: the best epoch on the test set (ZSL accuracy / GZSL H),
 *    reported as such. Clean: the epoch chosen on held-out seen-class training images.
 * 7. **Calibrated stacking.** Official: a fixed γ per split (1e-4, 1.4e-4, 1e-4) subtracted from
 *    the seen classes' softmax probabilities. Clean: γ (same place) chosen on held-out data.
 * 8. **Reported branch.** Official: the VAM branch on the full image (`--sel_res layer`). Clean:
 *    every branch (VAM, global, fused) is reported; the VAM one stays the headline.
 *
 * Shared: 30 epochs × 300 episodic batches of 8 classes × 3 images; 224×224 input, ImageNet
 * mean/std; train Resize(256) → RandomCrop(224) → HFlip(0.5), test Resize(256) → CenterCrop(224);
 * loss weights (xe 1, attri 1e-2, l_xe 1, l_attri 8e-2, cpt 1e-9 after the warm-up); AC on from
 * epoch 0, at train and test time, thr 1, one round, crop weight 1.
 * @module
 */
import { cosineWithWarmupFactor } from "../optim/index.ts";
import { type AcOptions, OFFICIAL_AC } from "./attention_concentration.ts";
import {
  CLEAN_LOSS,
  type DsvaLossConfig,
  type DsvaLossWeights,
  OFFICIAL_GZSL_50_20_WEIGHTS,
  OFFICIAL_LOSS,
  OFFICIAL_LOSS_WEIGHTS,
} from "./losses.ts";
import type { DsvaParameterSet } from "./model.ts";

/** How the lr changes: a factor on each group's base lr. */
export type LrScheduleSpec =
  | { kind: "constant" }
  /** `gamma ^ ⌊epoch / everyEpochs⌋`, with the run's epoch (official: 0.9, 10). */
  | { kind: "epochStep"; gamma: number; everyEpochs: number }
  /** Linear warm-up over `warmupSteps` steps of the run, then cosine to `minLrRatio` at the last
   * step (`optim.cosineWithWarmupFactor`, stepped every batch). */
  | { kind: "cosineWithWarmup"; warmupSteps: number; minLrRatio: number };

/** One parameter group of a phase. */
export interface ParamGroupSpec {
  /** The model's parameter sets in this group (`DSVA.parameterSet`). */
  sets: readonly DsvaParameterSet[];
  /** Base learning rate (the schedule multiplies it). */
  lr: number;
  /** Frozen in this phase: no gradient (`requiresGrad = false`), no update. */
  frozen?: boolean;
}

/** A span of epochs with one set of parameter groups and schedule. */
export interface RecipePhase {
  /** Name for logs. */
  name: string;
  /** First epoch (0-based, inclusive). */
  fromEpoch: number;
  /** Last epoch (inclusive). */
  toEpoch: number;
  /** The optimizer's parameter groups. Parameters in no group are not updated (and may be frozen
   * to save the backward pass). With `optimizer.lifetime: "run"`, every phase lists the same
   * groups in the same order and only `frozen` changes. */
  groups: readonly ParamGroupSpec[];
  /** The lr factor of this phase. */
  schedule: LrScheduleSpec;
  /** Loss weights changed in this phase (official: no CPT in the warm-up, `realtrain`). */
  lossWeightOverrides?: Partial<DsvaLossWeights>;
}

/** A training recipe. */
export interface DsvaRecipe {
  /** `official` or `clean`. */
  name: "official" | "clean";
  /** One line. */
  summary: string;
  /** Epochs (`--nepoch`). */
  epochs: number;
  /** Batches per epoch (`--n_batch`). */
  batchesPerEpoch: number;
  /** Training batches: `ways` distinct seen classes × `shots` images (`CategoriesSampler`). */
  sampler: { kind: "episodic"; ways: number; shots: number };
  /** Evaluation batch size (`--batch_size`, only used by the test loaders); the training
   * config's `testBatchSize` default. */
  testBatchSize: number;
  /** Input pipeline. */
  image: {
    size: number;
    resize: number;
    mean: readonly [number, number, number];
    std: readonly [number, number, number];
    train: "resize-randomcrop-hflip";
    test: "resize-centercrop";
  };
  /** Optimizer: Adam with these hyper-parameters; `lifetime` `"epoch"` re-creates it (and its
   * moments) at every epoch, `"run"` keeps one. */
  optimizer: {
    kind: "adam";
    betas: readonly [number, number];
    eps: number;
    weightDecay: number;
    lifetime: "epoch" | "run";
  };
  /** Phases covering epochs 0..epochs−1 in order. */
  phases: readonly RecipePhase[];
  /** Loss configuration (phase overrides apply on top). */
  loss: DsvaLossConfig;
  /** Attention Concentration: used when `epoch >= fromEpoch` (official `cur_epoch >
   * pro_start_epoch` with −1 → from 0), and at test time when `atTest`. */
  ac: { fromEpoch: number; atTest: boolean; options: Required<AcOptions> };
  /** Which images GZSL training uses (difference 5). Descriptive: an RSSDIVCS-layout dataset
   * takes its training list from the config's `dataset.trainList` (`train_zsl_loc`, as the
   * official code in both settings, unless set); a folder dataset trains on its split file's
   * training list in both recipes. */
  gzslTrainSet: "trainZslLoc" | "seenTrainOnly";
  /** How the reported epoch is chosen (difference 6); the training config's `selection`
   * default (`bestEpochOnTest` → `official`, `heldOutSeen` → `heldout`, which holds out 10% of
   * the seen training images). */
  modelSelection: "bestEpochOnTest" | "heldOutSeen";
  /** Which branch is the headline (difference 8). */
  reportedBranch: "vam";
  /** Report the other branches too. */
  reportAllBranches: boolean;
  /** GZSL calibrated stacking: γ subtracted from the seen classes' softmax probabilities (difference
   * 7). A run with held-out seen images chooses γ on them (the clean recipe's selection holds them
   * out); one without uses `fixedGamma` (the official 40/30 and 60/10 value; the per-split values
   * are in `OFFICIAL_SCRIPTS`). */
  calibratedStacking: { space: "probabilities"; fixedGamma: number };
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
const EPOCHS = 30, BATCHES = 300, WARMUP_LAST_EPOCH = 4;
const ALL_SETS: readonly DsvaParameterSet[] = ["backbone", "prototypes", "aleNorm", "aleLinear"];
const HEADS: readonly DsvaParameterSet[] = ["prototypes", "aleNorm", "aleLinear"];

const shared = {
  epochs: EPOCHS,
  batchesPerEpoch: BATCHES,
  sampler: { kind: "episodic", ways: 8, shots: 3 },
  testBatchSize: 64,
  image: {
    size: 224,
    resize: 256,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    train: "resize-randomcrop-hflip",
    test: "resize-centercrop",
  },
  ac: { fromEpoch: 0, atTest: true, options: OFFICIAL_AC },
  reportedBranch: "vam",
  calibratedStacking: { space: "probabilities", fixedGamma: 1e-4 },
} as const;

/** The official recipe (reference/dsva.md §5 and §10), quirks included. */
export const OFFICIAL_RECIPE: DsvaRecipe = deepFreeze({
  ...shared,
  name: "official",
  summary: "official code: CE on probabilities, 5-epoch head warm-up at 1e-4, " +
    "then all at 1e-6·0.9^⌊epoch/10⌋, Adam re-created every epoch",
  optimizer: { kind: "adam", betas: [0.5, 0.999], eps: 1e-8, weightDecay: 0, lifetime: "epoch" },
  phases: [
    {
      name: "warm-up (prototypes + ALE Linear)",
      fromEpoch: 0,
      toEpoch: WARMUP_LAST_EPOCH,
      groups: [{ sets: ["prototypes", "aleLinear"], lr: 1e-4 }],
      schedule: { kind: "constant" },
      lossWeightOverrides: { cpt: 0 },
    },
    {
      name: "fine-tune (everything)",
      fromEpoch: WARMUP_LAST_EPOCH + 1,
      toEpoch: EPOCHS - 1,
      groups: [{ sets: ALL_SETS, lr: 1e-6 }],
      schedule: { kind: "epochStep", gamma: 0.9, everyEpochs: 10 },
    },
  ],
  loss: OFFICIAL_LOSS,
  gzslTrainSet: "trainZslLoc",
  modelSelection: "bestEpochOnTest",
  reportAllBranches: false,
});

const cleanGroups = (backboneFrozen: boolean): ParamGroupSpec[] => [
  { sets: HEADS, lr: 1e-4 },
  { sets: ["backbone"], lr: 1e-6, frozen: backboneFrozen },
];
const cleanSchedule: LrScheduleSpec = {
  kind: "cosineWithWarmup",
  warmupSteps: BATCHES,
  minLrRatio: 0,
};

/** The clean recipe: the official one with differences 1–8 of the module note fixed. */
export const CLEAN_RECIPE: DsvaRecipe = deepFreeze({
  ...shared,
  name: "clean",
  summary: "CE on logits, one Adam (heads 1e-4, backbone 1e-6) with warm-up + cosine, " +
    "backbone frozen for 5 epochs, GZSL on seen training images, selection on held-out seen data",
  optimizer: { kind: "adam", betas: [0.5, 0.999], eps: 1e-8, weightDecay: 0, lifetime: "run" },
  phases: [
    {
      name: "warm-up (heads; backbone frozen)",
      fromEpoch: 0,
      toEpoch: WARMUP_LAST_EPOCH,
      groups: cleanGroups(true),
      schedule: cleanSchedule,
      lossWeightOverrides: { cpt: 0 },
    },
    {
      name: "fine-tune (everything)",
      fromEpoch: WARMUP_LAST_EPOCH + 1,
      toEpoch: EPOCHS - 1,
      groups: cleanGroups(false),
      schedule: cleanSchedule,
    },
  ],
  loss: CLEAN_LOSS,
  gzslTrainSet: "seenTrainOnly",
  modelSelection: "heldOutSeen",
  reportAllBranches: true,
});

/** The recipes by name. */
export const RECIPES: Readonly<Record<DsvaRecipe["name"], DsvaRecipe>> = Object.freeze({
  official: OFFICIAL_RECIPE,
  clean: CLEAN_RECIPE,
});

/** Every setting one of the six official scripts passes to `model/main.py` (its flags, named as
 * there; reference/dsva.md §4–§5). The training config's `--official-script <name>` preset is
 * built from this (`src/config/official_script.ts`); `tests/official_scripts_test.ts` compares
 * it flag by flag with the `.sh` files. */
export interface OfficialScript {
  /** The preset's name: the script file without `.sh`. */
  name: string;
  /** Script file name. */
  script: string;
  /** ZSL or GZSL training/evaluation (`--gzsl`: GZSL test and the best-H selection). */
  setting: "zsl" | "gzsl";
  /** Seen/unseen split. */
  split: "60/10" | "50/20" | "40/30";
  /** The tag of the split's `.mat` files: `files/<tag>_images.mat`,
   * `files/ann_attr_finetune_<tag>_splits.mat`. */
  filesTag: "43" | "52" | "61";
  /** `--manualSeed` (null: not given, the official code draws one at random). */
  seed: number | null;
  /** `--pro_start_epoch`: the AC runs in epochs after it (−1: from epoch 0; 40: never within
   * 30 epochs). */
  proStartEpoch: number;
  /** Whether the AC runs within `epochs` (derived from `proStartEpoch`). */
  ac: boolean;
  /** The last `--calibrated_stacking` (argparse keeps the last): γ of the GZSL test. The ZSL
   * scripts pass 0.7, which the ZSL test never applies. */
  gamma: number;
  /** Loss weights (`--xe --attri --regular --l_xe --l_attri --l_regular --cpt`). */
  lossWeights: Readonly<DsvaLossWeights>;
  /** `--nepoch`, `--n_batch`, `--ways`, `--shots`, `--batch_size` (test loader only). */
  epochs: number;
  batchesPerEpoch: number;
  ways: number;
  shots: number;
  testBatchSize: number;
  /** `--pretrain_epoch`: the warm-up covers epochs 0..pretrainEpoch. */
  pretrainEpoch: number;
  /** `--pretrain_lr` (warm-up) and `--classifier_lr` (everything afterwards). */
  pretrainLr: number;
  classifierLr: number;
  /** `--pro_thr`: the AC threshold factor. */
  proThr: number;
}

const SCRIPT_SHARED = {
  lossWeights: OFFICIAL_LOSS_WEIGHTS,
  epochs: EPOCHS,
  batchesPerEpoch: BATCHES,
  ways: 8,
  shots: 3,
  testBatchSize: 64,
  pretrainEpoch: WARMUP_LAST_EPOCH,
  pretrainLr: 1e-4,
  classifierLr: 1e-6,
  proThr: 1,
} as const;

const script = (
  s:
    & Pick<
      OfficialScript,
      "name" | "setting" | "split" | "filesTag" | "seed" | "proStartEpoch" | "gamma"
    >
    & Partial<OfficialScript>,
): OfficialScript => ({
  ...SCRIPT_SHARED,
  script: `${s.name}.sh`,
  ac: s.proStartEpoch + 1 < (s.epochs ?? SCRIPT_SHARED.epochs),
  ...s,
});

/** The official scripts' settings. */
export const OFFICIAL_SCRIPTS: readonly OfficialScript[] = deepFreeze([
  script({
    name: "01_ZSL_43_11",
    setting: "zsl",
    split: "40/30",
    filesTag: "43",
    seed: 3982,
    proStartEpoch: -1,
    gamma: 0.7,
  }),
  script({
    name: "02_ZSL_52_11",
    setting: "zsl",
    split: "50/20",
    filesTag: "52",
    seed: 3866,
    proStartEpoch: -1,
    gamma: 0.7,
  }),
  script({
    name: "03_ZSL_61_12",
    setting: "zsl",
    split: "60/10",
    filesTag: "61",
    seed: 4702,
    proStartEpoch: 40,
    gamma: 0.7,
  }),
  script({
    name: "11_gzsl_43_11",
    setting: "gzsl",
    split: "40/30",
    filesTag: "43",
    seed: 1342,
    proStartEpoch: -1,
    gamma: 1e-4,
  }),
  script({
    name: "12_gzsl_52_9",
    setting: "gzsl",
    split: "50/20",
    filesTag: "52",
    seed: 9905,
    proStartEpoch: -1,
    gamma: 1.4e-4,
    lossWeights: OFFICIAL_GZSL_50_20_WEIGHTS,
  }),
  script({
    name: "13_gzsl_61_12",
    setting: "gzsl",
    split: "60/10",
    filesTag: "61",
    seed: null,
    proStartEpoch: -1,
    gamma: 1e-4,
  }),
]);

/** The official script named `name` (with or without `.sh`); throws naming the six. */
export function officialScript(name: string): OfficialScript {
  const s = OFFICIAL_SCRIPTS.find((x) => x.name === name || x.script === name);
  if (!s) {
    throw new RangeError(
      `no official script ${name} (one of ${OFFICIAL_SCRIPTS.map((x) => x.name).join(", ")})`,
    );
  }
  return s;
}

/** The phase that covers `epoch`. */
export function recipePhase(recipe: DsvaRecipe, epoch: number): RecipePhase {
  const p = recipe.phases.find((ph) => ph.fromEpoch <= epoch && epoch <= ph.toEpoch);
  if (!p) throw new RangeError(`recipe ${recipe.name}: no phase covers epoch ${epoch}`);
  return p;
}

/** The lr factor of `phase` at `epoch` and batch `step` of that epoch (0-based). */
export function lrFactor(
  recipe: DsvaRecipe,
  phase: RecipePhase,
  epoch: number,
  step: number,
): number {
  const s = phase.schedule;
  switch (s.kind) {
    case "constant":
      return 1;
    case "epochStep":
      return s.gamma ** Math.floor(epoch / s.everyEpochs);
    case "cosineWithWarmup":
      return cosineWithWarmupFactor(epoch * recipe.batchesPerEpoch + step, {
        warmupSteps: s.warmupSteps,
        totalSteps: recipe.epochs * recipe.batchesPerEpoch,
        minLrRatio: s.minLrRatio,
      });
  }
}

/** Each group's learning rate at `epoch`, batch `step`: base lr × the phase's factor. */
export function groupLearningRates(recipe: DsvaRecipe, epoch: number, step: number): number[] {
  const phase = recipePhase(recipe, epoch);
  const f = lrFactor(recipe, phase, epoch, step);
  return phase.groups.map((g) => g.lr * f);
}

/** The loss configuration at `epoch` (the recipe's, with the phase's weight overrides). */
export function recipeLoss(recipe: DsvaRecipe, epoch: number): DsvaLossConfig {
  const o = recipePhase(recipe, epoch).lossWeightOverrides;
  return o ? { ...recipe.loss, weights: { ...recipe.loss.weights, ...o } } : recipe.loss;
}

/** A recipe with some fields replaced (e.g. a shorter run for CPU): `epochs`,
 * `batchesPerEpoch`, ... Phases are clipped to the new epoch count; the warm-up keeps its
 * length unless `warmupEpochs` is given. */
export function scaleRecipe(
  recipe: DsvaRecipe,
  opts: { epochs?: number; batchesPerEpoch?: number; warmupEpochs?: number },
): DsvaRecipe {
  const epochs = opts.epochs ?? recipe.epochs;
  const warm = opts.warmupEpochs ?? recipe.phases[0].toEpoch + 1;
  if (!(Number.isInteger(epochs) && epochs >= 1 && Number.isInteger(warm) && warm >= 0)) {
    throw new RangeError(`scaleRecipe: bad epochs ${epochs} / warmupEpochs ${warm}`);
  }
  const [first, ...rest] = recipe.phases;
  const phases: RecipePhase[] = [];
  if (warm > 0) phases.push({ ...first, fromEpoch: 0, toEpoch: Math.min(warm, epochs) - 1 });
  if (epochs > warm) {
    for (const p of rest) phases.push({ ...p, fromEpoch: warm, toEpoch: epochs - 1 });
  }
  const batches = opts.batchesPerEpoch ?? recipe.batchesPerEpoch;
  const fixSchedule = (p: RecipePhase): RecipePhase =>
    p.schedule.kind === "cosineWithWarmup"
      ? {
        ...p,
        schedule: { ...p.schedule, warmupSteps: Math.min(p.schedule.warmupSteps, batches) },
      }
      : p;
  return deepFreeze({
    ...recipe,
    epochs,
    batchesPerEpoch: batches,
    phases: phases.map(fixSchedule),
  });
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Resolution of a training configuration: partial configs (file, flags) merged, CLI over file,
 * then every field filled in to a complete {@link TrainConfig} (defaults that depend on the
 * recipe and the backbone included) and the combination checked.
 *
 * Resolution rules (documented in the README):
 * * the default run (`DEFAULTS`): synthetic scenes, a `cpu-tiny` ViT trained from scratch at
 *   64×64, the clean recipe, 8 epochs × 40 episodic batches of the recipe's 8 classes × 3
 *   images, on the CPU;
 * * learning rates and the frozen-backbone warm-up come from the recipe (heads 1e-4; backbone
 *   1e-6; 5 warm-up epochs) for pretrained backbones (CLIP, Darknet). A ViT trained from scratch
 *   has nothing to protect: heads and backbone both at `DEFAULTS.scratchLr` and no frozen warm-up;
 * * loss weights, the CE quirk, the AC settings and the evaluation batch size come from the
 *   recipe; `loss.weights` overrides single terms;
 * * model selection is the recipe's `modelSelection` (clean → `heldout`, official → `official`,
 *   the best epoch on the test set); `heldout` selection holds out 10% of each seen class; γ is
 *   chosen on the held-out seen images when there are any, else the recipe's `fixedGamma`
 *   (1e-4, the official 40/30 and 60/10 value, on softmax probabilities);
 * * image size: the backbone's input size (cpu-tiny 64; CLIP and Darknet the recipe's 224);
 *   resize = size × the recipe's 256/224 (Resize(256) → crop 224 scaled), normalisation
 *   ImageNet (Darknet: [0, 1]);
 * * `officialScript` (`--official-script <name>`) puts that script's settings
 *   (`official_script.ts`) under the file and the flags;
 * * a dataset folder with `files/<tag>_images.mat` + `ann_attr_finetune_<tag>_splits.mat` and no
 *   `splits.json` is the official RSSDIVCS layout (`kind: "rssdivcs"`, attributes as stored,
 *   training list `train_zsl_loc` as the official code's).
 * @module
 */
import { rssdivcsFiles } from "../data/rssdivcs.ts";
import { SYNTHETIC_DEFAULTS } from "../data/synthetic/defaults.ts";
import { type DsvaRecipe, RECIPES } from "../dsva/recipes.ts";
import type { DsvaLossWeights } from "../dsva/losses.ts";
import { VIT_PRESETS } from "../models/vit_config.ts";
import { autoThreads, DEFAULTS } from "./defaults.ts";
import { ConfigError } from "./errors.ts";
import { officialScriptPreset } from "./official_script.ts";
import { parsePartialConfig, type PartialConfig } from "./schema.ts";
import type { SelectionRule, TrainConfig } from "./types.ts";

/** The config's selection rule for each recipe's `modelSelection`. */
const SELECTION: Record<DsvaRecipe["modelSelection"], SelectionRule> = {
  bestEpochOnTest: "official",
  heldOutSeen: "heldout",
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** `dataset`, `backbone`, `lr`, `ac` shorthands as objects. */
function normalize(p: PartialConfig): Obj {
  const out: Obj = { ...p };
  if (typeof p.dataset === "string") {
    out.dataset = p.dataset === "synthetic"
      ? { kind: "synthetic" }
      : { kind: "folder", dir: p.dataset };
  }
  if (typeof p.backbone === "string") {
    out.backbone = p.backbone === "clip" || p.backbone === "darknet"
      ? { kind: p.backbone }
      : { kind: "vit", preset: p.backbone };
  }
  if (typeof p.lr === "number") out.lr = { heads: p.lr, backbone: p.lr };
  if (typeof p.ac === "boolean") out.ac = { enabled: p.ac };
  return out;
}

/** Deep merge of two normalised partial configs, `b` winning; a `dataset` or `backbone` of
 * another `kind` replaces the whole object. */
export function mergePartial(a: PartialConfig, b: PartialConfig): PartialConfig {
  const na = normalize(a), nb = normalize(b);
  const merge = (x: Obj, y: Obj): Obj => {
    const out: Obj = { ...x };
    for (const [k, v] of Object.entries(y)) {
      if (v === undefined) continue;
      const cur = out[k];
      const kindClash = isObj(cur) && isObj(v) && "kind" in v && "kind" in cur &&
        v.kind !== cur.kind;
      out[k] = isObj(cur) && isObj(v) && !kindClash ? merge(cur, v) : v;
    }
    return out;
  };
  return merge(na, nb) as PartialConfig;
}

/** The dataset kind a partial config's `dataset` means: a folder given without explicit
 * attribute or split files is the official RSSDIVCS layout when it has `files/` with a
 * `<tag>_images.mat` + `ann_attr_finetune_<tag>_splits.mat` pair and no `splits.json`. */
export function datasetKind(
  dataset: PartialConfig["dataset"],
): "synthetic" | "folder" | "rssdivcs" {
  const d = normalize({ dataset }).dataset as Obj | undefined;
  if (!d || d.kind === "synthetic") return "synthetic";
  if (d.kind === "rssdivcs") return "rssdivcs";
  if (d.kind === undefined && d.dir === undefined) return "synthetic";
  const dir = d.dir as string | undefined;
  const plainFolder = dir !== undefined && d.attributes === undefined && d.splits === undefined;
  return plainFolder && rssdivcsFiles(dir).length > 0 && !isFile(`${dir}/splits.json`)
    ? "rssdivcs"
    : "folder";
}

function isFile(p: string): boolean {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}

/** The partial config with its official script's preset under it (file and flags win). */
export function withOfficialScript(partial: PartialConfig): PartialConfig {
  if (partial.officialScript == null) return partial; // a saved config holds null
  const preset = officialScriptPreset(
    partial.officialScript,
    partial,
    datasetKind(partial.dataset),
  );
  return mergePartial(preset, partial);
}

/** Fills every default into a merged partial config (under its official script's preset, when
 * it names one) and checks the combination. */
export function resolveConfig(partial: PartialConfig): TrainConfig {
  const p = normalize(withOfficialScript(partial)) as Obj & PartialConfig;
  const recipeName = p.recipe ?? DEFAULTS.recipe;
  const recipe = RECIPES[recipeName];

  const dsIn = (p.dataset ?? { kind: "synthetic" }) as Obj;
  const kindIn = datasetKind(p.dataset);
  if (kindIn === "rssdivcs") {
    for (const k of ["attributes", "splits"]) {
      if (dsIn[k] !== undefined) {
        throw new ConfigError(
          `dataset.${k}: an RSSDIVCS-layout dataset reads files/*.mat (dataset is rssdivcs)`,
        );
      }
    }
  } else if (dsIn.trainList !== undefined) {
    throw new ConfigError(
      `dataset.trainList: only an RSSDIVCS-layout dataset has it (dataset is ${kindIn})`,
    );
  }
  if (kindIn !== "folder" && dsIn.skipMissing !== undefined) {
    throw new ConfigError(
      `dataset.skipMissing: only a folder dataset has it (dataset is ${kindIn})`,
    );
  }
  const dataset: TrainConfig["dataset"] = kindIn === "rssdivcs"
    ? {
      kind: "rssdivcs",
      dir: need(dsIn.dir, "dataset.dir", "an RSSDIVCS-layout dataset needs its folder"),
      split: (dsIn.split as string | null | undefined) ?? null,
      images: (dsIn.images as string | null | undefined) ?? null,
      groups: (dsIn.groups as string | null | undefined) ?? null,
      trainList: (dsIn.trainList as "train_zsl_loc" | "train_gzsl_loc" | undefined) ??
        "train_zsl_loc",
      attributeScale: (dsIn.attributeScale as "none" | "max" | "l2" | undefined) ?? "none",
    }
    : kindIn === "folder"
    ? {
      kind: "folder",
      dir: need(dsIn.dir, "dataset.dir", "a folder dataset needs its folder"),
      split: (dsIn.split as string | null | undefined) ?? null,
      images: (dsIn.images as string | null | undefined) ?? null,
      attributes: (dsIn.attributes as string | null | undefined) ?? null,
      splits: (dsIn.splits as string | null | undefined) ?? null,
      groups: (dsIn.groups as string | null | undefined) ?? null,
      attributeScale: (dsIn.attributeScale as "none" | "max" | "l2" | undefined) ??
        DEFAULTS.attributeScale,
      // Only when given, so that the configs of earlier runs resolve as they did.
      ...(dsIn.skipMissing === undefined ? {} : { skipMissing: dsIn.skipMissing as boolean }),
    }
    : {
      kind: "synthetic",
      seed: (dsIn.seed as number | undefined) ?? SYNTHETIC_DEFAULTS.seed,
      imagesPerClass: (dsIn.imagesPerClass as number | undefined) ??
        SYNTHETIC_DEFAULTS.imagesPerClass,
      size: (dsIn.size as number | undefined) ?? SYNTHETIC_DEFAULTS.size,
    };
  if (dsIn.kind === "synthetic") {
    for (
      const k of ["dir", "split", "images", "attributes", "splits", "groups", "attributeScale"]
    ) {
      if (dsIn[k] !== undefined) {
        throw new ConfigError(`dataset.${k}: only a folder dataset has it (dataset is synthetic)`);
      }
    }
  }

  const bbIn = (p.backbone ?? { kind: "vit" }) as Obj;
  const kind = (bbIn.kind as string | undefined) ?? "vit";
  let backbone: TrainConfig["backbone"];
  if (kind === "vit") {
    if (bbIn.dir !== undefined) {
      throw new ConfigError(
        "backbone.dir: a ViT preset is trained from scratch; use kind clip for weights",
      );
    }
    for (const k of ["format", "activation"]) {
      if (bbIn[k] !== undefined) {
        throw new ConfigError(`backbone.${k}: only a clip backbone has it (--backbone clip)`);
      }
    }
    backbone = {
      kind: "vit",
      preset: (bbIn.preset as string | undefined) ?? DEFAULTS.vitPreset,
      patchSize: (bbIn.patchSize as number | null | undefined) ?? null,
      hiddenSize: (bbIn.hiddenSize as number | null | undefined) ?? null,
      numLayers: (bbIn.numLayers as number | null | undefined) ?? null,
      numHeads: (bbIn.numHeads as number | null | undefined) ?? null,
      intermediateSize: (bbIn.intermediateSize as number | null | undefined) ?? null,
    };
  } else {
    const dir = need(bbIn.dir, "backbone.dir", `a ${kind} backbone needs its weights folder`);
    for (const k of ["preset", "patchSize", "hiddenSize", "numLayers", "numHeads"]) {
      if (bbIn[k] !== undefined && bbIn[k] !== null) {
        throw new ConfigError(`backbone.${k}: only a ViT preset backbone has it`);
      }
    }
    const clipOnly = { format: bbIn.format, activation: bbIn.activation };
    if (kind === "clip") {
      backbone = { kind: "clip", dir };
      // Only when given, so that a config without them resolves as before.
      if (clipOnly.format !== undefined) backbone.format = clipOnly.format as never;
      if (clipOnly.activation !== undefined) backbone.activation = clipOnly.activation as never;
    } else {
      for (const [k, x] of Object.entries(clipOnly)) {
        if (x !== undefined) throw new ConfigError(`backbone.${k}: only a clip backbone has it`);
      }
      backbone = { kind: "darknet", dir };
    }
  }
  const scratch = backbone.kind === "vit";

  const presetSize = backbone.kind === "vit"
    ? VIT_PRESETS[backbone.preset as keyof typeof VIT_PRESETS].imageSize
    : recipe.image.size;
  const imageSize = p.imageSize ?? presetSize;
  const resize = p.resize ?? Math.round((imageSize * recipe.image.resize) / recipe.image.size);
  if (resize < imageSize) {
    throw new ConfigError(`resize: ${resize} is smaller than imageSize ${imageSize}`);
  }
  const patch = backbone.kind === "vit"
    ? backbone.patchSize ?? VIT_PRESETS[backbone.preset as keyof typeof VIT_PRESETS].patchSize
    : null;
  if (patch !== null && imageSize % patch !== 0) {
    throw new ConfigError(`imageSize: ${imageSize} is not a multiple of the patch size ${patch}`);
  }

  const lrIn = (p.lr ?? {}) as { heads?: number; backbone?: number; warmupSteps?: number };
  const recipeHeads = recipe.phases[0].groups[0].lr;
  const recipeBackbone = recipe.phases.at(-1)!.groups.find((g) => g.sets.includes("backbone"))!
    .lr;
  const batches = p.batchesPerEpoch ?? DEFAULTS.batchesPerEpoch;
  const lr = {
    heads: lrIn.heads ?? (scratch ? DEFAULTS.scratchLr : recipeHeads),
    backbone: lrIn.backbone ?? (scratch ? DEFAULTS.scratchLr : recipeBackbone),
    warmupSteps: lrIn.warmupSteps ?? batches,
  };
  const epochs = p.epochs ?? DEFAULTS.epochs;
  const warmupEpochs = p.warmupEpochs ??
    (scratch ? 0 : Math.min(recipe.phases[0].toEpoch + 1, epochs));
  if (warmupEpochs > epochs) {
    throw new ConfigError(`warmupEpochs: ${warmupEpochs} is more than epochs ${epochs}`);
  }

  const lossIn = (p.loss ?? {}) as {
    ceOnProbabilities?: boolean;
    weights?: Partial<DsvaLossWeights>;
  };
  const loss = {
    ceOnProbabilities: lossIn.ceOnProbabilities ?? recipe.loss.ceOnProbabilities,
    weights: { ...recipe.loss.weights, ...(lossIn.weights ?? {}) },
  };

  const acIn = (p.ac ?? {}) as Partial<TrainConfig["ac"]>;
  const ac = {
    enabled: acIn.enabled ?? DEFAULTS.acEnabled,
    fromEpoch: acIn.fromEpoch ?? recipe.ac.fromEpoch,
    atTest: acIn.atTest ?? recipe.ac.atTest,
    thr: acIn.thr ?? recipe.ac.options.thr,
    iterations: acIn.iterations ?? recipe.ac.options.iterations,
    proWeight: acIn.proWeight ?? recipe.ac.options.proWeight,
  };
  if (!ac.enabled) ac.atTest = acIn.atTest ?? false;

  const selection = p.selection ?? SELECTION[recipe.modelSelection];
  const heldoutFraction = p.heldoutFraction ??
    (selection === "heldout" ? DEFAULTS.heldoutFraction : 0);
  const gamma = p.gamma ??
    (heldoutFraction > 0 ? "heldout" : recipe.calibratedStacking.fixedGamma);
  if (selection === "heldout" && heldoutFraction === 0) {
    throw new ConfigError("selection: heldout needs heldoutFraction > 0");
  }
  if (gamma === "heldout" && heldoutFraction === 0) {
    throw new ConfigError(
      'gamma: "heldout" needs held-out seen images (heldoutFraction > 0); give a number instead',
    );
  }
  const device = p.device ?? DEFAULTS.device;
  const autocast = p.autocast ?? DEFAULTS.autocast;
  if (autocast === "bf16" && !device.startsWith("cuda")) {
    throw new ConfigError('autocast: "bf16" runs on CUDA only (device is cpu)');
  }
  const threads = p.threads ?? DEFAULTS.threads;

  return {
    name: p.name ?? (
      dataset.kind === "synthetic" && backbone.kind === "vit" && p.recipe === undefined
        ? DEFAULTS.name
        : `${dataset.kind === "synthetic" ? "synthetic" : baseName(dataset.dir)}-${
          backbone.kind === "vit" ? backbone.preset : backbone.kind
        }-${p.officialScript ?? recipeName}`
    ),
    dataset,
    backbone,
    recipe: recipeName,
    officialScript: p.officialScript ?? null,
    epochs,
    batchesPerEpoch: batches,
    warmupEpochs,
    ways: p.ways ?? recipe.sampler.ways,
    shots: p.shots ?? recipe.sampler.shots,
    imageSize,
    resize,
    normalization: p.normalization ?? (backbone.kind === "darknet" ? "unit" : "imagenet"),
    lr,
    betas: (p.betas as [number, number] | undefined) ??
      [recipe.optimizer.betas[0], recipe.optimizer.betas[1]],
    loss,
    ac,
    seed: p.seed ?? DEFAULTS.seed,
    device,
    autocast,
    threads: threads === "auto" ? autoThreads() : threads,
    selection,
    selectionMetric: p.selectionMetric ?? DEFAULTS.selectionMetric,
    heldoutFraction,
    gamma,
    gammaRetain: p.gammaRetain ?? DEFAULTS.gammaRetain,
    evalEvery: p.evalEvery ?? DEFAULTS.evalEvery,
    monitorTest: p.monitorTest ?? DEFAULTS.monitorTest,
    testBatchSize: p.testBatchSize ?? recipe.testBatchSize,
    loaderConcurrency: p.loaderConcurrency ?? DEFAULTS.loaderConcurrency,
    workers: p.workers ?? DEFAULTS.workers,
    onBadImage: p.onBadImage ?? DEFAULTS.onBadImage,
    runsDir: p.runsDir ?? DEFAULTS.runsDir,
    pictures: p.pictures ?? DEFAULTS.pictures,
    maxSteps: p.maxSteps ?? DEFAULTS.maxSteps,
  };
}

function need(v: unknown, field: string, why: string): string {
  if (typeof v !== "string" || v === "") throw new ConfigError(`${field}: missing (${why})`);
  return v;
}

function baseName(p: string): string {
  return p.replace(/\/+$/, "").split("/").pop()!.replace(/[^A-Za-z0-9._-]/g, "_") || "dataset";
}

/** Validates a resolved config read back from a run folder (`config.json`). */
export function checkResolvedConfig(json: unknown, where: string): TrainConfig {
  const p = parsePartialConfig(stripResolved(json), () => where);
  const back = resolveConfig(p);
  return back;
}

/** A resolved config as a partial one (its `threads` may be any number; nulls dropped). */
function stripResolved(json: unknown): unknown {
  if (!isObj(json)) return json;
  const drop = (o: Obj): Obj =>
    Object.fromEntries(
      Object.entries(o).filter(([, v]) => v !== null).map(([k, v]) => [k, isObj(v) ? drop(v) : v]),
    );
  return drop(json);
}

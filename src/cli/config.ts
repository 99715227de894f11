/**
 * Training configuration: a JSON file and CLI flags, each validated with zod (errors name the
 * field and where it came from), CLI overriding file, then resolved into a complete
 * {@link TrainConfig} (defaults that depend on the recipe and the backbone filled in).
 *
 * Resolution rules (documented in the README):
 * * the default run: synthetic scenes, a `cpu-tiny` ViT trained from scratch at 64×64, the clean
 *   recipe, 8 epochs × 40 episodic batches of 8 classes × 3 images, on the CPU;
 * * learning rates and the frozen-backbone warm-up come from the recipe (heads 1e-4; backbone
 *   1e-6; 5 warm-up epochs) for pretrained backbones (CLIP, Darknet). A ViT trained from scratch
 *   has nothing to protect: heads and backbone both at 1e-3 and no frozen warm-up;
 * * loss weights and the CE quirk come from the recipe; `loss.weights` overrides single terms;
 * * model selection, held-out fraction and γ: clean → `heldout`, 10%, γ chosen on the held-out
 *   seen images; official → `official` (best epoch on the test set), no held-out images, fixed
 *   γ = 1e-4 (the official 40/30 and 60/10 value, on softmax probabilities);
 * * image size: the backbone's input size (cpu-tiny 64, CLIP and Darknet 224); resize = size ×
 *   256/224 (Resize(256) → crop 224 scaled), normalisation ImageNet (Darknet: [0, 1]).
 * @module
 */
import { z } from "npm:zod@^4";
import { RECIPES } from "../dsva/recipes.ts";
import type { DsvaLossTerm, DsvaLossWeights } from "../dsva/losses.ts";
import { VIT_PRESETS } from "../models/vit_config.ts";
import type { TrainConfig } from "../train/types.ts";

/** A configuration problem; `message` names the field and its source. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const LOSS_TERMS = [
  "ce",
  "mseGlobal",
  "ceCrop",
  "ceVam",
  "mseVam",
  "cpt",
  "glassoPrototypes",
  "glassoAle",
] as const satisfies readonly DsvaLossTerm[];

/** Integer schemas with messages that say what was expected (configs and experiment grids). */
export const int = () => z.number().int({ error: "expected an integer" });
export const posInt = () => int().positive({ error: "expected a positive integer" });
export const nonNegInt = () => int().nonnegative({ error: "expected an integer ≥ 0" });
const posNum = () => z.number().positive();
const fraction = () => z.number().min(0).lt(1);

const SyntheticIn = z.strictObject({
  kind: z.literal("synthetic"),
  seed: nonNegInt(),
  imagesPerClass: posInt(),
  size: posInt(),
}).partial();

const FolderIn = z.strictObject({
  kind: z.literal("folder"),
  dir: z.string().min(1),
  split: z.string().min(1).nullable(),
  images: z.string().min(1).nullable(),
  attributes: z.string().min(1).nullable(),
  splits: z.string().min(1).nullable(),
  groups: z.string().min(1).nullable(),
  attributeScale: z.enum(["none", "max", "l2"]),
}).partial();

const BackboneIn = z.strictObject({
  kind: z.enum(["vit", "clip", "darknet"]),
  preset: z.enum(Object.keys(VIT_PRESETS) as [string, ...string[]]),
  dir: z.string().min(1),
  patchSize: posInt().nullable(),
  hiddenSize: posInt().nullable(),
  numLayers: posInt().nullable(),
  numHeads: posInt().nullable(),
  intermediateSize: posInt().nullable(),
}).partial();

/** What a config file or the CLI may give: every field optional. `dataset` may be the string
 * `synthetic` or a folder path, `backbone` a ViT preset name, `lr` one number for both groups. */
export const PartialConfigSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' only"),
  dataset: z.union([z.string().min(1), SyntheticIn, FolderIn], {
    error: 'expected "synthetic", a dataset folder path, or {kind: "synthetic" | "folder", ...}',
  }),
  backbone: z.union([z.string().min(1), BackboneIn], {
    error: 'expected a ViT preset name, "clip", "darknet", or {kind, ...}',
  }),
  recipe: z.enum(["official", "clean"]),
  epochs: posInt(),
  batchesPerEpoch: posInt(),
  warmupEpochs: nonNegInt(),
  ways: posInt(),
  shots: posInt(),
  imageSize: posInt(),
  resize: posInt(),
  normalization: z.enum(["imagenet", "clip", "unit"]),
  lr: z.union([
    posNum(),
    z.strictObject({ heads: posNum(), backbone: posNum(), warmupSteps: nonNegInt() }).partial(),
  ], { error: "expected a positive number or {heads, backbone, warmupSteps}" }),
  betas: z.tuple([fraction(), fraction()]),
  loss: z.strictObject({
    ceOnProbabilities: z.boolean(),
    weights: z.strictObject(
      Object.fromEntries(LOSS_TERMS.map((t) => [t, z.number().min(0)])) as Record<
        DsvaLossTerm,
        z.ZodNumber
      >,
    ).partial(),
  }).partial(),
  ac: z.union([
    z.boolean(),
    z.strictObject({
      enabled: z.boolean(),
      fromEpoch: nonNegInt(),
      atTest: z.boolean(),
      thr: z.number().positive(),
      iterations: posInt(),
      proWeight: z.number(),
    }).partial(),
  ], { error: "expected true, false or {enabled, fromEpoch, atTest, thr, iterations, proWeight}" }),
  seed: nonNegInt(),
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, 'expected "cpu", "cuda" or "cuda:N"'),
  autocast: z.enum(["none", "bf16"]),
  threads: z.union([posInt(), z.literal("auto")], {
    error: 'expected a positive integer or "auto"',
  }),
  selection: z.enum(["official", "heldout", "last"]),
  selectionMetric: z.enum(["zsl", "H"]),
  heldoutFraction: fraction(),
  gamma: z.union([z.number(), z.literal("heldout")], {
    error: 'expected a number or "heldout"',
  }),
  gammaRetain: z.number().gt(0).max(1),
  evalEvery: posInt(),
  monitorTest: z.boolean(),
  testBatchSize: posInt(),
  loaderConcurrency: posInt(),
  workers: nonNegInt(),
  runsDir: z.string().min(1),
  pictures: nonNegInt(),
  maxSteps: nonNegInt(),
}).partial();

/** A validated partial configuration (file or CLI). */
export type PartialConfig = z.infer<typeof PartialConfigSchema>;

/** Formats zod issues as `field: problem (got value) [where]` lines; `source(path)` says where a
 * field came from (e.g. the config file's name or the CLI flag). Object values are shown unless
 * `showObjects` is false. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  source: (path: string) => string,
  showObjects = true,
): string {
  return issues.map((i) => {
    let path = i.path.map(String).join(".");
    let msg = i.message.replace(/^Invalid input: /, "");
    if (i.code === "unrecognized_keys") {
      const keys = (i as { keys: string[] }).keys;
      path = [path, keys[0]].filter(Boolean).join(".");
      msg = `unknown field${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}`;
    }
    const got = valueAt(input, i.path);
    const shown = got === undefined || i.code === "unrecognized_keys" ||
        (!showObjects && typeof got === "object")
      ? ""
      : ` (got ${JSON.stringify(got)})`;
    return `${path || "(top level)"}: ${msg}${shown} [${source(path)}]`;
  }).join("\n");
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Validates a partial configuration; throws a {@link ConfigError} listing every bad field. */
export function parsePartialConfig(
  input: unknown,
  source: (path: string) => string,
): PartialConfig {
  const r = PartialConfigSchema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(
      `invalid configuration:\n${describeIssues(r.error.issues, input, source)}`,
    );
  }
  return r.data;
}

/** Reads and validates a JSON config file. */
export async function readConfigFile(path: string): Promise<PartialConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError(`cannot read the config file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parsePartialConfig(json, () => path);
}

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

/** The default run's values (see the module note). */
export const DEFAULTS = {
  name: "default",
  epochs: 8,
  batchesPerEpoch: 40,
  ways: 8,
  shots: 3,
  seed: 0,
  device: "cpu",
  autocast: "none",
  threads: "auto",
  gammaRetain: 0.8,
  evalEvery: 1,
  monitorTest: true,
  testBatchSize: 64,
  loaderConcurrency: 4,
  workers: 0,
  runsDir: "runs",
  pictures: 6,
  maxSteps: 0,
} as const;

/** The number of threads `auto` means: the machine's cores (at most 16). */
export function autoThreads(): number {
  return Math.max(1, Math.min(16, navigator.hardwareConcurrency ?? 1));
}

/** Fills every default into a merged partial config and checks the combination. */
export function resolveConfig(partial: PartialConfig): TrainConfig {
  const p = normalize(partial) as Obj & PartialConfig;
  const recipeName = p.recipe ?? "clean";
  const recipe = RECIPES[recipeName];

  const dsIn = (p.dataset ?? { kind: "synthetic" }) as Obj;
  const dataset: TrainConfig["dataset"] = dsIn.kind === "folder"
    ? {
      kind: "folder",
      dir: need(dsIn.dir, "dataset.dir", "a folder dataset needs its folder"),
      split: (dsIn.split as string | null | undefined) ?? null,
      images: (dsIn.images as string | null | undefined) ?? null,
      attributes: (dsIn.attributes as string | null | undefined) ?? null,
      splits: (dsIn.splits as string | null | undefined) ?? null,
      groups: (dsIn.groups as string | null | undefined) ?? null,
      attributeScale: (dsIn.attributeScale as "none" | "max" | "l2" | undefined) ?? "max",
    }
    : {
      kind: "synthetic",
      seed: (dsIn.seed as number | undefined) ?? 0,
      imagesPerClass: (dsIn.imagesPerClass as number | undefined) ?? 40,
      size: (dsIn.size as number | undefined) ?? 96,
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

  const bbIn = (p.backbone ?? { kind: "vit", preset: "cpu-tiny" }) as Obj;
  const kind = (bbIn.kind as string | undefined) ?? "vit";
  let backbone: TrainConfig["backbone"];
  if (kind === "vit") {
    if (bbIn.dir !== undefined) {
      throw new ConfigError(
        "backbone.dir: a ViT preset is trained from scratch; use kind clip for weights",
      );
    }
    backbone = {
      kind: "vit",
      preset: (bbIn.preset as string | undefined) ?? "cpu-tiny",
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
    backbone = kind === "clip" ? { kind: "clip", dir } : { kind: "darknet", dir };
  }
  const scratch = backbone.kind === "vit";

  const presetSize = backbone.kind === "vit"
    ? VIT_PRESETS[backbone.preset as keyof typeof VIT_PRESETS].imageSize
    : 224;
  const imageSize = p.imageSize ?? presetSize;
  const resize = p.resize ?? Math.round((imageSize * 256) / 224);
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
    heads: lrIn.heads ?? (scratch ? 1e-3 : recipeHeads),
    backbone: lrIn.backbone ?? (scratch ? 1e-3 : recipeBackbone),
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
    enabled: acIn.enabled ?? true,
    fromEpoch: acIn.fromEpoch ?? recipe.ac.fromEpoch,
    atTest: acIn.atTest ?? recipe.ac.atTest,
    thr: acIn.thr ?? recipe.ac.options.thr,
    iterations: acIn.iterations ?? recipe.ac.options.iterations,
    proWeight: acIn.proWeight ?? recipe.ac.options.proWeight,
  };
  if (!ac.enabled) ac.atTest = acIn.atTest ?? false;

  const official = recipeName === "official";
  const selection = p.selection ?? (official ? "official" : "heldout");
  const heldoutFraction = p.heldoutFraction ?? (selection === "heldout" ? 0.1 : 0);
  const gamma = p.gamma ?? (heldoutFraction > 0 ? "heldout" : 1e-4);
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
        }-${recipeName}`
    ),
    dataset,
    backbone,
    recipe: recipeName,
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
    selectionMetric: p.selectionMetric ?? "zsl",
    heldoutFraction,
    gamma,
    gammaRetain: p.gammaRetain ?? DEFAULTS.gammaRetain,
    evalEvery: p.evalEvery ?? DEFAULTS.evalEvery,
    monitorTest: p.monitorTest ?? DEFAULTS.monitorTest,
    testBatchSize: p.testBatchSize ?? DEFAULTS.testBatchSize,
    loaderConcurrency: p.loaderConcurrency ?? DEFAULTS.loaderConcurrency,
    workers: p.workers ?? DEFAULTS.workers,
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

/**
 * The zod schema of a partial training configuration (what a config file, the flags or
 * `--set` may give; every field optional, shorthands allowed), the integer schema helpers the
 * experiment grids share, and the formatter that turns zod issues into `field: problem [source]`
 * lines.
 * @module
 */
import { z } from "npm:zod@^4";
import type { DsvaLossTerm } from "../dsva/losses.ts";
import { OFFICIAL_SCRIPTS } from "../dsva/recipes.ts";
import { VIT_PRESETS } from "../models/vit_config.ts";
import { ConfigError } from "./errors.ts";

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
  skipMissing: z.boolean(),
}).partial();

const RssdivcsIn = z.strictObject({
  kind: z.literal("rssdivcs"),
  dir: z.string().min(1),
  split: z.string().min(1).nullable(),
  images: z.string().min(1).nullable(),
  groups: z.string().min(1).nullable(),
  trainList: z.enum(["train_zsl_loc", "train_gzsl_loc"]),
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
  format: z.enum(["hf", "openai", "open_clip"]),
  activation: z.enum(["quick_gelu", "gelu"]),
}).partial();

/** What a config file or the CLI may give: every field optional. `dataset` may be the string
 * `synthetic` or a folder path, `backbone` a ViT preset name, `lr` one number for both groups. */
export const PartialConfigSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' only"),
  dataset: z.union([z.string().min(1), SyntheticIn, FolderIn, RssdivcsIn], {
    error:
      'expected "synthetic", a dataset folder path, or {kind: "synthetic" | "folder" | "rssdivcs", ...}',
  }),
  backbone: z.union([z.string().min(1), BackboneIn], {
    error: 'expected a ViT preset name, "clip", "darknet", or {kind, ...}',
  }),
  recipe: z.enum(["official", "clean"]),
  officialScript: z.enum(OFFICIAL_SCRIPTS.map((x) => x.name) as [string, ...string[]]),
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
  onBadImage: z.enum(["skip", "fail"]),
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

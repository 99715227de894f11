/**
 * The experiment-grid configuration (`deno task experiments --config <file>`), validated with zod.
 *
 * A grid is the cross product of its axes — datasets × splits, backbones, recipes, variants (loss
 * and AC switches), attribute sets, seeds — applied over a `base` training config (any field of
 * `deno task train`'s config). `grids` lists sub-grids whose axes override the top-level ones; the
 * grid run is their union (a cell named twice must be the same cell). Example:
 *
 * ```json
 * {
 *   "name": "aid",
 *   "base": { "backbone": "cpu-tiny", "epochs": 12 },
 *   "datasets": [{ "name": "aid", "dataset": "../shared/data/aid", "splits": ["25_5", "20_10"] }],
 *   "seeds": [0, 1, 2],
 *   "grids": [{}, { "datasets": [{ "name": "aid", "dataset": "../shared/data/aid",
 *     "splits": ["25_5"] }], "backbones": [{ "name": "vit" }, { "name": "cnn",
 *     "backbone": { "kind": "darknet", "dir": "../shared/data/weights/darknet-tiny-tfjs" } }] }]
 * }
 * ```
 * @module
 */
import { z } from "npm:zod@^4";
import {
  describeIssues,
  nonNegInt,
  type PartialConfig,
  PartialConfigSchema,
  posInt,
} from "../config/index.ts";

/** A problem with an experiment configuration; the message names the field and the file. */
export class ExperimentConfigError extends Error {
  override name = "ExperimentConfigError";
}

const Id = z.string().regex(/^[A-Za-z0-9_-]+$/, "letters, digits, '_' and '-' only").max(60);
const Train = PartialConfigSchema;

const DatasetAxis = z.strictObject({
  /** Short name used in cell ids and tables. */
  name: Id,
  /** The training config's `dataset` (`"synthetic"`, a folder path, or an object). */
  dataset: PartialConfigSchema.shape.dataset.unwrap(),
  /** Split names; the synthetic scenes default to their one split and also accept
   * `<split>-alt<N>` (alternative seen/unseen partitions, see synthetic_splits.ts). */
  splits: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, "a split name")).min(1).optional(),
  /** Training fields for this dataset only (e.g. its image size). */
  train: Train.optional(),
});

const BackboneAxis = z.strictObject({
  name: Id,
  /** The training config's `backbone`; absent = the base config's. */
  backbone: PartialConfigSchema.shape.backbone.unwrap().optional(),
  train: Train.optional(),
});

const VariantAxis = z.strictObject({
  name: Id,
  /** What this variant changes, e.g. `{ "ac": false }` or `{ "loss": { "weights": {...} } }`. */
  train: Train.optional(),
  /** A sentence for the report. */
  description: z.string().optional(),
});

const AttributeSetSpec = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("full") }),
  z.strictObject({
    kind: z.literal("random"),
    /** Subset sizes (number of attributes kept). */
    sizes: z.array(posInt()).min(1),
    /** Random draws per size (the same draws for every training seed). */
    draws: posInt().default(1),
    /** Seed of the draws. */
    seed: nonNegInt().default(0),
  }),
  z.strictObject({
    kind: z.literal("dropGroup"),
    /** Groups to remove one at a time; absent = every group. */
    groups: z.array(z.string().min(1)).min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal("columns"),
    name: Id,
    /** Attribute names or column indices to keep. */
    attributes: z.array(z.union([z.string().min(1), nonNegInt()])).min(1),
  }),
  z.strictObject({
    kind: z.literal("file"),
    name: Id,
    /** Another class × attribute matrix for the same classes (e.g. collected attributes). */
    attributes: z.string().min(1),
    groups: z.string().min(1).optional(),
  }),
], { error: 'expected {kind: "full" | "random" | "dropGroup" | "columns" | "file", ...}' });

const Axes = {
  datasets: z.array(DatasetAxis).min(1),
  seeds: z.array(nonNegInt()).min(1),
  backbones: z.array(BackboneAxis).min(1),
  recipes: z.array(z.enum(["clean", "official"])).min(1),
  variants: z.array(VariantAxis).min(1),
  attributeSets: z.array(AttributeSetSpec).min(1),
};

const SubGrid = z.strictObject(Axes).partial();

/** The schema of an experiment config file. */
export const ExperimentConfigSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' only"),
  /** What the grid is for (shown in the report). */
  description: z.string().optional(),
  /** The CPU budget the grid was sized for (shown in the report), e.g. "≈ 40 min on 2 cores". */
  budget: z.string().optional(),
  /** The grid folder (default `runs/experiments/<name>`). */
  out: z.string().min(1).optional(),
  /** Training fields every cell shares. */
  base: Train.optional(),
  ...SubGrid.shape,
  /** Sub-grids; each takes the top-level axes it does not set. */
  grids: z.array(SubGrid).min(1).optional(),
  report: z.strictObject({
    /** Unseen-class test images pictured per picture cell. */
    pictures: nonNegInt().default(4),
    /** How many cells get pictures per dataset/split (first seed, full vocabulary; one per
     * backbone first). */
    pictureCells: nonNegInt().default(2),
  }).optional(),
});

/** The file's content as zod read it. */
export type ExperimentConfigInput = z.infer<typeof ExperimentConfigSchema>;
/** One dataset of the grid. */
export type DatasetAxisSpec = z.infer<typeof DatasetAxis>;
/** One backbone of the grid. */
export type BackboneAxisSpec = z.infer<typeof BackboneAxis>;
/** One variant (loss / AC switches) of the grid. */
export type VariantAxisSpec = z.infer<typeof VariantAxis>;
/** One attribute-set rule. */
export type AttributeSetSpec = z.infer<typeof AttributeSetSpec>;

/** One sub-grid with every axis filled. */
export interface GridAxes {
  datasets: DatasetAxisSpec[];
  seeds: number[];
  backbones: BackboneAxisSpec[];
  recipes: ("clean" | "official" | null)[];
  variants: VariantAxisSpec[];
  attributeSets: AttributeSetSpec[];
}

/** A validated experiment config. */
export interface ExperimentConfig {
  name: string;
  description: string;
  budget: string;
  /** The grid folder. */
  out: string;
  base: PartialConfig;
  grids: GridAxes[];
  report: { pictures: number; pictureCells: number };
}

function unique(names: readonly string[], field: string, where: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) {
      throw new ExperimentConfigError(`${field}: the name "${n}" is used twice [${where}]`);
    }
    seen.add(n);
  }
}

/** Validates an experiment config object (`where` names its source in errors). */
export function parseExperimentConfig(input: unknown, where: string): ExperimentConfig {
  const r = ExperimentConfigSchema.safeParse(input);
  if (!r.success) {
    throw new ExperimentConfigError(
      `invalid experiment config:\n${describeIssues(r.error.issues, input, () => where, false)}`,
    );
  }
  const c = r.data;
  const subs = c.grids ?? [{}];
  const grids: GridAxes[] = subs.map((g, i) => {
    const at = c.grids ? `grids.${i}` : "(top level)";
    const datasets = g.datasets ?? c.datasets;
    const seeds = g.seeds ?? c.seeds;
    if (!datasets) {
      throw new ExperimentConfigError(
        `${at}.datasets: missing (no grid-level or top-level datasets) [${where}]`,
      );
    }
    if (!seeds) {
      throw new ExperimentConfigError(
        `${at}.seeds: missing (no grid-level or top-level seeds) [${where}]`,
      );
    }
    const axes: GridAxes = {
      datasets,
      seeds,
      backbones: g.backbones ?? c.backbones ?? [{ name: "default" }],
      recipes: g.recipes ?? c.recipes ?? [null],
      variants: g.variants ?? c.variants ?? [{ name: "default" }],
      attributeSets: g.attributeSets ?? c.attributeSets ?? [{ kind: "full" }],
    };
    unique(axes.datasets.map((d) => d.name), `${at}.datasets`, where);
    unique(axes.backbones.map((d) => d.name), `${at}.backbones`, where);
    unique(axes.variants.map((d) => d.name), `${at}.variants`, where);
    unique(axes.seeds.map(String), `${at}.seeds`, where);
    for (const [j, d] of axes.datasets.entries()) {
      const isSynthetic = d.dataset === "synthetic" ||
        (typeof d.dataset === "object" && d.dataset.kind === "synthetic");
      if (!isSynthetic && !d.splits) {
        throw new ExperimentConfigError(
          `${at}.datasets.${j}.splits: missing (a dataset folder needs its split names, e.g. ["25_5"]) [${where}]`,
        );
      }
      if (d.splits) unique(d.splits, `${at}.datasets.${j}.splits`, where);
    }
    return axes;
  });
  return {
    name: c.name,
    description: c.description ?? "",
    budget: c.budget ?? "",
    out: c.out ?? `runs/experiments/${c.name}`,
    base: c.base ?? {},
    grids,
    report: c.report ?? { pictures: 4, pictureCells: 2 },
  };
}

/** Reads and validates an experiment config file. */
export async function readExperimentConfig(path: string): Promise<ExperimentConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ExperimentConfigError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ExperimentConfigError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseExperimentConfig(json, path);
}

/** Validates a partial training config given on the command line (e.g. `--base '{...}'`). */
export function parseTrainOverride(json: string, flag: string): PartialConfig {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new ExperimentConfigError(`${flag}: not valid JSON: ${(e as Error).message}`);
  }
  const r = PartialConfigSchema.safeParse(v);
  if (!r.success) {
    throw new ExperimentConfigError(
      `${flag}: invalid training fields:\n${describeIssues(r.error.issues, v, () => flag, false)}`,
    );
  }
  return r.data;
}

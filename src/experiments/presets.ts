/**
 * Built-in grids: the `--quick` grid of `deno task experiments` (two short cells on the synthetic
 * scenes: the full vocabulary and a random half of it), and the ablation grid of
 * `deno task ablate` (the seed document's first experiments).
 * @module
 */
import { mergePartial, type PartialConfig } from "../config/index.ts";
import { type ExperimentConfig, parseExperimentConfig } from "./config.ts";

/** The `--quick` grid: 2 cells, a few minutes on 2 cores. */
export function quickConfig(): ExperimentConfig {
  return parseExperimentConfig({
    name: "quick",
    description: "A smoke test of the experiment runner: two short training runs on the " +
      "synthetic scenes (the full 21-attribute vocabulary and a random 10-attribute subset).",
    budget: "about 1 minute of CPU time on 2 cores",
    base: { epochs: 3, batchesPerEpoch: 20, pictures: 2 },
    datasets: [{ name: "synthetic", dataset: "synthetic" }],
    seeds: [0],
    backbones: [{ name: "vit" }],
    attributeSets: [{ kind: "full" }, { kind: "random", sizes: [10], draws: 1 }],
    report: { pictures: 3, pictureCells: 1 },
  }, "built-in --quick grid");
}

/** Loss weights with every term but the compatibility cross-entropies off. */
const COMPAT_ONLY = {
  ce: 1,
  ceVam: 1,
  mseGlobal: 0,
  mseVam: 0,
  ceCrop: 0,
  cpt: 0,
  glassoPrototypes: 0,
  glassoAle: 0,
};
/** Plus the attribute regression terms at the official weights. */
const WITH_REGRESSION = { ...COMPAT_ONLY, mseGlobal: 1e-2, mseVam: 8e-2 };

/** The ablation's variants, in table order. */
export const ABLATION_VARIANTS = [
  {
    name: "1-compat",
    description: "(1) compatibility loss only (CE of the global and VAM scores), no AC",
    train: { ac: false, loss: { weights: COMPAT_ONLY } },
  },
  {
    name: "2-regression",
    description: "(2) + attribute regression (MSE of both branches, official weights 1e-2, 8e-2)",
    train: { ac: false, loss: { weights: WITH_REGRESSION } },
  },
  {
    name: "3-ac",
    description: "(3) + Attention Concentration (training and test)",
    train: { ac: true, loss: { weights: WITH_REGRESSION } },
  },
] as const;

/** Options of the ablation grid. */
export interface AblationOptions {
  quick?: boolean;
  seeds?: number[];
  /** The dataset (`synthetic` or a folder) and its split. */
  dataset?: string;
  split?: string;
  /** The Darknet-tiny TF.js folder, or null for no CNN row. */
  darknet?: string | null;
  /** Training fields for every cell. */
  base?: PartialConfig;
  out?: string;
}

/** The ablation grid: the three variants with the ViT, and variant (3) with the CNN too. */
export function ablationConfig(o: AblationOptions = {}): ExperimentConfig {
  const quick = o.quick ?? false;
  const synthetic = (o.dataset ?? "synthetic") === "synthetic";
  const dataset = {
    name: synthetic ? "synthetic" : (o.dataset!.replace(/\/+$/, "").split("/").pop() ?? "data")
      .replace(/[^A-Za-z0-9_-]/g, "_"),
    dataset: o.dataset ?? "synthetic",
    ...(o.split ? { splits: [o.split] } : {}),
  };
  const vit = { name: "vit" };
  const darknet = o.darknet === undefined ? "../shared/data/weights/darknet-tiny-tfjs" : o.darknet;
  const cnn = darknet
    ? [{
      name: "cnn",
      backbone: { kind: "darknet", dir: darknet },
      // Pretrained: heads as fast as the ViT's, the backbone fine-tuned 10× slower, one frozen
      // warm-up epoch; 96-pixel inputs give a 3×3 feature map on the 96-pixel synthetic scenes.
      train: {
        imageSize: synthetic ? 96 : 128,
        lr: { heads: 1e-3, backbone: 1e-4 },
        warmupEpochs: 1,
      },
    }]
    : [];
  const base = quick ? { epochs: 2, batchesPerEpoch: 15, pictures: 0 } : { pictures: 2 };
  return parseExperimentConfig({
    name: quick ? "ablate-quick" : "ablate",
    description: "Ablation (the seed document's first experiments): (1) compatibility loss " +
      "only, no AC; (2) + attribute regression; (3) + Attention Concentration; and variant (3) " +
      "with the ViT and with the Darknet-tiny CNN backbone." +
      (quick ? " Quick: one seed, 2 short epochs — a smoke test, not a result." : ""),
    budget: quick
      ? "about 2 minutes on 2 cores"
      : "about 15 minutes per seed on 2 cores (4 cells of the default run)",
    ...(o.out ? { out: o.out } : {}),
    base: mergePartial(base, o.base ?? {}),
    datasets: [dataset],
    seeds: o.seeds ?? (quick ? [0] : [0, 1, 2]),
    grids: [
      { backbones: [vit], variants: ABLATION_VARIANTS.map((v) => ({ ...v })) },
      ...(cnn.length
        ? [{ backbones: [vit, ...cnn], variants: [{ ...ABLATION_VARIANTS[2] }] }]
        : []),
    ],
    report: { pictures: quick ? 2 : 4, pictureCells: 2 },
  }, "built-in ablation grid");
}

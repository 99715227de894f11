/** The data of a training run: the dataset, its class-attribute matrix (scaled), the groups, the
 * seen/unseen classes, and the images split into training, held-out seen, test-seen and
 * test-unseen lists. */
import { scaleAttributeMatrix } from "../data/attributes.ts";
import { DataError, listSome } from "../data/errors.ts";
import { validateImages } from "../data/validate.ts";
import { findDatasetLayout, openDataset, type ZslDataset } from "../data/dataset.ts";
import type { Sample } from "../data/loader.ts";
import { Rng } from "../data/rng.ts";
import { openRssdivcs } from "../data/rssdivcs.ts";
import { openSyntheticDataset, SYNTHETIC_SPLIT } from "../data/synthetic/generate.ts";
import type { TrainConfig } from "../config/types.ts";

/** Everything about the data a run needs, on the host. */
export interface TrainData {
  /** The dataset folder. */
  root: string;
  /** Split name. */
  split: string;
  /** Class names, by class id. */
  classes: readonly string[];
  /** Attribute names, by column. */
  attributeNames: readonly string[];
  /** K. */
  numAttributes: number;
  /** The class × attribute matrix after scaling, row-major `[C, K]` (float32). */
  attributes: Float32Array;
  /** How it was scaled. */
  attributeScale: string;
  /** The scaling rule asked for (`dataset.attributeScale`; `none` for the synthetic set). */
  attributeScaleRule: "none" | "max" | "l2";
  /** Attribute groups (name → columns), in order. */
  groups: Record<string, number[]>;
  /** Whether the groups came from a groups file (false: one group `all` of every attribute). */
  groupsFromFile: boolean;
  /** Seen and unseen class ids, in the split file's order. */
  seen: number[];
  unseen: number[];
  /** Training images (the split's training list, the held-out ones removed). */
  train: Sample[];
  /** Held-out seen training images (not trained on). */
  heldout: Sample[];
  /** Test images of seen and of unseen classes. */
  testSeen: Sample[];
  testUnseen: Sample[];
}

/** Opens the configured dataset (generating the synthetic scenes when needed). */
export async function openTrainDataset(config: TrainConfig): Promise<ZslDataset> {
  const d = config.dataset;
  if (d.kind === "synthetic") {
    return await openSyntheticDataset({
      seed: d.seed,
      imagesPerClass: d.imagesPerClass,
      size: d.size,
    });
  }
  if (d.kind === "rssdivcs") {
    return await openRssdivcs({
      dir: d.dir,
      split: d.split,
      images: d.images,
      groups: d.groups,
      trainList: d.trainList,
    });
  }
  const layout = findDatasetLayout(d.dir);
  return await openDataset({
    images: d.images ?? layout.images,
    attributes: d.attributes ?? layout.attributes,
    splits: d.splits ?? layout.splits,
    groups: d.groups ?? layout.groups,
    split: d.split ?? undefined,
    skipMissing: d.skipMissing,
  });
}

/** Each seen class's training images split into kept and held-out: `round(n · fraction)` held
 * out per class (at least 1 when the fraction is positive and the class has 2 images or more),
 * chosen by a permutation seeded with (seed, class id). */
export function holdOut(
  samples: readonly Sample[],
  fraction: number,
  seed: number,
): { train: Sample[]; heldout: Sample[] } {
  if (fraction <= 0) return { train: [...samples], heldout: [] };
  const byClass = new Map<number, Sample[]>();
  for (const s of samples) {
    if (!byClass.has(s.label)) byClass.set(s.label, []);
    byClass.get(s.label)!.push(s);
  }
  const out = new Set<Sample>();
  for (const [label, list] of byClass) {
    let k = Math.round(list.length * fraction);
    if (k === 0 && list.length >= 2) k = 1;
    const order = new Rng(seed, 0x4e1d, label).permutation(list.length);
    for (let i = 0; i < k; i++) out.add(list[order[i]]);
  }
  return {
    train: samples.filter((s) => !out.has(s)),
    heldout: samples.filter((s) => out.has(s)),
  };
}

/** The dataset's class × attribute matrix as the trainer uses it (float32, scaled as the config
 * says; the synthetic scenes' are used as they are) and its groups (one group `all` when the
 * dataset has none). */
export function trainingAttributes(
  ds: ZslDataset,
  config: TrainConfig,
): { values: Float32Array; note: string; groups: Record<string, number[]> } {
  const how = config.dataset.kind === "synthetic" ? "none" : config.dataset.attributeScale;
  const scaled = scaleAttributeMatrix(ds.attributes, how);
  const groups: Record<string, number[]> = ds.groups
    ? Object.fromEntries(Object.entries(ds.groups).map(([k, v]) => [k, [...v]]))
    : { all: Array.from({ length: ds.attributes.cols }, (_, i) => i) };
  return { ...scaled, groups };
}

/** Options of {@link loadTrainData}. */
export interface LoadTrainDataOptions {
  /** Check every image of the run (training, held-out and test) by its header and end before
   * returning, so that an empty, cut-short or non-image file fails here, named, rather than in
   * the middle of training (default true; see `validateImages` in src/data/validate.ts). */
  validateImages?: boolean;
}

/** The run's data from its config; unless `opts.validateImages` is false, a {@link DataError}
 * when any of its images is damaged (all of them listed). */
export async function loadTrainData(
  config: TrainConfig,
  opts: LoadTrainDataOptions = {},
): Promise<TrainData> {
  const ds = await openTrainDataset(config);
  const { cols } = ds.attributes;
  const scaled = trainingAttributes(ds, config);
  const trainval = ds.split.trainval.map((i) => ds.samples[i]);
  const { train, heldout } = holdOut(trainval, config.heldoutFraction, config.seed);
  const seen = [...ds.split.seen], unseen = [...ds.split.unseen];
  if (unseen.length === 0) throw new Error(`split ${ds.split.name} has no unseen classes`);
  const data: TrainData = {
    root: ds.root,
    split: ds.split.name === "default" && config.dataset.kind === "synthetic"
      ? SYNTHETIC_SPLIT
      : ds.split.name,
    classes: ds.classes,
    attributeNames: ds.attributeNames,
    numAttributes: cols,
    attributes: scaled.values,
    attributeScale: scaled.note,
    attributeScaleRule: config.dataset.kind === "synthetic"
      ? "none"
      : config.dataset.attributeScale,
    groups: scaled.groups,
    groupsFromFile: ds.groups !== null,
    seen,
    unseen,
    train,
    heldout,
    testSeen: ds.split.testSeen.map((i) => ds.samples[i]),
    testUnseen: ds.split.testUnseen.map((i) => ds.samples[i]),
  };
  if (opts.validateImages ?? true) await checkRunImages(data);
  return data;
}

/** Throws a {@link DataError} listing every damaged image of the run (the fast header check). */
async function checkRunImages(d: TrainData): Promise<void> {
  const paths = [...d.train, ...d.heldout, ...d.testSeen, ...d.testUnseen].map((s) => s.path);
  const bad = await validateImages(paths);
  if (bad.length === 0) return;
  if (bad.length === 1) {
    throw new DataError(
      bad[0].path,
      `${bad[0].problem} (found by the check of the run's ${paths.length} images; replace or ` +
        `remove the file)`,
    );
  }
  throw new DataError(
    d.root,
    `${bad.length} of the run's ${paths.length} images are damaged or not images: ${
      listSome(bad.map((b) => `${b.path}: ${b.problem}`), 5)
    }`,
  );
}

/** A short description of the data for logs, the resolved defaults said out loud (how the
 * attributes were scaled, groups from no file). */
export function describeData(d: TrainData): string {
  const groups = Object.keys(d.groups).length;
  return `${d.root} split ${d.split}: ${d.classes.length} classes (${d.seen.length} seen, ${d.unseen.length} unseen), ` +
    `${d.numAttributes} attributes in ${groups} group${groups === 1 ? "" : "s"}` +
    (d.groupsFromFile ? "" : " (no groups file: one group of every attribute)") +
    `; attributes ${d.attributeScale} (attributeScale: ${d.attributeScaleRule}); images: ` +
    `${d.train.length} train, ${d.heldout.length} held-out seen, ${d.testSeen.length} test-seen, ` +
    `${d.testUnseen.length} test-unseen`;
}

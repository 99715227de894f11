/**
 * Expanding an experiment config into cells: one training + evaluation run per combination of
 * dataset split, backbone, recipe, variant, attribute set and seed, each with the training config
 * `deno task train` will get. Preparing the grid writes the derived data files the cells point at
 * (attribute subsets, alternative synthetic splits) under `<grid>/data/`.
 * @module
 */
import { ConfigError, mergePartial, type PartialConfig, resolveConfig } from "../config/index.ts";
import {
  ensureSyntheticDataset,
  SYNTHETIC_SPLIT,
  syntheticDir,
} from "../data/synthetic/generate.ts";
import { openTrainDataset, trainingAttributes } from "../train/data.ts";
import type { TrainConfig } from "../config/types.ts";
import {
  type AttributeSubset,
  type AttributeTable,
  expandAttributeSets,
  selectColumns,
  writeAttributeTable,
} from "./attribute_sets.ts";
import { type ExperimentConfig, ExperimentConfigError } from "./config.ts";
import { isSyntheticSplit, writeSyntheticSplits } from "./synthetic_splits.ts";

/** What a cell is, axis by axis (the report groups by these). */
export interface CellAxes {
  dataset: string;
  split: string;
  backbone: string;
  recipe: string;
  variant: string;
  /** The attribute set's id (`all`, `r8d0`, `no-materials`, ...). */
  attributes: string;
  attributeKind: AttributeSubset["kind"];
  /** Attributes the cell trains with. */
  numAttributes: number;
  /** Attributes of the dataset's full vocabulary. */
  fullAttributes: number;
  draw: number | null;
  droppedGroup: string | null;
  seed: number;
}

/** One cell of the grid. */
export interface Cell {
  /** `<dataset>-<split>.<backbone>.<recipe>.<variant>.<attributes>.s<seed>`: the run name and the
   * cell's folder name. */
  id: string;
  axes: CellAxes;
  /** The training config `deno task train --config` gets (name and runsDir set by the runner). */
  train: PartialConfig;
  /** Optimizer steps the cell takes, and per epoch. */
  steps: number;
  batchesPerEpoch: number;
  /** Whether the AC is on (training), for the report's AC comparison. */
  ac: boolean;
  /** The backbone kind (`vit`, `clip`, `darknet`). */
  backboneKind: string;
}

/** A grid ready to run. */
export interface GridPlan {
  config: ExperimentConfig;
  /** The grid folder. */
  dir: string;
  cells: Cell[];
}

const merge = (...parts: (PartialConfig | undefined)[]): PartialConfig =>
  parts.reduce<PartialConfig>((a, b) => (b ? mergePartial(a, b) : a), {});

function resolveOrThrow(p: PartialConfig, where: string): TrainConfig {
  try {
    return resolveConfig(p);
  } catch (e) {
    if (e instanceof ConfigError) throw new ExperimentConfigError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The matrix the trainer would use for a dataset (scaled as its config says), its names and
 * groups. */
async function attributeTable(config: TrainConfig): Promise<AttributeTable> {
  const ds = await openTrainDataset(config);
  const { values, groups } = trainingAttributes(ds, config);
  return { classes: ds.classes, names: ds.attributeNames, values, groups };
}

/** Expands the config into cells and writes the derived data files under `<dir>/data/`. */
export async function planGrid(config: ExperimentConfig, dir: string): Promise<GridPlan> {
  dir = dir.replace(/\/+$/, "");
  const cells = new Map<string, Cell>();
  const tables = new Map<string, AttributeTable>();
  let index = 0;
  for (const [gi, g] of config.grids.entries()) {
    const at = config.grids.length > 1 ? `grids.${gi}` : "grid";
    for (const d of g.datasets) {
      const dsPartial = merge(config.base, { dataset: d.dataset }, d.train);
      const dsConfig = resolveOrThrow(dsPartial, `${at} dataset ${d.name}`);
      const synthetic = dsConfig.dataset.kind === "synthetic";
      const splits = d.splits ?? [SYNTHETIC_SPLIT];
      let synthDir: string | null = null;
      let splitsFile: string | null = null;
      if (synthetic) {
        for (const s of splits) {
          if (!isSyntheticSplit(s)) {
            throw new ExperimentConfigError(
              `${at} dataset ${d.name}: the synthetic scenes have the split ${SYNTHETIC_SPLIT} ` +
                `and alternatives ${SYNTHETIC_SPLIT}-alt1, -alt2, ...; not "${s}"`,
            );
          }
        }
        const sd = dsConfig.dataset as Extract<TrainConfig["dataset"], { kind: "synthetic" }>;
        const opts = { seed: sd.seed, imagesPerClass: sd.imagesPerClass, size: sd.size };
        await ensureSyntheticDataset(opts);
        synthDir = syntheticDir(opts);
        const tag = `synthetic-s${sd.seed}-${sd.imagesPerClass}x${sd.size}`;
        if (splits.some((s) => s !== SYNTHETIC_SPLIT)) {
          splitsFile = `${dir}/data/${tag}.splits.json`;
          await writeSyntheticSplits(synthDir, splits, splitsFile);
        }
      }
      // The attribute table does not depend on the split.
      const tableKey = JSON.stringify(dsConfig.dataset);
      let table = tables.get(tableKey);
      if (!table) {
        const probe = synthetic ? dsConfig : {
          ...dsConfig,
          dataset: { ...dsConfig.dataset, split: splits[0] },
        } as TrainConfig;
        try {
          table = await attributeTable(probe);
        } catch (e) {
          throw new ExperimentConfigError(
            `${at} dataset ${d.name}: cannot open it: ${(e as Error).message}`,
          );
        }
        tables.set(tableKey, table);
      }
      const subsets = expandAttributeSets(g.attributeSets, table.names, table.groups, d.name);
      for (const split of splits) {
        for (const a of subsets) {
          const dataOverride = await datasetOverride(
            dir,
            d.name,
            dsConfig,
            synthDir,
            splitsFile,
            split,
            a,
            table,
          );
          const k = a.size ?? dataOverride.k;
          for (const b of g.backbones) {
            for (const r of g.recipes) {
              for (const v of g.variants) {
                for (const seed of g.seeds) {
                  const train = merge(
                    dsPartial,
                    b.backbone ? { backbone: b.backbone } : undefined,
                    b.train,
                    r ? { recipe: r } : undefined,
                    v.train,
                    dataOverride.partial,
                    { seed },
                  );
                  const recipe = r ?? train.recipe ?? "clean";
                  const id = `${d.name}-${split}.${b.name}.${recipe}.${v.name}.${a.id}.s${seed}`;
                  const resolved = resolveOrThrow({ ...train, name: id }, `cell ${id}`);
                  const total = resolved.epochs * resolved.batchesPerEpoch;
                  const cell: Cell = {
                    id,
                    axes: {
                      dataset: d.name,
                      split,
                      backbone: b.name,
                      recipe,
                      variant: v.name,
                      attributes: a.id,
                      attributeKind: a.kind,
                      numAttributes: k,
                      fullAttributes: table.names.length,
                      draw: a.draw,
                      droppedGroup: a.group,
                      seed,
                    },
                    train,
                    steps: resolved.maxSteps > 0 ? Math.min(resolved.maxSteps, total) : total,
                    batchesPerEpoch: resolved.batchesPerEpoch,
                    ac: resolved.ac.enabled,
                    backboneKind: resolved.backbone.kind,
                  };
                  const prev = cells.get(id);
                  if (prev) {
                    if (JSON.stringify(prev.train) !== JSON.stringify(train)) {
                      throw new ExperimentConfigError(
                        `cell ${id} appears in two sub-grids with different training configs`,
                      );
                    }
                    continue;
                  }
                  cells.set(id, cell);
                  index++;
                }
              }
            }
          }
        }
      }
    }
  }
  if (index === 0) throw new ExperimentConfigError("the grid has no cells");
  return { config, dir, cells: [...cells.values()] };
}

/** The `dataset` fields that make a cell use `split` and attribute set `a`. */
async function datasetOverride(
  dir: string,
  datasetName: string,
  dsConfig: TrainConfig,
  synthDir: string | null,
  splitsFile: string | null,
  split: string,
  a: AttributeSubset,
  table: AttributeTable,
): Promise<{ partial: PartialConfig; k: number }> {
  let files: { attributes: string; groups: string } | null = null;
  let k = table.names.length;
  if (a.columns) {
    files = await writeAttributeTable(
      selectColumns(table, a.columns),
      `${dir}/data/${datasetName}/${a.id}`,
    );
    k = a.columns.length;
  } else if (a.file) {
    // Another attribute file for the same classes: its column count, and its groups (or one).
    const probe = {
      ...dsConfig,
      dataset: dsConfig.dataset.kind === "synthetic"
        ? {
          kind: "folder",
          dir: synthDir!,
          split: SYNTHETIC_SPLIT,
          images: null,
          attributes: a.file.attributes,
          splits: null,
          groups: a.file.groups,
          attributeScale: "none",
        }
        : { ...dsConfig.dataset, split, attributes: a.file.attributes, groups: a.file.groups },
    } as TrainConfig;
    let t: AttributeTable;
    try {
      t = await attributeTable(probe);
    } catch (e) {
      throw new ExperimentConfigError(
        `attributeSets: ${a.id} for ${datasetName}: ${(e as Error).message}`,
      );
    }
    k = t.names.length;
    files = await writeAttributeTable(t, `${dir}/data/${datasetName}/${a.id}`);
  }
  if (dsConfig.dataset.kind === "synthetic") {
    if (!files && split === SYNTHETIC_SPLIT) return { partial: {}, k }; // the plain dataset
    return {
      partial: {
        dataset: {
          kind: "folder",
          dir: synthDir!,
          split,
          ...(split !== SYNTHETIC_SPLIT ? { splits: splitsFile! } : {}),
          ...(files ? { attributes: files.attributes, groups: files.groups } : {}),
          attributeScale: "none",
        },
      },
      k,
    };
  }
  return {
    partial: {
      dataset: {
        kind: "folder",
        split,
        ...(files
          ? { attributes: files.attributes, groups: files.groups, attributeScale: "none" }
          : {}),
      },
    },
    k,
  };
}

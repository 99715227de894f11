/** A zero-shot dataset: images by class, the class × attribute matrix, groups and one split. */
import { exists } from "../../ffi/fs.ts";
import { alignAttributes, type AttributeMatrix, readAttributes } from "./attributes.ts";
import type { MatchOptions } from "./class_names.ts";
import { DataError, type ProblemLog } from "./errors.ts";
import { type AttributeGroups, readGroups } from "./groups.ts";
import { scanImageFolder } from "./image_folder.ts";
import type { Sample } from "./loader.ts";
import { readSplitFile, type ResolvedSplit, resolveSplit } from "./splits.ts";

/** Everything DSVA needs to know about a dataset, checked for consistency. */
export interface ZslDataset {
  /** The image folder. */
  readonly root: string;
  /** Class names (folder names), in label order. */
  readonly classes: readonly string[];
  /** Every image of the folder; `label` indexes `classes`. */
  readonly samples: readonly Sample[];
  /** `samples[i].path` relative to `root`. */
  readonly files: readonly string[];
  /** The attribute matrix, one row per entry of `classes`, in that order. */
  readonly attributes: AttributeMatrix;
  /** Attribute names (from the file, else `a0`, `a1`, ...). */
  readonly attributeNames: readonly string[];
  /** Attribute groups, when a groups file was given. */
  readonly groups: AttributeGroups | null;
  /** The seen/unseen split chosen. */
  readonly split: ResolvedSplit;
}

/** Where a dataset's files are and how strict to be. */
export interface OpenDatasetOptions extends ProblemLog, Pick<MatchOptions, "aliases"> {
  /** The image folder (one sub-folder per class). */
  images: string;
  /** The attribute matrix file (.csv, .npy, .json). */
  attributes: string;
  /** The split file. */
  splits: string;
  /** The split's name in the file (needed when it holds several). */
  split?: string;
  /** An attribute-groups file. */
  groups?: string;
  /** Row names for attribute files without them (a list or a one-name-a-line file). */
  attributeClasses?: readonly string[] | string;
  /** Column names likewise. */
  attributeNames?: readonly string[] | string;
  /** Leave out images the split names but the folder lacks (warn and count). */
  skipMissing?: boolean;
  /** Leave out empty class folders (warn). */
  skipEmpty?: boolean;
}

/** Opens and cross-checks a dataset; every inconsistency is a {@link DataError} naming the file. */
export async function openDataset(opts: OpenDatasetOptions): Promise<ZslDataset> {
  const folder = await scanImageFolder(opts.images, { skipEmpty: opts.skipEmpty, warn: opts.warn });
  const raw = await readAttributes(opts.attributes, {
    classes: opts.attributeClasses,
    attributes: opts.attributeNames,
  });
  const attributes = alignAttributes(raw, folder.classes, {
    aliases: opts.aliases,
    classesLabel: `class folders of ${folder.root}`,
  });
  const names = attributes.attributes ?? Array.from({ length: attributes.cols }, (_, i) => `a${i}`);
  const groups = opts.groups
    ? await readGroups(opts.groups, attributes.cols, attributes.attributes)
    : null;
  const splitFile = await readSplitFile(opts.splits);
  const split = resolveSplit(folder, splitFile, opts.split, opts);
  return {
    root: folder.root,
    classes: folder.classes,
    samples: folder.samples,
    files: folder.files,
    attributes,
    attributeNames: names,
    groups,
    split,
  };
}

/** The files of a dataset folder laid out as `images/`, an attribute file, `splits.json` and
 * optionally groups and captions (the layout of `shared/data/aid` and of the synthetic set). */
export interface DatasetLayout {
  /** The image folder. */
  images: string;
  /** The attribute matrix file. */
  attributes: string;
  /** The split file. */
  splits: string;
  /** The attribute-groups file, when there is one. */
  groups?: string;
  /** Captions (`{file: [caption, ...]}`), when there are. */
  captions?: string;
}

/** Finds the files of a dataset folder: `images/`; `attributes.{csv,npy,json}` or the one
 * `.csv`/`.npy` file in `attributes/`; `splits.json`; `groups.json` or `attributes/groups.json`;
 * `captions.json`. */
export function findDatasetLayout(dir: string): DatasetLayout {
  dir = dir.replace(/\/+$/, "");
  const images = `${dir}/images`;
  if (!exists(dir)) throw new DataError(dir, "no such dataset folder");
  if (!exists(images)) throw new DataError(dir, "has no images/ folder (one sub-folder per class)");
  const attributes = findAttributeFile(dir);
  const splits = `${dir}/splits.json`;
  if (!exists(splits)) throw new DataError(dir, "has no splits.json");
  const groups = [`${dir}/groups.json`, `${dir}/attributes/groups.json`].find(exists);
  const captions = exists(`${dir}/captions.json`) ? `${dir}/captions.json` : undefined;
  return { images, attributes, splits, groups, captions };
}

/** A dataset folder's attribute file: `attributes.{csv,npy,json}`, or the one `.csv`/`.npy` file
 * in `attributes/`; a {@link DataError} when there is none or several. */
export function findAttributeFile(dir: string): string {
  dir = dir.replace(/\/+$/, "");
  let attributes = ["csv", "npy", "json"].map((e) => `${dir}/attributes.${e}`).find(exists);
  if (!attributes && exists(`${dir}/attributes`)) {
    const found = [...Deno.readDirSync(`${dir}/attributes`)]
      .filter((e) => e.isFile && /\.(csv|npy)$/i.test(e.name))
      .map((e) => `${dir}/attributes/${e.name}`)
      .sort();
    if (found.length > 1) {
      throw new DataError(
        `${dir}/attributes`,
        `holds several attribute files (${found.join(", ")}); name one`,
      );
    }
    attributes = found[0];
  }
  if (!attributes) {
    throw new DataError(dir, "has no attribute file (attributes.csv or attributes/*.csv)");
  }
  return attributes;
}

/** Opens a dataset folder found by {@link findDatasetLayout}. */
export async function openDatasetFolder(
  dir: string,
  opts: Omit<OpenDatasetOptions, "images" | "attributes" | "splits"> = {},
): Promise<ZslDataset> {
  const l = findDatasetLayout(dir);
  return await openDataset({ ...l, ...opts });
}

/** The samples of one part of the dataset's split. */
export function splitSamples(
  ds: ZslDataset,
  part: "trainval" | "testSeen" | "testUnseen",
): Sample[] {
  return ds.split[part].map((i) => ds.samples[i]);
}

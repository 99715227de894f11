/** The official DSVA code's dataset layout (its RSSDIVCS folder): `files/<tag>_images.mat` with
 * each image's `labels` (1-based) and `image_files`, `files/ann_attr_finetune_<tag>_splits.mat`
 * with the split's `*_loc_0` lists and the attributes × classes `att`, `files/attri_group_3.json`,
 * and the images under the image root. Read as the official `DATA_LOADER` reads it: the training
 * list is `train_zsl_loc_0` (in GZSL runs too) unless told otherwise, the seen classes are the
 * training list's, the unseen ones `test_unseen_loc_0`'s (both sorted by class id), and `att` is
 * used as stored. */
import type { ZslDataset } from "./dataset.ts";
import { DataError, listSome } from "./errors.ts";
import { readGroups } from "./groups.ts";
import type { Sample } from "./loader.ts";
import { readXlsa17 } from "./xlsa17.ts";

/** One split's pair of `.mat` files in `files/`. */
export interface RssdivcsFiles {
  /** The files' tag (`43` for `43_images.mat` + `ann_attr_finetune_43_splits.mat`). */
  tag: string;
  images: string;
  splits: string;
}

/** The `.mat` pairs in `<dir>/files/`, by tag (empty when there is no such folder). */
export function rssdivcsFiles(dir: string): RssdivcsFiles[] {
  const files = `${dir.replace(/\/+$/, "")}/files`;
  let names: string[];
  try {
    names = [...Deno.readDirSync(files)].filter((e) => e.isFile).map((e) => e.name);
  } catch {
    return [];
  }
  const have = new Set(names);
  return names
    .map((n) => /^(.+)_images\.mat$/.exec(n)?.[1])
    .filter((tag): tag is string => !!tag && have.has(`ann_attr_finetune_${tag}_splits.mat`))
    .sort()
    .map((tag) => ({
      tag,
      images: `${files}/${tag}_images.mat`,
      splits: `${files}/ann_attr_finetune_${tag}_splits.mat`,
    }));
}

/** Where to read an RSSDIVCS-layout dataset from. */
export interface OpenRssdivcsOptions {
  /** The folder holding `files/`. */
  dir: string;
  /** The files' tag; may be left out when `files/` holds one pair. */
  split?: string | null;
  /** The image root (default `dir`). */
  images?: string | null;
  /** The groups file (default `files/attri_group_3.json`, when present). */
  groups?: string | null;
  /** The training list (default `train_zsl_loc`, the official code's in both settings). */
  trainList?: "train_zsl_loc" | "train_gzsl_loc";
}

/** The path of an image as recorded in `image_files`, under `root`: the part after `RSSDIVCS/`
 * (the official `default_flist_reader`), else the recorded path itself. */
export function rssdivcsImagePath(root: string, recorded: string): string {
  const at = recorded.indexOf("RSSDIVCS/");
  const rel = (at >= 0 ? recorded.slice(at + "RSSDIVCS/".length) : recorded).trim();
  return rel.startsWith("/") ? rel : `${root.replace(/\/+$/, "")}/${rel}`;
}

/** Opens an RSSDIVCS-layout dataset; every inconsistency is a {@link DataError}. */
export async function openRssdivcs(opts: OpenRssdivcsOptions): Promise<ZslDataset> {
  const dir = opts.dir.replace(/\/+$/, "");
  const pairs = rssdivcsFiles(dir);
  if (pairs.length === 0) {
    throw new DataError(
      dir,
      "has no files/<tag>_images.mat with its files/ann_attr_finetune_<tag>_splits.mat",
    );
  }
  const pair = opts.split ? pairs.find((p) => p.tag === opts.split) : pairs[0];
  if (!pair || (!opts.split && pairs.length > 1)) {
    throw new DataError(
      `${dir}/files`,
      `${opts.split ? `has no split ${opts.split}` : "holds several splits"}; name one of ${
        pairs.map((p) => p.tag).join(", ")
      } (--split)`,
    );
  }
  const gzsl = opts.trainList === "train_gzsl_loc";
  const x = await readXlsa17({ splits: pair.splits, images: pair.images, gzsl });
  if (!x.labels || !x.imageFiles) {
    throw new DataError(pair.images, "needs both labels and image_files");
  }
  const labels = x.labels;
  const classesOf = (locs: readonly number[]) =>
    [...new Set(locs.map((i) => labels[i]))].sort((a, b) => a - b);
  const seen = classesOf(x.trainval);
  const other = gzsl ? x.trainLists.zsl : x.trainLists.gzsl;
  if (other && classesOf(other).join() !== seen.join()) {
    throw new DataError(
      pair.splits,
      "train_zsl_loc and train_gzsl_loc hold different classes (the official code maps the " +
        "training labels with the other list's classes)",
    );
  }
  const unseen = classesOf(x.testUnseen);
  const both = unseen.filter((c) => seen.includes(c));
  if (both.length > 0) {
    throw new DataError(pair.splits, `classes ${both.join(", ")} are both seen and unseen`);
  }
  const root = (opts.images ?? dir).replace(/\/+$/, "");
  const samples: Sample[] = x.imageFiles.map((f, i) => ({
    path: rssdivcsImagePath(root, f),
    label: labels[i],
  }));
  const used = [...new Set([...x.trainval, ...x.testSeen, ...x.testUnseen])];
  const missing = used.filter((i) => {
    try {
      return !Deno.statSync(samples[i].path).isFile;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new DataError(
      root,
      `${missing.length} images of the split are missing (image root ${root}): ${
        listSome(missing.map((i) => samples[i].path), 5)
      }`,
    );
  }
  const numClasses = x.attributes.rows;
  const classes = x.classes ?? Array.from({ length: numClasses }, (_, c) => `class${c}`);
  const names = Array.from({ length: x.attributes.cols }, (_, k) => `a${k}`);
  const groupsFile = opts.groups ?? `${dir}/files/attri_group_3.json`;
  let groups = null;
  try {
    Deno.statSync(groupsFile);
    groups = await readGroups(groupsFile, x.attributes.cols, null);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) || opts.groups) throw e;
  }
  return {
    root,
    classes,
    samples,
    files: samples.map((s) => s.path.slice(root.length + 1)),
    attributes: { ...x.attributes, classes, attributes: names },
    attributeNames: names,
    groups,
    split: {
      name: pair.tag,
      seen,
      unseen,
      trainval: x.trainval,
      testSeen: x.testSeen,
      testUnseen: x.testUnseen,
      missing: 0,
    },
  };
}

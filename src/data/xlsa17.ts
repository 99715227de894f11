/** The xlsa17 / DSVA `.mat` split format: `att_splits.mat` (or DSVA's
 * `ann_attr_finetune_*_splits.mat`) and `res101.mat` (or DSVA's `*_images.mat`). MATLAB indices
 * are 1-based; everything returned here is 0-based. */
import type { AttributeMatrix } from "./attributes.ts";
import { DataError, listSome } from "./errors.ts";
import { matNumbers, matStrings, matToRows, type MatValue, readMat } from "./mat.ts";

/** Where the files are and which variables to take. */
export interface Xlsa17Options {
  /** `att_splits.mat` (xlsa17) or `ann_attr_finetune_*_splits.mat` (DSVA). */
  splits: string;
  /** `res101.mat` or DSVA's `*_images.mat`: `labels` and `image_files` per image. */
  images?: string;
  /** DSVA's split number `<id>` in `train_zsl_loc_<id>` ... (default 0, when the file has no
   * plain `trainval_loc`). */
  splitId?: number;
  /** Train on `train_gzsl_loc_<id>` instead of `train_zsl_loc_<id>` (DSVA files only). */
  gzsl?: boolean;
  /** The attribute variable: `att` (default; L2-normalised per class) or `original_att`. */
  attributeVariable?: string;
}

/** An xlsa17/DSVA split read from `.mat` files, 0-based. */
export interface Xlsa17Split {
  /** Class names (`allclasses_names`), when the file has them. */
  classes: string[] | null;
  /** Classes × attributes (the file's `att` is attributes × classes: transposed here). */
  attributes: AttributeMatrix;
  /** Each image's class (0-based), when an images file was given. */
  labels: number[] | null;
  /** Each image's path as recorded in the images file. */
  imageFiles: string[] | null;
  /** Training images (0-based image indices). */
  trainval: number[];
  /** Test images of seen classes. */
  testSeen: number[];
  /** Test images of unseen classes. */
  testUnseen: number[];
  /** The variables the three parts came from. */
  variables: { trainval: string; testSeen: string; testUnseen: string };
  /** DSVA files: both training lists, `train_zsl_loc_<id>` and `train_gzsl_loc_<id>` (0-based),
   * when the file has them. */
  trainLists: { zsl: number[] | null; gzsl: number[] | null };
}

function pick(vars: Record<string, MatValue>, names: string[], file: string): string {
  const n = names.find((x) => x in vars);
  if (!n) {
    throw new DataError(
      file,
      `has none of the variables ${names.join(", ")} (it has: ${Object.keys(vars).join(", ")})`,
    );
  }
  return n;
}

/** Reads an xlsa17/DSVA split (and, optionally, its image list) with 0-based indices. */
export async function readXlsa17(opts: Xlsa17Options): Promise<Xlsa17Split> {
  const file = opts.splits;
  const v = await readMat(file);
  const id = opts.splitId ?? 0;
  const trainvalVar = pick(
    v,
    opts.gzsl ? [`train_gzsl_loc_${id}`] : ["trainval_loc", `train_zsl_loc_${id}`],
    file,
  );
  const testSeenVar = pick(v, ["test_seen_loc", `test_seen_loc_${id}`], file);
  const testUnseenVar = pick(v, ["test_unseen_loc", `test_unseen_loc_${id}`], file);
  const attVar = opts.attributeVariable ?? "att";
  const att = matToRows(v, attVar, file); // attributes × classes
  const values = new Float64Array(att.rows * att.cols);
  for (let a = 0; a < att.rows; a++) {
    for (let c = 0; c < att.cols; c++) values[c * att.rows + a] = att.values[a * att.cols + c];
  }
  const classes = "allclasses_names" in v ? matStrings(v, "allclasses_names", file) : null;
  if (classes && classes.length !== att.cols) {
    throw new DataError(
      file,
      `allclasses_names has ${classes.length} names but ${attVar} has ${att.cols} class columns`,
    );
  }
  let labels: number[] | null = null, imageFiles: string[] | null = null;
  if (opts.images) {
    const iv = await readMat(opts.images);
    labels = matNumbers(iv, "labels", opts.images).map((l) => l - 1);
    imageFiles = "image_files" in iv ? matStrings(iv, "image_files", opts.images) : null;
    const badLabels = labels.filter((l) => !(Number.isInteger(l) && l >= 0 && l < att.cols));
    if (badLabels.length) {
      throw new DataError(
        opts.images,
        `${badLabels.length} labels are not classes 1..${att.cols}: ${
          listSome(badLabels.map((l) => `${l + 1}`))
        }`,
      );
    }
    if (imageFiles && imageFiles.length !== labels.length) {
      throw new DataError(
        opts.images,
        `${imageFiles.length} image_files but ${labels.length} labels`,
      );
    }
  }
  const n = labels?.length ?? Infinity;
  const locs = (name: string) => {
    const xs = matNumbers(v, name, file);
    const bad = xs.filter((x) => !(Number.isInteger(x) && x >= 1 && x <= n));
    if (bad.length) {
      throw new DataError(
        file,
        `${name}: ${bad.length} entries are not image numbers 1..${n}: ${
          listSome(bad.map(String))
        }`,
      );
    }
    return xs.map((x) => x - 1);
  };
  return {
    classes,
    attributes: { classes, attributes: null, rows: att.cols, cols: att.rows, values, file },
    labels,
    imageFiles,
    trainval: locs(trainvalVar),
    testSeen: locs(testSeenVar),
    testUnseen: locs(testUnseenVar),
    variables: { trainval: trainvalVar, testSeen: testSeenVar, testUnseen: testUnseenVar },
    trainLists: {
      zsl: `train_zsl_loc_${id}` in v ? locs(`train_zsl_loc_${id}`) : null,
      gzsl: `train_gzsl_loc_${id}` in v ? locs(`train_gzsl_loc_${id}`) : null,
    },
  };
}

/** Turning the accepted input forms (Tensor, typed array + shape, plain arrays) into the float64
 * score matrix, int32 label vector and sorted class lists that every metric works on. */
import type { Tensor } from "../tensor/index.ts";
import { EvalInputError } from "./errors.ts";

/** A score matrix given as host data: `rows × cols`, row-major; row i = one test image,
 * column j = class id j. */
export interface HostScores {
  /** Row-major values; float32 values are widened to float64 exactly. */
  readonly data: Float32Array | Float64Array | readonly number[];
  /** `[rows, cols]`. */
  readonly shape: readonly [number, number] | readonly number[];
}

/** Scores of every test image for every class: a 2-D Tensor (any real dtype, any device) or host
 * data with its shape. Column j holds class id j. Probabilities (as DSVA scores them) or logits. */
export type ScoresInput = Tensor | HostScores;

/** Class ids, one per test image: a 1-D integer Tensor or any array of integers. */
export type LabelsInput = Tensor | ArrayLike<number> | BigInt64Array;

/** A class-id list (seen or unseen classes). */
export type ClassList = ArrayLike<number>;

/** A score matrix in the form the metrics use: float64, row-major. */
export interface ScoreMatrix {
  /** `rows × cols` values, row-major. */
  readonly data: Float64Array;
  /** Number of images. */
  readonly rows: number;
  /** Number of classes (columns = class ids 0..cols-1). */
  readonly cols: number;
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === "object" && x !== null && "toTypedArray" in x && "dtype" in x &&
    "shape" in x && typeof (x as Tensor).toTypedArray === "function";
}

/** Reads a score matrix into float64 and checks its shape and that every value is finite
 * (a NaN or infinite score has no defined argmax or calibrated-stacking critical value).
 * @param arg the argument name used in error messages. */
export function toScoreMatrix(scores: ScoresInput | ScoreMatrix, arg = "scores"): ScoreMatrix {
  let shape: readonly number[];
  let src: ArrayLike<number> | BigInt64Array;
  if (isTensor(scores)) {
    shape = scores.shape;
    src = scores.toTypedArray();
  } else if ("rows" in scores && "cols" in scores && scores.data instanceof Float64Array) {
    shape = [scores.rows, scores.cols];
    src = scores.data;
  } else {
    const h = scores as HostScores;
    shape = h.shape;
    src = h.data;
  }
  if (shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new EvalInputError(arg, `expected a 2-D [images, classes] matrix, got shape [${shape}]`);
  }
  const [rows, cols] = shape;
  if (src.length !== rows * cols) {
    throw new EvalInputError(
      arg,
      `shape [${rows}, ${cols}] needs ${rows * cols} values, got ${src.length}`,
    );
  }
  const data = src instanceof Float64Array ? src : new Float64Array(rows * cols);
  if (src instanceof BigInt64Array) {
    for (let i = 0; i < src.length; i++) data[i] = Number(src[i]);
  } else if (data !== src) {
    for (let i = 0; i < src.length; i++) data[i] = src[i];
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const r = Math.floor(i / cols);
      throw new EvalInputError(arg, `score at row ${r}, column ${i - r * cols} is ${data[i]}`);
    }
  }
  return { data, rows, cols };
}

/** Reads labels into an Int32Array, checking that there is one integer class id per image.
 * @param rows the expected count (the score matrix's rows), or -1 for any. */
export function toLabels(labels: LabelsInput, rows: number, arg = "labels"): Int32Array {
  let src: ArrayLike<number> | BigInt64Array;
  if (isTensor(labels)) {
    if (labels.ndim !== 1) {
      throw new EvalInputError(arg, `expected a 1-D tensor, got shape [${labels.shape}]`);
    }
    src = labels.toTypedArray();
  } else {
    src = labels;
  }
  if (rows >= 0 && src.length !== rows) {
    throw new EvalInputError(arg, `expected ${rows} labels (one per score row), got ${src.length}`);
  }
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = Number(src[i]);
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new EvalInputError(arg, `label at row ${i} is ${src[i]}, not a class id`);
    }
    out[i] = v;
  }
  return out;
}

/** Checks a class list (integers in `[0, cols)`, no repeats, not empty) and returns it sorted
 * ascending: every metric visits classes, and breaks argmax ties, in ascending class-id order. */
export function toClassList(classes: ClassList, cols: number, arg: string): Int32Array {
  const out = Int32Array.from(classes as ArrayLike<number>);
  if (out.length === 0) throw new EvalInputError(arg, "the class list is empty");
  for (let i = 0; i < classes.length; i++) {
    const v = classes[i];
    if (!Number.isInteger(v) || v < 0 || v >= cols) {
      throw new EvalInputError(arg, `class ${v} is not a column of the ${cols}-class score matrix`);
    }
  }
  out.sort();
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1]) throw new EvalInputError(arg, `class ${out[i]} is listed twice`);
  }
  return out;
}

/** Checks that `seen` and `unseen` split the score columns: disjoint and together every column
 * (GZSL predicts over all classes). Returns a per-column flag, 1 = seen. */
export function seenFlags(seen: Int32Array, unseen: Int32Array, cols: number): Uint8Array {
  const flag = new Uint8Array(cols).fill(2);
  for (const c of seen) flag[c] = 1;
  for (const c of unseen) {
    if (flag[c] === 1) {
      throw new EvalInputError("unseen", `class ${c} is also in the seen list`);
    }
    flag[c] = 0;
  }
  const missing = flag.indexOf(2);
  if (missing >= 0) {
    throw new EvalInputError(
      "seen/unseen",
      `column ${missing} of the ${cols}-class score matrix is in neither list; GZSL predicts ` +
        `over all classes, so seen and unseen must together name every column`,
    );
  }
  return flag;
}

/** Checks that every label is a column of the score matrix. */
export function checkLabelsInColumns(y: Int32Array, cols: number): void {
  for (let i = 0; i < y.length; i++) {
    if (y[i] >= cols) {
      throw new EvalInputError(
        "labels",
        `row ${i} has class ${y[i]}, but the score matrix has only ${cols} classes`,
      );
    }
  }
}

/** The checked inputs of a GZSL metric: scores, labels, sorted seen and unseen class lists
 * that split the columns, and the per-column seen flag. */
export function gzslInputs(
  scores: ScoresInput | ScoreMatrix,
  labels: LabelsInput,
  classes: { seen: ClassList; unseen: ClassList },
): { s: ScoreMatrix; y: Int32Array; seen: Int32Array; unseen: Int32Array; flag: Uint8Array } {
  const s = toScoreMatrix(scores);
  const y = toLabels(labels, s.rows);
  const seen = toClassList(classes.seen, s.cols, "seen");
  const unseen = toClassList(classes.unseen, s.cols, "unseen");
  const flag = seenFlags(seen, unseen, s.cols);
  checkLabelsInColumns(y, s.cols);
  return { s, y, seen, unseen, flag };
}

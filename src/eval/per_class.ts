/** Per-class top-1 accuracy and its mean over a class list (Xian et al.'s "averaged per-class
 * accuracy"). */
import { EvalInputError } from "./errors.ts";
import { type ClassList, type LabelsInput, toLabels } from "./inputs.ts";

/** What to do with a listed class that has no test images: `"error"` (default) throws; `"skip"`
 * leaves it out of the mean, which is what DSVA's and Xian et al.'s code do implicitly (their
 * class lists are the labels present in the test set). */
export type EmptyClassPolicy = "error" | "skip";

/** One class's top-1 accuracy. */
export interface ClassAccuracy {
  /** The class id (score column). */
  classId: number;
  /** The class name, when names were given. */
  name?: string;
  /** Test images of the class. */
  count: number;
  /** Of those, predicted as the class. */
  correct: number;
  /** `correct / count`. */
  accuracy: number;
}

/** Per-class accuracies and their mean. */
export interface PerClassResult {
  /** Mean over the classes of `correct / count`, summed sequentially in ascending class-id order
   * and divided by the number of classes (float64, as `sum(acc_per_class)/len(acc_per_class)` in
   * DSVA's `compute_per_class_acc_gzsl`). */
  mean: number;
  /** Per-image accuracy over the images of these classes (DSVA's `acc_all`). */
  overall: number;
  /** One entry per class with test images, in ascending class-id order. */
  perClass: ClassAccuracy[];
  /** Listed classes without test images (left out under `onEmptyClass: "skip"`). */
  skipped: number[];
}

/** Options of {@link perClassAccuracy}. */
export interface PerClassOptions {
  /** Listed classes without test images: see {@link EmptyClassPolicy}. */
  onEmptyClass?: EmptyClassPolicy;
  /** Class names indexed by class id, copied into the report. */
  names?: readonly string[];
  /** Name of the class list in error messages. */
  classesArg?: string;
}

/** @internal per-class accuracy on normalized inputs; `classes` sorted ascending, no repeats. */
export function perClassCore(
  predictions: Int32Array,
  labels: Int32Array,
  classes: Int32Array,
  opts: PerClassOptions = {},
): PerClassResult {
  const count = new Map<number, number>();
  const correct = new Map<number, number>();
  for (const c of classes) {
    count.set(c, 0);
    correct.set(c, 0);
  }
  let n = 0;
  let nCorrect = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    const k = count.get(y);
    if (k === undefined) continue;
    count.set(y, k + 1);
    n++;
    if (predictions[i] === y) {
      correct.set(y, correct.get(y)! + 1);
      nCorrect++;
    }
  }
  const perClass: ClassAccuracy[] = [];
  const skipped: number[] = [];
  let sum = 0;
  for (const c of classes) {
    const nc = count.get(c)!;
    const kc = correct.get(c)!;
    if (nc === 0) {
      if ((opts.onEmptyClass ?? "error") === "error") {
        throw new EvalInputError(
          opts.classesArg ?? "classes",
          `class ${c}${opts.names?.[c] ? ` (${opts.names[c]})` : ""} has no test images, so ` +
            `its accuracy is undefined; pass onEmptyClass: "skip" to leave it out of the mean`,
        );
      }
      skipped.push(c);
      continue;
    }
    const acc = kc / nc;
    sum += acc;
    const row: ClassAccuracy = { classId: c, count: nc, correct: kc, accuracy: acc };
    if (opts.names?.[c] !== undefined) row.name = opts.names[c];
    perClass.push(row);
  }
  if (perClass.length === 0) {
    throw new EvalInputError(opts.classesArg ?? "classes", "none of the classes has test images");
  }
  return { mean: sum / perClass.length, overall: nCorrect / n, perClass, skipped };
}

/** Per-class top-1 accuracy of given predictions over a class list, and its mean.
 *
 * Accuracy of class c = (images labelled c predicted c) / (images labelled c); images whose label
 * is not in `classes` are ignored (so one prediction vector over a whole GZSL test set gives S with
 * the seen list and U with the unseen list).
 *
 * @param predictions predicted class id of every image.
 * @param labels true class id of every image. */
export function perClassAccuracy(
  predictions: LabelsInput,
  labels: LabelsInput,
  classes: ClassList,
  opts: PerClassOptions = {},
): PerClassResult {
  const y = toLabels(labels, -1);
  const p = toLabels(predictions, y.length, "predictions");
  for (let i = 0; i < classes.length; i++) {
    if (!Number.isInteger(classes[i]) || classes[i] < 0 || classes[i] > 0x7fffffff) {
      throw new EvalInputError("classes", `class ${classes[i]} is not a class id`);
    }
  }
  const cls = Int32Array.from(classes as ArrayLike<number>).sort();
  if (cls.length === 0) throw new EvalInputError("classes", "the class list is empty");
  for (let i = 1; i < cls.length; i++) {
    if (cls[i] === cls[i - 1]) throw new EvalInputError("classes", `class ${cls[i]} listed twice`);
  }
  return perClassCore(p, y, cls, opts);
}

/** Confusion matrix of predictions against labels over a class list. */
import { EvalInputError } from "./errors.ts";
import { type ClassList, type LabelsInput, toLabels } from "./inputs.ts";

/** Counts of (true class, predicted class) pairs. */
export interface ConfusionMatrix {
  /** The class ids of the rows and columns, in the order given. */
  classes: number[];
  /** `classes.length²` counts, row-major: `counts[i·K + j]` = images of class `classes[i]`
   * predicted as `classes[j]`. */
  counts: Int32Array;
  /** Per row: images of that class predicted as a class outside the list (e.g. a seen class in a
   * matrix over the unseen classes). */
  outside: Int32Array;
  /** Images per row (true class). */
  support: Int32Array;
}

/** Builds a confusion matrix (rows = true class, columns = predicted class) over `classes`; images
 * whose true class is not listed are ignored, predictions outside the list go to `outside`.
 * @param predictions predicted class id of every image.
 * @param labels true class id of every image. */
export function confusionMatrix(
  predictions: LabelsInput,
  labels: LabelsInput,
  classes: ClassList,
): ConfusionMatrix {
  const y = toLabels(labels, -1);
  const p = toLabels(predictions, y.length, "predictions");
  const ids = Array.from(classes as ArrayLike<number>);
  const index = new Map<number, number>();
  ids.forEach((c, i) => {
    if (index.has(c)) throw new EvalInputError("classes", `class ${c} listed twice`);
    index.set(c, i);
  });
  const k = ids.length;
  const counts = new Int32Array(k * k);
  const outside = new Int32Array(k);
  const support = new Int32Array(k);
  for (let n = 0; n < y.length; n++) {
    const i = index.get(y[n]);
    if (i === undefined) continue;
    support[i]++;
    const j = index.get(p[n]);
    if (j === undefined) outside[i]++;
    else counts[i * k + j]++;
  }
  return { classes: ids, counts, outside, support };
}

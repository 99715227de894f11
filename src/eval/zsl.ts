/** Conventional zero-shot accuracy: unseen test images, unseen classes only. */
import { EvalInputError } from "./errors.ts";
import {
  type ClassList,
  type LabelsInput,
  type ScoreMatrix,
  type ScoresInput,
  toClassList,
  toLabels,
  toScoreMatrix,
} from "./inputs.ts";
import { type ClassAccuracy, type EmptyClassPolicy, perClassCore } from "./per_class.ts";
import { predictAmong } from "./predict.ts";

/** Options of {@link zslAccuracy}. */
export interface ZslOptions {
  /** The unseen class ids: the only candidates, and the classes averaged over. */
  unseen: ClassList;
  /** Unseen classes without test images: see {@link EmptyClassPolicy}. */
  onEmptyClass?: EmptyClassPolicy;
  /** Class names indexed by class id, copied into the per-class report. */
  names?: readonly string[];
}

/** ZSL result. */
export interface ZslResult {
  /** Mean per-class top-1 over the unseen classes (the reported ZSL number). */
  accuracy: number;
  /** Per-image top-1 (DSVA's `acc_all`; equals `accuracy` on balanced test sets). */
  overall: number;
  /** Per unseen class, ascending class id. */
  perClass: ClassAccuracy[];
  /** Unseen classes left out for having no test images. */
  skipped: number[];
  /** Predicted class id (global, a member of `unseen`) of every image. */
  predictions: Int32Array;
}

/** ZSL accuracy as Xian et al. define it and DSVA computes it (`test_zsl`): every image, all of an
 * unseen class, is assigned `argmax_{y ∈ unseen} score(x, y)` (ties: lowest class id, the first
 * unseen column) and the result is the mean over unseen classes of per-class top-1.
 *
 * Columns of `scores` are class ids; columns not in `unseen` are ignored, so the matrix may hold
 * scores for all classes or only be read at the unseen columns.
 * @param labels true class id of every row; each must be an unseen class. */
export function zslAccuracy(
  scores: ScoresInput | ScoreMatrix,
  labels: LabelsInput,
  opts: ZslOptions,
): ZslResult {
  const s = toScoreMatrix(scores);
  const y = toLabels(labels, s.rows);
  const unseen = toClassList(opts.unseen, s.cols, "unseen");
  const isUnseen = new Set(unseen);
  for (let i = 0; i < y.length; i++) {
    if (!isUnseen.has(y[i])) {
      throw new EvalInputError(
        "labels",
        `row ${i} has class ${y[i]}, which is not an unseen class; ZSL scores only the ` +
          `test images of unseen classes`,
      );
    }
  }
  if (s.rows === 0) throw new EvalInputError("scores", "there are no test images");
  const predictions = predictAmong(s, unseen);
  const r = perClassCore(predictions, y, unseen, {
    onEmptyClass: opts.onEmptyClass,
    names: opts.names,
    classesArg: "unseen",
  });
  return {
    accuracy: r.mean,
    overall: r.overall,
    perClass: r.perClass,
    skipped: r.skipped,
    predictions,
  };
}

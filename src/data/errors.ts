/** The one error type of the data layer: it names the file and the problem. */

/** A data file or folder that cannot be used as it is. `file` is the path at fault (or "" when
 * the problem is not tied to one file) and `problem` says what is wrong and what to do. */
export class DataError extends Error {
  /** The file or folder at fault. */
  readonly file: string;
  /** What is wrong with it. */
  readonly problem: string;

  /** Makes the error; the message is `file: problem`. */
  constructor(file: string, problem: string, options?: ErrorOptions) {
    super(file ? `${file}: ${problem}` : problem, options);
    this.name = "DataError";
    this.file = file;
    this.problem = problem;
  }
}

/** Where skipped problems go when a loader runs with an explicit skip option. */
export interface ProblemLog {
  /** Called once per skipped problem (default: `console.warn`). */
  warn?: (message: string) => void;
}

/** Lists at most `max` items of `xs`, then "... and N more". */
export function listSome(xs: readonly string[], max = 10): string {
  const head = xs.slice(0, max).join(", ");
  return xs.length > max ? `${head} ... and ${xs.length - max} more` : head;
}

/** The error raised for evaluation inputs that cannot be scored. */

/** A score matrix, label vector, class list or option that the metrics cannot use: wrong shape,
 * non-finite scores, a label outside the classes being evaluated, a class without test images.
 * The message names the argument and, where one is at fault, the row, column or class. */
export class EvalInputError extends Error {
  /** The argument at fault (`scores`, `labels`, `seen`, `unseen`, `gamma`, ...). */
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.name = "EvalInputError";
    this.argument = argument;
  }
}

/** The error raised for a weight or checkpoint file that cannot be read or written. */

/** A weight file (safetensors, checkpoint, TF.js model) that is missing, malformed or
 * inconsistent. The message names the file and, where one is at fault, the tensor. */
export class WeightFileError extends Error {
  /** The file at fault. */
  readonly file: string;
  /** The tensor (or manifest entry) at fault, when there is one. */
  readonly entry?: string;
  /** `message` is prefixed with the file (and the entry, when given). */
  constructor(file: string, message: string, opts: { entry?: string; cause?: unknown } = {}) {
    const where = opts.entry === undefined ? file : `${file}: tensor "${opts.entry}"`;
    super(`${where}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "WeightFileError";
    this.file = file;
    this.entry = opts.entry;
  }
}

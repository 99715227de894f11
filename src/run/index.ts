/**
 * A run and its folder: `runs/<YYYYMMDD-HHMMSS>-<name>/` (created by `createRunDir`), the
 * progress bar that training loops draw, and atomic JSON writes. The training loops of DSVA and
 * of CLIP fine-tuning share these.
 *
 * @module
 */
export * from "./progress.ts";
export * from "./run_dir.ts";

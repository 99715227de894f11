/**
 * A run and its folder: `runs/<YYYYMMDD-HHMMSS>-<name>/` (created by `createRunDir`), the
 * epoch/step loop with its checkpoints, stop requests and resume (`runEpochs`), the metrics log
 * it appends to, the progress bar, and atomic JSON writes. The training loops of DSVA and of
 * CLIP fine-tuning share these.
 *
 * @module
 */
export * from "./loop.ts";
export * from "./metrics_log.ts";
export * from "./progress.ts";
export * from "./run_dir.ts";

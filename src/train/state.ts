/** What a training checkpoint holds, and reading one back. Written with `io.saveCheckpoint`
 * (one safetensors file, atomic): the model weights and Adam's moments as tensors, everything
 * else as JSON metadata. */
import type { SamplerState } from "../data/sampler.ts";
import { type CheckpointState, loadCheckpoint } from "../io/checkpoint.ts";
import type { OptimizerStateDict } from "../optim/optimizer.ts";
import type { Device } from "../tensor/device.ts";
import type { Tensor } from "../tensor/index.ts";
import type { TrainConfig } from "../config/types.ts";

/** The selected epoch so far. */
export interface BestState {
  epoch: number;
  step: number;
  /** The selection score (held-out seen accuracy, test ZSL / H, or the epoch for `last`). */
  score: number;
  /** What the score is. */
  metric: string;
}

/** One test evaluation of an epoch (VAM branch), kept as the best by one criterion. */
export interface TestEpoch {
  epoch: number;
  step: number;
  zsl: number;
  S: number;
  U: number;
  H: number;
}

/** The best test epochs so far by each official criterion, whichever one selects: ZSL accuracy
 * (the official ZSL scripts' `Result.update`) and H (the GZSL scripts' `update_gzsl`). Only
 * epochs evaluated on the test set count (`monitorTest` or `official` selection). */
export interface TestBests {
  zsl: TestEpoch | null;
  H: TestEpoch | null;
}

/** The trainer's own running state (JSON). */
export interface TrainerState {
  best: BestState | null;
  /** Absent in checkpoints written before it was recorded (read as none so far). */
  testBest?: TestBests;
  /** Seconds trained before this process (resumes). */
  elapsed: number;
  /** Smoothed loss, and the current epoch's loss sum and step count. */
  lossEma: number;
  epochLossSum: number;
  epochSteps: number;
  /** An epoch whose end-of-epoch evaluation failed (a bad test image, ...) after its training
   * finished: the checkpoint keeps the epoch, and resuming runs the evaluation first. */
  pendingEvaluation?: number;
}

/** How the random streams are made resumable (recorded in every checkpoint). */
export const RNG_NOTE = {
  torch: "manualSeed(hashKeys([seed, step])) before every step",
  sampler: "batch (epoch, b) drawn from Rng(seed, epoch, b)",
  augmentation: "image k of batch (epoch, b) augmented with Rng(seed, epoch, b, k)",
  heldout: "per class, Rng(seed, 0x4e1d, class).permutation",
} as const;

/** A full training checkpoint (`checkpoints/last.safetensors`). */
export interface TrainCheckpoint extends CheckpointState {
  kind: "train-state";
  /** Optimizer steps done. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  model: Map<string, Tensor>;
  optimizer: OptimizerStateDict | null;
  /** The epoch the optimizer state was built for (the official recipe re-creates Adam every
   * epoch: state from an earlier epoch is not carried over). */
  optimizerEpoch: number;
  /** The next batch to train on. */
  sampler: SamplerState;
  rng: { seed: number } & typeof RNG_NOTE;
  config: TrainConfig;
  trainer: TrainerState;
  /** Why it was written: `epoch`, `interrupt:SIGINT`, `max-steps`, ... */
  reason: string;
}

/** The selected model (`checkpoints/best.safetensors`). */
export interface ModelCheckpoint extends CheckpointState {
  kind: "model";
  step: number;
  /** The epoch these weights finished (0-based). */
  epoch: number;
  model: Map<string, Tensor>;
  config: TrainConfig;
  best: BestState;
}

/** The checkpoint file names inside a run folder. */
export const CHECKPOINTS = {
  last: "checkpoints/last.safetensors",
  best: "checkpoints/best.safetensors",
} as const;

/** Reads a checkpoint of either kind (the caller disposes it). */
export async function readCheckpoint(
  path: string,
  device: Device = "cpu",
): Promise<(TrainCheckpoint | ModelCheckpoint) & Disposable> {
  const c = await loadCheckpoint<TrainCheckpoint | ModelCheckpoint>(path, { device });
  const kind = (c as { kind?: unknown }).kind;
  if (kind !== "train-state" && kind !== "model") {
    c[Symbol.dispose]();
    throw new Error(`${path}: not a DSVA training checkpoint (kind ${String(kind)})`);
  }
  if (!(c.model instanceof Map)) {
    c[Symbol.dispose]();
    throw new Error(`${path}: the checkpoint has no model weights`);
  }
  return c;
}

/** One DSVA training step, as `deno task train` takes it and `deno task bench train` times it:
 * libtorch's generator re-seeded from (seed, step), the forward pass and the loss (under CUDA
 * autocast when the config asks), a check that the loss is finite before anything is applied,
 * then zeroGrad, backward and the optimizer step.
 * @module
 */
import { hashKeys } from "../data/rng.ts";
import { dsvaLoss, type DsvaLossConfig, lossValues } from "../dsva/losses.ts";
import type { DSVA } from "../dsva/model.ts";
import type { Adam } from "../optim/adam.ts";
import type { DistributedDataParallel } from "../nn/ddp.ts";
import { type Device, manualSeed, scope, type Tensor, TorchError } from "../tensor/index.ts";
import { maybeAutocast } from "./scoring.ts";
import { type DsvaWithLoss, globalLossValues } from "./shard.ts";
import { CHECKPOINTS } from "./state.ts";
import type { TrainConfig } from "../config/types.ts";

/** A non-finite loss: training stops, naming the step. */
export class NonFiniteLossError extends Error {
  override name = "NonFiniteLossError";
  constructor(
    readonly step: number,
    readonly epoch: number,
    readonly batch: number,
    readonly terms: Record<string, number>,
  ) {
    super(
      `the loss is ${terms.total} at step ${step} (epoch ${epoch}, batch ${batch}); terms: ${
        Object.entries(terms).map(([k, v]) => `${k}=${v}`).join(", ")
      }. Training stopped before applying it; the last good checkpoint is ${CHECKPOINTS.last} ` +
        `(try a lower learning rate)`,
    );
  }
}

/** What one step trains on and with. */
export interface DsvaStepInputs {
  model: DSVA;
  optimizer: Adam;
  /** `[B, 3, H, W]` normalized images. */
  pixels: Tensor;
  /** `[B]` int64 rows of `attributes` (the seen classes). */
  labels: Tensor;
  /** `[C_seen, K]` class-attribute matrix of the seen classes. */
  attributes: Tensor;
  /** The recipe's loss at this epoch (`recipeLoss`). */
  loss: DsvaLossConfig;
  /** Attention Concentration in the forward pass (`acInTraining`). */
  useAC: boolean;
  /** The run's config: its seed (with `step`, libtorch's generator), autocast and device. */
  config: TrainConfig;
  /** Steps done before this one. */
  step: number;
  /** The batch's place, for the non-finite-loss error. */
  epoch: number;
  batch: number;
  /** As one rank of a data-parallel job: `pixels` and `labels` are this rank's slice of the
   * global batch, and the model runs inside this DDP wrapper (see `shard.ts`). */
  ddp?: DistributedDataParallel<DsvaWithLoss>;
}

/** Takes one training step and returns the loss values (`total` and each unweighted term);
 * the model's `loss.backward(); optimizer.step()` of a PyTorch training loop. A non-finite
 * loss throws {@link NonFiniteLossError} before the gradients are applied. */
export function dsvaTrainStep(i: DsvaStepInputs): Record<string, number> {
  manualSeed(hashKeys([i.config.seed, i.step]));
  if (i.ddp) return shardedStep(i, i.ddp);
  return scope(() => {
    const result = maybeAutocast(i.config, () => {
      const out = i.model.forward(i.pixels, i.attributes, { useAC: i.useAC });
      return dsvaLoss(i.model, out, i.labels, i.attributes, i.loss);
    });
    const v = lossValues(result);
    if (!Number.isFinite(v.total)) throw new NonFiniteLossError(i.step + 1, i.epoch, i.batch, v);
    i.optimizer.zeroGrad();
    result.total.backward();
    i.optimizer.step();
    return v;
  });
}

/** The step of one rank: its slice's loss through DDP, the global batch's loss values (every
 * rank checks the same ones, so all stop together on a non-finite loss), then backward, during
 * which the reducer averages the gradients over ranks, and the optimizer step. */
function shardedStep(
  i: DsvaStepInputs,
  ddp: DistributedDataParallel<DsvaWithLoss>,
): Record<string, number> {
  return scope(() => {
    const total = maybeAutocast(
      i.config,
      () => ddp.forward(i.pixels, i.labels, i.attributes, i.loss, i.useAC),
    );
    const local = lossValues(ddp.module.last!);
    delete (local as { total?: number }).total;
    const v = globalLossValues(ddp.processGroup, i.config.device as Device, total.item(), local);
    if (!Number.isFinite(v.total)) throw new NonFiniteLossError(i.step + 1, i.epoch, i.batch, v);
    i.optimizer.zeroGrad();
    try {
      total.backward();
    } catch (e) {
      // The reducer all-reduces during backward: a peer that died shows here as a socket error.
      const g = ddp.processGroup;
      throw new TorchError(
        `step ${i.step + 1}: backward and its gradient all-reduce failed on rank ${g.rank} of ` +
          `${g.worldSize} (a peer rank exited or did not take part): ${(e as Error).message}`,
        "distributed",
      );
    }
    i.optimizer.step();
    ddp.module.last = null;
    return v;
  });
}

/** `BatchNorm2d`: per-channel normalization with running statistics. */
import { empty, ops, type Tensor, zeros } from "../tensor/index.ts";
import { ones_, zeros_ } from "./init.ts";
import { type FactoryOptions, Module } from "./module.ts";

/** Options of `BatchNorm2d`. */
export interface BatchNormOptions extends FactoryOptions {
  /** Added to the variance (1e-5). */
  eps?: number;
  /** Weight of the new batch in the running statistics (0.1); null for a
   * cumulative moving average. */
  momentum?: number | null;
  /** Learned per-channel scale and shift (true). */
  affine?: boolean;
  /** Keep running mean/variance for evaluation (true). */
  trackRunningStats?: boolean;
}

/** Batch normalization over [N, C, H, W]. In training mode it normalizes with
 * the batch statistics and updates `running_mean` / `running_var` (unbiased
 * variance) and `num_batches_tracked`; in eval mode it uses the running ones.
 * Same semantics as PyTorch's nn.BatchNorm2d. */
export class BatchNorm2d extends Module {
  /** Channels C. */
  readonly numFeatures: number;
  /** Added to the variance. */
  readonly eps: number;
  /** Running-statistics momentum, or null for a cumulative average. */
  momentum: number | null;
  /** Scale [C] (ones), or null. */
  readonly weight: Tensor | null;
  /** Shift [C] (zeros), or null. */
  readonly bias: Tensor | null;
  /** Running mean [C], or null without tracking. */
  readonly runningMean: Tensor | null;
  /** Running variance [C], or null without tracking. */
  readonly runningVar: Tensor | null;
  /** Training batches seen (int64, 0-d), or null without tracking. */
  readonly numBatchesTracked: Tensor | null;

  /** Batch norm over `numFeatures` channels; weight ones, bias zeros, running mean 0 and variance 1. */
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    const f = { dtype: opts.dtype, device: opts.device };
    const affine = opts.affine ?? true;
    this.weight = this.registerParameter("weight", affine ? ones_(empty([numFeatures], f)) : null);
    this.bias = this.registerParameter("bias", affine ? zeros_(empty([numFeatures], f)) : null);
    const track = opts.trackRunningStats ?? true;
    this.runningMean = this.registerBuffer(
      "running_mean",
      track ? zeros_(empty([numFeatures], f)) : null,
    );
    this.runningVar = this.registerBuffer(
      "running_var",
      track ? ones_(empty([numFeatures], f)) : null,
    );
    this.numBatchesTracked = this.registerBuffer(
      "num_batches_tracked",
      track ? zeros([], { dtype: "int64", device: opts.device }) : null,
    );
  }

  /** [N, C, H, W] → same shape. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) {
      throw new RangeError(`BatchNorm2d: expected 4-d input [N, C, H, W], got shape [${x.shape}]`);
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked !== null) {
      this.numBatchesTracked.add_(1);
      if (this.momentum === null) factor = 1 / this.numBatchesTracked.item();
    }
    const useBatchStats = this.training || this.runningMean === null;
    return ops.aten.batch_norm(
      x,
      this.weight,
      this.bias,
      this.runningMean,
      this.runningVar,
      useBatchStats,
      factor,
      this.eps,
      true,
    );
  }

  /** Channels, eps, momentum and flags. */
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${
      this.weight !== null
    }, trackRunningStats=${this.runningMean !== null}`;
  }
}

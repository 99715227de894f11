/**
 * One rank's share of a data-parallel DSVA step. Every rank draws the same global episode (the
 * one a single process would train on) and takes its contiguous slice; the loss each rank
 * back-propagates is chosen so that the average of the ranks' gradients — what
 * `DistributedDataParallel` hands back — is the single process's gradient:
 *
 * * the CE and MSE terms are means over the batch (over its B·K entries for the MSEs): with
 *   equal slices the mean of the ranks' means is the global mean, as it is;
 * * the compactness term (`cpt`) is a sum over the batch: each rank multiplies its part by the
 *   world size N, so the average over ranks is the global sum;
 * * the group lassos depend on the weights alone: every rank computes the whole term, and the
 *   average of N equal gradients is that gradient.
 *
 * So the gradient is exact up to the order of floating-point sums. Nothing in DSVA's forward
 * couples the images of a batch (LayerNorm, no BatchNorm in training, no dropout), so the
 * slices' outputs are the global batch's rows.
 * @module
 */
import { dsvaLoss, type DsvaLossConfig, type DsvaLossResult } from "../dsva/losses.ts";
import type { DSVA } from "../dsva/model.ts";
import type { ProcessGroup } from "../distributed/group.ts";
import { Module } from "../nn/module.ts";
import { type Device, fromBuffer, type Tensor } from "../tensor/index.ts";

/** A small float64 vector where `group`'s backend reduces it (NCCL: the GPU). */
function vector(group: ProcessGroup, device: Device, values: number[]): Tensor {
  const on = group.backend === "nccl" ? device : "cpu";
  return fromBuffer(Float64Array.from(values), [values.length], { dtype: "float64", device: on });
}

/** A rank's contiguous slice `[start, start + size)` of a global batch of `total`. */
export function rankSlice(total: number, rank: number, worldSize: number) {
  if (total % worldSize !== 0) {
    throw new RangeError(
      `a batch of ${total} images (ways × shots) does not split evenly over ${worldSize} ranks`,
    );
  }
  const size = total / worldSize;
  return { start: rank * size, size };
}

/** DSVA and its loss as one module, so that `DistributedDataParallel`'s forward ends at the
 * loss it back-propagates: the reducer then finds the parameters that get no gradient this step
 * (`findUnusedParameters`) from the loss, not from outputs the loss does not use. */
export class DsvaWithLoss extends Module {
  readonly dsva: DSVA;
  /** The last forward's loss terms (unscaled, of this rank's slice). */
  last: DsvaLossResult | null = null;

  constructor(dsva: DSVA, readonly worldSize: number) {
    super();
    this.dsva = this.registerModule("dsva", dsva);
  }

  /** The loss this rank back-propagates: the slice's DSVA loss with `cpt` scaled by N. */
  forward(
    pixels: Tensor,
    labels: Tensor,
    attributes: Tensor,
    loss: DsvaLossConfig,
    useAC: boolean,
  ): Tensor {
    const out = this.dsva.forward(pixels, attributes, { useAC });
    const r = dsvaLoss(this.dsva, out, labels, attributes, loss);
    this.last = r;
    const cpt = r.weighted.cpt;
    return cpt && this.worldSize > 1 ? r.total.add(cpt.mul(this.worldSize - 1)) : r.total;
  }
}

/** The global batch's loss values from every rank's: means of the ranks' values, the
 * compactness sum times N; `total` is the mean of the back-propagated (scaled) totals, which
 * is the global total. One all-reduce of a few float64s. */
export function globalLossValues(
  group: ProcessGroup,
  device: Device,
  rankTotal: number,
  terms: Record<string, number>,
): Record<string, number> {
  const names = Object.keys(terms);
  const t = vector(group, device, [rankTotal, ...names.map((n) => terms[n])]);
  try {
    group.allReduce(t, { op: "mean" });
    const v = t.toArray() as number[];
    const out: Record<string, number> = { total: v[0] };
    names.forEach((n, i) => (out[n] = n === "cpt" ? v[i + 1] * group.worldSize : v[i + 1]));
    return out;
  } finally {
    t.dispose();
  }
}

const STOP_CODES = ["SIGINT", "SIGTERM"];

/** The stop request every rank agrees on: the strongest any rank has (so that all ranks stop
 * after the same step, and rank 0's checkpoint is every rank's). A collective: every rank calls
 * it at the same points. */
export function agreedStop(
  group: ProcessGroup,
  device: Device,
  local: string | null,
): string | null {
  const code = local === null ? 0 : STOP_CODES.indexOf(local) + 1 || STOP_CODES.length + 1;
  const t = vector(group, device, [code]);
  try {
    group.allReduce(t, { op: "max" });
    const c = t.item();
    return c === 0 ? null : c <= STOP_CODES.length ? STOP_CODES[c - 1] : (local ?? "stop");
  } finally {
    t.dispose();
  }
}

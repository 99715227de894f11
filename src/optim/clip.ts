/** Gradient clipping by total norm, with libtorch's multi-tensor norm and
 * scale (`_foreach_norm`, `_foreach_mul_`) where present. */
import { noGrad, ops, scope, stack, type Tensor, zeros } from "../tensor/index.ts";
import { hasOp } from "./kernels.ts";
import { bucketsWithGrad } from "./optimizer.ts";

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** The p of the p-norm (2; `Infinity` for the max norm). */
  normType?: number;
  /** Throw if the total norm is NaN or infinite (false; checking costs a device sync). */
  errorIfNonfinite?: boolean;
}

/** Scales the gradients of `params` in place so that their total norm (the
 * norm of the per-tensor norms) is at most `maxNorm`, as
 * `torch.nn.utils.clip_grad_norm_`: coefficient min(1, maxNorm / (norm + 1e-6)).
 * Returns the total norm before clipping as a 0-d tensor (no device sync). */
export function clipGradNorm(
  params: readonly Tensor[],
  maxNorm: number,
  opts: ClipGradNormOptions = {},
): Tensor {
  const p = opts.normType ?? 2;
  const buckets = bucketsWithGrad(params);
  if (buckets.length === 0) return zeros([]);
  const foreach = hasOp("aten::_foreach_norm") && hasOp("aten::_foreach_mul_");
  return noGrad(() => {
    const total = scope(() => {
      const first = buckets[0].grads[0].device;
      const norms: Tensor[] = [];
      for (const b of buckets) {
        const ns = foreach
          ? ops.aten._foreach_norm.Scalar(b.grads, p)
          : b.grads.map((g) => g.norm(p));
        const here = b.grads[0].device === first;
        for (const n of ns) norms.push(here ? n : n.to(first));
      }
      return stack(norms).norm(p);
    });
    if (opts.errorIfNonfinite && !Number.isFinite(total.item())) {
      total.dispose();
      throw new RangeError(
        `clipGradNorm: the total norm of order ${p} of the gradients is non-finite; set errorIfNonfinite: false to clip anyway`,
      );
    }
    scope(() => {
      // maxNorm / (total + 1e-6), computed as Python's Tensor.__rtruediv__ does.
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1.0);
      for (const b of buckets) {
        const c = coef.to(b.grads[0].device);
        if (foreach) ops.aten._foreach_mul_.Tensor(b.grads, c);
        else for (const g of b.grads) g.mul_(c);
      }
    });
    return total;
  });
}

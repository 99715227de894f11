/** CLIP's optimizer: AdamW with weight decay on matrices only.
 * @module
 */
import type { Tensor } from "../tensor/index.ts";
import type { CLIPModel } from "../models/clip.ts";
import { AdamW } from "../optim/index.ts";

/** AdamW with CLIP's two groups: weight decay on the matrices (linear, convolution, projection
 * weights), none on gains, biases, embeddings, the class token and the logit scale. */
export function clipOptimizer(
  model: CLIPModel,
  opts: { lr: number; weightDecay: number; betas?: [number, number]; eps?: number },
): AdamW {
  const decay: Tensor[] = [], other: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    const exempt = p.ndim < 2 || name.includes("embedding") || name.endsWith("logit_scale");
    (exempt ? other : decay).push(p);
  }
  return new AdamW([
    { params: decay, weightDecay: opts.weightDecay },
    { params: other, weightDecay: 0 },
  ], { lr: opts.lr, betas: opts.betas ?? [0.9, 0.98], eps: opts.eps ?? 1e-6 });
}

/** CLIP's contrastive loss over a global batch split across ranks, back-propagated so that
 * `DistributedDataParallel`'s average of the ranks' gradients is the gradient of one process
 * training on the whole batch.
 *
 * The InfoNCE loss couples every image with every caption of the batch, so no rank can compute
 * it from its slice alone. Each rank encodes its slice, all-gathers every rank's (detached)
 * embeddings, puts its own — still attached to its graph — in its place, and computes the
 * global batch's loss L: the same value on every rank. Backward from L on rank r yields ∂L/∂θ
 * through rank r's embeddings only; the sum of those over ranks is the full ∂L/∂θ (each slice's
 * embeddings depend on θ and that slice's inputs alone: no BatchNorm, no dropout in CLIP). DDP
 * averages, so each rank back-propagates N·L. The logit scale enters L directly on every rank,
 * not through the embeddings: its path is scaled by 1/N (s' = s̄ + (s − s̄)/N, whose value is s
 * bit for bit, s̄ being s detached), so its averaged gradient is ∂L/∂s. This is the gradient
 * open_clip gets with `gather_with_grad=True` (its all-gather's backward sums the ranks'
 * gradients of their copies of L), without a differentiable all-gather.
 * @module
 */
import type { ProcessGroup } from "../distributed/group.ts";
import { type CLIPModel, l2Normalize } from "../models/clip.ts";
import { Module } from "../nn/module.ts";
import { arange, cat, crossEntropy, noGrad, scope, type Tensor } from "../tensor/index.ts";

/** What a rank's forward hands back: the loss to back-propagate (N·L), and the global batch's
 * loss L and retrieval accuracy (the same on every rank). */
export interface GatheredLoss {
  backpropagated: Tensor;
  loss: Tensor;
  accuracy: Tensor;
}

/** Rank `rank`'s tensor in the place of its gathered copy, the others detached: the global
 * batch's rows in rank order. */
function globalRows(group: ProcessGroup, mine: Tensor): Tensor {
  const all = group.allGather(mine.detach());
  all[group.rank] = mine;
  return cat(all, 0);
}

/** CLIP and its global-batch contrastive loss as one module, so that DDP's forward ends at the
 * loss each rank back-propagates. */
export class ClipGatheredLoss extends Module {
  readonly clip: CLIPModel;

  constructor(clip: CLIPModel, readonly group: ProcessGroup) {
    super();
    this.clip = this.registerModule("clip", clip);
  }

  /** This rank's slice of the global batch (images and their captions' token ids). */
  forward(pixels: Tensor, inputIds: Tensor, attentionMask: Tensor | null): GatheredLoss {
    return scope(() => {
      const n = this.group.worldSize;
      const img = globalRows(this.group, l2Normalize(this.clip.encodeImage(pixels)));
      const txt = globalRows(
        this.group,
        l2Normalize(this.clip.encodeText(inputIds, { attentionMask })),
      );
      const s = this.clip.logitScale;
      const sBar = s.detach();
      const scale = sBar.add(s.sub(sBar).div(n)).exp();
      const logits = img.matmul(txt.transpose(0, 1)).mul(scale);
      const target = arange(0, img.size(0), 1, { dtype: "int64", device: img.device });
      const loss = crossEntropy(logits, target).add(crossEntropy(logits.transpose(0, 1), target))
        .mul(0.5);
      const accuracy = noGrad(() => logits.argmax(1).eq(target).to("float32").mean());
      return { backpropagated: loss.mul(n), loss: loss.detach(), accuracy };
    });
  }
}

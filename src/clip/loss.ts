/** CLIP's training objective: the symmetric InfoNCE loss with the learned temperature, and the
 * clamp of that temperature after every optimizer step (Radford et al. 2021).
 * @module
 */
import { arange, crossEntropy, noGrad, scope, type Tensor } from "../tensor/index.ts";
import { type CLIPModel, l2Normalize } from "../models/clip.ts";

/** ln(100): CLIP clamps the logit scale so that exp(scale) stays ≤ 100 (Radford et al. 2021). */
export const MAX_LOGIT_SCALE = Math.log(100);

/** The symmetric contrastive loss of CLIP: image i matches text i; cross-entropy of the
 * image→text and the text→image logits (exp(logit_scale) · cosine), averaged. Returns the loss
 * and the fraction of images whose best text is their own (a training-accuracy signal). */
export function contrastiveLoss(
  model: CLIPModel,
  pixels: Tensor,
  inputIds: Tensor,
  attentionMask: Tensor | null,
): { loss: Tensor; accuracy: Tensor } {
  return scope(() => {
    const img = l2Normalize(model.encodeImage(pixels));
    const txt = l2Normalize(model.encodeText(inputIds, { attentionMask }));
    const logits = img.matmul(txt.transpose(0, 1)).mul(model.logitScale.exp());
    const target = arange(0, img.size(0), 1, { dtype: "int64", device: img.device });
    const loss = crossEntropy(logits, target).add(crossEntropy(logits.transpose(0, 1), target))
      .mul(0.5);
    const accuracy = noGrad(() => logits.argmax(1).eq(target).to("float32").mean());
    return { loss, accuracy };
  });
}

/** Clamps the logit scale into [0, ln 100] in place, as OpenAI's training code does after every
 * step. */
export function clampLogitScale(model: CLIPModel): void {
  noGrad(() => model.logitScale.clamp_(0, MAX_LOGIT_SCALE));
}

/**
 * The `clip` namespace: training CLIP models. A small CLIP from scratch (its configuration,
 * transformers' initialization, and a byte-level BPE tokenizer learned from the captions) or a
 * Hugging Face CLIP folder fine-tuned, on image–caption pairs read from RSICD/UCM JSON, CSV or
 * the synthetic scenes' `captions.json`; the symmetric contrastive loss with the learned
 * temperature and its clamp, AdamW with decay on matrices only, the train and eval image
 * transforms, and the fine-tuning loop of `deno task clip:finetune` on the run loop that DSVA
 * training uses (`src/run/`), ending with a Hugging Face CLIP folder that `deno task attributes`
 * takes. Reading CLIP models and their configuration is `models`'s; scoring attributes with
 * them is `attributes`'s.
 * @module
 */
export { bpeTokenizerFiles, type BpeVocabulary, trainBpe, type TrainBpeOptions } from "./bpe.ts";
export {
  type CaptionedImage,
  checkImagesExist,
  readCaptions,
  type ReadCaptionsOptions,
} from "./captions.ts";
export { loadCaptionPairs } from "./pairs.ts";
export { clampLogitScale, contrastiveLoss, MAX_LOGIT_SCALE } from "./loss.ts";
export { clipOptimizer } from "./optimizer.ts";
export { saveHfClip } from "./save.ts";
export { initClipWeights, tinyClipConfig, type TinyClipOptions } from "./tiny.ts";
export { type ClipAugment, clipEvalTransform, clipTrainTransform } from "./transforms.ts";
export {
  type CaptionSource,
  FINETUNE_DEFAULTS,
  type FinetuneConfig,
  type FinetuneModel,
} from "./finetune_config.ts";
export {
  finetuneClip,
  type FinetuneLogEntry,
  type FinetuneOptions,
  type FinetuneResult,
} from "./finetune.ts";

/** The `attributes` namespace: CLIP-based attribute collection: scoring, contrastive
 * fine-tuning (and a tiny CLIP + BPE tokenizer from scratch), caption and vocabulary files,
 * collection and its output files, AUROC against true attributes. */
export {
  aggregateByClass,
  type AggregateOptions,
  type Aggregation,
  attributePrompts,
  DEFAULT_TEMPLATES,
  encodeAttributes,
  type EncodeAttributesOptions,
  imageAttributeScores,
  type Normalization,
  normalizeAttributes,
  RS_TEMPLATES,
  scoreAttributes,
  type ScoreAttributesOptions,
  type Similarity,
} from "./scoring.ts";
export { attributeAuroc, auroc } from "./auroc.ts";
export { bpeTokenizerFiles, type BpeVocabulary, trainBpe, type TrainBpeOptions } from "./bpe.ts";
export {
  type CaptionedImage,
  checkImagesExist,
  readCaptions,
  type ReadCaptionsOptions,
} from "./captions.ts";
export {
  clampLogitScale,
  clipConfigToHf,
  clipOptimizer,
  contrastiveLoss,
  initClipWeights,
  MAX_LOGIT_SCALE,
  saveHfClip,
  tinyClipConfig,
  type TinyClipOptions,
} from "./clip_train.ts";
export {
  type CaptionSource,
  clipEvalTransform,
  FINETUNE_DEFAULTS,
  finetuneClip,
  type FinetuneConfig,
  type FinetuneModel,
  type FinetuneOptions,
  type FinetuneResult,
  loadCaptionPairs,
} from "./finetune.ts";
export {
  type AttributeFiles,
  collectAttributes,
  type CollectedAttributes,
  type CollectSettings,
  embedImages,
  encodePhrases,
  loadClip,
  resolveModelDir,
  scoreAgainstTruth,
  writeAttributeFiles,
} from "./collect.ts";
export {
  type AttributeSpec,
  type AttributeVocabulary,
  makeVocabulary,
  phraseOf,
  readVocabulary,
  vocabularyJson,
} from "./vocabulary.ts";
export { SYNTHETIC_TEMPLATES, syntheticTruth, syntheticVocabulary } from "./synthetic.ts";

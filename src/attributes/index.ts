/**
 * The `attributes` namespace: attribute collection with a CLIP model. An attribute vocabulary
 * (names, groups, phrases) is turned into prompts, scored against each image (cosine or
 * centered similarity), pooled per class and normalized into the class-attribute matrix that
 * `deno task train` reads; collection writes it with its report, and AUROC measures it against
 * true attributes when they are known. Training or fine-tuning the CLIP itself is `clip`'s.
 * @module
 */
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
export { readTemplates, readTrueAttributes, type TrueAttributes } from "./input_files.ts";

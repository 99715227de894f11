/** The `attributes` namespace: CLIP-based attribute collection (scoring core). */
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

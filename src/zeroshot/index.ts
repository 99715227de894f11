/**
 * CLIP's own zero-shot classification, the baseline a DSVA result is read against: class names
 * made readable (or aliased) and put into prompt templates (a built-in remote-sensing set, a
 * file, or one template), the text embeddings ensembled, images and texts embedded once through
 * a safetensors cache keyed by the weights' hash, the transform and the prompt set, and the
 * results under both protocols (all classes: top-1 and mean per-class; ZSL / GZSL of a
 * seen/unseen split with calibrated stacking and AUSUC, counted by src/eval) written as
 * `deno task eval` writes DSVA's. `loadClip` is the one place a CLIP comes from.
 * @module
 */
export { type ClassAliases, classTexts, readableClassName, readAliases } from "./names.ts";
export { checkTemplates, readPromptFile, REMOTE_SENSING_TEMPLATES } from "./prompts.ts";
export {
  type ClipSource,
  clipSource,
  clipSourceFiles,
  type ClipSourceLike,
  clipWeightsHash,
  describeClipSource,
  hasTextTower,
  loadClip,
  type LoadedClip,
} from "./load.ts";
export {
  cachePath,
  hashFiles,
  imageCacheKey,
  readCached,
  textCacheKey,
  writeCached,
} from "./cache.ts";
export {
  cachedImageEmbeddings,
  type CacheState,
  type EmbedRequest,
  type ZeroShotEmbeddings,
  zeroShotEmbeddings,
} from "./embed.ts";
export {
  allClassAccuracy,
  type AllClassResult,
  classProbabilities,
  type ScoredImages,
  splitAccuracy,
  type SplitResult,
} from "./protocols.ts";
export { limitPerClass, runZeroShot, type ZeroShotOptions, type ZeroShotOutcome } from "./run.ts";
export {
  writeZeroShotEvaluation,
  ZEROSHOT_FILES,
  zeroShotReport,
  zeroShotSummary,
} from "./report.ts";
export { type ClipBaseline, clipZeroShotBaseline } from "./baseline.ts";

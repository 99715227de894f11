/**
 * Scene data: image decoding and augmentation, loaders, datasets and splits, attribute files,
 * samplers, and the built-in synthetic aerial scenes. All of it runs on the host: importing this
 * namespace does not load libtorch. Host batches become tensors through `train.batchToTensor`
 * (`src/data/tensor.ts`).
 *
 * ```ts
 * import { data, train } from "./mod.ts";
 * const ds = await data.openSyntheticDataset();            // or data.openDatasetFolder(dir)
 * const sampler = new data.EpisodicSampler(
 *   ds.split.trainval.map((i) => ds.samples[i].label), { ways: 8, shots: 3, batchesPerEpoch: 300 });
 * const loader = new data.ImageLoader(data.splitSamples(ds, "trainval"),
 *   { transform: data.trainTransform(224) });
 * for await (const batch of loader.batches(sampler.epoch())) {
 *   using x = train.batchToTensor(batch);                   // [24, 3, 224, 224] float32
 * }
 * ```
 * @module
 */
export { DataError, listSome } from "./errors.ts";
export type { ProblemLog } from "./errors.ts";
export { hashKeys, Rng } from "./rng.ts";
export type { RngState } from "./rng.ts";
export { decodeImage, drawSvgOver, encodePng, imageSize, rgbImage, writePng } from "./image.ts";
export type { DecodeOptions, RgbImage } from "./image.ts";
export { resize, shorterSideSize } from "./resize.ts";
export type { ResampleFilter } from "./resize.ts";
export {
  CenterCrop,
  Compose,
  crop,
  evalTransform,
  flipHorizontal,
  flipVertical,
  RandomCrop,
  RandomHorizontalFlip,
  RandomResizedCrop,
  randomResizedCropBox,
  RandomVerticalFlip,
  Resize,
  roundHalfEven,
  trainTransform,
  transformFromSpec,
} from "./transforms.ts";
export type { Size2, Transform, TransformSpec } from "./transforms.ts";
export { CLIP, IMAGENET, stackImages, UNIT, writeChw } from "./normalize.ts";
export type { HostBatch, Normalization } from "./normalize.ts";
export { mapOrdered } from "./ordered.ts";
export type { MapOrderedOptions } from "./ordered.ts";
export { ImageLoader } from "./loader.ts";
export { DecodePool } from "./worker_pool.ts";
export type { ChwImage } from "./worker_pool.ts";
export type { LoadedBatch, LoaderOptions, Sample } from "./loader.ts";
export { BatchSampler } from "./sampler.ts";
export type { BatchPlan, SamplerState } from "./sampler.ts";
export { EpisodicSampler } from "./episodic_sampler.ts";
export type { EpisodicOptions } from "./episodic_sampler.ts";
export { ShuffledBatchSampler } from "./shuffle_sampler.ts";
export type { ShuffledOptions } from "./shuffle_sampler.ts";
export {
  canonicalName,
  CLASS_ALIASES,
  findClassNames,
  FIX_CLASS_NAMES,
  matchClassNames,
} from "./class_names.ts";
export type { ClassNameMatch, MatchOptions } from "./class_names.ts";
export { IMAGE_EXTENSIONS, scanImageFolder } from "./image_folder.ts";
export type { ImageFolder, ScanOptions } from "./image_folder.ts";
export { parseNpy, readNpy } from "./npy.ts";
export { matNumbers, matStrings, matToRows, parseMat5, readMat } from "./mat.ts";
export type { MatValue } from "./mat.ts";
export { readXlsa17 } from "./xlsa17.ts";
export type { Xlsa17Options, Xlsa17Split } from "./xlsa17.ts";
export type { NpyArray } from "./npy.ts";
export {
  alignAttributes,
  attributeRow,
  fromRows,
  l2NormalizeRows,
  parseAttributeCsv,
  readAttributes,
  scaleAttributeMatrix,
  scaleAttributes,
} from "./attributes.ts";
export type { AttributeMatrix, AttributeScale, ReadAttributesOptions } from "./attributes.ts";
export {
  groupProblems,
  missingGroupsWarning,
  readGroups,
  resolveGroups,
  startingGroups,
} from "./groups.ts";
export type { AttributeGroups, StartingGroups } from "./groups.ts";
export { checkSplit, pickSplit, readSplitFile, resolveSplit } from "./splits.ts";
export type { ResolvedSplit, ResolveSplitOptions, SplitDef, SplitFile } from "./splits.ts";
export { drawSplit, writeSplits } from "./split_writer.ts";
export type { DrawSplitOptions, SplitsJson, WriteSplitsOptions } from "./split_writer.ts";
export { checkImageFile, validateImages } from "./validate.ts";
export type { ImageProblem, ValidateOptions } from "./validate.ts";
export { findDatasetLayout, openDataset, openDatasetFolder, splitSamples } from "./dataset.ts";
export type { DatasetLayout, OpenDatasetOptions, ZslDataset } from "./dataset.ts";
export { inspectDataset, scalingAdvice } from "./inspect.ts";
export type { InspectOptions, InspectReport, SplitCounts } from "./inspect.ts";
export * from "./synthetic/index.ts";

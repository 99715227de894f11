/**
 * The `models` namespace: the networks DSVA and attribute collection use, registered under the
 * weight names of the files they load (Hugging Face, timm, TF.js). Vision Transformers and their
 * presets, the CLIP vision and text towers and the whole CLIP model, the Darknet CNN (Keras
 * layers, the TF.js builder, the model), the CLIP BPE tokenizer, and the pretrained loaders and
 * weight-name maps.
 * @module
 */
export { EncoderLayer, VisionEmbeddings, VisionMlp, VisionTransformer } from "./vit.ts";
export type { ViTOutput } from "./vit.ts";
export { VIT_PRESETS, vitConfig, vitConfigFromHf } from "./vit_config.ts";
export type { ViTConfig, ViTPreset } from "./vit_config.ts";
export { CLIPVisionModel, readHfFolder, vitFromTimm } from "./pretrained.ts";
export { hfClipVision, timmVit } from "./weight_maps.ts";
export { Darknet, type DarknetOptions } from "./darknet.ts";
export {
  GlobalAvgPool2d,
  KerasActivation,
  KerasConv2d,
  KerasMaxPool2d,
  type KerasPadding,
  tfSamePadding,
} from "./darknet_layers.ts";
export {
  CLIP_TEXT_B32,
  type CLIPTextCallOptions,
  type CLIPTextConfig,
  clipTextConfigFromHf,
  CLIPTextEmbeddings,
  CLIPTextEncoderLayer,
  CLIPTextMlp,
  type CLIPTextOutput,
  CLIPTextTransformer,
} from "./clip_text.ts";
export {
  type CLIPActivation,
  type CLIPFormat,
  CLIPSourceError,
  DEFAULT_ACTIVATION,
  detectClipFormat,
} from "./clip_sources.ts";
export {
  type CLIPConfig,
  clipConfigFromHf,
  clipConfigToHf,
  type CLIPInputs,
  type CLIPLoadOptions,
  CLIPModel,
  type CLIPOutput,
  clipVisionTower,
  describeClip,
  type EncodeOptions,
  hfClipWeights,
  l2Normalize,
  withActivation,
} from "./clip.ts";
export {
  CLIPTokenizer,
  clipTokenizerJson,
  type CLIPTokenizerOptions,
  openClipClean,
  type TokenizedBatch,
  type TokenizeOptions,
} from "./tokenizer.ts";

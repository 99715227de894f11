/** The `models` namespace: Vision Transformers and pretrained loaders. */
export { EncoderLayer, VisionEmbeddings, VisionMlp, VisionTransformer } from "./vit.ts";
export type { ViTOutput } from "./vit.ts";
export { VIT_PRESETS, vitConfig, vitConfigFromHf } from "./vit_config.ts";
export type { ViTConfig, ViTPreset } from "./vit_config.ts";
export { CLIPVisionModel, readHfFolder, vitFromTimm } from "./pretrained.ts";
export { hfClipVision, timmVit } from "./weight_maps.ts";

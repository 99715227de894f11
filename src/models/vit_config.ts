/** Vision Transformer configurations (CLIP and timm styles) and presets. */

/** Shape and style of a `VisionTransformer`. */
export interface ViTConfig {
  imageSize: number;
  patchSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** MLP activation: CLIP (OpenAI) uses quick_gelu, timm and most others gelu. */
  act: "quick_gelu" | "gelu";
  layerNormEps: number;
  /** "clip": pre-norm before the encoder, class-token pooled output through
   * `post_layernorm`, last hidden state un-normalized (Hugging Face CLIP).
   * "timm": no pre-norm, a final `norm` over all tokens (timm's ViT). */
  style: "clip" | "timm";
  /** Bias on the patch-embedding convolution (false for CLIP, true for timm). */
  patchBias: boolean;
  channels: number;
}

const base = { channels: 3, layerNormEps: 1e-5 } as const;

/** Presets: CLIP ViT-B/32 and B/16 (OpenAI / Hugging Face), timm-style small and
 * tiny, and a CPU-sized tiny ViT for training from scratch on small images. */
export const VIT_PRESETS = {
  "clip-b32": {
    ...base,
    imageSize: 224,
    patchSize: 32,
    hiddenSize: 768,
    numLayers: 12,
    numHeads: 12,
    intermediateSize: 3072,
    act: "quick_gelu",
    style: "clip",
    patchBias: false,
  },
  "clip-b16": {
    ...base,
    imageSize: 224,
    patchSize: 16,
    hiddenSize: 768,
    numLayers: 12,
    numHeads: 12,
    intermediateSize: 3072,
    act: "quick_gelu",
    style: "clip",
    patchBias: false,
  },
  "vit-small-16": {
    ...base,
    layerNormEps: 1e-6,
    imageSize: 224,
    patchSize: 16,
    hiddenSize: 384,
    numLayers: 12,
    numHeads: 6,
    intermediateSize: 1536,
    act: "gelu",
    style: "timm",
    patchBias: true,
  },
  "vit-tiny-16": {
    ...base,
    layerNormEps: 1e-6,
    imageSize: 224,
    patchSize: 16,
    hiddenSize: 192,
    numLayers: 12,
    numHeads: 3,
    intermediateSize: 768,
    act: "gelu",
    style: "timm",
    patchBias: true,
  },
  "cpu-tiny": {
    ...base,
    imageSize: 64,
    patchSize: 8,
    hiddenSize: 128,
    numLayers: 4,
    numHeads: 4,
    intermediateSize: 256,
    act: "gelu",
    style: "clip",
    patchBias: false,
  },
} as const satisfies Record<string, ViTConfig>;

export type ViTPreset = keyof typeof VIT_PRESETS;

/** A preset, optionally with fields overridden. */
export function vitConfig(preset: ViTPreset, overrides: Partial<ViTConfig> = {}): ViTConfig {
  return { ...VIT_PRESETS[preset], ...overrides };
}

/** The vision part of a Hugging Face `config.json` (CLIPVisionConfig, or a
 * CLIPConfig's `vision_config`) as a ViTConfig. */
export function vitConfigFromHf(json: Record<string, unknown>): ViTConfig {
  const v = (json.vision_config ?? json) as Record<string, unknown>;
  const num = (k: string, dflt?: number): number => {
    const x = v[k] ?? dflt;
    if (typeof x !== "number") throw new TypeError(`config.json: vision field "${k}" is missing`);
    return x;
  };
  const act = (v.hidden_act ?? "quick_gelu") as string;
  if (act !== "quick_gelu" && act !== "gelu") {
    throw new TypeError(`config.json: hidden_act "${act}" is not supported (quick_gelu, gelu)`);
  }
  return {
    imageSize: num("image_size", 224),
    patchSize: num("patch_size", 32),
    hiddenSize: num("hidden_size", 768),
    numLayers: num("num_hidden_layers", 12),
    numHeads: num("num_attention_heads", 12),
    intermediateSize: num("intermediate_size", 3072),
    act,
    layerNormEps: num("layer_norm_eps", 1e-5),
    style: "clip",
    patchBias: false,
    channels: num("num_channels", 3),
  };
}

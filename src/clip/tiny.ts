/** A small CLIP to train from scratch: its configuration and transformers' initialization.
 * @module
 */
import { noGrad } from "../tensor/index.ts";
import type { CLIPConfig, CLIPModel } from "../models/clip.ts";
import type { CLIPTextConfig } from "../models/clip_text.ts";
import type { ViTConfig } from "../models/vit_config.ts";
import { normal_, zeros_ } from "../nn/init.ts";

/** Shape of a small CLIP trained from scratch. */
export interface TinyClipOptions {
  /** Input side (default 64). */
  imageSize?: number;
  /** Patch side (default 8). */
  patchSize?: number;
  /** Width of both towers (default 128). */
  width?: number;
  /** Vision layers (default 4). */
  visionLayers?: number;
  /** Text layers (default 3). */
  textLayers?: number;
  /** Attention heads of both towers (default 4). */
  heads?: number;
  /** Joint embedding width (default 128). */
  projectionDim?: number;
  /** Context length of the text tower (default 64). */
  contextLength?: number;
}

/** A small CLIP (both towers ~0.5–1 M parameters at the defaults) for `vocabSize` tokens whose
 * begin/end-of-text tokens are the last two ids (as `trainBpe` lays them out). */
export function tinyClipConfig(vocabSize: number, o: TinyClipOptions = {}): CLIPConfig {
  const width = o.width ?? 128, heads = o.heads ?? 4;
  const vision: ViTConfig = {
    imageSize: o.imageSize ?? 64,
    patchSize: o.patchSize ?? 8,
    hiddenSize: width,
    numLayers: o.visionLayers ?? 4,
    numHeads: heads,
    intermediateSize: 2 * width,
    act: "quick_gelu",
    layerNormEps: 1e-5,
    style: "clip",
    patchBias: false,
    channels: 3,
  };
  const text: CLIPTextConfig = {
    vocabSize,
    hiddenSize: width,
    intermediateSize: 2 * width,
    numLayers: o.textLayers ?? 3,
    numHeads: heads,
    maxPositionEmbeddings: o.contextLength ?? 64,
    act: "quick_gelu",
    layerNormEps: 1e-5,
    eosTokenId: vocabSize - 1,
    bosTokenId: vocabSize - 2,
    padTokenId: vocabSize - 1,
  };
  return {
    vision,
    text,
    projectionDim: o.projectionDim ?? 128,
    logitScaleInit: Math.log(1 / 0.07),
  };
}

/** Re-initializes a CLIP built from scratch as transformers' `CLIPPreTrainedModel` does
 * (initializer factor 1, after OpenAI CLIP): embeddings N(0, 0.02) (class token N(0, d^-½)),
 * attention and MLP weights N(0, d^-½·(2L)^-½) on the way in and N(0, d^-½) / N(0, (2d)^-½)
 * as transformers gives them, projections N(0, d^-½), biases 0. PyTorch's default layer init
 * with unit-variance embeddings trains noticeably slower from scratch. */
export function initClipWeights(model: CLIPModel): void {
  const c = model.config;
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      const tower = name.startsWith("text_model.") ? c.text : c.vision;
      const d = tower.hiddenSize, layers = tower.numLayers;
      const inStd = d ** -0.5 * (2 * layers) ** -0.5;
      if (name.endsWith(".bias")) zeros_(p);
      else if (/layer_?norm|layrnorm/.test(name)) continue;
      else if (name.endsWith("class_embedding")) normal_(p, 0, d ** -0.5);
      else if (name.includes("embedding")) normal_(p, 0, 0.02);
      else if (/_proj\.weight$/.test(name) && name.includes("self_attn")) {
        normal_(p, 0, name.includes("out_proj") ? d ** -0.5 : inStd);
      } else if (name.endsWith("fc1.weight")) normal_(p, 0, (2 * d) ** -0.5);
      else if (name.endsWith("fc2.weight")) normal_(p, 0, inStd);
      else if (name === "text_projection.weight") normal_(p, 0, c.text.hiddenSize ** -0.5);
      else if (name === "visual_projection.weight") normal_(p, 0, c.vision.hiddenSize ** -0.5);
    }
  });
}

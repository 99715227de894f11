/** The pieces of CLIP contrastive training: a tiny from-scratch configuration, the symmetric
 * InfoNCE loss with the learned temperature, CLIP's clamp of the logit scale, AdamW parameter
 * groups, and writing a model as a Hugging Face CLIP folder. The loop itself is in
 * `finetune.ts`.
 * @module
 */
import { arange, crossEntropy, noGrad, scope, type Tensor } from "../tensor/index.ts";
import { type CLIPConfig, type CLIPModel, l2Normalize } from "../models/clip.ts";
import type { CLIPTextConfig } from "../models/clip_text.ts";
import type { ViTConfig } from "../models/vit_config.ts";
import { AdamW } from "../optim/index.ts";
import { normal_, zeros_ } from "../nn/init.ts";
import { saveSafetensors } from "../io/index.ts";

/** ln(100): CLIP clamps the logit scale so that exp(scale) stays ≤ 100 (Radford et al. 2021). */
export const MAX_LOGIT_SCALE = Math.log(100);

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

/** A CLIPConfig as a Hugging Face `config.json` object (transformers' CLIPConfig layout), so
 * `CLIPModel.fromPretrained` and transformers both read the folder. */
export function clipConfigToHf(c: CLIPConfig): Record<string, unknown> {
  const v = c.vision, t = c.text;
  return {
    architectures: ["CLIPModel"],
    model_type: "clip",
    projection_dim: c.projectionDim,
    logit_scale_init_value: c.logitScaleInit,
    text_config: {
      model_type: "clip_text_model",
      vocab_size: t.vocabSize,
      hidden_size: t.hiddenSize,
      intermediate_size: t.intermediateSize,
      num_hidden_layers: t.numLayers,
      num_attention_heads: t.numHeads,
      max_position_embeddings: t.maxPositionEmbeddings,
      hidden_act: t.act,
      layer_norm_eps: t.layerNormEps,
      projection_dim: c.projectionDim,
      bos_token_id: t.bosTokenId,
      eos_token_id: t.eosTokenId,
      pad_token_id: t.padTokenId,
    },
    vision_config: {
      model_type: "clip_vision_model",
      image_size: v.imageSize,
      patch_size: v.patchSize,
      hidden_size: v.hiddenSize,
      intermediate_size: v.intermediateSize,
      num_hidden_layers: v.numLayers,
      num_attention_heads: v.numHeads,
      num_channels: v.channels,
      hidden_act: v.act,
      layer_norm_eps: v.layerNormEps,
      projection_dim: c.projectionDim,
    },
  };
}

/** The symmetric contrastive loss of CLIP: image i matches text i; cross-entropy of the
 * image→text and the text→image logits (exp(logit_scale) · cosine), averaged. Returns the loss
 * and the fraction of images whose best text is their own (a training-accuracy signal). */
export function contrastiveLoss(
  model: CLIPModel,
  pixels: Tensor,
  inputIds: Tensor,
  attentionMask: Tensor | null,
): { loss: Tensor; accuracy: Tensor } {
  return scope(() => {
    const img = l2Normalize(model.encodeImage(pixels));
    const txt = l2Normalize(model.encodeText(inputIds, { attentionMask }));
    const logits = img.matmul(txt.transpose(0, 1)).mul(model.logitScale.exp());
    const target = arange(0, img.size(0), 1, { dtype: "int64", device: img.device });
    const loss = crossEntropy(logits, target).add(crossEntropy(logits.transpose(0, 1), target))
      .mul(0.5);
    const accuracy = noGrad(() => logits.argmax(1).eq(target).to("float32").mean());
    return { loss, accuracy };
  });
}

/** Clamps the logit scale into [0, ln 100] in place, as OpenAI's training code does after every
 * step. */
export function clampLogitScale(model: CLIPModel): void {
  noGrad(() => model.logitScale.clamp_(0, MAX_LOGIT_SCALE));
}

/** AdamW with CLIP's two groups: weight decay on the matrices (linear, convolution, projection
 * weights), none on gains, biases, embeddings, the class token and the logit scale. */
export function clipOptimizer(
  model: CLIPModel,
  opts: { lr: number; weightDecay: number; betas?: [number, number]; eps?: number },
): AdamW {
  const decay: Tensor[] = [], other: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    const exempt = p.ndim < 2 || name.includes("embedding") || name.endsWith("logit_scale");
    (exempt ? other : decay).push(p);
  }
  return new AdamW([
    { params: decay, weightDecay: opts.weightDecay },
    { params: other, weightDecay: 0 },
  ], { lr: opts.lr, betas: opts.betas ?? [0.9, 0.98], eps: opts.eps ?? 1e-6 });
}

/** Writes `model` as a Hugging Face CLIP folder: `config.json`, `model.safetensors` (the
 * checkpoint keys of transformers' CLIPModel), and the tokenizer files given. */
export async function saveHfClip(
  dir: string,
  model: CLIPModel,
  tokenizer: { tokenizer: unknown; config: unknown },
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const write = (name: string, x: unknown) =>
    Deno.writeTextFile(`${dir}/${name}`, JSON.stringify(x, null, 1) + "\n");
  await write("config.json", clipConfigToHf(model.config));
  await write("tokenizer.json", tokenizer.tokenizer);
  await write("tokenizer_config.json", tokenizer.config);
  const state = model.stateDict();
  await saveSafetensors(`${dir}/model.safetensors`, state, { format: "pt" });
}

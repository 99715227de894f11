/** A Vision Transformer with Hugging Face CLIP's module names, so CLIP vision
 * checkpoints load with `strict`; timm-style models load through a name map. */
import { cat, interpolate, randn, scope, type Tensor } from "../tensor/index.ts";
import {
  Conv2d,
  Embedding,
  GELU,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  MultiheadSelfAttention,
  QuickGELU,
} from "../nn/index.ts";
import type { FactoryOptions } from "../nn/module.ts";
import type { ViTConfig } from "./vit_config.ts";

/** Class token, patch embedding and learned positions (`embeddings.*`). */
export class VisionEmbeddings extends Module {
  readonly classEmbedding: Tensor;
  readonly patchEmbedding: Conv2d;
  readonly positionEmbedding: Embedding;
  readonly gridSize: number;

  constructor(readonly config: ViTConfig, f: FactoryOptions = {}) {
    super();
    const { hiddenSize: d, patchSize: p, imageSize, channels } = config;
    this.gridSize = imageSize / p;
    if (!Number.isInteger(this.gridSize)) {
      throw new RangeError(`ViT: imageSize ${imageSize} is not a multiple of patchSize ${p}`);
    }
    this.classEmbedding = this.registerParameter(
      "class_embedding",
      randn([d], { dtype: f.dtype, device: f.device }).mul_(d ** -0.5),
    );
    this.patchEmbedding = this.registerModule(
      "patch_embedding",
      new Conv2d(channels, d, p, { stride: p, bias: config.patchBias, ...f }),
    );
    this.positionEmbedding = this.registerModule(
      "position_embedding",
      new Embedding(this.gridSize ** 2 + 1, d, f),
    );
  }

  /** [B, C, H, W] → [B, 1 + (H/p)(W/p), D]; positions are resampled (bicubic,
   * as Hugging Face's interpolate_pos_encoding) when H×W differs from the config. */
  forward(pixels: Tensor): Tensor {
    return scope(() => {
      const [b] = pixels.shape;
      const patches = this.patchEmbedding.forward(pixels); // [B, D, gh, gw]
      const [, d, gh, gw] = patches.shape;
      const tokens = patches.flatten(2).transpose(1, 2);
      const cls = this.classEmbedding.view(1, 1, d).expand(b, 1, d);
      const x = cat([cls, tokens], 1);
      return x.add(this.#positions(gh, gw));
    });
  }

  #positions(gh: number, gw: number): Tensor {
    const pos = this.positionEmbedding.weight; // [1 + g², D]
    const g = this.gridSize, d = pos.size(1);
    if (gh === g && gw === g) return pos.unsqueeze(0);
    const grid = pos.narrow(0, 1, g * g).reshape(1, g, g, d).permute(0, 3, 1, 2);
    const resized = interpolate(grid, { size: [gh, gw], mode: "bicubic", alignCorners: false });
    const patchPos = resized.permute(0, 2, 3, 1).reshape(1, gh * gw, d);
    return cat([pos.narrow(0, 0, 1).unsqueeze(0), patchPos], 1);
  }
}

/** Two-layer MLP (`mlp.fc1`, `mlp.fc2`) of a CLIP transformer block, vision or text. */
export class VisionMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly act: GELU | QuickGELU;
  constructor(
    config: Pick<ViTConfig, "hiddenSize" | "intermediateSize" | "act">,
    f: FactoryOptions = {},
  ) {
    super();
    this.fc1 = this.registerModule(
      "fc1",
      new Linear(config.hiddenSize, config.intermediateSize, f),
    );
    this.fc2 = this.registerModule(
      "fc2",
      new Linear(config.intermediateSize, config.hiddenSize, f),
    );
    this.act = config.act === "quick_gelu" ? new QuickGELU() : new GELU();
  }
  forward(x: Tensor): Tensor {
    return scope(() => this.fc2.forward(this.act.forward(this.fc1.forward(x))));
  }
}

/** Pre-norm encoder block (`layer_norm1`, `self_attn`, `layer_norm2`, `mlp`). */
export class EncoderLayer extends Module {
  readonly layerNorm1: LayerNorm;
  readonly selfAttn: MultiheadSelfAttention;
  readonly layerNorm2: LayerNorm;
  readonly mlp: VisionMlp;
  constructor(config: ViTConfig, f: FactoryOptions = {}) {
    super();
    const eps = config.layerNormEps;
    this.selfAttn = this.registerModule(
      "self_attn",
      new MultiheadSelfAttention(config.hiddenSize, config.numHeads, f),
    );
    this.layerNorm1 = this.registerModule(
      "layer_norm1",
      new LayerNorm(config.hiddenSize, { eps, ...f }),
    );
    this.mlp = this.registerModule("mlp", new VisionMlp(config, f));
    this.layerNorm2 = this.registerModule(
      "layer_norm2",
      new LayerNorm(config.hiddenSize, { eps, ...f }),
    );
  }
  forward(x: Tensor): Tensor {
    return scope(() => {
      const h = x.add(this.selfAttn.forward(this.layerNorm1.forward(x)));
      return h.add(this.mlp.forward(this.layerNorm2.forward(h)));
    });
  }
}

/** What the ViT returns: every token and the pooled (class-token) output. */
export interface ViTOutput {
  /** [B, 1 + patches, D]. CLIP style: the encoder output before `post_layernorm`
   * (as Hugging Face's last_hidden_state); timm style: after the final `norm`. */
  lastHiddenState: Tensor;
  /** [B, D]: the class token after `post_layernorm` (CLIP) or `norm` (timm). */
  pooledOutput: Tensor;
}

/** The Vision Transformer. Parameter names follow Hugging Face's
 * `CLIPVisionTransformer` (`embeddings.*`, `pre_layrnorm`, `encoder.layers.N.*`,
 * `post_layernorm`); timm's final norm is `post_layernorm` here too. */
export class VisionTransformer extends Module {
  readonly embeddings: VisionEmbeddings;
  readonly preLayrnorm: LayerNorm | null;
  readonly layers: ModuleList<EncoderLayer>;
  readonly postLayernorm: LayerNorm;

  constructor(readonly config: ViTConfig, f: FactoryOptions = {}) {
    super();
    const eps = config.layerNormEps, d = config.hiddenSize;
    this.embeddings = this.registerModule("embeddings", new VisionEmbeddings(config, f));
    this.preLayrnorm = config.style === "clip"
      ? this.registerModule("pre_layrnorm", new LayerNorm(d, { eps, ...f }))
      : null;
    const encoder = this.registerModule("encoder", new EncoderHolder());
    this.layers = encoder.registerModule(
      "layers",
      new ModuleList(Array.from({ length: config.numLayers }, () => new EncoderLayer(config, f))),
    );
    this.postLayernorm = this.registerModule("post_layernorm", new LayerNorm(d, { eps, ...f }));
  }

  /** [B, C, H, W] pixels (normalized) → tokens and pooled output. */
  forward(pixels: Tensor): ViTOutput {
    return scope(() => {
      let h = this.embeddings.forward(pixels);
      if (this.preLayrnorm) h = this.preLayrnorm.forward(h);
      for (const layer of this.layers) h = layer.forward(h);
      if (this.config.style === "timm") {
        const normed = this.postLayernorm.forward(h);
        return { lastHiddenState: normed, pooledOutput: normed.select(1, 0) };
      }
      return { lastHiddenState: h, pooledOutput: this.postLayernorm.forward(h.select(1, 0)) };
    });
  }

  /** Patch grid (rows, cols) for an input of `height`×`width`. */
  grid(height: number, width: number): [number, number] {
    return [height / this.config.patchSize, width / this.config.patchSize];
  }
}

/** `encoder` holds only `layers`, as in Hugging Face's CLIPEncoder. */
class EncoderHolder extends Module {}

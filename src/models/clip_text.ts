/** CLIP's text transformer with Hugging Face's module names (`CLIPTextTransformer`):
 * token + position embeddings, a causal pre-norm encoder, a final LayerNorm and
 * pooling at the end-of-text token. Checkpoint keys (without `text_model.`) load
 * with `strict`. */
import { ones, ops, scope, type Tensor } from "../tensor/index.ts";
import { Embedding, LayerNorm, Module, ModuleList, MultiheadSelfAttention } from "../nn/index.ts";
import type { FactoryOptions } from "../nn/module.ts";
import { VisionMlp } from "./vit.ts";

/** Shape of a CLIP text tower (Hugging Face `CLIPTextConfig`, camelCase). */
export interface CLIPTextConfig {
  /** Rows of the token embedding (49408 for OpenAI CLIP). */
  vocabSize: number;
  /** Model width. */
  hiddenSize: number;
  /** MLP width. */
  intermediateSize: number;
  /** Encoder layers. */
  numLayers: number;
  /** Attention heads. */
  numHeads: number;
  /** Context length: rows of the position embedding (77 for OpenAI CLIP). */
  maxPositionEmbeddings: number;
  /** MLP activation (OpenAI CLIP: quick_gelu). */
  act: "quick_gelu" | "gelu";
  layerNormEps: number;
  /** The end-of-text id used for pooling. 2 is the value of configs written before
   * transformers PR #24773, and selects the legacy rule (pool at the largest id);
   * anything else pools at the first position holding this id, as transformers. */
  eosTokenId: number;
  /** Begin-of-text id (informational). */
  bosTokenId: number;
  /** Padding id (informational; the tokenizer decides what it pads with). */
  padTokenId: number;
}

/** OpenAI CLIP ViT-B/32's text tower. */
export const CLIP_TEXT_B32: CLIPTextConfig = {
  vocabSize: 49408,
  hiddenSize: 512,
  intermediateSize: 2048,
  numLayers: 12,
  numHeads: 8,
  maxPositionEmbeddings: 77,
  act: "quick_gelu",
  layerNormEps: 1e-5,
  eosTokenId: 49407,
  bosTokenId: 49406,
  padTokenId: 1,
};

/** The text part of a Hugging Face `config.json` (a CLIPConfig's `text_config`, or
 * a bare CLIPTextConfig) as a CLIPTextConfig; missing fields take transformers'
 * defaults. `where` names the file in errors. */
export function clipTextConfigFromHf(
  json: Record<string, unknown>,
  where = "config.json",
): CLIPTextConfig {
  const t = (json.text_config ?? json) as Record<string, unknown>;
  const d = CLIP_TEXT_B32;
  const num = (k: string, dflt: number): number => {
    const x = t[k] ?? dflt;
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new TypeError(`${where}: text field "${k}" must be a number, got ${JSON.stringify(x)}`);
    }
    return x;
  };
  const act = (t.hidden_act ?? "quick_gelu") as string;
  if (act !== "quick_gelu" && act !== "gelu") {
    throw new TypeError(`${where}: text hidden_act "${act}" is not supported (quick_gelu, gelu)`);
  }
  let eos = t.eos_token_id ?? d.eosTokenId;
  if (Array.isArray(eos)) eos = eos[0];
  if (typeof eos !== "number") {
    throw new TypeError(`${where}: text field "eos_token_id" must be a number`);
  }
  return {
    vocabSize: num("vocab_size", d.vocabSize),
    hiddenSize: num("hidden_size", d.hiddenSize),
    intermediateSize: num("intermediate_size", d.intermediateSize),
    numLayers: num("num_hidden_layers", d.numLayers),
    numHeads: num("num_attention_heads", d.numHeads),
    maxPositionEmbeddings: num("max_position_embeddings", d.maxPositionEmbeddings),
    act,
    layerNormEps: num("layer_norm_eps", d.layerNormEps),
    eosTokenId: eos,
    bosTokenId: num("bos_token_id", d.bosTokenId),
    padTokenId: num("pad_token_id", d.padTokenId),
  };
}

/** Token and learned position embeddings (`embeddings.token_embedding`,
 * `embeddings.position_embedding`). */
export class CLIPTextEmbeddings extends Module {
  readonly tokenEmbedding: Embedding;
  readonly positionEmbedding: Embedding;
  constructor(readonly config: CLIPTextConfig, f: FactoryOptions = {}) {
    super();
    const d = config.hiddenSize;
    this.tokenEmbedding = this.registerModule(
      "token_embedding",
      new Embedding(config.vocabSize, d, f),
    );
    this.positionEmbedding = this.registerModule(
      "position_embedding",
      new Embedding(config.maxPositionEmbeddings, d, f),
    );
  }

  /** int64 ids [B, L] → [B, L, D] (positions 0..L-1). */
  forward(inputIds: Tensor): Tensor {
    const n = inputIds.size(-1), max = this.config.maxPositionEmbeddings;
    if (n > max) {
      throw new RangeError(
        `CLIP text: sequence length ${n} exceeds the context length ${max} ` +
          `(max_position_embeddings); tokenize with truncation at ${max}`,
      );
    }
    return scope(() =>
      this.tokenEmbedding.forward(inputIds).add(this.positionEmbedding.weight.narrow(0, 0, n))
    );
  }
}

/** The text tower's MLP: the same block as the vision tower's. */
export class CLIPTextMlp extends VisionMlp {}

/** Pre-norm block (`self_attn`, `layer_norm1`, `mlp`, `layer_norm2`) whose attention
 * takes a mask (causal, or causal and padding combined). */
export class CLIPTextEncoderLayer extends Module {
  readonly selfAttn: MultiheadSelfAttention;
  readonly layerNorm1: LayerNorm;
  readonly mlp: CLIPTextMlp;
  readonly layerNorm2: LayerNorm;
  constructor(config: CLIPTextConfig, f: FactoryOptions = {}) {
    super();
    const eps = config.layerNormEps, d = config.hiddenSize;
    this.selfAttn = this.registerModule(
      "self_attn",
      new MultiheadSelfAttention(d, config.numHeads, f),
    );
    this.layerNorm1 = this.registerModule("layer_norm1", new LayerNorm(d, { eps, ...f }));
    this.mlp = this.registerModule("mlp", new CLIPTextMlp(config, f));
    this.layerNorm2 = this.registerModule("layer_norm2", new LayerNorm(d, { eps, ...f }));
  }
  /** `mask`: a bool [B, 1, L, L] (true = may attend), or null for plain causal attention. */
  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    return scope(() => {
      const attn = this.selfAttn.forward(
        this.layerNorm1.forward(x),
        mask === null ? { isCausal: true } : { attnMask: mask },
      );
      const h = x.add(attn);
      return h.add(this.mlp.forward(this.layerNorm2.forward(h)));
    });
  }
}

/** What the text transformer returns. */
export interface CLIPTextOutput {
  /** [B, L, D], after `final_layer_norm` (as Hugging Face's last_hidden_state). */
  lastHiddenState: Tensor;
  /** [B, D]: the hidden state at each sequence's end-of-text token. */
  pooledOutput: Tensor;
}

/** Options of a text forward pass. */
export interface CLIPTextCallOptions {
  /** [B, L] with 1 for real tokens and 0 for padding (the tokenizer's
   * `attentionMask`). Padding is on the right, so it changes only the hidden states
   * at padded positions, never the pooled output; omit it for plain causal attention. */
  attentionMask?: Tensor | null;
}

/** The CLIP text transformer: `embeddings.*`, `encoder.layers.N.*`, `final_layer_norm`. */
export class CLIPTextTransformer extends Module {
  readonly embeddings: CLIPTextEmbeddings;
  readonly layers: ModuleList<CLIPTextEncoderLayer>;
  readonly finalLayerNorm: LayerNorm;

  constructor(readonly config: CLIPTextConfig, f: FactoryOptions = {}) {
    super();
    this.embeddings = this.registerModule("embeddings", new CLIPTextEmbeddings(config, f));
    const encoder = this.registerModule("encoder", new TextEncoderHolder());
    this.layers = encoder.registerModule(
      "layers",
      new ModuleList(
        Array.from({ length: config.numLayers }, () => new CLIPTextEncoderLayer(config, f)),
      ),
    );
    this.finalLayerNorm = this.registerModule(
      "final_layer_norm",
      new LayerNorm(config.hiddenSize, { eps: config.layerNormEps, ...f }),
    );
  }

  /** Token ids [B, L] (int64; moved to the model's device if elsewhere) → hidden
   * states and the pooled (end-of-text) output. */
  forward(inputIds: Tensor, opts: CLIPTextCallOptions = {}): CLIPTextOutput {
    if (inputIds.ndim !== 2) {
      throw new RangeError(`CLIP text: expected input ids [B, L], got [${inputIds.shape}]`);
    }
    if (inputIds.dtype !== "int64" && inputIds.dtype !== "int32") {
      throw new TypeError(`CLIP text: input ids must be int64 (or int32), got ${inputIds.dtype}`);
    }
    return scope(() => {
      const device = this.embeddings.tokenEmbedding.weight.device;
      const ids = inputIds.device === device ? inputIds : inputIds.to(device);
      let h = this.embeddings.forward(ids);
      const mask = opts.attentionMask ? this.#mask(opts.attentionMask, ids) : null;
      for (const layer of this.layers) h = layer.forward(h, mask);
      const last = this.finalLayerNorm.forward(h);
      const [b, , d] = last.shape;
      const at = this.eotPositions(ids).view(b, 1, 1).expand(b, 1, d);
      return { lastHiddenState: last, pooledOutput: last.gather(1, at).squeeze(1) };
    });
  }

  /** [B] int64: where each sequence is pooled. With the legacy `eosTokenId` 2, the
   * position of the largest id (OpenAI CLIP's end-of-text is the last vocabulary
   * entry); otherwise the first position holding `eosTokenId` (0 when absent), as
   * transformers' CLIPTextTransformer. */
  eotPositions(inputIds: Tensor): Tensor {
    return scope(() => {
      if (this.config.eosTokenId === 2) return inputIds.to("int32").argmax(-1);
      return inputIds.eq(this.config.eosTokenId).to("int32").argmax(-1);
    });
  }

  /** Causal and key-padding mask [B, 1, L, L] (bool, true = attend), or null when
   * nothing is padded (then the fused causal kernel is used). */
  #mask(attentionMask: Tensor, ids: Tensor): Tensor | null {
    const [b, n] = ids.shape;
    if (attentionMask.ndim !== 2 || attentionMask.size(0) !== b || attentionMask.size(1) !== n) {
      throw new RangeError(
        `CLIP text: attentionMask [${attentionMask.shape}] does not match input ids [${ids.shape}]`,
      );
    }
    const keys = attentionMask.to(ids.device).ne(0);
    if (keys.all().item() !== 0) return null;
    const causal = ops.aten.tril(ones([n, n], { dtype: "bool", device: ids.device }));
    return ops.aten.logical_and(causal.view(1, 1, n, n), keys.view(b, 1, 1, n));
  }
}

/** `encoder` holds only `layers`, as in Hugging Face's CLIPEncoder. */
class TextEncoderHolder extends Module {}

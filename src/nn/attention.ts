/** `MultiheadSelfAttention` with separate q/k/v/out projections (Hugging Face
 * CLIP's `self_attn` layout) over libtorch's fused attention kernel. */
import { scaledDotProductAttention, scope, type Tensor } from "../tensor/index.ts";
import { Linear } from "./linear.ts";
import { type FactoryOptions, Module } from "./module.ts";

/** Options of `MultiheadSelfAttention`. */
export interface MultiheadSelfAttentionOptions extends FactoryOptions {
  /** Biases on the four projections (true). */
  bias?: boolean;
  /** Dropout on the attention weights while training (0). */
  dropout?: number;
}

/** Options of one attention call. */
export interface AttentionCallOptions {
  /** Added to the attention logits (float, broadcast to [B, heads, N, N]) or,
   * if bool, true where attention is allowed. */
  attnMask?: Tensor | null;
  /** Causal (lower-triangular) attention, as in CLIP's text tower. */
  isCausal?: boolean;
}

/** Self-attention over [B, N, D] tokens: `q_proj`, `k_proj`, `v_proj`,
 * `out_proj` (each `Linear(D, D)`), `numHeads` heads of D / numHeads,
 * softmax(q kᵀ / √headDim) v through `torch.scaledDotProductAttention`. */
export class MultiheadSelfAttention extends Module {
  /** Model width D. */
  readonly embedDim: number;
  /** Heads. */
  readonly numHeads: number;
  /** D / numHeads. */
  readonly headDim: number;
  /** Attention dropout probability (training only). */
  readonly dropout: number;
  /** Query projection. */
  readonly qProj: Linear;
  /** Key projection. */
  readonly kProj: Linear;
  /** Value projection. */
  readonly vProj: Linear;
  /** Output projection. */
  readonly outProj: Linear;

  /** Attention of width `embedDim` split into `numHeads` heads; projections with PyTorch's Linear init. */
  constructor(embedDim: number, numHeads: number, opts: MultiheadSelfAttentionOptions = {}) {
    super();
    if (embedDim % numHeads !== 0) {
      throw new RangeError(
        `MultiheadSelfAttention: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`,
      );
    }
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    const lin = { bias: opts.bias ?? true, dtype: opts.dtype, device: opts.device };
    // Registration (and so init draw) order of Hugging Face CLIPAttention: k, v, q, out.
    this.kProj = this.registerModule("k_proj", new Linear(embedDim, embedDim, lin));
    this.vProj = this.registerModule("v_proj", new Linear(embedDim, embedDim, lin));
    this.qProj = this.registerModule("q_proj", new Linear(embedDim, embedDim, lin));
    this.outProj = this.registerModule("out_proj", new Linear(embedDim, embedDim, lin));
  }

  /** [B, N, D] → [B, N, D]. */
  forward(x: Tensor, opts: AttentionCallOptions = {}): Tensor {
    if (x.ndim !== 3 || x.size(2) !== this.embedDim) {
      throw new RangeError(
        `MultiheadSelfAttention: expected input [B, N, ${this.embedDim}], got [${x.shape}]`,
      );
    }
    const [b, n] = x.shape;
    const heads = (t: Tensor) => t.view(b, n, this.numHeads, this.headDim).transpose(1, 2);
    return scope(() => {
      const o = scaledDotProductAttention(
        heads(this.qProj.forward(x)),
        heads(this.kProj.forward(x)),
        heads(this.vProj.forward(x)),
        {
          attnMask: opts.attnMask,
          isCausal: opts.isCausal,
          dropoutP: this.training ? this.dropout : 0,
        },
      );
      return this.outProj.forward(o.transpose(1, 2).reshape(b, n, this.embedDim));
    });
  }

  /** Width and heads. */
  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}`;
  }
}

/** `Embedding`: a lookup table of learned vectors. */
import { empty, noGrad, ops, type Tensor } from "../tensor/index.ts";
import { normal_ } from "./init.ts";
import { type FactoryOptions, Module } from "./module.ts";

/** Options of `Embedding`. */
export interface EmbeddingOptions extends FactoryOptions {
  /** An index whose row starts at zero and gets no gradient. */
  paddingIdx?: number;
}

/** Rows of `weight` [num, dim] picked by int64 indices; initialized N(0, 1)
 * with the padding row zeroed, as PyTorch's nn.Embedding. */
export class Embedding extends Module {
  /** Rows in the table. */
  readonly numEmbeddings: number;
  /** Width of a row. */
  readonly embeddingDim: number;
  /** The padding index (non-negative), or null. */
  readonly paddingIdx: number | null;
  /** [numEmbeddings, embeddingDim]. */
  readonly weight: Tensor;

  /** A table of `numEmbeddings` rows of width `embeddingDim`, N(0, 1). */
  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (pad >= numEmbeddings || pad < -numEmbeddings) {
        throw new RangeError(
          `Embedding: paddingIdx ${pad} is outside [-${numEmbeddings}, ${numEmbeddings})`,
        );
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    const w = normal_(
      empty([numEmbeddings, embeddingDim], { dtype: opts.dtype, device: opts.device }),
    );
    if (pad !== null) noGrad(() => w.select(0, pad).fill_(0));
    this.weight = this.registerParameter("weight", w);
  }

  /** int64 indices of any shape → [...indices.shape, embeddingDim]. */
  forward(indices: Tensor): Tensor {
    return ops.aten.embedding(this.weight, indices, this.paddingIdx ?? -1);
  }

  /** Table size and padding index. */
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${
      this.paddingIdx === null ? "" : `, paddingIdx=${this.paddingIdx}`
    }`;
  }
}

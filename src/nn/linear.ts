/** `Linear`: y = x Wᵀ + b. */
import { empty, linear, type Tensor } from "../tensor/index.ts";
import { defaultLayerInit_ } from "./init.ts";
import { type FactoryOptions, Module } from "./module.ts";

/** Options of `Linear`. */
export interface LinearOptions extends FactoryOptions {
  /** Whether to add a learned bias (true by default). */
  bias?: boolean;
}

/** A fully connected layer over the last dimension: `weight` [out, in], `bias` [out].
 * Initialized as PyTorch's nn.Linear (kaiming-uniform a=√5, bias U(±1/√in)). */
export class Linear extends Module {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;
  /** [outFeatures, inFeatures]. */
  readonly weight: Tensor;
  /** [outFeatures], or null without bias. */
  readonly bias: Tensor | null;

  /** A layer from `inFeatures` to `outFeatures`, PyTorch's default init. */
  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const f = { dtype: opts.dtype, device: opts.device };
    this.weight = this.registerParameter("weight", empty([outFeatures, inFeatures], f));
    this.bias = this.registerParameter(
      "bias",
      opts.bias === false ? null : empty([outFeatures], f),
    );
    defaultLayerInit_(this.weight, this.bias);
  }

  /** [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  /** `inFeatures=.., outFeatures=.., bias=..`. */
  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${
      this.bias !== null
    }`;
  }
}

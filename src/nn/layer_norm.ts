/** `LayerNorm` over the trailing dimensions. */
import { empty, layerNorm, type Tensor } from "../tensor/index.ts";
import { ones_, zeros_ } from "./init.ts";
import { type FactoryOptions, Module } from "./module.ts";

/** Options of `LayerNorm`. */
export interface LayerNormOptions extends FactoryOptions {
  /** Added to the variance (1e-5 by default). */
  eps?: number;
  /** Learned per-element scale and shift (true by default). */
  elementwiseAffine?: boolean;
  /** Learned shift, when affine (true by default). */
  bias?: boolean;
}

/** Normalizes over the last `normalizedShape.length` dimensions, then scales
 * by `weight` (ones) and shifts by `bias` (zeros). */
export class LayerNorm extends Module {
  /** The trailing shape normalized over. */
  readonly normalizedShape: number[];
  /** Added to the variance. */
  readonly eps: number;
  /** Scale, or null without affine. */
  readonly weight: Tensor | null;
  /** Shift, or null. */
  readonly bias: Tensor | null;

  /** Normalizes over the trailing `normalizedShape`; weight ones, bias zeros. */
  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === "number"
      ? [normalizedShape]
      : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    const f = { dtype: opts.dtype, device: opts.device };
    const affine = opts.elementwiseAffine ?? true;
    this.weight = this.registerParameter(
      "weight",
      affine ? ones_(empty(this.normalizedShape, f)) : null,
    );
    this.bias = this.registerParameter(
      "bias",
      affine && opts.bias !== false ? zeros_(empty(this.normalizedShape, f)) : null,
    );
  }

  /** Same shape out as in. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  /** Shape, eps and affine flag. */
  override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}

/** Activation layers: GELU, QuickGELU, ReLU, LeakyReLU. */
import { scope, type Tensor } from "../tensor/index.ts";
import { Module } from "./module.ts";

/** GELU, exact (erf) or with the tanh approximation. */
export class GELU extends Module {
  /** `none` (exact) or `tanh`. */
  readonly approximate: "none" | "tanh";

  /** Exact GELU unless `approximate: "tanh"`. */
  constructor(opts: { approximate?: "none" | "tanh" } = {}) {
    super();
    this.approximate = opts.approximate ?? "none";
  }

  /** Elementwise. */
  forward(x: Tensor): Tensor {
    return x.gelu({ approximate: this.approximate });
  }

  /** The approximation. */
  override extraRepr(): string {
    return `approximate=${this.approximate}`;
  }
}

/** OpenAI CLIP's GELU approximation: x · sigmoid(1.702 x). */
export class QuickGELU extends Module {
  /** Elementwise. */
  forward(x: Tensor): Tensor {
    return scope(() => x.mul(x.mul(1.702).sigmoid()));
  }
}

/** max(x, 0). */
export class ReLU extends Module {
  /** Elementwise. */
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** x for x ≥ 0, slope · x below. */
export class LeakyReLU extends Module {
  /** Slope for negative inputs (0.01). */
  readonly negativeSlope: number;

  /** Leaky ReLU with `negativeSlope` (0.01). */
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = negativeSlope;
  }

  /** Elementwise. */
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }

  /** The negative slope. */
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

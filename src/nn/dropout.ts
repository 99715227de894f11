/** `Dropout`: zeroes elements at random while training. */
import { dropout, type Tensor } from "../tensor/index.ts";
import { Module } from "./module.ts";

/** Zeroes each element with probability `p` and scales the rest by 1/(1-p)
 * in training mode; the identity (a new handle to the same data) in eval mode. */
export class Dropout extends Module {
  /** Drop probability. */
  readonly p: number;

  /** Dropout with drop probability `p` (0.5). */
  constructor(p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
    this.p = p;
  }

  /** Same shape out as in. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training && this.p > 0);
  }

  /** The drop probability. */
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

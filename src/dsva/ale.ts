/**
 * The global ALE head of DSVA (official `ALE_vector = Sequential(LayerNorm(D), Linear(D, K))`,
 * PyTorch default init; the official `weights_init` call on the Sequential is a no-op). It maps a
 * pooled token to an attribute vector: the **mean** of all tokens (class token included) for the
 * global branch, the **max** over all tokens for an Attention Concentration crop
 * (reference/dsva.md §2.2, items 2 and 3).
 * @module
 */
import { scope, type Tensor } from "../tensor/index.ts";
import { LayerNorm, Linear, Sequential } from "../nn/index.ts";
import type { FactoryOptions } from "../nn/module.ts";

/** A new ALE head: `0` = LayerNorm(D) (eps 1e-5), `1` = Linear(D → K). */
export function createAleHead(
  dim: number,
  numAttributes: number,
  f: FactoryOptions = {},
): Sequential {
  return new Sequential(new LayerNorm(dim, f), new Linear(dim, numAttributes, f));
}

/** How tokens are pooled before the ALE head. */
export type TokenPool = "mean" | "max";

/** `ale(pool_t tokens[:, t])`: tokens `[B, T, D]` → attributes `[B, K]`. `"mean"` is the global
 * branch (`x.mean(dim=1)`), `"max"` the crop branch (`torch.max(x, dim=1)[0]`). */
export function aleAttributes(tokens: Tensor, ale: Sequential, pool: TokenPool): Tensor {
  return scope(() => {
    const pooled = pool === "mean" ? tokens.mean(1) : tokens.maxDim(1).values;
    return ale.forward(pooled);
  });
}

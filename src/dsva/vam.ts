/**
 * The Visual-Attribute Mapping (VAM) of DSVA: attribute prototypes `P` (K × D) compared with every
 * token by a plain dot product (official `F.conv1d` with the `[K, D, 1]` prototypes, no
 * normalisation, no temperature), the attribute vector = max over **all** tokens (class token
 * included), the attention maps = the patch-token part reshaped to the grid, and class scores
 * `a · Aᵀ` (reference/dsva.md §2.2, item 1).
 * @module
 */
import { conv1d, empty, scope, type Tensor } from "../tensor/index.ts";
import { init } from "../nn/index.ts";
import type { FactoryOptions } from "../nn/module.ts";

/** The official prototype initialisation scale: `2e-4 · U[0, 1)`. */
export const PROTOTYPE_INIT_SCALE = 2e-4;

/** New prototypes `[K, D]` drawn from `scale · U[0, 1)` (official: `2e-4 * torch.rand`; the
 * official `weights_init` call on them is a no-op). Not registered anywhere: the caller does. */
export function initPrototypes(
  numAttributes: number,
  dim: number,
  opts: FactoryOptions & { scale?: number } = {},
): Tensor {
  const p = empty([numAttributes, dim], { dtype: opts.dtype, device: opts.device });
  init.uniform_(p, 0, 1);
  return scope(() => p.mul_(opts.scale ?? PROTOTYPE_INIT_SCALE));
}

/** What the VAM computes for a batch of tokens. */
export interface VamOutput {
  /** `M[b, k, t] = ⟨P_k, X[b, t]⟩` over all tokens: `[B, K, T]`. */
  similarity: Tensor;
  /** `a[b, k] = max_t M[b, k, t]`: `[B, K]`. */
  attributes: Tensor;
  /** `M[:, :, 1:]` reshaped to the grid: `[B, K, h, w]`. */
  attentionMaps: Tensor;
}

/** The VAM on tokens `[B, 1 + h·w, D]` with prototypes `[K, D]`. Differentiable. */
export function visualAttributeMapping(
  tokens: Tensor,
  prototypes: Tensor,
  grid: readonly [number, number],
): VamOutput {
  const [b, t, d] = tokens.shape;
  const [k, dp] = prototypes.shape;
  if (d !== dp) {
    throw new RangeError(`VAM: tokens have width ${d} but the prototypes ${dp}`);
  }
  if (grid[0] * grid[1] + 1 !== t) {
    throw new RangeError(`VAM: ${t} tokens do not make a class token + ${grid[0]}×${grid[1]} grid`);
  }
  return scope(() => {
    // As the official `F.conv1d(tokens^T, prototypes[K, D, 1])`: the same values as
    // `prototypes.matmul(tokens^T)`, but libtorch sums the prototypes' gradient in another
    // order for a matmul (measured 4e-7 relative), which Adam's per-element scaling carries
    // into the trajectory.
    const similarity = conv1d(tokens.transpose(1, 2), prototypes.unsqueeze(2)); // [B, K, T]
    const attributes = similarity.maxDim(2).values; // torch.max(att, dim=2)[0]
    const attentionMaps = similarity.narrow(2, 1, t - 1).reshape(b, k, grid[0], grid[1]);
    return { similarity, attributes, attentionMaps };
  });
}

/** Class scores `attributes · classAttributesᵀ`: `[B, K]` × `[C, K]` → `[B, C]` (the official
 * `a.mm(attribute)` with its `[K, C]` matrix; no scale, no normalisation). */
export function classScores(attributes: Tensor, classAttributes: Tensor): Tensor {
  if (classAttributes.ndim !== 2 || classAttributes.size(1) !== attributes.size(1)) {
    throw new RangeError(
      `class-attribute matrix must be [C, ${attributes.size(1)}], got [${classAttributes.shape}]`,
    );
  }
  return scope(() => attributes.matmul(classAttributes.transpose(0, 1)));
}

/**
 * Names of an official DSVA checkpoint (a `CLIP_proto` state dict) → our `DSVA` names:
 *
 * | official | ours |
 * |---|---|
 * | `embedding_module.<hf vision name>` | `backbone.<hf vision name>` |
 * | `prototype_vectors.layer4` `[K, D, 1]` | `prototypes` `[K, D]` |
 * | `ALE_vector.0.*` / `ALE_vector.1.*` | `ale.0.*` / `ale.1.*` |
 *
 * `embedding_module.embeddings.position_ids` (a buffer some transformers versions save) is dropped.
 * @module
 */
import type { Tensor } from "../tensor/index.ts";

/** Maps an official state dict onto DSVA names (the values are views of the given tensors; keep
 * the originals alive until loaded). Unknown keys are returned in `unexpected`. */
export function officialStateDict(
  state: ReadonlyMap<string, Tensor>,
): { state: Map<string, Tensor>; unexpected: string[] } {
  const out = new Map<string, Tensor>();
  const unexpected: string[] = [];
  for (const [name, t] of state) {
    if (name === "embedding_module.embeddings.position_ids") continue;
    if (name.startsWith("embedding_module.")) {
      out.set(`backbone.${name.slice("embedding_module.".length)}`, t);
    } else if (name === "prototype_vectors.layer4") {
      out.set("prototypes", t.ndim === 3 ? t.squeeze(2) : t);
    } else if (name.startsWith("ALE_vector.")) {
      out.set(`ale.${name.slice("ALE_vector.".length)}`, t);
    } else unexpected.push(name);
  }
  return { state: out, unexpected };
}

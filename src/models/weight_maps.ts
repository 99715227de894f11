/** Weight-name maps from other ViT layouts to ours (Hugging Face CLIP names). */
import { type Tensor } from "../tensor/index.ts";

/** Keys of a Hugging Face CLIPVisionModel / CLIPModel checkpoint that belong to
 * the vision tower, in our names: `vision_model.` is stripped (full CLIP models,
 * and vision models saved by transformers 4.x; 5.x saves them bare).
 * `position_ids` (a buffer some versions save) is dropped. */
export function hfClipVision(state: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  const prefixed = [...state.keys()].some((k) => k.startsWith("vision_model."));
  const prefix = prefixed ? "vision_model." : "";
  const ours = /^(embeddings|pre_layrnorm|encoder|post_layernorm)\./;
  const out = new Map<string, Tensor>();
  for (const [k, v] of state) {
    if (!k.startsWith(prefix) || k.endsWith("position_ids")) continue;
    const name = k.slice(prefix.length);
    if (ours.test(name)) out.set(name, v);
  }
  if (out.size === 0) {
    throw new TypeError(
      "checkpoint has no CLIP vision weights (vision_model.* or embeddings.*/encoder.*)",
    );
  }
  return out;
}

/** A timm VisionTransformer state dict in our names: the fused `qkv` is split
 * into q/k/v, `norm` becomes `post_layernorm`, `norm_pre` `pre_layrnorm`; the
 * classifier `head.*` is returned separately. The new tensors (reshapes and
 * qkv slices) are owned by the caller, like the input. */
export function timmVit(state: ReadonlyMap<string, Tensor>): {
  weights: Map<string, Tensor>;
  head: Map<string, Tensor>;
} {
  const weights = new Map<string, Tensor>();
  const head = new Map<string, Tensor>();
  const rename: [RegExp, string][] = [
    [/^patch_embed\.proj\./, "embeddings.patch_embedding."],
    [/^norm_pre\./, "pre_layrnorm."],
    [/^norm\./, "post_layernorm."],
    [/^blocks\.(\d+)\.norm1\./, "encoder.layers.$1.layer_norm1."],
    [/^blocks\.(\d+)\.norm2\./, "encoder.layers.$1.layer_norm2."],
    [/^blocks\.(\d+)\.attn\.proj\./, "encoder.layers.$1.self_attn.out_proj."],
    [/^blocks\.(\d+)\.mlp\.fc(\d)\./, "encoder.layers.$1.mlp.fc$2."],
  ];
  for (const [k, v] of state) {
    if (k.startsWith("head.") || k.startsWith("fc_norm.")) {
      head.set(k, v);
    } else if (k === "cls_token") {
      weights.set("embeddings.class_embedding", v.reshape(-1));
    } else if (k === "pos_embed") {
      weights.set("embeddings.position_embedding.weight", v.squeeze(0));
    } else if (/^blocks\.\d+\.attn\.qkv\./.test(k)) {
      const [, i, kind] = /^blocks\.(\d+)\.attn\.qkv\.(\w+)$/.exec(k)!;
      const [q, kk, vv] = v.chunk(3, 0);
      const base = `encoder.layers.${i}.self_attn`;
      weights.set(`${base}.q_proj.${kind}`, q);
      weights.set(`${base}.k_proj.${kind}`, kk);
      weights.set(`${base}.v_proj.${kind}`, vv);
    } else {
      const rule = rename.find(([re]) => re.test(k));
      if (!rule) throw new TypeError(`timm ViT checkpoint: unexpected key "${k}"`);
      weights.set(k.replace(rule[0], rule[1]), v);
    }
  }
  return { weights, head };
}

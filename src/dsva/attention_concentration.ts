/**
 * The Attention Concentration (AC) step of DSVA: from the VAM's attention maps and attribute
 * vector, one crop box per image, and the crops resized back to the input size. Follows
 * `CLIP_proto.get_proposal` (reference/dsva.md §3), in the official order:
 *
 * 1. per image and attribute group, the group's strongest predicted attribute
 *    (`torch.max(pre_attri[:, group], dim=1)[1]`, first index on ties);
 * 2. its attention map upsampled to the input size (bilinear, `align_corners=True`; the official
 *    code upsamples all K maps and then picks — bilinear resampling is per channel, so picking
 *    first gives the same values at a fraction of the cost, bit for bit when each map is its
 *    own one-channel plane);
 * 3. each picked map min-max normalised (`m -= m.min(); m /= m.max()`; a constant map becomes
 *    NaN, exactly as in the official code, and then yields the whole-image box), then the maps
 *    **averaged** over the groups;
 * 4. threshold at `mean(map) × thr` (strict `>`), largest 8-connected component, its bounding
 *    box, the whole image when nothing passes (`ac_box.ts`);
 * 5. crop of the (normalised) input tensor, resized back to the input size (bilinear,
 *    `align_corners=True`).
 *
 * Everything here runs without gradient recording (the official box and crop are computed under
 * `torch.no_grad()`); the crop's forward pass through the backbone is the caller's (model.ts).
 * @module
 */
import { cat, interpolate, noGrad, scope, stack, type Tensor, tensor } from "../tensor/index.ts";
import { acBoxes, type AcBoxResult, type Box, OFFICIAL_AC_THR } from "./ac_box.ts";

/** Options of the Attention Concentration. */
export interface AcOptions {
  /** Threshold factor on the fused map's mean (`--pro_thr`; default `OFFICIAL_AC_THR`). */
  thr?: number;
  /** Crop-and-refeed rounds (the official code does 1). Round t > 1 crops round t−1's crop,
   * using the VAM on that crop's tokens; every round's crop logits are added to the fused output. */
  iterations?: number;
  /** Weight of the crop logits in the fused output (`--pro_weight`, default 1). */
  proWeight?: number;
}

/** `AcOptions` with every default filled in. */
export type ResolvedAcOptions = Required<AcOptions>;

/** The official AC settings: thr `OFFICIAL_AC_THR` (1), one iteration, crop weight 1. */
export const OFFICIAL_AC: ResolvedAcOptions = Object.freeze({
  thr: OFFICIAL_AC_THR,
  iterations: 1,
  proWeight: 1,
});

/** Fills in the defaults of `opts` (official values) and checks them. */
export function resolveAcOptions(opts: AcOptions = {}): ResolvedAcOptions {
  const r = { ...OFFICIAL_AC, ...opts };
  if (!(Number.isInteger(r.iterations) && r.iterations >= 1)) {
    throw new RangeError(`AC: iterations must be an integer ≥ 1, got ${r.iterations}`);
  }
  if (!Number.isFinite(r.thr)) throw new RangeError(`AC: thr must be finite, got ${r.thr}`);
  if (!Number.isFinite(r.proWeight)) {
    throw new RangeError(`AC: proWeight must be finite, got ${r.proWeight}`);
  }
  return r;
}

/** The boxes of one AC round. */
export interface AcRound {
  /** One box per image, in the coordinates of the round's input (rows `[y0, y1)`, columns
   * `[x0, x1)`). */
  boxes: Box[];
  /** The box step's details per image (threshold, area, whether it fell back to the whole image). */
  details: AcBoxResult[];
  /** The attribute chosen in each group, per image: `selected[b][g]`. */
  selected: number[][];
  /** The fused map `[B, H, W]` the boxes come from (min-max normalised group average). */
  map: Tensor;
}

/** Steps 1–3: the fused AC map `[B, H, W]` and the attribute picked per image and group. */
export function acFusedMap(
  attentionMaps: Tensor,
  attributes: Tensor,
  groups: readonly (readonly number[])[],
  size: readonly [number, number],
): { map: Tensor; selected: number[][] } {
  const [b, k, h, w] = attentionMaps.shape;
  if (attributes.ndim !== 2 || attributes.size(0) !== b || attributes.size(1) !== k) {
    throw new RangeError(
      `AC: attributes [${attributes.shape}] do not match attention maps [${attentionMaps.shape}]`,
    );
  }
  return noGrad(() =>
    scope(() => {
      const device = attributes.device;
      const picks = groups.map((g) => {
        const idx = tensor(BigInt64Array.from(g, (i) => BigInt(i)), { device });
        const arg = attributes.indexSelect(1, idx).maxDim(1).indices; // [B], within the group
        return idx.index([arg]); // [B], attribute ids
      });
      const sel = stack(picks, 1); // [B, G]
      const gcount = groups.length;
      const picked = attentionMaps.detach().float()
        .gather(1, sel.view(b, gcount, 1, 1).expand(b, gcount, h, w)); // [B, G, h, w]
      // One map per channel-1 plane: libtorch's CPU bilinear kernel rounds differently for an
      // input of exactly 3 channels (measured, torch 2.13: ulp-level on 7×7 → 224×224) than for
      // any other count, so [B, G = 3, h, w] would not give the official code's bits (it upsamples
      // all K channels); [B·G, 1, h, w] does, for every G.
      const up = interpolate(picked.reshape(b * gcount, 1, h, w), {
        size: [size[0], size[1]],
        mode: "bilinear",
        alignCorners: true,
      }).view(b, gcount, size[0], size[1]);
      const shifted = up.sub(up.amin([2, 3], true));
      const normed = shifted.div(shifted.amax([2, 3], true));
      const map = normed.mean(1); // [B, H, W]
      const flat = sel.toFlat() as number[];
      const selected = Array.from(
        { length: b },
        (_, i) => flat.slice(i * gcount, (i + 1) * gcount),
      );
      return { map, selected };
    })
  );
}

/** Steps 1–4: one AC round's boxes from the VAM outputs of a batch whose images are
 * `size = [H, W]`. */
export function acRound(
  attentionMaps: Tensor,
  attributes: Tensor,
  groups: readonly (readonly number[])[],
  size: readonly [number, number],
  thr: number,
): AcRound {
  return scope(() => {
    const { map, selected } = acFusedMap(attentionMaps, attributes, groups, size);
    const means = noGrad(() => scope(() => map.mean([1, 2]).toTypedArray() as Float32Array));
    const details = acBoxes(map, { thr, means });
    return { boxes: details.map((d) => d.box), details, selected, map };
  });
}

/** Step 5: each image's box cropped out of `pixels` `[B, C, H, W]` and resized back to `H × W`
 * (or `size`), bilinear with `align_corners=True`. No gradient is recorded. */
export function cropAndResize(
  pixels: Tensor,
  boxes: readonly Box[],
  size?: readonly [number, number],
): Tensor {
  const [b, , h, w] = pixels.shape;
  if (boxes.length !== b) throw new RangeError(`AC: ${boxes.length} boxes for ${b} images`);
  const out: [number, number] = size ? [size[0], size[1]] : [h, w];
  return noGrad(() =>
    scope(() => {
      const crops = boxes.map((bx, i) => {
        if (
          !(0 <= bx.y0 && bx.y0 < bx.y1 && bx.y1 <= h && 0 <= bx.x0 && bx.x0 < bx.x1 && bx.x1 <= w)
        ) {
          throw new RangeError(`AC: box ${JSON.stringify(bx)} is not inside a ${h}×${w} image`);
        }
        const crop = pixels.narrow(0, i, 1).narrow(2, bx.y0, bx.y1 - bx.y0)
          .narrow(3, bx.x0, bx.x1 - bx.x0);
        return interpolate(crop, { size: out, mode: "bilinear", alignCorners: true });
      });
      return crops.length === 1 ? crops[0] : cat(crops, 0);
    })
  );
}

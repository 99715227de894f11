/**
 * What DSVA needs of a backbone: `forward(pixels) → { lastHiddenState }`, tokens `[B, 1 + h·w, D]`
 * (a class token first, then the h×w patch grid in row-major order), as the Hugging Face CLIP
 * vision tower's `last_hidden_state` the official code uses (reference/dsva.md §2.1).
 *
 * Our `models.VisionTransformer` fits as is (its `grid(h, w)` gives the patch grid). A CNN fits
 * through {@link FeatureMapBackbone}: its feature map `[B, C, h, w]` becomes tokens
 * `[B, 1 + h·w, C]` whose first ("CLS") token is the mean of the h·w positions. That extra token
 * changes nothing DSVA computes from the grid: the mean over all tokens (global ALE branch) equals
 * the mean over the positions, and the max over all tokens (VAM attribute vector, crop max-pool)
 * equals the max over the positions, because a mean never exceeds a max (prototype similarities
 * are linear, so the mean token's similarity is the mean of the positions' similarities).
 * @module
 */
import { cat, scope, type Tensor } from "../tensor/index.ts";
import { Module } from "../nn/index.ts";

/** What a DSVA backbone returns. */
export interface BackboneOutput {
  /** `[B, 1 + h·w, D]`: class token, then the patch grid row-major. */
  lastHiddenState: Tensor;
  /** The patch grid `[h, w]`, when the backbone knows it (else see {@link tokenGrid}). */
  grid?: readonly [number, number];
}

/** A backbone DSVA can wrap. It must be a `Module` (so its parameters are trained, saved under
 * `backbone.*` and moved with the model). `VisionTransformer` qualifies. */
export interface DsvaBackbone extends Module {
  /** Normalised pixels `[B, 3, H, W]` → tokens. */
  forward(pixels: Tensor): BackboneOutput;
  /** Token width D (else taken from `config.hiddenSize`). */
  readonly outputDim?: number;
  /** Patch grid for an input of `height × width` (VisionTransformer has one). */
  grid?(height: number, width: number): [number, number];
  /** A ViT's configuration (only `hiddenSize` is read). */
  readonly config?: { readonly hiddenSize?: number };
}

/** Token width of a backbone: `outputDim`, else `config.hiddenSize`. */
export function backboneDim(backbone: DsvaBackbone): number {
  const d = backbone.outputDim ?? backbone.config?.hiddenSize;
  if (!(typeof d === "number" && Number.isInteger(d) && d > 0)) {
    throw new TypeError(
      "DSVA: cannot tell the backbone's token width; give it an `outputDim` (or `config.hiddenSize`)",
    );
  }
  return d;
}

/** The patch grid `[h, w]` of a backbone's output on `pixels`: the output's `grid`, else the
 * backbone's `grid(H, W)`, else a square grid from the token count. Checks `1 + h·w` tokens. */
export function tokenGrid(
  backbone: DsvaBackbone,
  pixels: Tensor,
  out: BackboneOutput,
): [number, number] {
  const tokens = out.lastHiddenState.size(1);
  let grid: [number, number];
  if (out.grid) grid = [out.grid[0], out.grid[1]];
  else if (typeof backbone.grid === "function") {
    grid = backbone.grid(pixels.size(2), pixels.size(3));
  } else {
    const g = Math.round(Math.sqrt(tokens - 1));
    grid = [g, g];
  }
  if (
    !(Number.isInteger(grid[0]) && Number.isInteger(grid[1]) && grid[0] * grid[1] + 1 === tokens)
  ) {
    throw new RangeError(
      `DSVA: the backbone gave ${tokens} tokens, which is not 1 + h·w for the grid ${grid[0]}×${
        grid[1]
      }; return \`grid\` from the backbone's forward`,
    );
  }
  return grid;
}

/** `[B, C, h, w]` → `[B, 1 + h·w, C]`: the positions row-major, preceded by their mean as a
 * "CLS" token (see the module note for why that token is neutral). */
export function tokensFromFeatureMap(featureMap: Tensor): Tensor {
  if (featureMap.ndim !== 4) {
    throw new RangeError(`tokensFromFeatureMap: expected [B, C, h, w], got [${featureMap.shape}]`);
  }
  return scope(() => {
    const tokens = featureMap.flatten(2).transpose(1, 2); // [B, h·w, C]
    return cat([tokens.mean(1, { keepdim: true }), tokens], 1);
  });
}

/** A module whose forward maps pixels to a feature map `[B, C, h, w]` (a CNN trunk). */
export interface FeatureMapModule extends Module {
  /** Pixels → feature map. */
  forward(pixels: Tensor): Tensor;
}

/** A CNN as a DSVA backbone: the feature map becomes tokens with {@link tokensFromFeatureMap}.
 * The CNN is registered as `body`, so its weights are `backbone.body.*` in DSVA's state dict. */
export class FeatureMapBackbone extends Module implements DsvaBackbone {
  /** The CNN. */
  readonly body: FeatureMapModule;
  /** Channels of the feature map (the token width). */
  readonly outputDim: number;

  /** Wraps `body`, whose feature map has `channels` channels. */
  constructor(body: FeatureMapModule, channels: number) {
    super();
    this.body = this.registerModule("body", body);
    this.outputDim = channels;
  }

  /** Pixels → `{ lastHiddenState: [B, 1 + h·w, C], grid: [h, w] }`. */
  forward(pixels: Tensor): BackboneOutput {
    return scope(() => {
      const fm = this.body.forward(pixels);
      if (fm.ndim !== 4 || fm.size(1) !== this.outputDim) {
        throw new RangeError(
          `FeatureMapBackbone: expected a [B, ${this.outputDim}, h, w] feature map, got [${fm.shape}]`,
        );
      }
      const grid: [number, number] = [fm.size(2), fm.size(3)];
      return { lastHiddenState: tokensFromFeatureMap(fm), grid };
    });
  }
}

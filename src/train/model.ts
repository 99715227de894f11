/** Building the run's DSVA model from its config: the backbone (a ViT from scratch, a pretrained
 * CLIP vision tower, or the Darknet-tiny CNN), then the DSVA heads. */
import { type DsvaBackbone, FeatureMapBackbone } from "../dsva/backbone.ts";
import { DSVA } from "../dsva/model.ts";
import { Darknet } from "../models/darknet.ts";
import { clipVisionTower } from "../models/clip.ts";
import { VisionTransformer } from "../models/vit.ts";
import { VIT_PRESETS, vitConfig, type ViTPreset } from "../models/vit_config.ts";
import { Module } from "../nn/index.ts";
import { manualSeed, noGrad, scope, type Tensor, zeros } from "../tensor/index.ts";
import type { TrainConfig } from "../config/types.ts";

/** Darknet's feature trunk as a DSVA feature-map module (the classifier is not used). Its batch
 * norms stay in evaluation mode (the pretrained statistics): an 8×3 episode is too small a batch
 * to re-estimate them. */
class DarknetTrunk extends Module {
  readonly net: Darknet;
  constructor(net: Darknet) {
    super();
    this.net = this.registerModule("net", net);
  }
  forward(pixels: Tensor): Tensor {
    if (this.net.training) this.net.eval(); // DSVA.train() sets every descendant's flag
    return this.net.features(pixels);
  }
}

/** The backbone alone. The ViT is initialised from libtorch's generator (seeded by the caller). */
export async function buildBackbone(config: TrainConfig): Promise<DsvaBackbone> {
  const b = config.backbone;
  if (b.kind === "vit") {
    if (!(b.preset in VIT_PRESETS)) throw new Error(`unknown ViT preset ${b.preset}`);
    const over = Object.fromEntries(
      Object.entries({
        patchSize: b.patchSize,
        hiddenSize: b.hiddenSize,
        numLayers: b.numLayers,
        numHeads: b.numHeads,
        intermediateSize: b.intermediateSize,
      }).filter(([, v]) => v !== null),
    );
    return new VisionTransformer(
      vitConfig(b.preset as ViTPreset, { ...over, imageSize: config.imageSize }),
    );
  }
  if (b.kind === "clip") {
    return await clipVisionTower(b.dir, { format: b.format, activation: b.activation });
  }
  const net = await Darknet.fromTfjs(b.dir);
  const trunk = new DarknetTrunk(net);
  const channels = noGrad(() =>
    scope(() => trunk.forward(zeros([1, 3, config.imageSize, config.imageSize])).size(1))
  );
  return new FeatureMapBackbone(trunk, channels);
}

/** The DSVA model of a run: backbone first, then `manualSeed(seed)`, then the heads (the
 * official order: pretrained backbone, seed, prototypes, ALE), on `config.device`. */
export async function buildModel(
  config: TrainConfig,
  numAttributes: number,
  groups: Record<string, number[]>,
): Promise<DSVA> {
  manualSeed(config.seed);
  const backbone = await buildBackbone(config);
  manualSeed(config.seed + 1);
  const model = new DSVA(backbone, {
    numAttributes,
    groups,
    ac: { thr: config.ac.thr, iterations: config.ac.iterations, proWeight: config.ac.proWeight },
  });
  if (config.device !== "cpu") model.to(config.device as "cuda");
  return model;
}

/**
 * DSVA's training losses, as the official `Loss_fn` computes them (reference/dsva.md §4):
 *
 * | term | official name | formula | official weight |
 * |---|---|---|---|
 * | `ce` | `xe` | CE(fused output, y) | 1 |
 * | `mseGlobal` | `attri` | MSE(a_final, φ(y)) | 1e-2 |
 * | `ceCrop` | `proposal.xe` | CE(crop output, y) | 0 (hard-coded) |
 * | `ceVam` | `l_xe` | CE(VAM output, y) | 1 |
 * | `mseVam` | `l_attri` | MSE(a_VAM, φ(y)) | 8e-2 |
 * | `cpt` | `cpt` | Σ sigmoid(M)·‖(i,j) − peak‖² (APN compactness) | 1e-9, after the warm-up |
 * | `glassoPrototypes` | `l_regular` | Σ_g group lasso of the prototypes | 0 (GZSL 50/20: 5e-4) |
 * | `glassoAle` | `regular` | Σ_g group lasso of `ALE_vector[1].weight` | 0 (GZSL 50/20: 5e-6) |
 *
 * φ(y) is the label's row of the class-attribute matrix used for scoring. The official model
 * returns softmax probabilities and `nn.CrossEntropyLoss` applies log-softmax again, so the
 * official CE is `−log softmax(softmax(z))_y`: `ceOnProbabilities: true` reproduces that, `false`
 * is the clean CE on logits. A term is computed when its weight is non-zero (`ce` always, as in
 * the official code); the total adds the weighted terms in the official order.
 * @module
 */
import { crossEntropy, type Device, mseLoss, scope, type Tensor, tensor } from "../tensor/index.ts";

/** The loss terms (see the module table). */
export type DsvaLossTerm =
  | "ce"
  | "mseGlobal"
  | "ceCrop"
  | "ceVam"
  | "mseVam"
  | "cpt"
  | "glassoPrototypes"
  | "glassoAle";

/** Weight of each term. */
export type DsvaLossWeights = Record<DsvaLossTerm, number>;

/** The weights of the official scripts (all but GZSL 50/20; see {@link OFFICIAL_GZSL_50_20_WEIGHTS}). */
export const OFFICIAL_LOSS_WEIGHTS: Readonly<DsvaLossWeights> = Object.freeze({
  ce: 1,
  mseGlobal: 1e-2,
  ceCrop: 0,
  ceVam: 1,
  mseVam: 8e-2,
  cpt: 1e-9,
  glassoPrototypes: 0,
  glassoAle: 0,
});

/** The official GZSL 50/20 script's weights: the group lassos on (`--l_regular 0.5e-3`,
 * `--regular 5e-6`). */
export const OFFICIAL_GZSL_50_20_WEIGHTS: Readonly<DsvaLossWeights> = Object.freeze({
  ...OFFICIAL_LOSS_WEIGHTS,
  glassoPrototypes: 5e-4,
  glassoAle: 5e-6,
});

/** How the loss is computed. */
export interface DsvaLossConfig {
  /** Weight of each term. */
  weights: DsvaLossWeights;
  /** Official quirk: cross-entropy of the softmax *probabilities* (true) instead of the logits. */
  ceOnProbabilities: boolean;
  /** Also compute the zero-weight terms (for logging; they are not added to the total). */
  logAll?: boolean;
}

/** The official loss: official weights, CE on probabilities. */
export const OFFICIAL_LOSS: Readonly<DsvaLossConfig> = Object.freeze({
  weights: OFFICIAL_LOSS_WEIGHTS,
  ceOnProbabilities: true,
});

/** The clean loss: the official weights, CE on logits. */
export const CLEAN_LOSS: Readonly<DsvaLossConfig> = Object.freeze({
  weights: OFFICIAL_LOSS_WEIGHTS,
  ceOnProbabilities: false,
});

/** What the loss needs of the model's forward output. */
export interface DsvaLossOutputs {
  /** Fused (global + crop) scores `[B, C]`. */
  fusedLogits: Tensor;
  /** VAM scores `[B, C]`. */
  vamLogits: Tensor;
  /** Crop scores `[B, C]` (only with the AC). */
  cropLogits?: Tensor;
  /** VAM attribute vector `[B, K]`. */
  attributes: Tensor;
  /** Global ALE attribute vector `[B, K]`. */
  globalAttributes: Tensor;
  /** VAM attention maps `[B, K, h, w]`. */
  attentionMaps: Tensor;
}

/** What the loss needs of the model: the regularised weights and the groups. */
export interface DsvaLossModel {
  /** Prototypes `[K, D]`. */
  readonly prototypes: Tensor;
  /** The ALE Linear weight `[K, D]`. */
  readonly aleWeight: Tensor;
  /** Attribute indices of each group. */
  readonly groupIndices: readonly (readonly number[])[];
}

/** The loss terms, unweighted and weighted, and their weighted sum. */
export interface DsvaLossResult {
  /** Each computed term, unweighted. */
  terms: Partial<Record<DsvaLossTerm, Tensor>>;
  /** Each computed term times its weight (only terms with a non-zero weight). */
  weighted: Partial<Record<DsvaLossTerm, Tensor>>;
  /** The sum of the weighted terms (a scalar to `backward()`). */
  total: Tensor;
}

/** Cross-entropy of class scores against labels: of the logits, or — the official quirk — of
 * their softmax probabilities (`−log softmax(softmax(z))_y`). Mean over the batch. */
export function compatibilityCrossEntropy(
  logits: Tensor,
  labels: Tensor,
  ceOnProbabilities: boolean,
): Tensor {
  return scope(() => crossEntropy(ceOnProbabilities ? logits.softmax(1) : logits, labels));
}

/** APN's compactness loss (unweighted): for every map `M[b, k]` `[h, w]` with peak
 * `(i*, j*) = argmax M[b, k]` (first in row-major order),
 * `Σ_{b,k,i,j} sigmoid(M[b,k,i,j]) · ((i − i*)² + (j − j*)²)`. The peak is not differentiated. */
export function compactnessLoss(attentionMaps: Tensor): Tensor {
  const [b, k, h, w] = attentionMaps.shape;
  return scope(() => {
    const device = attentionMaps.device;
    const peak = attentionMaps.detach().reshape(b * k, h * w).argmax(1); // int64 [B·K]
    const pi = peak.div(w, { roundingMode: "floor" }).view(b, k, 1, 1).float();
    const pj = peak.remainder(w).view(b, k, 1, 1).float();
    const rows = tensor(Float32Array.from({ length: h }, (_, i) => i), { device }).view(1, 1, h, 1);
    const cols = tensor(Float32Array.from({ length: w }, (_, j) => j), { device }).view(1, 1, 1, w);
    const dist = rows.sub(pi).pow(2).add(cols.sub(pj).pow(2)); // [B, K, h, w]
    return attentionMaps.sigmoid().mul(dist.to(attentionMaps.dtype)).sum();
  });
}

/** APN's attribute-group lasso of one group (official `add_glasso`):
 * `sqrt(Σ_d (Σ_{k∈g} W[k, d]² + 1e-8))` for a `[K, D]` weight. */
export function groupLasso(weight: Tensor, group: readonly number[]): Tensor {
  return scope(() => {
    const idx = tensor(BigInt64Array.from(group, (i) => BigInt(i)), { device: weight.device });
    return weight.indexSelect(0, idx).pow(2).sum(0).add(1e-8).sum().pow(0.5);
  });
}

/** Labels as an int64 tensor on `device`. */
function labelTensor(labels: Tensor | readonly number[], device: Device): Tensor {
  if (!Array.isArray(labels)) return labels as Tensor;
  return tensor(BigInt64Array.from(labels as readonly number[], (i) => BigInt(i)), { device });
}

/**
 * DSVA's loss for a batch: `out` from `DSVA.forward(pixels, classAttributes)`, `labels` the row
 * of each image's class in `classAttributes` `[C, K]` (the same matrix the forward scored with:
 * the seen classes in training). Returns every term (unweighted and weighted) and the total.
 */
export function dsvaLoss(
  model: DsvaLossModel,
  out: DsvaLossOutputs,
  labels: Tensor | readonly number[],
  classAttributes: Tensor,
  config: DsvaLossConfig = OFFICIAL_LOSS,
): DsvaLossResult {
  const w = config.weights;
  for (const [k, v] of Object.entries(w)) {
    if (!Number.isFinite(v)) throw new RangeError(`dsvaLoss: weight "${k}" is ${v}`);
  }
  return scope(() => {
    const y = labelTensor(labels, out.fusedLogits.device);
    if (y.ndim !== 1 || y.size(0) !== out.fusedLogits.size(0)) {
      throw new RangeError(
        `dsvaLoss: ${y.shape} labels for a batch of ${out.fusedLogits.size(0)} images`,
      );
    }
    const want = (t: DsvaLossTerm) => w[t] !== 0 || config.logAll === true;
    const ce = (logits: Tensor) => compatibilityCrossEntropy(logits, y, config.ceOnProbabilities);
    const phi = () => classAttributes.indexSelect(0, y); // [B, K]
    const terms: Partial<Record<DsvaLossTerm, Tensor>> = {};
    const weighted: Partial<Record<DsvaLossTerm, Tensor>> = {};
    const parts: Tensor[] = []; // weighted pieces, in the official order of summation
    const add = (t: DsvaLossTerm, value: Tensor) => {
      terms[t] = value;
      if (w[t] === 0) return;
      const wv = value.mul(w[t]);
      weighted[t] = weighted[t] === undefined ? wv : weighted[t]!.add(wv);
      parts.push(wv);
    };

    add("ce", ce(out.fusedLogits));
    if (want("mseGlobal")) add("mseGlobal", mseLoss(out.globalAttributes, phi()));
    if (want("ceCrop") && out.cropLogits) add("ceCrop", ce(out.cropLogits));
    if (want("ceVam")) add("ceVam", ce(out.vamLogits));
    if (want("mseVam")) add("mseVam", mseLoss(out.attributes, phi()));
    if (want("cpt")) add("cpt", compactnessLoss(out.attentionMaps));
    // Official: for each group, the prototypes' lasso then the ALE weight's.
    const gp = want("glassoPrototypes"), ga = want("glassoAle");
    if (gp || ga) {
      const lp: Tensor[] = [], la: Tensor[] = [];
      for (const g of model.groupIndices) {
        if (gp) {
          const v = groupLasso(model.prototypes, g);
          lp.push(v);
          if (w.glassoPrototypes !== 0) parts.push(v.mul(w.glassoPrototypes));
        }
        if (ga) {
          const v = groupLasso(model.aleWeight, g);
          la.push(v);
          if (w.glassoAle !== 0) parts.push(v.mul(w.glassoAle));
        }
      }
      const sum = (xs: Tensor[]) => xs.reduce((a, b) => a.add(b));
      if (gp) {
        terms.glassoPrototypes = sum(lp);
        if (w.glassoPrototypes !== 0) {
          weighted.glassoPrototypes = terms.glassoPrototypes.mul(w.glassoPrototypes);
        }
      }
      if (ga) {
        terms.glassoAle = sum(la);
        if (w.glassoAle !== 0) weighted.glassoAle = terms.glassoAle.mul(w.glassoAle);
      }
    }
    const total = parts.length === 0 ? terms.ce!.mul(0) : parts.reduce((a, b) => a.add(b));
    return { terms, weighted, total };
  });
}

/** The loss terms and the total as numbers (for logs). */
export function lossValues(result: DsvaLossResult): Record<string, number> {
  const out: Record<string, number> = { total: result.total.item() };
  for (const [k, v] of Object.entries(result.terms)) out[k] = v!.item();
  return out;
}

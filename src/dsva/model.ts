/**
 * The DSVA model (official `CLIP_proto`, reference/dsva.md §2–§3): a backbone giving tokens, the
 * VAM (attribute prototypes), the global ALE branch and the Attention Concentration (AC)
 * crop-and-refeed through the same backbone and the same ALE head.
 *
 * State-dict names: `backbone.*` (for a `VisionTransformer`, Hugging Face CLIP vision names such
 * as `backbone.encoder.layers.0.self_attn.q_proj.weight`), `prototypes` `[K, D]` (official
 * `prototype_vectors.layer4` `[K, D, 1]`), `ale.0.*` (LayerNorm) and `ale.1.*` (Linear), like the
 * official `ALE_vector` Sequential. `officialStateDict()` in official_weights.ts maps an official
 * checkpoint onto these names.
 *
 * Initialisation draws, in order, the prototypes (`2e-4 · U[0,1)`) and then the ALE Linear
 * (PyTorch default) from libtorch's generator, as the official constructor does after loading the
 * pretrained backbone: construct the backbone first, then seed, then construct DSVA.
 * @module
 */
import { noGrad, scope, type Tensor } from "../tensor/index.ts";
import { Module, type Sequential } from "../nn/index.ts";
import type { FactoryOptions } from "../nn/module.ts";
import type { Box } from "./ac_box.ts";
import { aleAttributes, createAleHead } from "./ale.ts";
import {
  type AcOptions,
  type AcRound,
  acRound,
  cropAndResize,
  resolveAcOptions,
  type ResolvedAcOptions,
} from "./attention_concentration.ts";
import { backboneDim, type DsvaBackbone, tokenGrid } from "./backbone.ts";
import { type AttributeGroupsLike, resolveAttributeGroups } from "./groups.ts";
import {
  classScores,
  initPrototypes,
  PROTOTYPE_INIT_SCALE,
  visualAttributeMapping,
} from "./vam.ts";

/** Configuration of a DSVA model. */
export interface DsvaConfig {
  /** K, the number of attributes (98 in the official RSSDIVCS setup). */
  numAttributes: number;
  /** Attribute groups (official: `functions`, `materials`, `surface_properties` from
   * `attri_group_3.json`); used by the AC (one map per group) and the group lasso. */
  groups: AttributeGroupsLike;
  /** AC settings (official: thr 1, one iteration, crop weight 1), or `false` to make
   * `forward` skip the AC unless asked (`useAC: true`). */
  ac?: AcOptions | false;
  /** Prototype init scale (official 2e-4). */
  prototypeInitScale?: number;
}

/** Per-call options of {@link DSVA.forward}. */
export interface DsvaForwardOptions {
  /** Run the Attention Concentration (default: unless the config says `ac: false`). The official
   * code runs it at train and test time whenever `epoch > pro_start_epoch`. */
  useAC?: boolean;
  /** Overrides of the configured AC settings for this call (e.g. `iterations`). */
  ac?: AcOptions;
  /** Return each AC round's fused map (`[B, H, W]`) too (for pictures). */
  keepAcMaps?: boolean;
}

/** One AC round as returned by {@link DSVA.forward}. */
export interface DsvaAcRound extends Omit<AcRound, "map"> {
  /** The fused map the boxes come from, `[B, H, W]` (with `keepAcMaps`). */
  map?: Tensor;
  /** The crop's attribute vector from the shared ALE head on max-pooled tokens, `[B, K]`. */
  attributes: Tensor;
  /** Its class scores `[B, C]`. */
  logits: Tensor;
}

/** What {@link DSVA.forward} returns; logits are un-normalised scores (apply softmax for the
 * official probabilities). */
export interface DsvaOutput {
  /** VAM class scores `a · Aᵀ` `[B, C]` (official `pre_class['layer4']` before softmax; the
   * branch the official numbers report). */
  vamLogits: Tensor;
  /** Global ALE class scores `a_final · Aᵀ` `[B, C]`. */
  globalLogits: Tensor;
  /** Crop class scores (sum over AC rounds; one round officially) `[B, C]`, when the AC ran. */
  cropLogits?: Tensor;
  /** `globalLogits + proWeight · cropLogits` with the AC, else `globalLogits` (official
   * `output_final` before softmax). */
  fusedLogits: Tensor;
  /** VAM attribute vector `a = max_t M` `[B, K]` (official `pre_attri['layer4']`). */
  attributes: Tensor;
  /** Global ALE attribute vector `[B, K]` (official `pre_attri['final']`). */
  globalAttributes: Tensor;
  /** Crop ALE attribute vector of the first AC round `[B, K]`, when the AC ran. */
  cropAttributes?: Tensor;
  /** VAM attention maps `[B, K, h, w]` (CLS token dropped; official `attention['layer4']`). */
  attentionMaps: Tensor;
  /** First AC round's boxes in input-pixel coordinates, when the AC ran. */
  boxes?: Box[];
  /** Every AC round (boxes of round t are in the coordinates of round t−1's resized crop). */
  acRounds?: DsvaAcRound[];
}

/** The parameter sets recipes refer to. */
export type DsvaParameterSet = "backbone" | "prototypes" | "aleNorm" | "aleLinear";

/** The DSVA model around a backbone (see the module note for names and initialisation). */
export class DSVA extends Module {
  /** The backbone (shared by the full image and the AC crops). */
  readonly backbone: DsvaBackbone;
  /** Attribute prototypes `[K, D]`. */
  readonly prototypes: Tensor;
  /** The ALE head: `0` LayerNorm(D), `1` Linear(D → K). */
  readonly ale: Sequential;
  /** K. */
  readonly numAttributes: number;
  /** D. */
  readonly dim: number;
  /** Group names, in order. */
  readonly groupNames: readonly string[];
  /** Attribute indices of each group, in order. */
  readonly groupIndices: readonly (readonly number[])[];
  /** The configured AC settings. */
  readonly acOptions: ResolvedAcOptions;
  /** Whether `forward` runs the AC by default. */
  readonly acByDefault: boolean;

  /** DSVA on `backbone` (registered as `backbone`). */
  constructor(backbone: DsvaBackbone, config: DsvaConfig, f: FactoryOptions = {}) {
    super();
    const k = config.numAttributes;
    if (!(Number.isInteger(k) && k > 0)) {
      throw new RangeError(`DSVA: numAttributes must be a positive integer, got ${k}`);
    }
    const groups = resolveAttributeGroups(config.groups, k);
    this.numAttributes = k;
    this.dim = backboneDim(backbone);
    this.groupNames = groups.names;
    this.groupIndices = groups.indices;
    this.acByDefault = config.ac !== false;
    this.acOptions = resolveAcOptions(config.ac === false ? {} : config.ac);
    this.backbone = this.registerModule("backbone", backbone);
    this.prototypes = this.registerParameter(
      "prototypes",
      initPrototypes(k, this.dim, {
        ...f,
        scale: config.prototypeInitScale ?? PROTOTYPE_INIT_SCALE,
      }),
    );
    this.ale = this.registerModule("ale", createAleHead(this.dim, k, f));
  }

  /** The ALE Linear weight `[K, D]` (official `ALE_vector[1].weight`, the group lasso's target). */
  get aleWeight(): Tensor {
    return (this.ale.at(1) as unknown as { weight: Tensor }).weight;
  }

  /** The parameters of each set: `backbone`, `prototypes`, `aleNorm` (`ale.0`), `aleLinear`
   * (`ale.1`). The official warm-up trains only `prototypes` + `aleLinear`. */
  parameterSet(name: DsvaParameterSet): Tensor[] {
    switch (name) {
      case "backbone":
        return this.backbone.parameters();
      case "prototypes":
        return [this.prototypes];
      case "aleNorm":
        return this.ale.at(0).parameters();
      case "aleLinear":
        return this.ale.at(1).parameters();
      default:
        throw new RangeError(`DSVA: unknown parameter set "${name}"`);
    }
  }

  /** Normalised pixels `[B, 3, H, W]` and the class-attribute matrix `[C, K]` of the classes to
   * score (seen classes in training) → every branch's scores, attributes, maps and AC boxes. */
  forward(pixels: Tensor, classAttributes: Tensor, opts: DsvaForwardOptions = {}): DsvaOutput {
    if (pixels.ndim !== 4) {
      throw new RangeError(`DSVA: pixels must be [B, C, H, W], got [${pixels.shape}]`);
    }
    if (classAttributes.ndim !== 2 || classAttributes.size(1) !== this.numAttributes) {
      throw new RangeError(
        `DSVA: the class-attribute matrix must be [C, ${this.numAttributes}], got [${classAttributes.shape}]`,
      );
    }
    const useAC = opts.useAC ?? this.acByDefault;
    const ac = opts.ac ? resolveAcOptions({ ...this.acOptions, ...opts.ac }) : this.acOptions;
    return scope(() => {
      const size: [number, number] = [pixels.size(2), pixels.size(3)];
      const out = this.backbone.forward(pixels);
      const tokens = out.lastHiddenState;
      const vam = visualAttributeMapping(
        tokens,
        this.prototypes,
        tokenGrid(this.backbone, pixels, out),
      );
      const globalAttributes = aleAttributes(tokens, this.ale, "mean");
      const globalLogits = classScores(globalAttributes, classAttributes);
      const vamLogits = classScores(vam.attributes, classAttributes);
      const result: DsvaOutput = {
        vamLogits,
        globalLogits,
        fusedLogits: globalLogits,
        attributes: vam.attributes,
        globalAttributes,
        attentionMaps: vam.attentionMaps,
      };
      if (!useAC) return result;

      const rounds: DsvaAcRound[] = [];
      let src = pixels, maps = vam.attentionMaps, attrs = vam.attributes;
      let cropLogits: Tensor | null = null;
      for (let t = 0; t < ac.iterations; t++) {
        const round = acRound(maps, attrs, this.groupIndices, size, ac.thr);
        const crops = cropAndResize(src, round.boxes, size);
        const cropOut = this.backbone.forward(crops);
        const cropTokens = cropOut.lastHiddenState;
        const attributes = aleAttributes(cropTokens, this.ale, "max");
        const logits = classScores(attributes, classAttributes);
        cropLogits = cropLogits === null ? logits : cropLogits.add(logits);
        const { map, ...rest } = round;
        rounds.push({ ...rest, ...(opts.keepAcMaps ? { map } : {}), attributes, logits });
        if (t + 1 < ac.iterations) {
          const next = noGrad(() =>
            visualAttributeMapping(
              cropTokens,
              this.prototypes,
              tokenGrid(this.backbone, crops, cropOut),
            )
          );
          src = crops;
          maps = next.attentionMaps;
          attrs = next.attributes;
        }
      }
      result.cropLogits = cropLogits!;
      // Official: a_final·A + pro_weight · a_crop·A (a separate multiply, then the sum).
      result.fusedLogits = globalLogits.add(cropLogits!.mul(ac.proWeight));
      result.cropAttributes = rounds[0].attributes;
      result.boxes = rounds[0].boxes;
      result.acRounds = rounds;
      return result;
    });
  }

  /** K, D and the groups. */
  override extraRepr(): string {
    return `numAttributes=${this.numAttributes}, dim=${this.dim}, groups=[${this.groupNames}]`;
  }
}

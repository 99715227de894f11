/**
 * The `dsva` namespace: the DSVA model (Deep Semantic-Visual Alignment, arXiv 2402.02094) as the
 * official code defines it (reference/dsva.md): the Visual-Attribute Mapping with its attribute
 * prototypes and attention maps, the global ALE branch, Attention Concentration (the crop box
 * from grouped attention and the re-fed crop), the backbone adapters (ViT tokens, CNN feature
 * maps), the loss terms and their weights, the official weight names, and the training recipes
 * (`official` with its quirks, `clean` without them, and the six official scripts) as data.
 * @module
 */
export { DSVA } from "./model.ts";
export type {
  DsvaAcRound,
  DsvaConfig,
  DsvaForwardOptions,
  DsvaOutput,
  DsvaParameterSet,
} from "./model.ts";
export { backboneDim, FeatureMapBackbone, tokenGrid, tokensFromFeatureMap } from "./backbone.ts";
export type { BackboneOutput, DsvaBackbone, FeatureMapModule } from "./backbone.ts";
export { resolveAttributeGroups } from "./groups.ts";
export type { AttributeGroupsLike, ResolvedGroups } from "./groups.ts";
export {
  classScores,
  initPrototypes,
  PROTOTYPE_INIT_SCALE,
  visualAttributeMapping,
} from "./vam.ts";
export type { VamOutput } from "./vam.ts";
export { aleAttributes, createAleHead } from "./ale.ts";
export type { TokenPool } from "./ale.ts";
export {
  acFusedMap,
  acRound,
  cropAndResize,
  OFFICIAL_AC,
  resolveAcOptions,
} from "./attention_concentration.ts";
export type { AcOptions, AcRound, ResolvedAcOptions } from "./attention_concentration.ts";
export {
  acBox,
  acBoxes,
  acMask,
  acThreshold,
  boxFromMask,
  labelComponents,
  largestComponent,
  OFFICIAL_AC_THR,
} from "./ac_box.ts";
export type {
  AcBoxOptions,
  AcBoxResult,
  AcPrecision,
  Box,
  Components,
  HostMaps,
} from "./ac_box.ts";
export {
  CLEAN_LOSS,
  compactnessLoss,
  compatibilityCrossEntropy,
  dsvaLoss,
  groupLasso,
  lossValues,
  OFFICIAL_GZSL_50_20_WEIGHTS,
  OFFICIAL_LOSS,
  OFFICIAL_LOSS_WEIGHTS,
} from "./losses.ts";
export type {
  DsvaLossConfig,
  DsvaLossModel,
  DsvaLossOutputs,
  DsvaLossResult,
  DsvaLossTerm,
  DsvaLossWeights,
} from "./losses.ts";
export {
  CLEAN_RECIPE,
  groupLearningRates,
  lrFactor,
  OFFICIAL_RECIPE,
  OFFICIAL_SCRIPTS,
  officialScript,
  recipeLoss,
  recipePhase,
  RECIPES,
  scaleRecipe,
} from "./recipes.ts";
export type {
  DsvaRecipe,
  LrScheduleSpec,
  OfficialScript,
  ParamGroupSpec,
  RecipePhase,
} from "./recipes.ts";
export { officialStateDict } from "./official_weights.ts";

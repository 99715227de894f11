/**
 * The `nn` namespace, as `torch.nn`: `Module` (parameters, buffers, submodules, train/eval,
 * state dicts with strict loading and shape checks), the layers the models are built from
 * (Linear, LayerNorm, Conv2d, BatchNorm2d, Embedding, Dropout, attention, activations,
 * containers) and the initialisers of `torch.nn.init`.
 * @module
 */
export { Module } from "./module.ts";
export type { FactoryOptions, TensorModule } from "./module.ts";
export { StateDictError } from "./state_dict.ts";
export type { LoadResult, ShapeMismatch, StateDictInput } from "./state_dict.ts";
export { Linear } from "./linear.ts";
export type { LinearOptions } from "./linear.ts";
export { LayerNorm } from "./layer_norm.ts";
export type { LayerNormOptions } from "./layer_norm.ts";
export { Conv2d } from "./conv2d.ts";
export type { Conv2dLayerOptions } from "./conv2d.ts";
export { BatchNorm2d } from "./batch_norm.ts";
export type { BatchNormOptions } from "./batch_norm.ts";
export { Embedding } from "./embedding.ts";
export type { EmbeddingOptions } from "./embedding.ts";
export { Dropout } from "./dropout.ts";
export { GELU, LeakyReLU, QuickGELU, ReLU } from "./activations.ts";
export { ModuleList, Sequential } from "./containers.ts";
export { MultiheadSelfAttention } from "./attention.ts";
export type { AttentionCallOptions, MultiheadSelfAttentionOptions } from "./attention.ts";
/** Initializers: `nn.init.truncNormal_`, `xavierUniform_`, `kaimingUniform_`, ... */
export * as init from "./init.ts";
export { DistributedDataParallel } from "./ddp.ts";
export type { DdpOptions } from "./ddp.ts";

/**
 * The `torch` namespace: everything a user reaches as `torch.<name>`. Tensors (`core.ts` holds
 * a tensor's handle, metadata, data out and autograd state; `tensor.ts` its PyTorch methods),
 * creation functions, free functions, autograd and grad mode, scopes for memory, runtime
 * switches, and `ops.aten`, every operator of the linked libtorch typed from its schema.
 * @module
 */
export { Tensor } from "./tensor.ts";
export type { Dims, Scalar } from "./tensor.ts";
export { TensorCore } from "./core.ts";
export type { ShapeArgs, SizeArgs } from "./shape_args.ts";
export type { DType, HostArray } from "./dtype.ts";
export type { Device } from "./device.ts";
export type { Owned } from "./scope.ts";
export { TorchError } from "./runtime.ts";
export { onWarning } from "./runtime.ts";
export {
  arange,
  empty,
  emptyLike,
  eye,
  fromBuffer,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  rand,
  randint,
  randLike,
  randn,
  randnLike,
  tensor,
  zeros,
  zerosLike,
} from "./creation.ts";
export type { CreateOptions, NestedArray } from "./creation.ts";
export * from "./functional.ts";
export { grad } from "./autograd.ts";
export type { GradOptions } from "./autograd.ts";
export { enableGrad, isGradEnabled, noGrad, setGradEnabled } from "./grad_mode.ts";
export { keep, leakBackstop, leakedCount, scope } from "./scope.ts";
export {
  autocast,
  cuda,
  getNumThreads,
  library,
  manualSeed,
  memory,
  setNumThreads,
  version,
} from "./info.ts";
export type { MemoryReport } from "./info.ts";
export * from "./methods.ts";
export { ops, schemasOf } from "./aten.ts";

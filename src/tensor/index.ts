/** The `torch` namespace: everything a user reaches as `torch.<name>`. */
export { Tensor } from "./tensor.ts";
export type { Dims, Scalar } from "./tensor.ts";
export type { DType } from "./dtype.ts";
export type { Device } from "./device.ts";
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

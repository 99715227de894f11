/**
 * The `optim` namespace, as `torch.optim`: the `Optimizer` base with parameter groups and state
 * dicts in PyTorch's layout, SGD, Adam and AdamW (fused kernels in the shim), gradient-norm
 * clipping, and lr schedules as factors of the step or epoch.
 * @module
 */
export { Optimizer } from "./optimizer.ts";
export type {
  GroupHyper,
  OptimizerStateDict,
  ParamGroup,
  ParamGroupInit,
  ParamState,
} from "./optimizer.ts";
export { SGD } from "./sgd.ts";
export type { SGDHyper, SGDOptions } from "./sgd.ts";
export { Adam, AdamW } from "./adam.ts";
export type { AdamHyper, AdamOptions } from "./adam.ts";
export { hasOp } from "./kernels.ts";
export type { Implementation } from "./kernels.ts";
export { clipGradNorm } from "./clip.ts";
export type { ClipGradNormOptions } from "./clip.ts";
export {
  CosineWithWarmup,
  cosineWithWarmupFactor,
  ExponentialLR,
  LambdaLR,
  LRSchedule,
  StepLR,
} from "./schedules.ts";
export type { CosineWithWarmupOptions, ScheduledOptimizer, ScheduleState } from "./schedules.ts";

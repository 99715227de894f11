/**
 * dsva-torch: zero-shot remote-sensing scene classification on libtorch, for Deno.
 *
 * ```ts
 * import { torch } from "./mod.ts";
 * const a = torch.randn([4, 3], { requiresGrad: true });
 * torch.scope(() => a.matmul(torch.randn([3, 2])).relu().sum().backward());
 * console.log(a.grad?.toString());
 * ```
 * @module
 */
export * as torch from "./src/tensor/index.ts";
export * as nn from "./src/nn/index.ts";
export * as optim from "./src/optim/index.ts";
export * as io from "./src/io/index.ts";
export { Tensor, TorchError } from "./src/tensor/index.ts";
export type { Device, DType } from "./src/tensor/index.ts";
export * as models from "./src/models/index.ts";
export * as evaluation from "./src/eval/index.ts";
export * as data from "./src/data/index.ts";
export * as dsva from "./src/dsva/index.ts";
export * as attributes from "./src/attributes/index.ts";
export * as clip from "./src/clip/index.ts";
export * as train from "./src/train/index.ts";

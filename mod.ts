/**
 * dsva-torch: zero-shot remote-sensing scene classification on libtorch, for Deno. `torch` is
 * PyTorch's tensor API (names in camelCase, keywords in options objects), `nn` and `optim` are
 * `torch.nn` and `torch.optim`, and the other namespaces hold the DSVA model and its data,
 * training and evaluation.
 *
 * @example Autograd: a gradient, as `loss.backward()` gives it in PyTorch
 * ```ts
 * import assert from "node:assert/strict";
 * import { torch } from "./mod.ts";
 * using a = torch.tensor([1, 2, 3], { requiresGrad: true });
 * // d/da sum(a²) = 2a; the scope frees the intermediate tensors.
 * torch.scope(() => a.mul(a).sum().backward());
 * assert.deepEqual(a.grad?.toArray(), [2, 4, 6]);
 * assert.equal(a.grad?.toString(), "tensor([2., 4., 6.])");
 * ```
 * @module
 */
/** `torch`: tensors, creation, autograd, scopes for memory, and every ATen operator. */
export * as torch from "./src/tensor/index.ts";
/** `torch.nn`: modules (layers, containers, attention) and their initialization.
 *
 * @example A module's forward pass
 * ```ts
 * import assert from "node:assert/strict";
 * import { nn, torch } from "./mod.ts";
 * using layer = new nn.Linear(3, 2);
 * torch.scope(() => {
 *   const x = torch.ones(4, 3);
 *   const y = layer.forward(x); // x Wᵀ + b, as torch.nn.Linear
 *   assert.deepEqual(y.shape, [4, 2]);
 *   const expected = x.matmul(layer.weight.mT).add(layer.bias!);
 *   assert.equal(y.sub(expected).abs().max().item(), 0);
 * });
 * ```
 */
export * as nn from "./src/nn/index.ts";
/** `torch.optim`: optimizers (SGD, Adam, AdamW), gradient clipping and learning-rate
 * schedules.
 *
 * @example One optimizer step
 * ```ts
 * import assert from "node:assert/strict";
 * import { optim, torch } from "./mod.ts";
 * using w = torch.tensor([1, 2], { requiresGrad: true });
 * using opt = new optim.SGD([w], { lr: 0.1 });
 * torch.scope(() => w.mul(w).sum().backward()); // grad 2w = [2, 4]
 * opt.step(); // w - 0.1 * grad
 * torch.scope(() => {
 *   const expected = torch.tensor([0.8, 1.6]);
 *   assert.ok(w.detach().sub(expected).abs().max().item() < 1e-6);
 * });
 * ```
 */
export * as optim from "./src/optim/index.ts";
/** Weight files and checkpoints: safetensors, PyTorch's `pytorch_model.bin`, TF.js models.
 *
 * @example Saving and loading safetensors
 * ```ts
 * import assert from "node:assert/strict";
 * import { io, torch } from "./mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * using w = torch.arange(6).reshape(2, 3);
 * await io.saveSafetensors(path, { w });
 * using loaded = await io.loadSafetensors(path);
 * assert.deepEqual(loaded.get("w")?.toArray(), [[0, 1, 2], [3, 4, 5]]);
 * await Deno.remove(path);
 * ```
 */
export * as io from "./src/io/index.ts";
export { Tensor, TensorCore, TorchError } from "./src/tensor/index.ts";
export type {
  Device,
  Dims,
  DType,
  HostArray,
  Owned,
  Scalar,
  ShapeArgs,
  SizeArgs,
} from "./src/tensor/index.ts";
/** Backbones: Vision Transformers, CLIP and CNNs, with loaders for Hugging Face, timm and
 * TF.js weights. */
export * as models from "./src/models/index.ts";
/** ZSL / GZSL evaluation: per-class accuracies, calibrated stacking, AUSUC, reports. */
export * as evaluation from "./src/eval/index.ts";
export * as data from "./src/data/index.ts";
/** The DSVA model (Deep Semantic-Visual Alignment), its losses and training recipes. */
export * as dsva from "./src/dsva/index.ts";
export * as attributes from "./src/attributes/index.ts";
export * as clip from "./src/clip/index.ts";
/** CLIP's own prompt zero-shot classification, the baseline DSVA is read against: any CLIP
 * source (`loadClip`), prompt ensembling, the embedding cache, both protocols (all classes;
 * ZSL / GZSL of a split) and the evaluation files `deno task zeroshot` writes. */
export * as zeroshot from "./src/zeroshot/index.ts";
/** `torch.distributed` on c10d: process groups (Gloo on CPU, NCCL on CUDA) from torchrun's
 * environment or an explicit store, collectives with timeouts; `nn.DistributedDataParallel`
 * reduces gradients over them.
 *
 * @example A one-process group (a real launch sets RANK/WORLD_SIZE/MASTER_* via torchrun)
 * ```ts
 * import assert from "node:assert/strict";
 * import { distributed, torch } from "./mod.ts";
 * if (distributed.isBackendAvailable("gloo")) {
 *   const group = distributed.initProcessGroup({
 *     store: { host: "127.0.0.1", port: 0, rank: 0, worldSize: 1 },
 *   });
 *   using t = torch.tensor([1, 2, 3]);
 *   distributed.allReduce(t, { op: "sum" });
 *   assert.deepEqual(t.toArray(), [1, 2, 3]);
 *   assert.equal(group.worldSize, 1);
 *   distributed.destroy();
 * }
 * ```
 */
export * as distributed from "./src/distributed/index.ts";
/** DSVA training runs as `deno task train` drives them: data setup, the training loop,
 * checkpoints, scoring and the report. */
export * as train from "./src/train/index.ts";

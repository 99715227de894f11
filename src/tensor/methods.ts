/** Method-style ops also offered as free functions, as PyTorch offers them:
 * `torch.relu(x)` is `x.relu()`. */
import type { DType } from "./dtype.ts";
import type { Dims, Scalar, Tensor } from "./tensor.ts";

/** `torch.add(a, b, alpha=...)`: `a + alpha * b`. */
export const add = (a: Tensor, b: Tensor | Scalar, alpha?: number): Tensor => a.add(b, alpha);
/** `torch.sub(a, b, alpha=...)`: `a - alpha * b`. */
export const sub = (a: Tensor, b: Tensor | Scalar, alpha?: number): Tensor => a.sub(b, alpha);
/** `torch.mul(a, b)`: elementwise product. */
export const mul = (a: Tensor, b: Tensor | Scalar): Tensor => a.mul(b);
/** `torch.div(a, b)`: true division (for `rounding_mode`, use `a.div(b, opts)`). */
export const div = (a: Tensor, b: Tensor | Scalar): Tensor => a.div(b);
/** `torch.pow(a, e)`: elementwise power. */
export const pow = (a: Tensor, e: Tensor | Scalar): Tensor => a.pow(e);
/** `torch.maximum(a, b)`: elementwise maximum. */
export const maximum = (a: Tensor, b: Tensor): Tensor => a.maximum(b);
/** `torch.minimum(a, b)`: elementwise minimum. */
export const minimum = (a: Tensor, b: Tensor): Tensor => a.minimum(b);
/** `torch.clamp(a, min, max)`: limits the elements to `[min, max]`. */
export const clamp = (a: Tensor, min?: number | null, max?: number | null): Tensor =>
  a.clamp(min, max);
/** `torch.matmul(a, b)` (`a @ b`): matrix product with broadcasting. */
export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
/** `torch.mm(a, b)`: product of two 2-d matrices. */
export const mm = (a: Tensor, b: Tensor): Tensor => a.mm(b);
/** `torch.bmm(a, b)`: batched product of two 3-d tensors. */
export const bmm = (a: Tensor, b: Tensor): Tensor => a.bmm(b);
/** `torch.sqrt(a)`: the square root. */
export const sqrt = (a: Tensor): Tensor => a.sqrt();
/** `torch.exp(a)`: `e^a`. */
export const exp = (a: Tensor): Tensor => a.exp();
/** `torch.log(a)`: the natural logarithm. */
export const log = (a: Tensor): Tensor => a.log();
/** `torch.abs(a)`: `|a|`. */
export const abs = (a: Tensor): Tensor => a.abs();
/** `torch.relu(a)`: `max(a, 0)`. */
export const relu = (a: Tensor): Tensor => a.relu();
/** `torch.nn.functional.gelu(a, approximate=...)`: exact GELU or its tanh approximation. */
export const gelu = (a: Tensor, opts?: { approximate?: "none" | "tanh" }): Tensor => a.gelu(opts);
/** `torch.sigmoid(a)`: `1 / (1 + e^-a)`. */
export const sigmoid = (a: Tensor): Tensor => a.sigmoid();
/** `torch.tanh(a)`: the hyperbolic tangent. */
export const tanh = (a: Tensor): Tensor => a.tanh();
/** `torch.nn.functional.silu(a)`: `a * sigmoid(a)`. */
export const silu = (a: Tensor): Tensor => a.silu();
/** `torch.softmax(a, dim, dtype=...)`: softmax along `dim`. */
export const softmax = (a: Tensor, dim: number, dtype?: DType): Tensor => a.softmax(dim, dtype);
/** `torch.log_softmax(a, dim, dtype=...)`: `log(softmax(a))`, computed stably. */
export const logSoftmax = (a: Tensor, dim: number, dtype?: DType): Tensor =>
  a.logSoftmax(dim, dtype);
/** `torch.sum(a, dim, keepdim=...)`: over `dim` (one or several), or over all elements. */
export const sum = (a: Tensor, dim?: Dims | null, opts?: { keepdim?: boolean }): Tensor =>
  a.sum(dim, opts);
/** `torch.mean(a, dim, keepdim=...)`: over `dim` (one or several), or over all elements. */
export const mean = (a: Tensor, dim?: Dims | null, opts?: { keepdim?: boolean }): Tensor =>
  a.mean(dim, opts);
/** `torch.argmax(a, dim, keepdim)`: the index of the maximum along `dim`, or in the flattened
 * tensor. */
export const argmax = (a: Tensor, dim?: number, keepdim?: boolean): Tensor =>
  a.argmax(dim, keepdim);
/** `torch.logsumexp(a, dim, keepdim)`: `log(sum(exp(a)))` over `dim`, computed stably. */
export const logsumexp = (a: Tensor, dim: Dims, keepdim?: boolean): Tensor =>
  a.logsumexp(dim, keepdim);
/** `torch.reshape(a, shape)`: `a.reshape(shape)`. */
export const reshape = (a: Tensor, shape: readonly number[]): Tensor => a.reshape(shape);
/** `torch.permute(a, dims)`: `a.permute(dims)`. */
export const permute = (a: Tensor, dims: readonly number[]): Tensor => a.permute(dims);
/** `torch.transpose(a, dim0, dim1)`: swaps two dimensions. */
export const transpose = (a: Tensor, d0: number, d1: number): Tensor => a.transpose(d0, d1);
/** `torch.flatten(a, start_dim, end_dim)`: merges dimensions `start..end`. */
export const flatten = (a: Tensor, start = 0, end = -1): Tensor => a.flatten(start, end);
/** `torch.squeeze(a, dim)`: drops size-1 dimensions (all, or those in `dim`). */
export const squeeze = (a: Tensor, dim?: Dims): Tensor => a.squeeze(dim);
/** `torch.unsqueeze(a, dim)`: inserts a size-1 dimension at `dim`. */
export const unsqueeze = (a: Tensor, dim: number): Tensor => a.unsqueeze(dim);
/** `torch.split(a, split_size_or_sections, dim)`: pieces of `size`, or of the given sizes. */
export const split = (a: Tensor, size: number | readonly number[], dim = 0): Tensor[] =>
  a.split(size, dim);
/** `torch.chunk(a, chunks, dim)`: at most `chunks` pieces of equal size. */
export const chunk = (a: Tensor, chunks: number, dim = 0): Tensor[] => a.chunk(chunks, dim);
/** `torch.narrow(a, dim, start, length)`: `length` entries from `start` along `dim`. */
export const narrow = (a: Tensor, dim: number, start: number, length: number): Tensor =>
  a.narrow(dim, start, length);
/** `torch.index_select(a, dim, index)`: the entries at `index` along `dim`. */
export const indexSelect = (a: Tensor, dim: number, index: Tensor): Tensor =>
  a.indexSelect(dim, index);
/** `torch.gather(a, dim, index)`: values picked along `dim` at `index`. */
export const gather = (a: Tensor, dim: number, index: Tensor): Tensor => a.gather(dim, index);
/** `torch.topk(a, k, dim=-1, largest=True)`: the `k` largest (or smallest) entries and their
 * indices. */
export const topk = (
  a: Tensor,
  k: number,
  opts?: { dim?: number; largest?: boolean },
): { values: Tensor; indices: Tensor } => a.topk(k, opts);
/** `torch.sort(a, dim=-1, descending=False)`: sorted values and their indices. */
export const sort = (
  a: Tensor,
  opts?: { dim?: number; descending?: boolean },
): { values: Tensor; indices: Tensor } => a.sort(opts);

/** Method-style ops also offered as free functions (`torch.relu(x)` = `x.relu()`). */
import type { DType } from "./dtype.ts";
import type { Dims, Scalar, Tensor } from "./tensor.ts";

export const add = (a: Tensor, b: Tensor | Scalar, alpha?: number): Tensor => a.add(b, alpha);
export const sub = (a: Tensor, b: Tensor | Scalar, alpha?: number): Tensor => a.sub(b, alpha);
export const mul = (a: Tensor, b: Tensor | Scalar): Tensor => a.mul(b);
export const div = (a: Tensor, b: Tensor | Scalar): Tensor => a.div(b);
export const pow = (a: Tensor, e: Tensor | Scalar): Tensor => a.pow(e);
export const maximum = (a: Tensor, b: Tensor): Tensor => a.maximum(b);
export const minimum = (a: Tensor, b: Tensor): Tensor => a.minimum(b);
export const clamp = (a: Tensor, min?: number | null, max?: number | null): Tensor =>
  a.clamp(min, max);
export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
export const mm = (a: Tensor, b: Tensor): Tensor => a.mm(b);
export const bmm = (a: Tensor, b: Tensor): Tensor => a.bmm(b);
export const sqrt = (a: Tensor): Tensor => a.sqrt();
export const exp = (a: Tensor): Tensor => a.exp();
export const log = (a: Tensor): Tensor => a.log();
export const abs = (a: Tensor): Tensor => a.abs();
export const relu = (a: Tensor): Tensor => a.relu();
export const gelu = (a: Tensor, opts?: { approximate?: "none" | "tanh" }): Tensor => a.gelu(opts);
export const sigmoid = (a: Tensor): Tensor => a.sigmoid();
export const tanh = (a: Tensor): Tensor => a.tanh();
export const silu = (a: Tensor): Tensor => a.silu();
export const softmax = (a: Tensor, dim: number, dtype?: DType): Tensor => a.softmax(dim, dtype);
export const logSoftmax = (a: Tensor, dim: number, dtype?: DType): Tensor =>
  a.logSoftmax(dim, dtype);
export const sum = (a: Tensor, dim?: Dims | null, opts?: { keepdim?: boolean }): Tensor =>
  a.sum(dim, opts);
export const mean = (a: Tensor, dim?: Dims | null, opts?: { keepdim?: boolean }): Tensor =>
  a.mean(dim, opts);
export const argmax = (a: Tensor, dim?: number, keepdim?: boolean): Tensor =>
  a.argmax(dim, keepdim);
export const logsumexp = (a: Tensor, dim: Dims, keepdim?: boolean): Tensor =>
  a.logsumexp(dim, keepdim);
export const reshape = (a: Tensor, shape: readonly number[]): Tensor => a.reshape(...shape);
export const permute = (a: Tensor, dims: readonly number[]): Tensor => a.permute(...dims);
export const transpose = (a: Tensor, d0: number, d1: number): Tensor => a.transpose(d0, d1);
export const flatten = (a: Tensor, start = 0, end = -1): Tensor => a.flatten(start, end);
export const squeeze = (a: Tensor, dim?: Dims): Tensor => a.squeeze(dim);
export const unsqueeze = (a: Tensor, dim: number): Tensor => a.unsqueeze(dim);
export const split = (a: Tensor, size: number | readonly number[], dim = 0): Tensor[] =>
  a.split(size, dim);
export const chunk = (a: Tensor, chunks: number, dim = 0): Tensor[] => a.chunk(chunks, dim);
export const narrow = (a: Tensor, dim: number, start: number, length: number): Tensor =>
  a.narrow(dim, start, length);
export const indexSelect = (a: Tensor, dim: number, index: Tensor): Tensor =>
  a.indexSelect(dim, index);
export const gather = (a: Tensor, dim: number, index: Tensor): Tensor => a.gather(dim, index);
export const topk = (a: Tensor, k: number, opts?: { dim?: number; largest?: boolean }) =>
  a.topk(k, opts);
export const sort = (a: Tensor, opts?: { dim?: number; descending?: boolean }) => a.sort(opts);

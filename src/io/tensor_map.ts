/** A Map of named tensors that owns them: disposing the map disposes every tensor. */
import type { Tensor } from "../tensor/index.ts";

/** Named tensors loaded from a file, plus the file's metadata strings. Disposing the
 * map (`using`, or `dispose()`) frees every tensor still in it; take a tensor out with
 * `delete` first to keep it. */
export class TensorMap extends Map<string, Tensor> implements Disposable {
  /** The file's `__metadata__` (empty when it had none). */
  readonly metadata: Record<string, string>;
  /** An empty map carrying `metadata`. */
  constructor(metadata: Record<string, string> = {}) {
    super();
    this.metadata = metadata;
  }
  /** Total number of elements. */
  get numel(): number {
    let n = 0;
    for (const t of this.values()) n += t.numel;
    return n;
  }
  /** Frees every tensor in the map and empties it. */
  dispose(): void {
    for (const t of this.values()) t.dispose();
    this.clear();
  }
  /** Same as `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Reused float32 image buffers. A fresh 224×224×3 buffer costs more than the resize that fills
 * it (600 KB of zeroed pages), so the loader hands each image's buffer back once it has been
 * copied into its batch. Small, so that memory stays within the loader's budget: a free buffer
 * stands for an image no longer in flight. */
export class BufferPool {
  readonly #free: Float32Array[] = [];

  /** Keeps at most `capacity` buffers. */
  constructor(readonly capacity: number) {}

  /** A buffer of `n` elements (old contents: the caller overwrites all of it). */
  take(n: number): Float32Array {
    const i = this.#free.findIndex((b) => b.length === n);
    return i < 0 ? new Float32Array(n) : this.#free.splice(i, 1)[0];
  }

  /** Returns a buffer for reuse. */
  give(b: Float32Array): void {
    if (this.#free.length < this.capacity) this.#free.push(b);
  }
}

/** A small seeded PRNG (sfc32, seeded through splitmix32) whose state can be saved and restored.
 *
 * Hand-written: it is 30 lines, has no dependency, and the data layer needs streams that can be
 * derived from keys (seed, epoch, sample index) so that results do not depend on the order in
 * which concurrent work finishes. */

/** The full state of an {@link Rng}: four unsigned 32-bit words. */
export type RngState = [number, number, number, number];

function splitmix32(x: number): [number, number] {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [x, (z ^ (z >>> 16)) >>> 0];
}

/** Hashes a list of integer keys (any range that fits a double) into 32 bits. */
export function hashKeys(keys: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const k of keys) {
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    for (const w of [lo, hi]) {
      h = Math.imul(h ^ w, 0x01000193);
      h = splitmix32(h)[1];
    }
  }
  return h >>> 0;
}

/** A seeded pseudo-random generator (sfc32). Not for cryptography. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator seeded from one or more integer keys, e.g. `new Rng(seed, epoch, index)`. */
  constructor(...keys: number[]) {
    let x = hashKeys(keys.length === 0 ? [0] : keys);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [nx, v] = splitmix32(x);
      x = nx;
      words.push(v);
    }
    [this.#a, this.#b, this.#c, this.#d] = words;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A generator resumed from a saved {@link RngState}. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** The current state, to resume later with {@link Rng.fromState}. */
  state(): RngState {
    return [this.#a >>> 0, this.#b >>> 0, this.#c >>> 0, this.#d >>> 0];
  }

  /** Restores a state saved by {@link Rng.state}. */
  setState(s: RngState): void {
    [this.#a, this.#b, this.#c, this.#d] = s.map((v) => v | 0);
  }

  /** A new generator derived from this one's next output and `keys` (this one advances once). */
  fork(...keys: number[]): Rng {
    return new Rng(this.uint32(), ...keys);
  }

  /** An unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on [0, 1), 32 bits of resolution. */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform on [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** A uniform integer on [0, n) (n ≤ 2^32), without modulo bias. */
  int(n: number): number {
    if (!(n > 0) || n > 4294967296 || !Number.isInteger(n)) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x = this.uint32();
    while (x >= limit) x = this.uint32();
    return x % n;
  }

  /** A uniform integer on [lo, hi] (both inclusive). */
  intIn(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A standard normal draw (Box-Muller). */
  normal(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** One element of `xs`. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** Shuffles `xs` in place (Fisher-Yates) and returns it. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}

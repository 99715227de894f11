/** Containers: `Sequential` (a chain) and `ModuleList` (an indexed list). */
import { scope, type Tensor } from "../tensor/index.ts";
import { Module, type TensorModule } from "./module.ts";

/** Runs its children in order, each on the previous one's output. Children
 * are named "0", "1", ... (so weights are `0.weight`, `2.bias`, ...). The
 * intermediate outputs are freed; the last one is returned. */
export class Sequential extends Module {
  readonly #layers: TensorModule[] = [];

  /** A chain of `layers`, registered as "0", "1", ... */
  constructor(...layers: TensorModule[]) {
    super();
    for (const l of layers) this.append(l);
  }

  /** Adds a layer at the end. */
  append(layer: TensorModule): this {
    this.registerModule(String(this.#layers.length), layer);
    this.#layers.push(layer);
    return this;
  }

  /** The layer at `index` (negative counts from the end). */
  at(index: number): TensorModule {
    const l = this.#layers.at(index);
    if (!l) throw new RangeError(`Sequential: no layer ${index} (length ${this.length})`);
    return l;
  }

  /** Number of layers. */
  get length(): number {
    return this.#layers.length;
  }

  /** The layers in order. */
  [Symbol.iterator](): Iterator<TensorModule> {
    return this.#layers[Symbol.iterator]();
  }

  /** The chain applied to `x`. */
  forward(x: Tensor): Tensor {
    return scope(() => {
      let h = x;
      for (const l of this.#layers) h = l.forward(h);
      return h;
    });
  }
}

/** Holds child modules in a list, named "0", "1", ..., e.g. a transformer's
 * `layers`. It has no forward: iterate it. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly #items: M[] = [];

  /** A list of `items`, registered as "0", "1", ... */
  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.append(m);
  }

  /** Adds a module at the end. */
  append(m: M): this {
    this.registerModule(String(this.#items.length), m);
    this.#items.push(m);
    return this;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): M {
    const m = this.#items.at(index);
    if (!m) throw new RangeError(`ModuleList: no module ${index} (length ${this.length})`);
    return m;
  }

  /** Number of modules. */
  get length(): number {
    return this.#items.length;
  }

  /** The modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
}

/** The `Module` base class: a tree of parameters, buffers and child modules
 * with PyTorch's dotted names (`encoder.layers.0.self_attn.q_proj.weight`). */
import { keep, noGrad, ops, type Tensor } from "../tensor/index.ts";
import type { Device, DType } from "../tensor/index.ts";
import { DTYPE_CODE, isFloating } from "../tensor/dtype.ts";
import { type LoadResult, loadStateDictInto, type StateDictInput } from "./state_dict.ts";

/** Where and in what type a layer creates its parameters. */
export interface FactoryOptions {
  /** Element type of parameters and floating buffers (float32 by default). */
  dtype?: DType;
  /** Device of parameters and buffers (cpu by default). */
  device?: Device;
}

/** A module whose forward takes one tensor and returns one (what `Sequential` chains). */
export interface TensorModule extends Module {
  /** Runs the layer. */
  forward(x: Tensor): Tensor;
}

const NAME = /^[^.]+$/;

function checkName(kind: string, name: string, taken: (n: string) => boolean) {
  if (!NAME.test(name)) {
    throw new TypeError(`${kind} name "${name}" must be non-empty and contain no "."`);
  }
  if (taken(name)) throw new TypeError(`${kind} "${name}" is already registered`);
}

/** Base class of every layer and model. Subclasses register their tensors in
 * the constructor (`this.weight = this.registerParameter("weight", t)`) and
 * define `forward`. Parameters are kept past every `torch.scope` and are freed
 * by `dispose()`. `to()` and `loadStateDict()` change parameters in place, so
 * references held elsewhere (fields, optimizers) stay valid. */
export abstract class Module implements Disposable {
  /** Training mode (true) or evaluation mode (false); see `train()` / `eval()`. */
  training = true;
  readonly #parameters = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #nonPersistent = new Set<string>();
  readonly #modules = new Map<string, Module | null>();

  #taken = (n: string) => this.#parameters.has(n) || this.#buffers.has(n) || this.#modules.has(n);

  /** Registers `t` as a parameter: it is kept past scopes and requires grad
   * (unless `requiresGrad: false`). `null` declares an absent optional one. */
  registerParameter<T extends Tensor | null>(
    name: string,
    t: T,
    opts: { requiresGrad?: boolean } = {},
  ): T {
    checkName("parameter", name, this.#taken);
    if (t !== null) {
      keep(t);
      if (t.requiresGrad !== (opts.requiresGrad ?? true)) {
        t.requiresGrad = opts.requiresGrad ?? true;
      }
    }
    this.#parameters.set(name, t);
    return t;
  }

  /** Registers a buffer: state that is not trained (running statistics).
   * Persistent buffers (the default) are part of `stateDict()`. */
  registerBuffer<T extends Tensor | null>(
    name: string,
    t: T,
    opts: { persistent?: boolean } = {},
  ): T {
    checkName("buffer", name, this.#taken);
    if (t !== null) keep(t);
    this.#buffers.set(name, t);
    if (opts.persistent === false) this.#nonPersistent.add(name);
    return t;
  }

  /** Registers a child module under `name` (its tensors get `name.` as prefix). */
  registerModule<M extends Module | null>(name: string, m: M): M {
    checkName("module", name, this.#taken);
    this.#modules.set(name, m);
    return m;
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [n, m] of this.#modules) if (m !== null) out.push([n, m]);
    return out;
  }

  /** Direct children. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module (name `""`, or `prefix`) and every descendant, each once, in
   * registration order (depth first). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, p: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [n, c] of m.#modules) if (c !== null) visit(c, p === "" ? n : `${p}.${n}`);
    };
    visit(this, prefix);
    return out;
  }

  /** This module and every descendant. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  #named(
    pick: (m: Module) => Map<string, Tensor | null>,
    prefix: string,
    recurse: boolean,
    skip?: (m: Module, name: string) => boolean,
  ): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [p, m] of mods) {
      for (const [n, t] of pick(m)) {
        if (t === null || seen.has(t) || skip?.(m, n)) continue;
        seen.add(t);
        out.push([p === "" ? n : `${p}.${n}`, t]);
      }
    }
    return out;
  }

  /** Every parameter with its dotted name, each tensor once (tied weights
   * appear under their first name). */
  namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    return this.#named((m) => m.#parameters, opts.prefix ?? "", opts.recurse ?? true);
  }

  /** Every parameter, each once. */
  parameters(opts: { recurse?: boolean } = {}): Tensor[] {
    return this.namedParameters(opts).map(([, t]) => t);
  }

  /** Every buffer with its dotted name, each once. */
  namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    return this.#named((m) => m.#buffers, opts.prefix ?? "", opts.recurse ?? true);
  }

  /** Every buffer, each once. */
  buffers(opts: { recurse?: boolean } = {}): Tensor[] {
    return this.namedBuffers(opts).map(([, t]) => t);
  }

  /** Parameters and persistent buffers by dotted name, in registration order.
   * The values are the module's own tensors (not copies): do not dispose them;
   * `clone()` them for a snapshot that later training must not change. */
  stateDict(opts: { prefix?: string } = {}): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [p, m] of this.namedModules(opts.prefix ?? "")) {
      const name = (n: string) => (p === "" ? n : `${p}.${n}`);
      for (const [n, t] of m.#parameters) if (t !== null) out.set(name(n), t);
      for (const [n, t] of m.#buffers) {
        if (t !== null && !m.#nonPersistent.has(n)) out.set(name(n), t);
      }
    }
    return out;
  }

  /** Copies values from `state` into this module's parameters and persistent
   * buffers (without recording gradients; dtype and device are converted).
   * Nothing is copied if any key is wrong: one `StateDictError` lists every
   * missing key, unexpected key and shape mismatch. With `strict: false`,
   * missing and unexpected keys are allowed (and returned), shape mismatches
   * are not. */
  loadStateDict(state: StateDictInput, opts: { strict?: boolean } = {}): LoadResult {
    return loadStateDictInto(this.stateDict(), state, opts.strict ?? true);
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (`train(false)`): dropout off, batch norm uses running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** Turns gradient recording of every parameter in this subtree on or off
   * (freezing with `false`). */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Drops the gradient of every parameter (PyTorch's `set_to_none=True`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Moves parameters and buffers to a device, or casts the floating ones to a
   * dtype, in place: the same Tensor objects hold the new data (as PyTorch's
   * `param.data = ...`), gradients included. */
  to(target: Device | DType): this {
    const isDtype = target in DTYPE_CODE;
    const move = (t: Tensor) => {
      if (isDtype && !isFloating(t.dtype)) return;
      const next = t.to(target);
      try {
        ops.aten.set_data(t, next);
      } finally {
        next.dispose();
      }
      t._invalidate();
    };
    noGrad(() => {
      for (const t of [...this.parameters(), ...this.buffers()]) {
        move(t);
        const g = t.grad;
        if (g) move(g);
      }
    });
    return this;
  }

  /** Number of parameter elements (each tensor once); `trainableOnly` counts
   * those that require grad. */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.numel;
    return n;
  }

  /** Calls `fn` on every descendant and then on this module. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Frees every parameter and buffer of this subtree (and their gradients). */
  dispose(): void {
    for (const t of [...this.parameters(), ...this.buffers()]) t.dispose();
  }

  /** Frees the parameters and buffers (`using m = new Linear(...)`). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Extra text for `toString()`, e.g. `in=4, out=8`. */
  extraRepr(): string {
    return "";
  }

  /** PyTorch-style tree printout. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    const kids = this.namedChildren();
    if (kids.length === 0) return head + ")";
    const lines = kids.map(([n, m]) => `  (${n}): ${m.toString().replaceAll("\n", "\n  ")}`);
    return `${head}\n${lines.join("\n")}\n)`;
  }
}

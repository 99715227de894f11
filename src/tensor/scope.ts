/** Lifetime: scopes that free every tensor created inside except what is
 * returned or kept. One array push per tensor; no FinalizationRegistry on the
 * hot path (see `leakBackstop` for the optional one). */
import { lib } from "./runtime.ts";

/** What a scope needs of a tensor (PyTorch has no scopes: it frees by reference counting). */
export interface Owned {
  /** The native handle; 0 once freed. */
  _h: number;
  /** Set by `keep()`: no scope frees it. */
  _kept: boolean;
  /** Forgets the handle and returns it (0 if already gone), for the scope to free. */
  _release(): number;
}

const stack: Owned[][] = [];
let freeBuf = new Float64Array(1024);
let freePtr = Deno.UnsafePointer.of(freeBuf); // taken once per buffer, not per scope

/** Registers a new tensor with the innermost scope, if any. */
export function track(t: Owned): void {
  const s = stack.length === 0 ? undefined : stack[stack.length - 1];
  if (s !== undefined) s.push(t);
  if (registry) registry.register(t, t._h, t);
}

/** Frees the handles of `ts` with one native call, except kept tensors and those
 * in `escaping` (a tensor, a set of them, or null), which move to `parent`
 * unless kept. */
function freeAll(ts: Owned[], escaping: Owned | Set<Owned> | null, parent?: Owned[]) {
  if (freeBuf.length < ts.length) {
    freeBuf = new Float64Array(ts.length * 2);
    freePtr = Deno.UnsafePointer.of(freeBuf);
  }
  let n = 0;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (t._kept) continue;
    if (
      escaping !== null && (escaping === t || (escaping instanceof Set && escaping.has(t)))
    ) {
      if (parent !== undefined) parent.push(t);
      continue;
    }
    const h = t._release();
    if (h !== 0) freeBuf[n++] = h;
  }
  if (n === 1) lib.dt_tensor_free(freeBuf[0]);
  else if (n > 0) lib.dt_tensor_free_many(freePtr, n);
}

/** Every tensor reachable from a returned value (arrays, plain objects, Maps). */
function reachable(v: unknown, out: Set<Owned>, isTensor: (x: unknown) => x is Owned) {
  if (v === null || typeof v !== "object") return;
  if (isTensor(v)) out.add(v);
  else if (Array.isArray(v)) { for (const x of v) reachable(x, out, isTensor); }
  else if (v instanceof Map) { for (const x of v.values()) reachable(x, out, isTensor); }
  else if (Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) reachable(x, out, isTensor);
  }
}

/** The tensors reachable from `v`: null, the one tensor, or a set (no Set is
 * built for the common results: nothing, or a single tensor). */
function escapingFrom(v: unknown): Owned | Set<Owned> | null {
  if (v === null || typeof v !== "object") return null;
  if (isTensorFn(v)) return v;
  const out = new Set<Owned>();
  reachable(v, out, isTensorFn);
  return out.size === 0 ? null : out;
}

let isTensorFn: (x: unknown) => x is Owned = (_x): _x is Owned => false;
/** Tells scopes what a tensor is (set once by `core.ts`, which scopes cannot import). */
export function setTensorPredicate(fn: (x: unknown) => x is Owned): void {
  isTensorFn = fn;
}

/** Runs `fn`; afterwards frees every tensor created inside it except those
 * reachable from its return value (which move to the enclosing scope) and
 * those passed to `keep()`. Tensors from outside that `fn` returns are left
 * where they were. Synchronous: `fn` must not return a Promise. */
export function scope<T>(fn: () => T): T {
  const mine: Owned[] = [];
  stack.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    freeAll(mine, null);
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    freeAll(mine, null);
    throw new TypeError(
      "torch.scope(fn): fn returned a Promise; scopes are synchronous. Await outside the scope, or scope the synchronous part.",
    );
  }
  freeAll(mine, escapingFrom(result), stack.length === 0 ? undefined : stack[stack.length - 1]);
  return result;
}

/** Keeps `t` alive past every enclosing scope (free it with `dispose()`); no PyTorch
 * equivalent, as `scope`. */
export function keep<T extends Owned>(t: T): T {
  t._kept = true;
  return t;
}

// Optional leak backstop: reports (and frees) tensors garbage-collected undisposed.
let registry: FinalizationRegistry<number> | null = null;
let leaked = 0;

/** Turns the leak backstop on or off (no PyTorch equivalent). Off by default: it costs
 * ~150 ns per tensor. */
export function leakBackstop(on: boolean): void {
  registry = on
    ? new FinalizationRegistry<number>((h) => {
      leaked++;
      lib.dt_tensor_free(h);
    })
    : null;
}

/** Number of tensors the backstop found garbage-collected without dispose(). */
export function leakedCount(): number {
  return leaked;
}

/** Forgets `t` in the leak backstop (it was disposed, so it is no leak). */
export function untrackBackstop(t: Owned): void {
  if (registry) registry.unregister(t);
}

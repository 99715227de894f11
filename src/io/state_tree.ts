/** Splitting a tree of tensors and plain values into named tensors plus JSON, and back.
 *
 * The JSON keeps everything JSON cannot say directly as one-key objects whose key starts
 * with `$`: `{"$tensor": name}`, `{"$map": [[key, value], ...]}`, `{"$bigint": "12"}`,
 * `{"$number": "NaN" | "Infinity" | "-Infinity" | "-0"}`, `{"$undefined": true}`, and
 * `{"$object": {...}}` for a plain object that would itself look like such a tag. */
import { Tensor } from "../tensor/index.ts";

/** What a state tree may hold: tensors, JSON-like values, bigints, arrays, plain objects
 * and Maps with string or number keys. */
export type StateValue =
  | Tensor
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | readonly StateValue[]
  | ReadonlyMap<string | number, StateValue>
  | { readonly [key: string]: StateValue };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Sets an own property, even one named `__proto__`. */
function setOwn(o: Record<string, unknown>, k: string, v: unknown) {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Tensor names are the tree path joined by dots (`model.encoder.weight`,
 * `optimizer.state.0.exp_avg`); a second reference to the same tensor object reuses
 * its name, so shared tensors come back shared. */
export function encodeTree(
  root: Record<string, unknown>,
): { json: Json; tensors: Map<string, Tensor> } {
  const tensors = new Map<string, Tensor>();
  const names = new Map<Tensor, string>();
  const open = new Set<object>();
  const where = (path: string[]) => (path.length ? path.join(".") : "(root)");
  const fail = (path: string[], msg: string) => new TypeError(`state ${where(path)}: ${msg}`);

  const enc = (v: unknown, path: string[]): Json => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        if (Number.isFinite(v) && !Object.is(v, -0)) return v;
        return { $number: Object.is(v, -0) ? "-0" : String(v) };
      case "bigint":
        return { $bigint: v.toString() };
      case "undefined":
        return { $undefined: true };
      case "object":
        break;
      default:
        throw fail(path, `a ${typeof v} cannot be stored in a checkpoint`);
    }
    if (v === null) return null;
    if (v instanceof Tensor) {
      const seen = names.get(v);
      if (seen !== undefined) return { $tensor: seen };
      if (v.isDisposed) throw fail(path, "the tensor was disposed");
      const name = where(path);
      if (tensors.has(name)) {
        throw fail(path, `two tensors would share the name "${name}"; rename a key`);
      }
      tensors.set(name, v);
      names.set(v, name);
      return { $tensor: name };
    }
    if (open.has(v)) throw fail(path, "the state contains a cycle");
    open.add(v);
    try {
      if (Array.isArray(v)) return v.map((x, i) => enc(x, [...path, String(i)]));
      if (v instanceof Map) {
        const pairs: Json[] = [];
        for (const [k, x] of v) {
          if (typeof k !== "string" && typeof k !== "number") {
            throw fail(path, `Map keys must be strings or numbers, got a ${typeof k}`);
          }
          pairs.push([k, enc(x, [...path, String(k)])]);
        }
        return { $map: pairs };
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        const kind = (v as object).constructor?.name ?? "object";
        throw fail(
          path,
          `a ${kind} cannot be stored in a checkpoint (use a Tensor, a plain object, an array or a Map)`,
        );
      }
      const out: { [k: string]: Json } = {};
      for (const [k, x] of Object.entries(v)) setOwn(out, k, enc(x, [...path, k]));
      const keys = Object.keys(out);
      return keys.length === 1 && keys[0].startsWith("$") ? { $object: out } : out;
    } finally {
      open.delete(v);
    }
  };
  return { json: enc(root, []), tensors };
}

/** Rebuilds a tree from `encodeTree`'s JSON, taking tensors from `lookup`. */
export function decodeTree(json: unknown, lookup: (name: string) => Tensor): unknown {
  const dec = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(dec);
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0].startsWith("$")) {
      const x = o[keys[0]];
      switch (keys[0]) {
        case "$tensor":
          return lookup(String(x));
        case "$map":
          if (!Array.isArray(x)) throw new TypeError("malformed $map entry");
          return new Map(x.map((p) => {
            if (!Array.isArray(p) || p.length !== 2) throw new TypeError("malformed $map pair");
            return [p[0], dec(p[1])];
          }));
        case "$bigint":
          return BigInt(String(x));
        case "$number":
          return x === "-0" ? -0 : Number(x);
        case "$undefined":
          return undefined;
        case "$object": {
          const out: Record<string, unknown> = {};
          for (const [k, y] of Object.entries(x as object)) setOwn(out, k, dec(y));
          return out;
        }
        default:
          throw new TypeError(`unknown tag ${keys[0]}`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) setOwn(out, k, dec(o[k]));
    return out;
  };
  return dec(json);
}

/** `torch.ops.aten.<name>.<overload>(...)`: every operator of the linked
 * libtorch, encoded from its schema. `torch.ops.aten.<name>(...)` picks the
 * first overload whose schema accepts the arguments, as PyTorch does.
 * Keyword-only arguments (after `*` in the schema), and any other argument by
 * name, go in a trailing options object: `add.Tensor(a, b, { alpha: 2 })`.
 * Each overload also has `.async(...)`, which runs on Deno's FFI thread pool
 * (`nonblocking: true`) and resolves to the same results. */
import { ArgWriter, W } from "./args.ts";
import { parseDevice } from "./device.ts";
import { callAsync, callN, OpRef, type RawResult } from "./dispatch.ts";
import { DTYPE_CODE } from "./dtype.ts";
import { lib, readCString, TorchError } from "./runtime.ts";
import { parseSchema, type Schema, type SchemaArg } from "./schema.ts";
import { Tensor, wrapRaw } from "./tensor.ts";
import type { AtenOps } from "./generated/aten_ops.ts";

const LAYOUT: Record<string, number> = { strided: 0, sparse: 1 };
const MEMORY_FORMAT: Record<string, number> = {
  contiguous: 0,
  preserve: 1,
  channels_last: 2,
  channels_last_3d: 3,
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
const isInt = (v: unknown) => typeof v === "number" && Number.isInteger(v);
const isCode = (v: unknown, table: Readonly<Record<string, number>>) =>
  typeof v === "string"
    ? Object.hasOwn(table, v)
    : isInt(v) && Object.values(table).includes(v as number);
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** Whether `v` can be passed for `a` (used to choose an overload). */
function accepts(a: SchemaArg, v: unknown): boolean {
  if (v === undefined) return a.hasDefault || a.optional;
  if (v === null) return a.optional || a.kind === "generator";
  switch (a.kind) {
    case "tensor":
      return v instanceof Tensor;
    case "tensorList":
      return Array.isArray(v) && v.every((x) => x instanceof Tensor);
    case "optTensorList":
      return Array.isArray(v) && v.every((x) => x === null || x instanceof Tensor);
    case "int":
      return isInt(v);
    case "intList":
      return isInt(v) || (Array.isArray(v) && v.every(isInt));
    case "float":
      return typeof v === "number";
    case "floatList":
      return typeof v === "number" || (Array.isArray(v) && v.every((x) => typeof x === "number"));
    case "bool":
      return typeof v === "boolean";
    case "boolList":
      return Array.isArray(v) && v.every((x) => typeof x === "boolean");
    case "scalar":
      return typeof v === "number" || typeof v === "boolean";
    // Enum arguments take their names or only the codes libtorch defines: libtorch
    // indexes tables with them unchecked, so another integer can crash the process.
    case "dtype":
      return isCode(v, DTYPE_CODE);
    case "layout":
      return isCode(v, LAYOUT);
    case "memoryFormat":
      return isCode(v, MEMORY_FORMAT);
    case "device":
      return typeof v === "string";
    case "str":
      return typeof v === "string";
    default:
      return false;
  }
}

/** How a call gets the handle it encodes for a tensor (async calls take their own). */
type HandleOf = (t: Tensor) => number;
const ownHandle: HandleOf = (t) => t.handle;

function encode(w: ArgWriter, s: Schema, a: SchemaArg, v: unknown, h: HandleOf) {
  if (v === undefined) {
    if (a.hasDefault) return w.dflt();
    if (a.optional) return w.none();
    throw new TorchError(`missing argument '${a.name}'`, s.text);
  }
  if (v === null) {
    if (a.optional || a.kind === "generator") return w.none();
    throw new TorchError(`argument '${a.name}' (${a.type}) cannot be null`, s.text);
  }
  if (!accepts(a, v)) {
    throw new TorchError(
      `argument '${a.name}' must be ${a.type}, got ${describe(v)}`,
      s.text,
    );
  }
  switch (a.kind) {
    case "tensor":
      return w.handle(h(v as Tensor));
    case "tensorList":
      return w.handles((v as Tensor[]).map(h));
    case "optTensorList":
      return w.handles((v as (Tensor | null)[]).map((t) => (t ? h(t) : 0)), true);
    case "int":
      return w.int(v as number);
    case "intList":
      return w.ints(typeof v === "number" ? Array(a.fixedLength ?? 1).fill(v) : v as number[]);
    case "float":
      return w.float(v as number);
    case "floatList":
      return w.floats(typeof v === "number" ? Array(a.fixedLength ?? 1).fill(v) : v as number[]);
    case "bool":
      return w.bool(v as boolean);
    case "boolList":
      return w.bools(v as boolean[]);
    case "scalar":
      return w.scalar(v as number | boolean);
    case "dtype":
      return w.int(typeof v === "string" ? DTYPE_CODE[v as keyof typeof DTYPE_CODE] : v as number);
    case "layout":
      return w.int(typeof v === "string" ? LAYOUT[v] : v as number);
    case "memoryFormat":
      return w.int(typeof v === "string" ? MEMORY_FORMAT[v] : v as number);
    case "device": {
      const d = parseDevice(v as string);
      return w.device(d.type, d.index);
    }
    case "str":
      return w.str(v as string);
  }
}

function describe(v: unknown): string {
  if (v instanceof Tensor) return "a Tensor";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return typeof v === "string" ? `"${v}"` : String(v);
}

/** The value given for each schema argument (undefined where none), or why
 * the arguments do not fit. A trailing plain object holds named arguments. */
function bind(s: Schema, args: unknown[]): unknown[] | string {
  const last = args[args.length - 1];
  const kw = isPlainObject(last) ? last : {};
  const pos = isPlainObject(last) ? args.slice(0, -1) : args;
  const names = new Set(s.args.flatMap((a) => [a.name, camel(a.name)]));
  const unknown = Object.keys(kw).filter((k) => !names.has(k));
  if (unknown.length) return `unknown named argument(s) ${unknown.join(", ")}`;
  const positional = s.args.filter((a) => !a.kwargOnly).length;
  if (pos.length > positional) {
    return `takes ${positional} positional arguments but ${pos.length} were given`;
  }
  return s.args.map((
    a,
    i,
  ) => (!a.kwargOnly && i < pos.length ? pos[i] : kw[camel(a.name)] ?? kw[a.name]));
}

function matches(s: Schema, args: unknown[]): boolean {
  if (s.args.some((a) => a.kind === "unsupported" && !a.optional && !a.hasDefault)) return false;
  const bound = bind(s, args);
  return typeof bound !== "string" && s.args.every((a, i) => accepts(a, bound[i]));
}

/** One overload: encodes, calls, and maps results (in-place returns give back the input). */
function invoke(s: Schema, ref: OpRef, args: unknown[]): unknown {
  const bound = bind(s, args);
  if (typeof bound === "string") throw new TorchError(bound, s.text);
  if (s.args.some((a, i) => a.kind === "unsupported" && bound[i] !== undefined)) {
    throw new TorchError("this schema has an argument type the binding cannot pass", s.text);
  }
  encodeAll(W.reset(), s, bound, ownHandle);
  return finish(s, callN(ref), bound);
}

function encodeAll(w: ArgWriter, s: Schema, bound: unknown[], h: HandleOf) {
  let n = s.args.length;
  while (n > 0 && bound[n - 1] === undefined && s.args[n - 1].hasDefault) n--;
  for (let i = 0; i < n; i++) encode(w, s, s.args[i], bound[i], h);
}

function finish(s: Schema, raw: RawResult[], bound: unknown[]): unknown {
  const results = raw.map((r, i) => mapResult(s, i, r, bound));
  return results.length === 0 ? undefined : results.length === 1 ? results[0] : results;
}

/** Like invoke, on Deno's FFI thread pool. The call holds its own handles to
 * the input tensors, so disposing them meanwhile is safe. */
async function invokeAsync(s: Schema, ref: OpRef, args: unknown[]): Promise<unknown> {
  const bound = bind(s, args);
  if (typeof bound === "string") throw new TorchError(bound, s.text);
  const shared: number[] = [];
  const share: HandleOf = (t) => {
    const h = lib.dt_tensor_share(t.handle);
    shared.push(h);
    return h;
  };
  try {
    const w = new ArgWriter();
    encodeAll(w, s, bound, share);
    return finish(s, await callAsync(ref, w), bound);
  } finally {
    for (const h of shared) lib.dt_tensor_free(h);
  }
}

function mapResult(s: Schema, i: number, r: RawResult, bound: unknown[]): unknown {
  const alias = s.returns[i]?.writeAlias;
  if (alias && r !== null && typeof r === "object" && !Array.isArray(r)) {
    const k = s.args.findIndex((a) => a.writeAlias === alias);
    const input = bound[k];
    if (input instanceof Tensor) {
      lib.dt_tensor_free(r.handle); // same TensorImpl as the input: hand back the input
      input._invalidate();
      return input;
    }
  }
  return wrapRaw(r);
}

let byName: Map<string, string[]> | null = null;

/** All schema texts of an op name (`aten::add`), from the linked libtorch (what
 * `torch._C._jit_get_schemas_for_operator` lists). */
export function schemasOf(name: string): string[] {
  if (!byName) {
    byName = new Map();
    const all = readCString(lib.dt_op_all_schemas()) ?? "";
    for (const text of all.split("\n")) {
      if (!text) continue;
      const n = text.slice(0, text.search(/[.(]/));
      const list = byName.get(n) ?? [];
      list.push(text);
      byName.set(n, list);
    }
  }
  return byName.get(name) ?? [];
}

interface Overload {
  schema: Schema;
  ref: OpRef;
}

function makePacket(ns: string, name: string) {
  const full = `${ns}::${name}`;
  const texts = schemasOf(full);
  if (texts.length === 0) return undefined;
  const overloads = new Map<string, Overload>();
  for (const t of texts) {
    const schema = parseSchema(t);
    overloads.set(schema.overload || "default", {
      schema,
      ref: new OpRef(full, schema.overload),
    });
  }
  // Resolution order: the default overload first, `out=` variants last.
  const order = [...overloads.values()].sort((a, b) =>
    rank(a.schema.overload) - rank(b.schema.overload)
  );
  const packet = (...args: unknown[]) => {
    const o = order.find((c) => matches(c.schema, args));
    if (!o) {
      throw new TorchError(
        `no overload accepts (${args.map(describe).join(", ")}); overloads:\n  ${
          texts.join("\n  ")
        }`,
        full,
      );
    }
    return invoke(o.schema, o.ref, args);
  };
  const callables: Record<string, unknown> = { overloads: [...overloads.keys()] };
  for (const [k, o] of overloads) {
    callables[k] = Object.assign((...args: unknown[]) => invoke(o.schema, o.ref, args), {
      async: (...args: unknown[]) => invokeAsync(o.schema, o.ref, args),
    });
  }
  return Object.assign(packet, callables);
}

const rank = (overload: string) => (overload === "" ? 0 : /^out$|_out$/.test(overload) ? 2 : 1);

function namespace(ns: string) {
  const cache = new Map<string, unknown>();
  return new Proxy({}, {
    get(_t, prop) {
      if (typeof prop !== "string") return undefined;
      if (!cache.has(prop)) cache.set(prop, makePacket(ns, prop));
      const p = cache.get(prop);
      if (!p) throw new TorchError(`no operator ${ns}::${prop} in libtorch`);
      return p;
    },
  });
}

/** `torch.ops`: operator namespaces, typed from the linked libtorch's schemas.
 *
 * @example Any ATen operator, by overload or by first match
 * ```ts
 * import assert from "node:assert/strict";
 * import { torch } from "../../mod.ts";
 * torch.scope(() => {
 *   const a = torch.tensor([1, 2]);
 *   assert.deepEqual(torch.ops.aten.add.Tensor(a, a, { alpha: 2 }).toArray(), [3, 6]);
 *   assert.deepEqual(torch.ops.aten.cumsum(a, 0).toArray(), [1, 3]);
 * });
 * ```
 */
export const ops: { aten: AtenOps } = { aten: namespace("aten") as AtenOps };

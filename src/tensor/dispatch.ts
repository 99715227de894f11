/** Operator handles (looked up once, lazily) and the calls through them. */
import { type ArgWriter, KIND, R, ResultSlots, W } from "./args.ts";
import { checkWarnings, cstr, lastError, lib, readCString, TorchError } from "./runtime.ts";

/** A lazily resolved dispatcher operator, e.g. `op("aten::add", "Tensor")`. */
export class OpRef {
  #h = 0;
  constructor(readonly name: string, readonly overload = "") {}
  get handle(): number {
    if (this.#h === 0) {
      const h = lib.dt_op_find(cstr(this.name), cstr(this.overload));
      if (h === 0) throw lastError();
      this.#h = h;
    }
    return this.#h;
  }
  get label(): string {
    return this.overload ? `${this.name}.${this.overload}` : this.name;
  }
  get schema(): string {
    return readCString(lib.dt_op_schema(this.handle)) ?? "";
  }
}

export const op = (name: string, overload = ""): OpRef => new OpRef(name, overload);

/** Calls an op with one Tensor result; the arguments are already in W. Returns
 * the new handle, or 0 for an undefined result. */
export function call1(o: OpRef): number {
  const h = lib.dt_op_call1(o.handle, W.ptr, W.n);
  checkWarnings();
  if (h === 0 && lib.dt_last_error() !== null) throw lastError(o.label);
  return h;
}

/** A decoded result slot. Handles come back as `{ handle }`. */
export type RawResult = number | boolean | null | { handle: number } | RawResult[];

/** Calls an op with any results; the arguments are already in W. */
export function callN(o: OpRef): RawResult[] {
  const n = lib.dt_op_call(o.handle, W.ptr, W.n, R.ptr, R.kindsPtr, R.max);
  checkWarnings();
  if (n < 0) throw lastError(o.label);
  return decodeResults(R, n, o.label);
}

/** Reads `n` result slots into JS values. */
export function decodeResults(r: ResultSlots, n: number, label: string): RawResult[] {
  const out: RawResult[] = [];
  let i = 0;
  const one = (): RawResult => {
    const k = r.kinds[i];
    switch (k) {
      case KIND.tensor:
        return { handle: r.f64[i++] };
      case KIND.int:
        return Number(r.i64[i++]);
      case KIND.float:
        return r.f64[i++];
      case KIND.bool:
        return r.i64[i++] !== 0n;
      case KIND.none:
        i++;
        return null;
      case KIND.list: {
        const len = Number(r.i64[i++]);
        const xs: RawResult[] = [];
        for (let j = 0; j < len; j++) xs.push(one());
        return xs;
      }
      default:
        throw new TorchError(`unknown result kind ${k}`, label);
    }
  };
  while (i < n) out.push(one());
  return out;
}

const ERR_BYTES = 4096;

/** Runs an op on Deno's FFI thread pool (`nonblocking: true`) with the caller's
 * grad mode; the arguments are in `w`, a writer owned by this call. The error,
 * if any, comes back with the result, not through the thread-local slot. */
export async function callAsync(o: OpRef, w: ArgWriter): Promise<RawResult[]> {
  const r = new ResultSlots();
  const err = new Uint8Array(ERR_BYTES);
  const grad = lib.dt_grad_is_enabled();
  const n = await lib.dt_op_call_nb(
    o.handle,
    w.bytes,
    w.n,
    r.bytes,
    r.kinds,
    r.max,
    grad,
    err,
    ERR_BYTES,
  );
  checkWarnings();
  if (n < 0) {
    const end = err.indexOf(0);
    throw new TorchError(
      new TextDecoder().decode(err.subarray(0, end < 0 ? ERR_BYTES : end)),
      o.label,
    );
  }
  return decodeResults(r, n, o.label);
}

/** Loading a state dict into a module: the key/shape check that reports every
 * mismatch at once, and the in-place copy. */
import { noGrad, type Tensor } from "../tensor/index.ts";

/** A state dict to load: a Map (what `stateDict()` returns) or a plain object. */
export type StateDictInput = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

/** What `loadStateDict` did not match (only non-empty with `strict: false`). */
export interface LoadResult {
  /** Module keys the state dict did not have (left unchanged). */
  missingKeys: string[];
  /** State-dict keys the module does not have (ignored). */
  unexpectedKeys: string[];
}

/** One shape mismatch: the key, the module's shape and the state dict's shape. */
export interface ShapeMismatch {
  /** The dotted key. */
  key: string;
  /** The module's shape. */
  expected: number[];
  /** The state dict's shape. */
  got: number[];
}

/** Thrown by `loadStateDict` when keys or shapes do not match; the message and
 * the fields list every problem, so one run shows all of them. */
export class StateDictError extends Error {
  override name = "StateDictError";
  /** Keys of the module absent from the state dict. */
  readonly missingKeys: string[];
  /** Keys of the state dict the module does not have. */
  readonly unexpectedKeys: string[];
  /** Keys present on both sides with different shapes. */
  readonly shapeMismatches: ShapeMismatch[];

  /** Builds the report from the three lists. */
  constructor(missing: string[], unexpected: string[], mismatched: ShapeMismatch[]) {
    const parts: string[] = [];
    if (missing.length) {
      parts.push(`missing keys (${missing.length}):\n    ${missing.join("\n    ")}`);
    }
    if (unexpected.length) {
      parts.push(`unexpected keys (${unexpected.length}):\n    ${unexpected.join("\n    ")}`);
    }
    if (mismatched.length) {
      const lines = mismatched.map((m) => `${m.key}: expected [${m.expected}], got [${m.got}]`);
      parts.push(`shape mismatches (${mismatched.length}):\n    ${lines.join("\n    ")}`);
    }
    super(
      `loadStateDict: the state dict does not match the module; nothing was loaded.\n  ${
        parts.join("\n  ")
      }\n  (rename keys with a weight-name map, or pass { strict: false } to allow missing and unexpected keys)`,
    );
    this.name = "StateDictError";
    this.missingKeys = missing;
    this.unexpectedKeys = unexpected;
    this.shapeMismatches = mismatched;
  }
}

const entries = (s: StateDictInput): [string, Tensor][] =>
  s instanceof Map ? [...s.entries()] : Object.entries(s as Record<string, Tensor>);

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Checks `state` against the module's own `target` entries, then copies every
 * matching value in place (no gradient recorded). Throws `StateDictError`
 * before copying anything if a shape differs, or if `strict` and a key is
 * missing or unexpected. */
export function loadStateDictInto(
  target: ReadonlyMap<string, Tensor>,
  state: StateDictInput,
  strict: boolean,
): LoadResult {
  const given = new Map(entries(state));
  const missing = [...target.keys()].filter((k) => !given.has(k));
  const unexpected = [...given.keys()].filter((k) => !target.has(k));
  const mismatched: ShapeMismatch[] = [];
  for (const [k, dst] of target) {
    const src = given.get(k);
    if (src !== undefined && !sameShape(dst.shape, src.shape)) {
      mismatched.push({ key: k, expected: dst.shape, got: src.shape });
    }
  }
  if (mismatched.length || (strict && (missing.length || unexpected.length))) {
    throw new StateDictError(missing, unexpected, mismatched);
  }
  noGrad(() => {
    for (const [k, dst] of target) {
      const src = given.get(k);
      if (src !== undefined && src !== dst) dst.copy_(src);
    }
  });
  return { missingKeys: missing, unexpectedKeys: unexpected };
}

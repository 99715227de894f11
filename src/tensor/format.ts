/** PyTorch-like text for tensors: `tensor([[1.0000, 2.5000]], requires_grad=True)`, following
 * `torch/_tensor_str.py` with its default print options (precision 4, threshold 1000, edge items
 * 3, line width 80): the same number format, widths, summarization and line wrapping. */
import { noGrad } from "./grad_mode.ts";
import { scope } from "./scope.ts";
import type { Tensor } from "./tensor.ts";

const PRECISION = 4;
const EDGE = 3; // elements shown at each end of a summarized dimension
const SUMMARIZE_OVER = 1000;
const LINE_WIDTH = 80;
const PREFIX = "tensor(";

type Value = number | boolean | bigint;

/** Python's `"{:.{p}f}"`: correctly rounded with ties to even (JS's `toFixed` rounds ties
 * away from zero), and a sign on negative zero. */
function pyFixed(v: number, p: number): string {
  const sign = v < 0 || Object.is(v, -0) ? "-" : "";
  const a = Math.abs(v);
  // The exact decimal expansion (a double's is finite; the values printed in this mode have
  // fewer than 100 fractional digits that matter): a tie continues with 5 and zeros only.
  const exact = a.toFixed(100);
  const end = exact.indexOf(".") + (p === 0 ? 0 : 1 + p);
  const tie = /^\.?50*$/.test(exact.slice(end));
  return sign + (tie && Number(exact[end - 1]) % 2 === 0 ? exact.slice(0, end) : a.toFixed(p));
}

/** Python's `"{:.{p}e}"`: ties to even, at least two exponent digits. */
function pyExp(v: number, p: number): string {
  const sign = v < 0 || Object.is(v, -0) ? "-" : "";
  const a = Math.abs(v);
  const [mant, exp] = a.toExponential(100).split("e");
  const digits = mant.replace(".", "");
  const tie = a !== 0 && /^50*$/.test(digits.slice(p + 1)) && Number(digits[p]) % 2 === 0;
  const s = tie
    ? `${digits[0]}${p > 0 ? "." : ""}${digits.slice(1, p + 1)}e${exp}`
    : a.toExponential(p);
  return sign + s.replace(/e([+-])(\d)$/, "e$10$2");
}

/** PyTorch's `_Formatter`, built from the values that will be shown: how an element is
 * written (right-aligned to `width`) and that width, which excludes zeros, nan and inf. */
interface Formatter {
  format(v: Value): string;
  width: number;
}

function formatter(values: Value[], floating: boolean): Formatter {
  const padded = (str: (v: Value) => string, width: number): Formatter => ({
    format: (v) => str(v).padStart(width),
    width,
  });
  if (!floating) {
    const str = (v: Value) => (typeof v === "boolean" ? (v ? "True" : "False") : String(v));
    return padded(str, values.reduce((m: number, v) => Math.max(m, str(v).length), 1));
  }
  const special = (v: number) => (Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
  const finite = (f: (v: number) => string) => (v: Value) =>
    Number.isFinite(v as number) ? f(v as number) : special(v as number);
  const shown = (values as number[]).filter((v) => Number.isFinite(v) && v !== 0);
  // Loops, not Math.min(...xs): a summarized many-dimensional tensor can show millions.
  const min = shown.reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);
  const max = shown.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const intMode = shown.every(Number.isInteger);
  const sci = shown.length > 0 && (max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4));
  const str = finite(
    sci
      ? (v) => pyExp(v, PRECISION)
      : intMode
      ? (v) => `${pyFixed(v, 0)}.`
      : (v) => pyFixed(v, PRECISION),
  );
  return padded(str, shown.reduce((m, v) => Math.max(m, str(v).length), 1));
}

/** The values a summarized print shows, as PyTorch's `get_summarized_data`: the first and last
 * `EDGE` entries of every longer dimension, in row-major order, read without copying the rest
 * of the tensor to JS. */
function shownValues(t: Tensor, summarize: boolean): Value[] {
  if (t.numel === 0) return [];
  if (!summarize) return valuesOf(t);
  const out: Value[] = [];
  const add = (vs: Value[]) => {
    for (const v of vs) out.push(v);
  };
  const collect = (s: Tensor) => {
    const shape = s.shape, n = shape[0];
    if (!shape.some((m) => m > 2 * EDGE)) add(valuesOf(s)); // at most (2·EDGE)^dims
    else if (shape.length === 1) {
      add(valuesOf(s.narrow(0, 0, EDGE)));
      add(valuesOf(s.narrow(0, n - EDGE, EDGE)));
    } else {
      for (const i of shownIndices(n, true)) if (i >= 0) collect(s.select(0, i));
    }
  };
  scope(() => noGrad(() => collect(t)));
  return out;
}

/** The elements in row-major order; int64 as bigint, so that every digit prints. */
function valuesOf(t: Tensor): Value[] {
  return t.dtype === "int64" ? Array.from(t.toTypedArray() as BigInt64Array) : t.toFlat();
}

/** Indices of a dimension of size `n` that are printed; -1 stands for the `...`. */
function shownIndices(n: number, summarize: boolean): number[] {
  if (!summarize || n <= 2 * EDGE) return [...Array(n).keys()];
  return [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)];
}

export function formatTensor(t: Tensor): string {
  const shape = t.shape;
  const dtype = t.dtype;
  const floating = dtype.startsWith("float") || dtype === "bfloat16";
  const summarize = t.numel > SUMMARIZE_OVER;
  const flat = shownValues(t, summarize);
  const f = formatter(flat, floating);
  // Positions in `flat`: a summarized dimension keeps its first and last EDGE entries.
  const kept = shape.map((n) => (summarize && n > 2 * EDGE ? 2 * EDGE : n));
  const strides = kept.map((_, i) => kept.slice(i + 1).reduce((a, b) => a * b, 1));
  const pos = (dim: number, i: number) => (i < EDGE ? i : i - shape[dim] + kept[dim]);

  const render = (dim: number, offset: number): string => {
    const indent = PREFIX.length + dim;
    const idx = shownIndices(shape[dim], summarize);
    if (dim === shape.length - 1) {
      const items = idx.map((i) => (i < 0 ? " ..." : f.format(flat[offset + pos(dim, i)])));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (f.width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) {
        lines.push(items.slice(i, i + perLine).join(", "));
      }
      return `[${lines.join(",\n" + " ".repeat(indent + 1))}]`;
    }
    const child = (i: number) => render(dim + 1, offset + pos(dim, i) * strides[dim]);
    const parts = idx.map((i) => (i < 0 ? "..." : child(i)));
    const sep = "," + "\n".repeat(shape.length - dim - 1) + " ".repeat(indent + 1);
    return `[${parts.join(sep)}]`;
  };

  // As PyTorch: an empty tensor prints `[]`, its size unless 1-d, and any dtype
  // but the default float32 (no element tells int64 or bool apart).
  const empty = t.numel === 0;
  const body = empty ? "[]" : shape.length === 0 ? f.format(flat[0]) : render(0, 0);
  const extras: string[] = [];
  if (t.device !== "cpu") extras.push(`device='${t.device}'`);
  if (empty && shape.length !== 1) extras.push(`size=(${shape.join(", ")})`);
  if (empty ? dtype !== "float32" : dtype !== "float32" && dtype !== "int64" && dtype !== "bool") {
    extras.push(`dtype=torch.${dtype}`);
  }
  const gradFn = t.gradFn;
  if (gradFn) extras.push(`grad_fn=<${gradFn}>`);
  else if (t.requiresGrad) extras.push("requires_grad=True");
  return `${PREFIX}${body}${extras.map((e) => ", " + e).join("")})`;
}

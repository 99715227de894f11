/** PyTorch-like text for tensors: `tensor([[1.0000, 2.5000]], requires_grad=True)`. */
import type { Tensor } from "./tensor.ts";

const EDGE = 3; // elements shown at each end of a summarized dimension
const SUMMARIZE_OVER = 1000;

function formatter(
  values: (number | boolean)[],
  floating: boolean,
): (v: number | boolean) => string {
  if (!floating) return (v) => (typeof v === "boolean" ? (v ? "True" : "False") : String(v));
  const finite = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const allInt = finite.every((v) => Number.isInteger(v));
  const maxAbs = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const minAbs = finite.reduce((m, v) => (v !== 0 ? Math.min(m, Math.abs(v)) : m), Infinity);
  const special = (v: number) => (Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
  if (allInt && maxAbs < 1e8) {
    return (v) => (Number.isFinite(v as number) ? `${v}.` : special(v as number));
  }
  if (
    maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) ||
    maxAbs / minAbs > 1000 && maxAbs > 1e3
  ) {
    return (v) =>
      Number.isFinite(v as number)
        ? (v as number).toExponential(4).replace(/e([+-])(\d)$/, "e$10$2")
        : special(v as number);
  }
  return (v) => (Number.isFinite(v as number) ? (v as number).toFixed(4) : special(v as number));
}

export function formatTensor(t: Tensor): string {
  const shape = t.shape;
  const dtype = t.dtype;
  const floating = dtype.startsWith("float") || dtype === "bfloat16";
  const flat = t.numel > 0 ? t.toFlat() : [];
  const summarize = flat.length > SUMMARIZE_OVER;
  const fmt = formatter(flat, floating);
  const strs = flat.map(fmt);
  const width = strs.reduce((w, s) => Math.max(w, s.length), 0);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const indent = "tensor(".length;

  const render = (dim: number, offset: number): string => {
    if (dim === shape.length) return strs[offset].padStart(width);
    const n = shape[dim];
    const idx = summarize && n > 2 * EDGE
      ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)]
      : [...Array(n).keys()];
    const parts = idx.map((i) => (i < 0 ? "..." : render(dim + 1, offset + i * strides[dim])));
    if (dim === shape.length - 1) return `[${parts.join(", ")}]`;
    const sep = ",\n".padEnd(2 + Math.max(0, shape.length - dim - 2), "\n") +
      " ".repeat(indent + dim + 1);
    return `[${parts.join(sep)}]`;
  };

  // As PyTorch: an empty tensor prints `[]`, its size unless 1-d, and any dtype
  // but the default float32 (no element tells int64 or bool apart).
  const empty = t.numel === 0;
  const body = empty ? "[]" : shape.length === 0 ? strs[0] : render(0, 0);
  const extras: string[] = [];
  if (t.device !== "cpu") extras.push(`device='${t.device}'`);
  if (empty && shape.length !== 1) extras.push(`size=(${shape.join(", ")})`);
  if (empty ? dtype !== "float32" : dtype !== "float32" && dtype !== "int64" && dtype !== "bool") {
    extras.push(`dtype=torch.${dtype}`);
  }
  if (t.requiresGrad) extras.push("requires_grad=True");
  return `tensor(${body}${extras.map((e) => ", " + e).join("")})`;
}

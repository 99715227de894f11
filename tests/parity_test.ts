/**
 * Parity with Python torch (the same libtorch build the shim links), forward
 * and backward, op by op.
 *
 * Every case draws its inputs from a seeded PRNG (float32 / float64 / int64 /
 * bool values), many of them through a non-contiguous view of a leaf tensor
 * (transposed, strided slice, expanded, offset, permuted), with broadcasting
 * where the op allows it. Both sides run the op, then take the gradients of
 * every float output that requires grad with respect to the leaves, with
 * grad_outputs w[i] = ((i * 7 + 3) % 11 - 5) / 4 (exact in any float type).
 * tests/oracle/parity.py runs the Python side of all cases in one process,
 * with torch.set_num_threads equal to ours.
 *
 * Results must be bit-identical (Object.is on every element, so NaN == NaN
 * and -0 != +0). A case may set `tol` (a relative tolerance, ≤ 1e-6) only
 * for an op that is not deterministic on CPU, with a comment saying why.
 */
import { torch } from "../mod.ts";
import type { Tensor } from "../mod.ts";
import { mulberry32, ROOT, runPython } from "./helpers.ts";

// ---- inputs ----

/** How an input is derived from its leaf: "" itself, "t" transposed (last two
 * dims), "s" every other element of the last dim, "e" expanded along dim 0,
 * "o" offset (rows 1.. of a taller leaf), "p" NHWC leaf permuted to NCHW. */
type View = "" | "t" | "s" | "e" | "o" | "p";
type InDType = "float32" | "float64" | "int64" | "bool";
type Gen =
  | { kind: "normal" }
  | { kind: "uniform"; lo: number; hi: number }
  | { kind: "quant" } // multiples of 0.5 in [-1.5, 1.5]: ties for comparisons
  | { kind: "int"; lo: number; hi: number }
  | { kind: "bool" }
  | { kind: "data"; values: number[] };

interface InputDesc {
  shape: number[];
  view: View;
  dtype: InDType;
  grad: boolean;
  gen: Gen;
}

/** float32 standard normal, requires grad. */
const N = (shape: number[], view: View = ""): InputDesc => ({
  shape,
  view,
  dtype: "float32",
  grad: true,
  gen: { kind: "normal" },
});
/** float32 uniform on [lo, hi), requires grad. */
const U = (shape: number[], lo: number, hi: number, view: View = ""): InputDesc => ({
  shape,
  view,
  dtype: "float32",
  grad: true,
  gen: { kind: "uniform", lo, hi },
});
/** float64 standard normal, requires grad. */
const D = (shape: number[], view: View = ""): InputDesc => ({
  ...N(shape, view),
  dtype: "float64",
});
/** float32 with many ties (for comparisons), no grad. */
const Q = (shape: number[], view: View = ""): InputDesc => ({
  shape,
  view,
  dtype: "float32",
  grad: false,
  gen: { kind: "quant" },
});
/** int64 uniform on [lo, hi). */
const I = (shape: number[], lo: number, hi: number, view: View = ""): InputDesc => ({
  shape,
  view,
  dtype: "int64",
  grad: false,
  gen: { kind: "int", lo, hi },
});
/** Random booleans. */
const B = (shape: number[], view: View = ""): InputDesc => ({
  shape,
  view,
  dtype: "bool",
  grad: false,
  gen: { kind: "bool" },
});
/** Explicit values (int64 by default): indices and targets. */
const X = (values: number[], shape: number[], dtype: InDType = "int64"): InputDesc => ({
  shape,
  view: "",
  dtype,
  grad: false,
  gen: { kind: "data", values },
});
/** The same input without requires_grad. */
const ng = (d: InputDesc): InputDesc => ({ ...d, grad: false });

function baseShape(shape: number[], view: View): number[] {
  const s = shape.slice();
  const n = s.length;
  switch (view) {
    case "":
      return s;
    case "t":
      [s[n - 2], s[n - 1]] = [s[n - 1], s[n - 2]];
      return s;
    case "s":
      s[n - 1] *= 2;
      return s;
    case "e":
      s[0] = 1;
      return s;
    case "o":
      s[0] += 1;
      return s;
    case "p":
      return [s[0], s[2], s[3], s[1]];
  }
}

function applyView(t: Tensor, view: View, shape: number[]): Tensor {
  switch (view) {
    case "":
      return t;
    case "t":
      return t.transpose(-2, -1);
    case "s":
      return t.slice(-1, null, null, 2);
    case "e":
      return t.expand(...shape);
    case "o":
      return t.narrow(0, 1, shape[0]);
    case "p":
      return t.permute(0, 3, 1, 2);
  }
}

/** mulberry32, seeded by an FNV-1a hash of the case id (so cases are independent). */
function rngFor(id: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return mulberry32(h);
}

function generate(gen: Gen, n: number, rng: () => number, dtype: InDType): number[] {
  const round = dtype === "float32" ? Math.fround : (x: number) => x;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (gen.kind) {
      case "normal": {
        const u1 = 1 - rng(), u2 = rng();
        out.push(round(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)));
        break;
      }
      case "uniform":
        out.push(round(gen.lo + (gen.hi - gen.lo) * rng()));
        break;
      case "quant":
        out.push(Math.floor(rng() * 7) * 0.5 - 1.5);
        break;
      case "int":
        out.push(gen.lo + Math.floor(rng() * (gen.hi - gen.lo)));
        break;
      case "bool":
        out.push(rng() < 0.5 ? 0 : 1);
        break;
      case "data":
        return gen.values.slice();
    }
  }
  return out;
}

// ---- cases ----

type OpResult = Tensor | Tensor[] | { values: Tensor; indices: Tensor };

interface Case {
  /** The op under test (what the distinct-op count counts). */
  op: string;
  id: string;
  inputs: { base: number[]; shape: number[]; view: View; dtype: InDType; grad: boolean }[];
  values: number[][];
  ts: (x: Tensor[]) => OpResult;
  /** Python expression over a, b, c, d, e (the inputs), torch and F. */
  py: string;
  /** Relative tolerance, only for ops not deterministic on CPU (say why). */
  tol?: number;
}

const CASES: Case[] = [];

function def(
  op: string,
  label: string,
  inputs: InputDesc[],
  ts: (x: Tensor[]) => OpResult,
  py: string,
  tol?: number,
) {
  const id = `${op}/${label}`;
  if (CASES.some((c) => c.id === id)) throw new Error(`duplicate case ${id}`);
  const rng = rngFor(id);
  const shaped = inputs.map((d) => {
    const base = d.gen.kind === "data" ? d.shape : baseShape(d.shape, d.view);
    return { base, shape: d.shape, view: d.view, dtype: d.dtype, grad: d.grad };
  });
  const values = inputs.map((d, k) =>
    generate(d.gen, shaped[k].base.reduce((p, q) => p * q, 1), rng, d.dtype)
  );
  CASES.push({ op, id, inputs: shaped, values, ts, py, tol });
}

// -- elementwise binary (broadcasting, scalars, dtypes)
def("add", "bcast-t", [N([3, 4], "t"), N([4])], ([a, b]) => a.add(b), "a + b");
def(
  "add",
  "alpha-s",
  [N([2, 3, 4]), N([3, 1], "s")],
  ([a, b]) => a.add(b, 2.5),
  "torch.add(a, b, alpha=2.5)",
);
def("add", "scalar-o", [N([3, 5], "o")], ([a]) => a.add(1.5), "a + 1.5");
def("add", "f64", [D([4, 3], "t"), D([3])], ([a, b]) => a.add(b), "a + b");
def("add", "i64", [I([3, 4], -50, 50, "t"), I([4], -50, 50)], ([a, b]) => a.add(b), "a + b");
def("add", "f32+f64", [N([3, 4]), D([4])], ([a, b]) => a.add(b), "a + b");
def("sub", "bcast-e", [N([3, 4], "e"), N([3, 4], "t")], ([a, b]) => a.sub(b), "a - b");
def(
  "sub",
  "alpha",
  [N([2, 3]), N([2, 1])],
  ([a, b]) => a.sub(b, 0.5),
  "torch.sub(a, b, alpha=0.5)",
);
def("sub", "scalar-s", [N([3, 4], "s")], ([a]) => a.sub(0.75), "a - 0.75");
def("sub", "i64", [I([5], -9, 9), I([2, 1], -9, 9)], ([a, b]) => a.sub(b), "a - b");
def("rsub", "scalar-t", [N([3, 4], "t")], ([a]) => a.rsub(2), "2 - a");
def("mul", "bcast", [N([2, 3, 4]), N([3, 1])], ([a, b]) => a.mul(b), "a * b");
def("mul", "bcast-t", [N([4, 3], "t"), N([2, 1, 3], "s")], ([a, b]) => a.mul(b), "a * b");
def("mul", "scalar-s", [N([3, 4], "s")], ([a]) => a.mul(1.7), "a * 1.7");
def("mul", "f64", [D([3, 4], "t"), D([3, 1])], ([a, b]) => a.mul(b), "a * b");
def("mul", "i64", [I([3, 4], -20, 20), I([4], -20, 20, "s")], ([a, b]) => a.mul(b), "a * b");
def("div", "bcast-t", [N([3, 4], "t"), U([4], 0.5, 2)], ([a, b]) => a.div(b), "a / b");
def("div", "scalar", [N([3, 4], "o")], ([a]) => a.div(3), "a / 3");
def("div", "f64", [D([2, 3]), U([3], 0.5, 2)], ([a, b]) => a.div(b), "a / b");
def(
  "div",
  "floor",
  [N([3, 4], "t"), U([4], 0.3, 1)],
  ([a, b]) => a.div(b, { roundingMode: "floor" }),
  "torch.div(a, b, rounding_mode='floor')",
);
def(
  "div",
  "trunc-scalar",
  [N([3, 4], "s")],
  ([a]) => a.div(0.3, { roundingMode: "trunc" }),
  "torch.div(a, 0.3, rounding_mode='trunc')",
);
def("pow", "scalar-t", [U([3, 4], 0.5, 2, "t")], ([a]) => a.pow(2.5), "a ** 2.5");
def("pow", "square", [N([3, 4], "s")], ([a]) => a.pow(2), "a ** 2");
def("pow", "tensor", [U([3, 4], 0.5, 2), N([4])], ([a, b]) => a.pow(b), "torch.pow(a, b)");
def(
  "remainder",
  "tensor",
  [N([3, 4], "t"), U([4], 0.5, 2)],
  ([a, b]) => a.remainder(b),
  "torch.remainder(a, b)",
);
def("remainder", "scalar", [N([3, 4])], ([a]) => a.remainder(0.7), "torch.remainder(a, 0.7)");
def(
  "maximum",
  "bcast-t",
  [N([3, 4], "t"), N([4])],
  ([a, b]) => a.maximum(b),
  "torch.maximum(a, b)",
);
def(
  "maximum",
  "i64",
  [I([3, 4], -5, 5), I([3, 1], -5, 5)],
  ([a, b]) => a.maximum(b),
  "torch.maximum(a, b)",
);
def(
  "minimum",
  "bcast-s",
  [N([2, 3, 4], "s"), N([3, 1])],
  ([a, b]) => a.minimum(b),
  "torch.minimum(a, b)",
);
def("clamp", "both-t", [N([3, 4], "t")], ([a]) => a.clamp(-0.5, 0.5), "torch.clamp(a, -0.5, 0.5)");
def("clamp", "min-s", [N([3, 4], "s")], ([a]) => a.clamp(0.1), "torch.clamp(a, min=0.1)");
def("clamp", "max", [N([3, 4])], ([a]) => a.clamp(null, -0.2), "torch.clamp(a, max=-0.2)");
def(
  "clamp",
  "tensors",
  [N([3, 4], "t"), U([4], -1, -0.2), U([3, 1], 0.2, 1)],
  ([a, b, c]) => a.clamp(b, c),
  "torch.clamp(a, b, c)",
);
def(
  "where",
  "tensors",
  [B([3, 4]), N([3, 4], "t"), N([4])],
  ([a, b, c]) => torch.where(a, b, c),
  "torch.where(a, b, c)",
);
def(
  "where",
  "scalar-other",
  [B([4]), N([3, 4], "s")],
  ([a, b]) => torch.where(a, b, 0.5),
  "torch.where(a, b, 0.5)",
);
def(
  "where",
  "scalar-self",
  [B([3, 1]), N([3, 4], "e")],
  ([a, b]) => torch.where(a, -1.25, b),
  "torch.where(a, -1.25, b)",
);
def(
  "where",
  "i64",
  [B([3, 4]), I([3, 4], -9, 9), I([4], -9, 9)],
  ([a, b, c]) => torch.where(a, b, c),
  "torch.where(a, b, c)",
);
for (const cmp of ["eq", "ne", "lt", "le", "gt", "ge"] as const) {
  def(cmp, "tensor-t", [Q([3, 4], "t"), Q([4])], ([a, b]) => a[cmp](b), `torch.${cmp}(a, b)`);
  def(cmp, "scalar", [Q([3, 4], "s")], ([a]) => a[cmp](0.5), `torch.${cmp}(a, 0.5)`);
  def(cmp, "i64", [I([3, 4], 0, 3), I([3, 1], 0, 3)], ([a, b]) => a[cmp](b), `torch.${cmp}(a, b)`);
}

// -- elementwise unary
const unary: [string, (x: Tensor) => Tensor, string, InputDesc][] = [
  ["neg", (x) => x.neg(), "torch.neg(a)", N([3, 4], "t")],
  ["abs", (x) => x.abs(), "torch.abs(a)", N([3, 4], "s")],
  ["sqrt", (x) => x.sqrt(), "torch.sqrt(a)", U([3, 4], 0.1, 4, "t")],
  ["rsqrt", (x) => x.rsqrt(), "torch.rsqrt(a)", U([3, 4], 0.1, 4, "s")],
  ["exp", (x) => x.exp(), "torch.exp(a)", N([3, 5], "t")],
  ["log", (x) => x.log(), "torch.log(a)", U([3, 4], 0.1, 4, "t")],
  ["log1p", (x) => x.log1p(), "torch.log1p(a)", U([3, 4], -0.9, 3, "s")],
  ["expm1", (x) => x.expm1(), "torch.expm1(a)", N([3, 4], "t")],
  ["sin", (x) => x.sin(), "torch.sin(a)", N([3, 4], "t")],
  ["cos", (x) => x.cos(), "torch.cos(a)", N([3, 4], "s")],
  ["tanh", (x) => x.tanh(), "torch.tanh(a)", N([3, 5], "t")],
  ["sigmoid", (x) => x.sigmoid(), "torch.sigmoid(a)", N([3, 5], "s")],
  ["relu", (x) => x.relu(), "torch.relu(a)", N([3, 4], "t")],
  ["silu", (x) => x.silu(), "F.silu(a)", N([3, 5], "t")],
  ["leakyRelu", (x) => x.leakyRelu(0.2), "F.leaky_relu(a, 0.2)", N([3, 4], "s")],
  ["reciprocal", (x) => x.reciprocal(), "torch.reciprocal(a)", U([3, 4], 0.5, 2, "t")],
  ["floor", (x) => x.floor(), "torch.floor(a)", N([3, 4], "t")],
  ["ceil", (x) => x.ceil(), "torch.ceil(a)", N([3, 4], "s")],
  ["round", (x) => x.round(), "torch.round(a)", U([3, 4], -3, 3, "t")],
  ["sign", (x) => x.sign(), "torch.sign(a)", N([3, 4], "t")],
  ["logicalNot", (x) => x.logicalNot(), "torch.logical_not(a)", B([3, 4], "t")],
  ["isnan", (x) => x.log().isnan(), "a.log().isnan()", N([3, 4], "t")],
  ["isfinite", (x) => x.reciprocal().isfinite(), "a.reciprocal().isfinite()", I([3, 4], -1, 2)],
];
for (const [name, f, py, input] of unary) def(name, "view", [input], ([a]) => f(a), py);
def("exp", "f64", [D([3, 4], "t")], ([a]) => a.exp(), "torch.exp(a)");
def("tanh", "f64", [D([3, 4], "s")], ([a]) => a.tanh(), "torch.tanh(a)");
def("abs", "i64", [I([3, 4], -9, 9, "t")], ([a]) => a.abs(), "torch.abs(a)");
def("neg", "i64", [I([5], -9, 9)], ([a]) => a.neg(), "torch.neg(a)");
def("relu", "big", [N([64, 33], "t")], ([a]) => a.relu(), "torch.relu(a)");
def("gelu", "erf", [N([3, 5], "t")], ([a]) => a.gelu(), "F.gelu(a)");
def(
  "gelu",
  "tanh",
  [N([3, 5], "s")],
  ([a]) => a.gelu({ approximate: "tanh" }),
  "F.gelu(a, approximate='tanh')",
);
def("gelu", "f64", [D([4, 3])], ([a]) => a.gelu(), "F.gelu(a)");
def("softmax", "last-t", [N([2, 3, 5], "t")], ([a]) => a.softmax(-1), "torch.softmax(a, -1)");
def("softmax", "dim1-s", [N([2, 3, 5], "s")], ([a]) => a.softmax(1), "torch.softmax(a, 1)");
def("softmax", "f64", [D([3, 7])], ([a]) => a.softmax(-1), "torch.softmax(a, -1)");
def(
  "softmax",
  "to-f64",
  [N([3, 7])],
  ([a]) => a.softmax(-1, "float64"),
  "torch.softmax(a, -1, dtype=torch.float64)",
);
def("logSoftmax", "last-t", [N([2, 3, 5], "t")], ([a]) => a.logSoftmax(-1), "F.log_softmax(a, -1)");
def("logSoftmax", "dim0", [N([4, 6], "s")], ([a]) => a.logSoftmax(0), "F.log_softmax(a, 0)");

// -- linear algebra
def("matmul", "2d-t", [N([3, 4], "t"), N([4, 5])], ([a, b]) => a.matmul(b), "a @ b");
def("matmul", "batched", [N([2, 3, 4]), N([4, 5], "t")], ([a, b]) => a.matmul(b), "a @ b");
def("matmul", "bcast", [N([2, 1, 3, 4]), N([3, 4, 2], "s")], ([a, b]) => a.matmul(b), "a @ b");
def("matmul", "vec-mat", [N([4]), N([4, 5], "t")], ([a, b]) => a.matmul(b), "a @ b");
def("matmul", "mat-vec", [N([3, 4], "s"), N([4])], ([a, b]) => a.matmul(b), "a @ b");
def("matmul", "dot", [N([6], "s"), N([6])], ([a, b]) => a.matmul(b), "a @ b");
def("matmul", "f64", [D([3, 4], "t"), D([4, 2])], ([a, b]) => a.matmul(b), "a @ b");
def("matmul", "big", [N([17, 40], "t"), N([40, 23])], ([a, b]) => a.matmul(b), "a @ b");
def("mm", "views", [N([3, 4], "t"), N([4, 5], "s")], ([a, b]) => a.mm(b), "torch.mm(a, b)");
def(
  "bmm",
  "views",
  [N([2, 3, 4], "o"), N([2, 4, 5], "t")],
  ([a, b]) => a.bmm(b),
  "torch.bmm(a, b)",
);
def(
  "linear",
  "bias-3d",
  [N([2, 3, 4], "t"), N([5, 4]), N([5])],
  ([a, b, c]) => torch.linear(a, b, c),
  "F.linear(a, b, c)",
);
def(
  "linear",
  "nobias-wt",
  [N([3, 4]), N([5, 4], "t")],
  ([a, b]) => torch.linear(a, b),
  "F.linear(a, b)",
);
def(
  "addmm",
  "beta-alpha",
  [N([5]), N([3, 4], "t"), N([4, 5])],
  ([a, b, c]) => torch.addmm(a, b, c, { beta: 0.5, alpha: 2 }),
  "torch.addmm(a, b, c, beta=0.5, alpha=2)",
);
def(
  "addmm",
  "plain",
  [N([3, 5], "s"), N([3, 4]), N([4, 5])],
  ([a, b, c]) => torch.addmm(a, b, c),
  "torch.addmm(a, b, c)",
);
def(
  "einsum",
  "bmm",
  [N([2, 3, 4]), N([2, 4, 5], "t")],
  ([a, b]) => torch.einsum("bij,bjk->bik", a, b),
  "torch.einsum('bij,bjk->bik', a, b)",
);
def(
  "einsum",
  "attn",
  [N([2, 2, 3, 4], "s"), N([2, 2, 5, 4])],
  ([a, b]) => torch.einsum("bhqd,bhkd->bhqk", a, b),
  "torch.einsum('bhqd,bhkd->bhqk', a, b)",
);
def(
  "einsum",
  "reduce",
  [N([3, 4], "t")],
  ([a]) => torch.einsum("ij->j", a),
  "torch.einsum('ij->j', a)",
);
def(
  "einsum",
  "outer",
  [N([3]), N([4], "s")],
  ([a, b]) => torch.einsum("i,j->ij", a, b),
  "torch.einsum('i,j->ij', a, b)",
);

// -- reductions
def("sum", "all-t", [N([3, 4, 5], "t")], ([a]) => a.sum(), "a.sum()");
def("sum", "dims", [N([3, 4, 5], "s")], ([a]) => a.sum([0, 2]), "a.sum((0, 2))");
def(
  "sum",
  "keepdim",
  [N([3, 4, 5])],
  ([a]) => a.sum(1, { keepdim: true }),
  "a.sum(1, keepdim=True)",
);
def(
  "sum",
  "all-keepdim",
  [N([3, 4], "t")],
  ([a]) => a.sum(null, { keepdim: true }),
  "a.sum(dim=None, keepdim=True)",
);
def(
  "sum",
  "to-f64",
  [N([3, 4], "o")],
  ([a]) => a.sum(null, { dtype: "float64" }),
  "a.sum(dtype=torch.float64)",
);
def("sum", "f64", [D([5, 6], "t")], ([a]) => a.sum(-1), "a.sum(-1)");
def("sum", "i64", [I([3, 4], -100, 100, "t")], ([a]) => a.sum(0), "a.sum(0)");
def("sum", "big", [N([300, 70], "t")], ([a]) => a.sum(), "a.sum()");
def("sum", "big-dim", [N([300, 70], "s")], ([a]) => a.sum(0), "a.sum(0)");
def("mean", "all", [N([3, 4, 5], "t")], ([a]) => a.mean(), "a.mean()");
def(
  "mean",
  "keepdim",
  [N([3, 4, 5], "s")],
  ([a]) => a.mean(-1, { keepdim: true }),
  "a.mean(-1, keepdim=True)",
);
def("mean", "dims", [N([3, 4, 5], "e")], ([a]) => a.mean([0, 1]), "a.mean((0, 1))");
def("mean", "f64", [D([4, 5], "t")], ([a]) => a.mean(0), "a.mean(0)");
def("amax", "dim", [N([3, 4, 5], "t")], ([a]) => a.amax(1), "torch.amax(a, 1)");
def(
  "amax",
  "dims-keep",
  [N([3, 4, 5], "s")],
  ([a]) => a.amax([0, 2], true),
  "torch.amax(a, (0, 2), keepdim=True)",
);
def("amax", "all", [N([3, 4])], ([a]) => a.amax(), "torch.amax(a)");
def("amin", "dim", [N([3, 4, 5], "t")], ([a]) => a.amin(-1), "torch.amin(a, -1)");
def("amin", "i64", [I([3, 4], -50, 50)], ([a]) => a.amin(0), "torch.amin(a, 0)");
def("max", "all-t", [N([3, 4], "t")], ([a]) => a.max(), "a.max()");
def("max", "i64", [I([3, 4], -50, 50)], ([a]) => a.max(), "a.max()");
def("maxDim", "dim-s", [N([3, 4, 5], "s")], ([a]) => a.maxDim(1), "torch.max(a, 1)");
def(
  "maxDim",
  "keepdim-t",
  [N([3, 4, 5], "t")],
  ([a]) => a.maxDim(-1, true),
  "torch.max(a, -1, keepdim=True)",
);
def("min", "all-s", [N([3, 4], "s")], ([a]) => a.min(), "a.min()");
def("minDim", "dim-t", [N([3, 4, 5], "t")], ([a]) => a.minDim(0), "torch.min(a, 0)");
def("argmax", "all", [N([3, 4], "t")], ([a]) => a.argmax(), "torch.argmax(a)");
def("argmax", "dim-s", [N([3, 4, 5], "s")], ([a]) => a.argmax(1), "torch.argmax(a, 1)");
def(
  "argmax",
  "keepdim",
  [N([3, 4, 5], "t")],
  ([a]) => a.argmax(-1, true),
  "torch.argmax(a, -1, keepdim=True)",
);
def("argmax", "i64", [I([4, 6], 0, 1000)], ([a]) => a.argmax(1), "torch.argmax(a, 1)");
def("argmin", "dim-t", [N([3, 4, 5], "t")], ([a]) => a.argmin(2), "torch.argmin(a, 2)");
def("logsumexp", "dim-t", [N([3, 4, 5], "t")], ([a]) => a.logsumexp(1), "torch.logsumexp(a, 1)");
def(
  "logsumexp",
  "dims-keep",
  [N([3, 4, 5], "s")],
  ([a]) => a.logsumexp([0, 2], true),
  "torch.logsumexp(a, (0, 2), keepdim=True)",
);
def("std", "all-t", [N([4, 5], "t")], ([a]) => a.std(), "torch.std(a)");
def(
  "std",
  "dim-c0",
  [N([3, 4, 5], "s")],
  ([a]) => a.std(1, { correction: 0 }),
  "torch.std(a, 1, correction=0)",
);
def(
  "std",
  "keepdim",
  [N([3, 4, 5], "t")],
  ([a]) => a.std([0, 2], { keepdim: true }),
  "torch.std(a, (0, 2), keepdim=True)",
);
def("var", "all-s", [N([4, 5], "s")], ([a]) => a.var(), "torch.var(a)");
def("var", "dim-t", [N([3, 4, 5], "t")], ([a]) => a.var(-1), "torch.var(a, -1)");
def(
  "var",
  "f64-c0",
  [D([6, 5])],
  ([a]) => a.var(0, { correction: 0 }),
  "torch.var(a, 0, correction=0)",
);
def("norm", "l2-t", [N([3, 4], "t")], ([a]) => a.norm(), "torch.linalg.vector_norm(a)");
def(
  "norm",
  "l1-dim",
  [N([3, 4, 5], "s")],
  ([a]) => a.norm(1, 1),
  "torch.linalg.vector_norm(a, 1, 1)",
);
def(
  "norm",
  "p3-keep",
  [N([3, 4, 5], "t")],
  ([a]) => a.norm(3, -1, true),
  "torch.linalg.vector_norm(a, 3, -1, keepdim=True)",
);
def(
  "norm",
  "inf",
  [N([3, 4], "t")],
  ([a]) => a.norm(Infinity, 0),
  "torch.linalg.vector_norm(a, float('inf'), 0)",
);
def("prod", "all-t", [U([3, 4], 0.5, 1.5, "t")], ([a]) => a.prod(), "a.prod()");
def("prod", "i64", [I([2, 5], -3, 4, "t")], ([a]) => a.prod(), "a.prod()");
def("all", "bool", [B([3, 4], "t")], ([a]) => a.all(), "a.all()");
def("any", "bool", [B([3, 4], "s")], ([a]) => a.any(), "a.any()");
def("topk", "last-t", [N([4, 6], "t")], ([a]) => a.topk(3), "torch.topk(a, 3)");
def(
  "topk",
  "smallest-dim0",
  [N([5, 4], "s")],
  ([a]) => a.topk(2, { dim: 0, largest: false }),
  "torch.topk(a, 2, dim=0, largest=False)",
);
def("sort", "last-s", [N([4, 6], "s")], ([a]) => a.sort(), "torch.sort(a)");
def(
  "sort",
  "desc-dim0",
  [N([5, 4], "t")],
  ([a]) => a.sort({ dim: 0, descending: true }),
  "torch.sort(a, dim=0, descending=True)",
);
def(
  "sort",
  "i64",
  [I([3, 7], -5, 5)],
  ([a]) => a.sort({ descending: true }).values,
  "torch.sort(a, descending=True).values",
);

// -- sizes past the parallel grain (32768 elements) and the BLAS blocking, so
// that the multi-threaded paths run (with torch's thread count set to ours)
def("sum", "parallel-t", [N([200, 210], "t")], ([a]) => a.sum(), "a.sum()");
def("mean", "parallel-dim", [N([210, 200], "s")], ([a]) => a.mean(1), "a.mean(1)");
def("softmax", "parallel", [N([160, 256], "t")], ([a]) => a.softmax(-1), "torch.softmax(a, -1)");
def("exp", "parallel", [N([200, 210], "s")], ([a]) => a.exp(), "torch.exp(a)");
def("matmul", "blas", [N([96, 256], "t"), N([256, 160])], ([a, b]) => a.matmul(b), "a @ b");
def(
  "conv2d",
  "parallel",
  [N([2, 8, 32, 32], "p"), N([16, 8, 3, 3]), N([16])],
  ([a, b, c]) => torch.conv2d(a, b, c, { padding: 1 }),
  "F.conv2d(a, b, c, padding=1)",
);
def(
  "layerNorm",
  "parallel",
  [N([448, 96], "t"), N([96]), N([96])],
  ([a, b, c]) => torch.layerNorm(a, [96], b, c),
  "F.layer_norm(a, [96], b, c)",
);

// -- shapes and indexing
def("view", "offset", [N([3, 4], "o")], ([a]) => a.view(4, 3), "a.view(4, 3)");
def("view", "infer", [N([2, 3, 4])], ([a]) => a.view(-1, 4), "a.view(-1, 4)");
def("reshape", "copy-t", [N([3, 4], "t")], ([a]) => a.reshape(2, 6), "a.reshape(2, 6)");
def("reshape", "infer-s", [N([2, 3, 4], "s")], ([a]) => a.reshape(-1), "a.reshape(-1)");
def("permute", "s", [N([2, 3, 4], "s")], ([a]) => a.permute(2, 0, 1), "a.permute(2, 0, 1)");
def("transpose", "t", [N([2, 3, 4], "t")], ([a]) => a.transpose(0, 2), "a.transpose(0, 2)");
def("mT", "s", [N([2, 3, 4], "s")], ([a]) => a.mT, "a.mT");
def("contiguous", "t", [N([3, 4], "t")], ([a]) => a.contiguous(), "a.contiguous()");
def("contiguous", "s", [N([3, 4], "s")], ([a]) => a.contiguous().mul(2), "a.contiguous() * 2");
def("flatten", "all-t", [N([2, 3, 4], "t")], ([a]) => a.flatten(), "a.flatten()");
def("flatten", "from1", [N([2, 3, 4, 2], "s")], ([a]) => a.flatten(1, 2), "a.flatten(1, 2)");
def("squeeze", "all", [N([3, 1, 4, 1])], ([a]) => a.squeeze(), "a.squeeze()");
def("squeeze", "dim", [N([3, 1, 4, 1], "s")], ([a]) => a.squeeze(1), "a.squeeze(1)");
def("squeeze", "dims", [N([3, 1, 4, 1])], ([a]) => a.squeeze([1, 3]), "a.squeeze((1, 3))");
def("unsqueeze", "t", [N([3, 4], "t")], ([a]) => a.unsqueeze(1), "a.unsqueeze(1)");
def("unsqueeze", "neg", [N([3, 4], "s")], ([a]) => a.unsqueeze(-1), "a.unsqueeze(-1)");
def("expand", "new-dim", [N([3, 1])], ([a]) => a.expand(2, 3, 4), "a.expand(2, 3, 4)");
def("expand", "infer-s", [N([3, 1], "s")], ([a]) => a.expand(-1, 5), "a.expand(-1, 5)");
def("repeat", "t", [N([2, 3], "t")], ([a]) => a.repeat(2, 1, 3), "a.repeat(2, 1, 3)");
def(
  "cat",
  "dim0",
  [N([2, 3], "t"), N([4, 3]), N([1, 3], "s")],
  ([a, b, c]) => torch.cat([a, b, c], 0),
  "torch.cat([a, b, c], 0)",
);
def(
  "cat",
  "dim1",
  [N([3, 2], "s"), N([3, 4], "t")],
  ([a, b]) => torch.cat([a, b], 1),
  "torch.cat([a, b], 1)",
);
def(
  "cat",
  "i64",
  [I([2, 3], 0, 9), I([2, 2], 0, 9)],
  ([a, b]) => torch.cat([a, b], -1),
  "torch.cat([a, b], -1)",
);
def(
  "stack",
  "dim1",
  [N([2, 3], "t"), N([2, 3])],
  ([a, b]) => torch.stack([a, b], 1),
  "torch.stack([a, b], 1)",
);
def("stack", "dim0-f64", [D([3]), D([3])], ([a, b]) => torch.stack([a, b]), "torch.stack([a, b])");
def("split", "size-t", [N([5, 4], "t")], ([a]) => a.split(2), "torch.split(a, 2)");
def("split", "sizes-s", [N([3, 4], "s")], ([a]) => a.split([1, 3], 1), "a.split([1, 3], 1)");
def("chunk", "dim0", [N([5, 4])], ([a]) => a.chunk(3), "a.chunk(3)");
def("chunk", "dim1-t", [N([3, 4], "t")], ([a]) => a.chunk(2, 1), "a.chunk(2, 1)");
def("narrow", "t", [N([5, 4], "t")], ([a]) => a.narrow(1, 1, 2), "a.narrow(1, 1, 2)");
def("select", "s", [N([3, 4, 5], "s")], ([a]) => a.select(1, 2), "a.select(1, 2)");
def("select", "neg-t", [N([3, 4], "t")], ([a]) => a.select(0, -1), "a[-1]");
def("slice", "step-t", [N([6, 5], "t")], ([a]) => a.slice(0, 1, 5, 2), "a[1:5:2]");
def("slice", "neg-end", [N([3, 6], "s")], ([a]) => a.slice(1, null, -3), "a[:, :-3]");
def(
  "indexSelect",
  "dup-t",
  [N([5, 4], "t"), X([4, 0, 4, 2], [4])],
  ([a, b]) => a.indexSelect(0, b),
  "torch.index_select(a, 0, b)",
);
def(
  "indexSelect",
  "dim1",
  [N([3, 6], "s"), X([5, 1], [2])],
  ([a, b]) => a.indexSelect(1, b),
  "torch.index_select(a, 1, b)",
);
def("index", "rows", [N([5, 4], "t"), X([3, 3, 0, -1], [4])], ([a, b]) => a.index([b]), "a[b]");
def(
  "index",
  "cols",
  [N([3, 5], "s"), X([4, 0, 2], [3])],
  ([a, b]) => a.index([null, b]),
  "a[:, b]",
);
def(
  "gather",
  "dim1-t",
  [N([3, 4], "t"), X([0, 3, 3, 1, 1, 2, 0, 0, 0], [3, 3])],
  ([a, b]) => a.gather(1, b),
  "torch.gather(a, 1, b)",
);
def(
  "gather",
  "dim0-s",
  [N([3, 4], "s"), X([2, 0, 1, 2, 0, 0, 2, 1], [2, 4])],
  ([a, b]) => a.gather(0, b),
  "torch.gather(a, 0, b)",
);
def(
  "scatter",
  "src",
  [N([3, 5], "t"), X([4, 0, 1, 2, 3, 1], [3, 2]), N([3, 2])],
  ([a, b, c]) => a.scatter(1, b, c),
  "torch.scatter(a, 1, b, c)",
);
def(
  "scatter",
  "value",
  [N([3, 5], "s"), X([2, 1, 0, 2, 1, 0], [2, 3])],
  ([a, b]) => a.scatter(0, b, 2.5),
  "torch.scatter(a, 0, b, 2.5)",
);
def(
  "scatterAdd",
  "dup",
  [N([3, 5], "t"), X([4, 4, 1, 0, 0, 0, 2, 3, 2], [3, 3]), N([3, 3], "s")],
  ([a, b, c]) => a.scatterAdd(1, b, c),
  "torch.scatter_add(a, 1, b, c)",
);
def(
  "maskedFill",
  "scalar-t",
  [N([3, 4], "t"), B([4])],
  ([a, b]) => a.maskedFill(b, -1.5),
  "a.masked_fill(b, -1.5)",
);
def(
  "maskedFill",
  "tensor",
  [N([3, 4], "s"), B([3, 4]), N([])],
  ([a, b, c]) => a.maskedFill(b, c),
  "a.masked_fill(b, c)",
);
def(
  "maskedFill",
  "-inf",
  [N([3, 4])],
  ([a]) => a.maskedFill(a.gt(0.5), -Infinity),
  "a.masked_fill(a > 0.5, float('-inf'))",
);
def("clone", "t", [N([3, 4], "t")], ([a]) => a.clone(), "a.clone()");
def("to", "f64-t", [N([3, 4], "t")], ([a]) => a.to("float64"), "a.to(torch.float64)");
def("to", "f32", [D([3, 4], "s")], ([a]) => a.float(), "a.float()");
def("to", "i64", [U([3, 4], -5, 5)], ([a]) => a.to("int64"), "a.to(torch.int64)");

// -- neural-network layers
def(
  "layerNorm",
  "affine-t",
  [N([2, 3, 8], "t"), N([8]), N([8])],
  ([a, b, c]) => torch.layerNorm(a, [8], b, c),
  "F.layer_norm(a, [8], b, c)",
);
def(
  "layerNorm",
  "plain-2d",
  [N([2, 3, 8], "s")],
  ([a]) => torch.layerNorm(a, [3, 8], null, null, 1e-3),
  "F.layer_norm(a, [3, 8], eps=1e-3)",
);
def(
  "layerNorm",
  "big",
  [N([40, 96], "o"), N([96]), N([96])],
  ([a, b, c]) => torch.layerNorm(a, [96], b, c),
  "F.layer_norm(a, [96], b, c)",
);
def(
  "dropout",
  "p0-train",
  [N([3, 4], "t")],
  ([a]) => torch.dropout(a, 0, true),
  "F.dropout(a, 0.0, True)",
);
def(
  "dropout",
  "eval",
  [N([3, 4], "s")],
  ([a]) => torch.dropout(a, 0.5, false),
  "F.dropout(a, 0.5, False)",
);
def(
  "conv2d",
  "stride-pad-groups",
  [N([2, 4, 7, 6], "p"), N([6, 2, 3, 3]), N([6])],
  ([a, b, c]) => torch.conv2d(a, b, c, { stride: 2, padding: 1, groups: 2 }),
  "F.conv2d(a, b, c, stride=2, padding=1, groups=2)",
);
def(
  "conv2d",
  "dilation",
  [N([1, 3, 8, 8]), N([4, 3, 3, 3], "s")],
  ([a, b]) => torch.conv2d(a, b, null, { dilation: 2, padding: [1, 2] }),
  "F.conv2d(a, b, None, dilation=2, padding=(1, 2))",
);
def(
  "conv2d",
  "depthwise",
  [N([2, 3, 6, 6], "t"), N([3, 1, 3, 3]), N([3])],
  ([a, b, c]) => torch.conv2d(a, b, c, { groups: 3, stride: [1, 2] }),
  "F.conv2d(a, b, c, stride=(1, 2), groups=3)",
);
def(
  "conv2d",
  "f64",
  [D([1, 2, 5, 5]), D([3, 2, 2, 2])],
  ([a, b]) => torch.conv2d(a, b),
  "F.conv2d(a, b)",
);
def(
  "maxPool2d",
  "k2-p",
  [N([2, 3, 6, 6], "p")],
  ([a]) => torch.maxPool2d(a, 2),
  "F.max_pool2d(a, 2)",
);
def(
  "maxPool2d",
  "k3s2p1",
  [N([2, 3, 7, 6], "t")],
  ([a]) => torch.maxPool2d(a, 3, { stride: 2, padding: 1 }),
  "F.max_pool2d(a, 3, 2, 1)",
);
def(
  "maxPool2d",
  "ceil-dil",
  [N([1, 2, 9, 8], "s")],
  ([a]) => torch.maxPool2d(a, 2, { stride: 2, dilation: 2, ceilMode: true }),
  "F.max_pool2d(a, 2, 2, dilation=2, ceil_mode=True)",
);
def(
  "avgPool2d",
  "k2-p",
  [N([2, 3, 6, 6], "p")],
  ([a]) => torch.avgPool2d(a, 2),
  "F.avg_pool2d(a, 2)",
);
def(
  "avgPool2d",
  "pad-exclude",
  [N([2, 3, 7, 6], "t")],
  ([a]) => torch.avgPool2d(a, 3, { stride: 2, padding: 1, countIncludePad: false }),
  "F.avg_pool2d(a, 3, 2, 1, count_include_pad=False)",
);
def(
  "avgPool2d",
  "ceil-divisor",
  [N([1, 2, 7, 7], "s")],
  ([a]) => torch.avgPool2d(a, 2, { ceilMode: true, divisorOverride: 3 }),
  "F.avg_pool2d(a, 2, ceil_mode=True, divisor_override=3)",
);
def(
  "adaptiveAvgPool2d",
  "3x2-p",
  [N([2, 3, 7, 5], "p")],
  ([a]) => torch.adaptiveAvgPool2d(a, [3, 2]),
  "F.adaptive_avg_pool2d(a, (3, 2))",
);
def(
  "adaptiveAvgPool2d",
  "1-t",
  [N([2, 3, 4, 6], "t")],
  ([a]) => torch.adaptiveAvgPool2d(a, 1),
  "F.adaptive_avg_pool2d(a, 1)",
);
def(
  "interpolate",
  "bilinear-size",
  [N([2, 3, 5, 6], "p")],
  ([a]) => torch.interpolate(a, { size: [7, 9], mode: "bilinear", alignCorners: false }),
  "F.interpolate(a, size=(7, 9), mode='bilinear', align_corners=False)",
);
def(
  "interpolate",
  "bilinear-align",
  [N([2, 3, 5, 6], "t")],
  ([a]) => torch.interpolate(a, { size: [7, 9], mode: "bilinear", alignCorners: true }),
  "F.interpolate(a, size=(7, 9), mode='bilinear', align_corners=True)",
);
def(
  "interpolate",
  "bilinear-scale",
  [N([1, 2, 4, 5], "s")],
  ([a]) => torch.interpolate(a, { scaleFactor: 2, mode: "bilinear", alignCorners: false }),
  "F.interpolate(a, scale_factor=2, mode='bilinear', align_corners=False)",
);
def(
  "interpolate",
  "bilinear-down-align",
  [N([1, 2, 9, 8])],
  ([a]) => torch.interpolate(a, { size: [4, 3], mode: "bilinear", alignCorners: true }),
  "F.interpolate(a, size=(4, 3), mode='bilinear', align_corners=True)",
);
def(
  "interpolate",
  "bicubic",
  [N([1, 2, 5, 6], "t")],
  ([a]) => torch.interpolate(a, { size: [8, 10], mode: "bicubic", alignCorners: false }),
  "F.interpolate(a, size=(8, 10), mode='bicubic', align_corners=False)",
);
def(
  "interpolate",
  "nearest",
  [N([1, 2, 5, 6], "s")],
  ([a]) => torch.interpolate(a, { size: [9, 11] }),
  "F.interpolate(a, size=(9, 11))",
);
def(
  "scaledDotProductAttention",
  "plain",
  [N([2, 2, 5, 4], "t"), N([2, 2, 6, 4]), N([2, 2, 6, 4], "s")],
  ([a, b, c]) => torch.scaledDotProductAttention(a, b, c),
  "F.scaled_dot_product_attention(a, b, c)",
);
def(
  "scaledDotProductAttention",
  "float-mask",
  [N([2, 2, 5, 4]), N([2, 2, 6, 4], "t"), N([2, 2, 6, 4]), N([5, 6])],
  ([a, b, c, d]) => torch.scaledDotProductAttention(a, b, c, { attnMask: d }),
  "F.scaled_dot_product_attention(a, b, c, attn_mask=d)",
);
def(
  "scaledDotProductAttention",
  "bool-mask-scale",
  [N([1, 2, 5, 4], "s"), N([1, 2, 5, 4]), N([1, 2, 5, 4]), B([1, 1, 5, 5])],
  ([a, b, c, d]) => torch.scaledDotProductAttention(a, b, c, { attnMask: d, scale: 0.3 }),
  "F.scaled_dot_product_attention(a, b, c, attn_mask=d, scale=0.3)",
);
def(
  "scaledDotProductAttention",
  "causal",
  [N([2, 3, 6, 8]), N([2, 3, 6, 8], "t"), N([2, 3, 6, 8])],
  ([a, b, c]) => torch.scaledDotProductAttention(a, b, c, { isCausal: true }),
  "F.scaled_dot_product_attention(a, b, c, is_causal=True)",
);
def(
  "crossEntropy",
  "indices-t",
  [N([5, 4], "t"), X([0, 3, 1, 1, 2], [5])],
  ([a, b]) => torch.crossEntropy(a, b),
  "F.cross_entropy(a, b)",
);
def(
  "crossEntropy",
  "weight-ignore-smooth",
  [N([6, 4], "s"), X([0, 3, 1, 1, 2, 3], [6]), ng(U([4], 0.5, 2))],
  ([a, b, c]) =>
    torch.crossEntropy(a, b, { weight: c, ignoreIndex: 1, labelSmoothing: 0.1, reduction: "sum" }),
  "F.cross_entropy(a, b, weight=c, ignore_index=1, label_smoothing=0.1, reduction='sum')",
);
def(
  "crossEntropy",
  "probs",
  [N([5, 4]), U([5, 4], 0, 1, "t")],
  ([a, b]) => torch.crossEntropy(a, b),
  "F.cross_entropy(a, b)",
);
def(
  "crossEntropy",
  "spatial-none",
  [
    N([2, 3, 4, 5], "p"),
    X([
      0,
      2,
      1,
      1,
      2,
      0,
      0,
      1,
      2,
      2,
      1,
      0,
      2,
      2,
      1,
      0,
      1,
      2,
      0,
      1,
      1,
      1,
      0,
      2,
      0,
      2,
      1,
      2,
      0,
      0,
      1,
      2,
      2,
      1,
      0,
      0,
      1,
      2,
      1,
      0,
    ], [2, 4, 5]),
  ],
  ([a, b]) => torch.crossEntropy(a, b, { reduction: "none" }),
  "F.cross_entropy(a, b, reduction='none')",
);
def(
  "mseLoss",
  "mean-t",
  [N([3, 4], "t"), N([3, 4])],
  ([a, b]) => torch.mseLoss(a, b),
  "F.mse_loss(a, b)",
);
def(
  "mseLoss",
  "sum-s",
  [N([3, 4], "s"), N([3, 4], "t")],
  ([a, b]) => torch.mseLoss(a, b, "sum"),
  "F.mse_loss(a, b, reduction='sum')",
);
def(
  "mseLoss",
  "none-f64",
  [D([3, 4]), ng(D([3, 4], "t"))],
  ([a, b]) => torch.mseLoss(a, b, "none"),
  "F.mse_loss(a, b, reduction='none')",
);

// ---- running and comparing ----

type Wire = number | string | boolean | null;
interface OutData {
  shape: number[];
  dtype: string;
  values: Wire[];
}
interface Result {
  outs: OutData[];
  grads: (Wire[] | null)[];
  error?: string;
}

const flat = (t: Tensor): number[] => t.toFlat().map(Number);

/** grad_outputs: w[i] = ((i * 7 + 3) % 11 - 5) / 4, in `t`'s dtype and shape. */
function weights(t: Tensor): Tensor {
  const w = t.dtype === "float64" ? new Float64Array(t.numel) : new Float32Array(t.numel);
  for (let i = 0; i < w.length; i++) w[i] = (((i * 7 + 3) % 11) - 5) / 4;
  return torch.fromBuffer(w, t.shape, { dtype: t.dtype });
}

function hostData(c: Case, k: number): ArrayBufferView {
  const v = c.values[k];
  switch (c.inputs[k].dtype) {
    case "float32":
      return Float32Array.from(v);
    case "float64":
      return Float64Array.from(v);
    case "int64":
      return BigInt64Array.from(v, (x) => BigInt(x));
    case "bool":
      return Uint8Array.from(v);
  }
}

function runOurs(c: Case): Result {
  return torch.scope(() => {
    const leaves: Tensor[] = [];
    const args = c.inputs.map((inp, k) => {
      const leaf = torch.fromBuffer(hostData(c, k), inp.base, {
        dtype: inp.dtype,
        requiresGrad: inp.grad,
      });
      if (inp.grad) leaves.push(leaf);
      const x = applyView(leaf, inp.view, inp.shape);
      if (JSON.stringify(x.shape) !== JSON.stringify(inp.shape)) {
        throw new Error(`input ${k}: view gave [${x.shape}], wanted [${inp.shape}]`);
      }
      if ("tsep".includes(inp.view) && inp.view !== "" && x.isContiguous()) {
        throw new Error(`input ${k}: view "${inp.view}" is contiguous; pick another shape`);
      }
      return x;
    });
    const r = c.ts(args);
    const outs = r instanceof Array ? r : "values" in r ? [r.values, r.indices] : [r];
    const result: Result = {
      outs: outs.map((o) => ({ shape: o.shape, dtype: o.dtype, values: flat(o) })),
      grads: [],
    };
    const diff = outs.filter((o) => o.requiresGrad);
    if (diff.length > 0 && leaves.length > 0) {
      const gs = torch.grad(diff, leaves, { gradOutputs: diff.map(weights), allowUnused: true });
      result.grads = gs.map((g) => (g === null ? null : flat(g)));
    }
    return result;
  });
}

const decode = (v: Wire): number =>
  v === "nan"
    ? NaN
    : v === "inf"
    ? Infinity
    : v === "-inf"
    ? -Infinity
    : typeof v === "boolean"
    ? Number(v)
    : (v as number);

/** Bit-exact (or `tol`-relative) comparison; a description of the differences, or null. */
function compare(what: string, ours: Wire[], theirs: Wire[], tol: number): string | null {
  if (ours.length !== theirs.length) {
    return `${what}: ${ours.length} values, torch has ${theirs.length}`;
  }
  let bad = 0, maxAbs = 0, maxRel = 0;
  const first: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    const a = decode(ours[i]), b = decode(theirs[i]);
    if (Object.is(a, b)) continue;
    const abs = Math.abs(a - b);
    const rel = abs / Math.max(Math.abs(a), Math.abs(b));
    if (tol > 0 && rel <= tol) continue;
    bad++;
    if (!(abs <= maxAbs)) maxAbs = abs;
    if (!(rel <= maxRel)) maxRel = rel;
    if (first.length < 4) first.push(`[${i}] ours ${a} torch ${b}`);
  }
  if (bad === 0) return null;
  return `${what}: ${bad}/${ours.length} differ (max abs ${maxAbs}, max rel ${maxRel}); ${
    first.join(", ")
  }`;
}

/** What was compared, so that a vacuous pass shows. */
const stats = { cases: 0, values: 0, grads: 0 };

function checkCase(c: Case, theirs: Result | undefined): string[] {
  if (!theirs) return [`${c.id}: no oracle result`];
  if (theirs.error) return [`${c.id}: torch raised ${theirs.error}`];
  const ours = runOurs(c);
  stats.cases++;
  for (const o of ours.outs) stats.values += o.values.length;
  for (const g of ours.grads) {
    if (g === null) continue;
    stats.grads++;
    stats.values += g.length;
  }
  const errs: string[] = [];
  const tol = c.tol ?? 0;
  if (ours.outs.length !== theirs.outs.length) {
    return [`${c.id}: ${ours.outs.length} outputs, torch has ${theirs.outs.length}`];
  }
  ours.outs.forEach((o, k) => {
    const t = theirs.outs[k];
    if (JSON.stringify(o.shape) !== JSON.stringify(t.shape) || o.dtype !== t.dtype) {
      errs.push(`${c.id} out ${k}: ${o.dtype}[${o.shape}], torch ${t.dtype}[${t.shape}]`);
      return;
    }
    const e = compare(`${c.id} out ${k}`, o.values, t.values, tol);
    if (e) errs.push(e);
  });
  if (ours.grads.length !== theirs.grads.length) {
    errs.push(`${c.id}: ${ours.grads.length} grads, torch has ${theirs.grads.length}`);
    return errs;
  }
  ours.grads.forEach((g, k) => {
    const t = theirs.grads[k];
    if ((g === null) !== (t === null)) {
      errs.push(`${c.id} grad ${k}: ours ${g === null ? "None" : "set"}, torch's not`);
    } else if (g && t) {
      const e = compare(`${c.id} grad ${k}`, g, t, tol);
      if (e) errs.push(e);
    }
  });
  return errs;
}

Deno.test("parity with Python torch, forward and backward", async (t) => {
  const threads = torch.getNumThreads();
  const oracle = await runPython<Record<string, Result>>(`${ROOT}/tests/oracle/parity.py`, {
    threads,
    cases: CASES.map((c) => ({
      id: c.id,
      py: c.py,
      inputs: c.inputs.map((inp, k) => ({ ...inp, values: c.values[k] })),
    })),
  });
  const byOp = new Map<string, Case[]>();
  for (const c of CASES) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);
  const failed: string[] = [];
  for (const [op, cases] of byOp) {
    const ok = await t.step(`${op} (${cases.length} case${cases.length > 1 ? "s" : ""})`, () => {
      const errs = cases.flatMap((c) => checkCase(c, oracle[c.id]));
      if (errs.length > 0) throw new Error(errs.join("\n"));
    });
    if (!ok) failed.push(op);
  }
  await t.step("covers at least 60 distinct ops", () => {
    if (byOp.size < 60) throw new Error(`only ${byOp.size} distinct ops`);
  });
  console.log(
    `parity: ${byOp.size} ops, ${stats.cases}/${CASES.length} cases run, ${stats.grads} gradients, ${stats.values} values compared`,
  );
  if (failed.length > 0) console.log(`parity failures: ${failed.join(", ")}`);
});

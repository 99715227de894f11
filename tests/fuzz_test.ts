/**
 * Fuzz: at least 10,000 random calls across the Tensor methods and the torch.*
 * functions, with random shapes (0-size dims and mismatched shapes included),
 * all ten dtypes, devices (mostly cpu, some cuda that must fail cleanly without
 * a GPU) and invalid arguments (dims out of range, bad sizes, negative sizes,
 * non-integers, wrong dtypes, out-of-bounds indices, ...).
 *
 * Every call must either succeed or throw a TorchError whose message is
 * libtorch's (or, for errors the binding raises itself, a clear one); nothing
 * may crash the process, and every scope must give back all its native tensors.
 *
 * `deno test -A tests/fuzz_test.ts` runs the fuzz in a child process, so that a
 * crash (segfault, abort) or a hang is reported with the call that caused it.
 * `deno run -A tests/fuzz_test.ts` runs it in this process. Environment:
 *   FUZZ_SEED   the seed (random when unset; always printed)
 *   FUZZ_CALLS  how many calls (default 20000; the test makes at least 10000)
 *   FUZZ_TRACE  a file that gets one line per call before it is made
 *   FUZZ_SKIP   comma-separated call names to leave out (to go past a crash)
 */
import { type Device, type DType, Tensor, torch, TorchError } from "../mod.ts";
import { mulberry32 } from "./helpers.ts";

// ---------------------------------------------------------------------------
// Seeded PRNG (mulberry32, tests/helpers.ts) with the draws the fuzzer makes

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

// ---------------------------------------------------------------------------
// Value generators

const DTYPES: DType[] = [
  "float32",
  "float64",
  "float16",
  "bfloat16",
  "int64",
  "int32",
  "int16",
  "int8",
  "uint8",
  "bool",
];
const FLOATS: DType[] = ["float32", "float64", "float16", "bfloat16"];
const isFloat = (d: DType) => FLOATS.includes(d);
/** Numbers where an integer is expected: the JS layer must reject them as TorchError. */
const JUNK_INTS = [
  1.5,
  -0.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  -(2 ** 62),
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
];
const BAD_DTYPES = ["float8", "complex64", "int", "", "toString", "constructor", "Float32"];
const BAD_DEVICES = ["cuda:1", "cuda:7", "cuda:300", "gpu", "cuda:-1", "CPU", "meta", "cuda:"];
/** A tensor too big to allocate: creation must fail with an allocation error. */
const HUGE = 2 ** 40;

const numelOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A short, reproducible description of a value for the trace and findings. */
function show(v: unknown, depth = 0): string {
  if (v instanceof Tensor) {
    if (v.isDisposed) return "<disposed>";
    try {
      const s = v.shape, st = v.strides;
      let contiguous = true;
      for (let i = s.length - 1, want = 1; i >= 0; want *= s[i--]) {
        if (s[i] !== 1 && st[i] !== want) contiguous = false;
      }
      return `${v.dtype}[${s.join(",")}]${v.requiresGrad ? "g" : ""}${contiguous ? "" : "nc"}`;
    } catch (e) {
      return `<tensor: ${(e as Error).message.slice(0, 60)}>`;
    }
  }
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "fn";
  if (v === undefined) return "undefined";
  if (v === null || typeof v !== "object") return String(v);
  if (depth > 3) return "...";
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.byteLength}B)`;
  if (Array.isArray(v)) {
    const items = v.slice(0, 12).map((x) => show(x, depth + 1));
    return `[${items.join(",")}${v.length > 12 ? `,...${v.length}` : ""}]`;
  }
  return `{${
    Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) =>
      `${k}:${show(x, depth + 1)}`
    ).join(",")
  }}`;
}

/** The fuzzing context: the PRNG plus a pool of live tensors of the current scope. */
class Fz {
  pool: Tensor[] = [];
  constructor(readonly r: Rng) {}

  dtype(): DType {
    return this.r.chance(0.3) ? "float32" : this.r.pick(DTYPES);
  }
  floatDtype(): DType {
    return this.r.chance(0.9) ? this.r.pick(FLOATS) : this.r.pick(DTYPES);
  }
  /** A dtype argument: sometimes undefined, sometimes not a dtype at all. */
  dtypeArg(): DType | undefined {
    const x = this.r.next();
    if (x < 0.4) return undefined;
    if (x < 0.97) return this.r.pick(DTYPES);
    return this.r.pick(BAD_DTYPES) as DType;
  }
  /** A device: mostly cpu; some cuda (no GPU here: must fail cleanly); a few bad names. */
  device(): Device | undefined {
    const x = this.r.next();
    if (x < 0.45) return undefined;
    if (x < 0.88) return "cpu";
    if (x < 0.97) return this.r.pick(["cuda", "cuda:0"] as Device[]);
    return this.r.pick(BAD_DEVICES) as Device;
  }
  /** A small random shape; 0-size dims appear often. */
  shape(maxNumel = 48, maxNd = 4): number[] {
    const nd = this.r.pick([0, 1, 1, 2, 2, 2, 3, 3, 4].filter((n) => n <= maxNd));
    const s: number[] = [];
    for (let i = 0; i < nd; i++) s.push(this.r.pick([0, 1, 1, 2, 2, 3, 3, 4, 5, 2, 3]));
    while (numelOf(s) > maxNumel) s[this.r.int(0, s.length - 1)] = this.r.int(1, 2);
    return s;
  }
  /** A shape argument for creation functions: valid mostly; negative, non-integer,
   * too big, or with many dims sometimes. */
  shapeArg(): number[] {
    const x = this.r.next();
    if (x < 0.75) return this.shape();
    if (x < 0.83) return [...this.shape(8, 2), -this.r.int(1, 3)];
    if (x < 0.88) return [this.r.pick(JUNK_INTS), 2];
    if (x < 0.93) return this.r.pick([[HUGE], [2 ** 21, 2 ** 21], [2 ** 32, 2 ** 32, 2 ** 32]]);
    if (x < 0.97) return new Array(this.r.pick([40, 64, 65, 70])).fill(1);
    return [];
  }
  /** Fresh valid data of a shape and dtype, created on the CPU. */
  make(
    shape: readonly number[],
    dtype: DType,
    opts: { grad?: boolean; nc?: boolean } = {},
  ): Tensor {
    let t: Tensor;
    if (isFloat(dtype)) t = torch.randn(shape, { dtype });
    else if (dtype === "bool") t = torch.rand(shape).gt(0.5);
    else if (dtype === "uint8") t = torch.randint(0, 9, shape, { dtype });
    else t = torch.randint(-4, 5, shape, { dtype });
    if (opts.nc && shape.length >= 2) t = t.mT.contiguous().mT; // same shape, not contiguous
    if (opts.grad && isFloat(dtype)) t.requiresGrad = true;
    return t;
  }
  /** A fresh random tensor (random shape, dtype, layout, requires_grad). */
  fresh(shape = this.shape(), dtype = this.dtype()): Tensor {
    const t = this.make(shape, dtype, { grad: this.r.chance(0.15), nc: this.r.chance(0.15) });
    this.pool.push(t);
    return t;
  }
  /** An input: from the pool (earlier inputs and results) or fresh. */
  input(): Tensor {
    const live = this.pool.filter((t) => !t.isDisposed);
    return live.length > 0 && this.r.chance(0.55) ? this.r.pick(live) : this.fresh();
  }
  floatInput(): Tensor {
    const live = this.pool.filter((t) => !t.isDisposed && isFloat(t.dtype));
    return live.length > 0 && this.r.chance(0.5)
      ? this.r.pick(live)
      : this.fresh(this.shape(), this.floatDtype());
  }
  /** A second operand for x: same shape, broadcastable, or anything. */
  partner(x: Tensor, dtype?: DType): Tensor {
    const d = dtype ?? (this.r.chance(0.5) ? x.dtype : this.dtype());
    const s = x.shape;
    const k = this.r.next();
    if (k < 0.4) return this.fresh(s, d);
    if (k < 0.65) {
      const b = s.slice(this.r.int(0, s.length)).map((n) => (this.r.chance(0.4) ? 1 : n));
      return this.fresh(b, d);
    }
    if (k < 0.8) return this.input();
    return this.fresh(this.shape(), d);
  }
  scalar(): number | boolean {
    const x = this.r.next();
    if (x < 0.4) return this.r.int(-3, 3);
    if (x < 0.7) return this.r.pick([-2.5, 0.5, 1.5, 1e-3, 0.25]);
    if (x < 0.8) return this.r.chance(0.5);
    return this.r.pick([NaN, Infinity, -Infinity, 1e300, 2 ** 40, -(2 ** 63), 2 ** 70, -0]);
  }
  /** A dimension for an nd tensor: valid, out of range, or not an integer. */
  dim(nd: number): number {
    const x = this.r.next();
    const n = Math.max(nd, 1);
    if (x < 0.78) return this.r.int(-n, n - 1);
    if (x < 0.96) return this.r.chance(0.5) ? this.r.int(n, n + 3) : this.r.int(-n - 3, -n - 1);
    return this.r.pick(JUNK_INTS);
  }
  dims(nd: number): number[] {
    const out: number[] = [];
    const k = this.r.int(0, Math.min(nd, 3) + (this.r.chance(0.1) ? 1 : 0));
    for (let i = 0; i < k; i++) out.push(this.dim(nd));
    return out;
  }
  dimArg(nd: number): number | number[] | null | undefined {
    const x = this.r.next();
    if (x < 0.25) return undefined;
    if (x < 0.3) return null;
    if (x < 0.65) return this.dim(nd);
    return this.dims(nd);
  }
  /** A count or size: small mostly; zero, negative, huge or junk sometimes. */
  count(hi = 5): number {
    const x = this.r.next();
    if (x < 0.8) return this.r.int(0, hi);
    if (x < 0.92) return -this.r.int(1, 3);
    if (x < 0.96) return this.r.pick([HUGE, 2 ** 50]); // never a size that could be allocated
    return this.r.pick(JUNK_INTS);
  }
  /** A target shape for view/reshape: often a valid refactoring of numel. */
  reshapeTo(shape: readonly number[]): number[] {
    const x = this.r.next();
    if (x < 0.55) {
      const s = this.r.shuffle(shape.slice());
      if (this.r.chance(0.3)) s.splice(this.r.int(0, s.length), 0, 1);
      if (s.length > 1 && this.r.chance(0.3)) s.splice(0, 2, s[0] * s[1]);
      if (s.length > 0 && this.r.chance(0.3)) s[this.r.int(0, s.length - 1)] = -1;
      return s;
    }
    if (x < 0.8) return this.shape();
    if (x < 0.9) return [-1, -1];
    return [this.count(), this.count()];
  }
  /** An index tensor into a dim of size n: in bounds mostly, else out of bounds,
   * negative, or the wrong dtype. */
  indexTensor(n: number, shape = [this.r.int(0, 4)]): Tensor {
    const x = this.r.next();
    const lo = x < 0.7 ? 0 : -n - 2, hi = x < 0.7 ? Math.max(n, 1) : n + 3;
    const t = torch.randint(lo, hi, shape);
    this.pool.push(t);
    if (this.r.chance(0.85)) return t;
    const u = t.to(this.r.pick(["int32", "float32", "bool", "uint8", "int16"] as DType[]));
    this.pool.push(u);
    return u;
  }
  /** 2-tuples and scalars for conv/pool options. */
  pair(lo: number, hi: number): number | number[] {
    const x = this.r.next();
    if (x < 0.6) return this.r.int(lo, hi);
    if (x < 0.85) return [this.r.int(lo, hi), this.r.int(lo, hi)];
    if (x < 0.92) return this.r.pick([[1], [1, 1, 1], []]);
    return this.r.pick([-1, 0, 2 ** 40, 1.5, NaN]);
  }
  /** An NCHW (sometimes CHW or 5-d) float tensor with small spatial dims. */
  image(): Tensor {
    const x = this.r.next();
    const c = this.r.int(1, 3), h = this.r.int(0, 6), w = this.r.int(1, 6);
    const s = x < 0.8 ? [this.r.int(0, 2), c, h, w] : x < 0.9 ? [c, h, w] : [1, 1, c, h, w];
    return this.fresh(s, this.floatDtype());
  }
}

// ---------------------------------------------------------------------------
// The calls. Each make() builds valid-or-not arguments (all inputs created
// validly) and returns them with a thunk that makes exactly one API call.

type Call = [args: unknown[], thunk: () => unknown];
type Spec = { name: string; weight: number; make: (f: Fz) => Call };
const SPECS: Spec[] = [];
function spec(name: string, make: (f: Fz) => Call, weight = 1) {
  SPECS.push({ name, weight, make });
}

// elementwise unary
const UNARY = [
  "neg",
  "abs",
  "sqrt",
  "rsqrt",
  "exp",
  "log",
  "log1p",
  "expm1",
  "sin",
  "cos",
  "tanh",
  "sigmoid",
  "relu",
  "silu",
  "floor",
  "ceil",
  "round",
  "sign",
  "reciprocal",
  "logicalNot",
  "isnan",
  "isfinite",
] as const;
const UNARY_FNS: Partial<Record<(typeof UNARY)[number], (x: Tensor) => Tensor>> = {
  sqrt: torch.sqrt,
  exp: torch.exp,
  log: torch.log,
  abs: torch.abs,
  relu: torch.relu,
  sigmoid: torch.sigmoid,
  tanh: torch.tanh,
  silu: torch.silu,
};
for (const name of UNARY) {
  spec(name, (f) => {
    const x = f.input();
    const fn = UNARY_FNS[name];
    return [[x], fn && f.r.chance(0.3) ? () => fn(x) : () => x[name]()];
  });
}
spec("gelu", (f) => {
  const x = f.input();
  const approximate = f.r.pick(["none", "tanh", undefined, "fast"]) as "none" | undefined;
  return [
    [x, approximate],
    () => f.r.chance(0.3) ? torch.gelu(x, { approximate }) : x.gelu({ approximate }),
  ];
});
spec("leakyRelu", (f) => {
  const x = f.input(), s = f.scalar() as number;
  return [[x, s], () => x.leakyRelu(s)];
});
for (const name of ["softmax", "logSoftmax"] as const) {
  spec(name, (f) => {
    const x = f.input(), d = f.dim(x.ndim), dt = f.dtypeArg();
    return [[x, d, dt], () => f.r.chance(0.3) ? torch[name](x, d, dt) : x[name](d, dt)];
  });
}

// elementwise binary (tensor or scalar operand)
const BINARY = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "remainder",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
] as const;
for (const name of BINARY) {
  spec(name, (f) => {
    const x = f.input();
    const y = f.r.chance(0.65) ? f.partner(x) : f.scalar();
    if (name === "add" || name === "sub") {
      const alpha = f.r.chance(0.25) ? f.scalar() as number : undefined;
      return [[x, y, alpha], () => f.r.chance(0.3) ? torch[name](x, y, alpha) : x[name](y, alpha)];
    }
    if (name === "div" && f.r.chance(0.3)) {
      const mode = f.r.pick(["trunc", "floor", "round"]) as "trunc";
      return [[x, y, mode], () => x.div(y, { roundingMode: mode })];
    }
    return [[x, y], () => x[name](y)];
  }, 1.5);
}
spec("rsub", (f) => {
  const x = f.input(), s = f.scalar();
  return [[x, s], () => x.rsub(s)];
});
for (const name of ["maximum", "minimum"] as const) {
  spec(name, (f) => {
    const x = f.input(), y = f.partner(x);
    return [[x, y], () => f.r.chance(0.3) ? torch[name](x, y) : x[name](y)];
  });
}
spec("clamp", (f) => {
  const x = f.input();
  const b = () => {
    const k = f.r.next();
    return k < 0.3 ? undefined : k < 0.4 ? null : k < 0.8 ? f.scalar() as number : f.partner(x);
  };
  const lo = b(), hi = b();
  return [[x, lo, hi], () => x.clamp(lo, hi)];
});
spec("torch.clamp", (f) => {
  const x = f.input(), lo = f.r.chance(0.7) ? f.scalar() as number : null;
  const hi = f.r.chance(0.7) ? f.scalar() as number : undefined;
  return [[x, lo, hi], () => torch.clamp(x, lo, hi)];
});
spec("where", (f) => {
  const x = f.input();
  const cond = f.r.chance(0.8) ? f.partner(x, "bool") : f.partner(x);
  const a = f.r.chance(0.7) ? f.partner(x) : f.scalar();
  const b = f.r.chance(0.7) ? f.partner(x) : f.scalar();
  return [[cond, a, b], () => torch.where(cond, a, b)];
});

// linear algebra
for (const name of ["matmul", "mm", "bmm"] as const) {
  spec(name, (f) => {
    const k = f.r.int(0, 4);
    const nd = name === "mm" ? 2 : name === "bmm" ? 3 : f.r.int(1, 4);
    const batch = nd === 3 ? [f.r.int(0, 3)] : nd === 4 ? [f.r.int(1, 2), f.r.int(0, 2)] : [];
    const sa = nd === 1 ? [k] : [...batch, f.r.int(0, 4), k];
    const sb = f.r.chance(0.8)
      ? (nd === 1 ? [k] : [...batch, k, f.r.int(0, 4)])
      : f.shape(48, f.r.int(0, 4));
    const da = f.r.chance(0.6) ? "float32" : f.dtype();
    const db = f.r.chance(0.6) ? da : f.dtype();
    const a = f.r.chance(0.85) ? f.fresh(sa, da) : f.input();
    const b = f.fresh(sb, db);
    return [[a, b], () => f.r.chance(0.3) ? torch[name](a, b) : a[name](b)];
  }, 2);
}
spec("linear", (f) => {
  const inF = f.r.int(0, 4), outF = f.r.int(0, 4), dt = f.floatDtype();
  const x = f.fresh([...f.shape(12, 2), f.r.chance(0.85) ? inF : inF + 1], dt);
  const w = f.fresh(f.r.chance(0.9) ? [outF, inF] : f.shape(), f.r.chance(0.8) ? dt : f.dtype());
  const bias = f.r.chance(0.5) ? f.fresh(f.r.chance(0.8) ? [outF] : f.shape(), dt) : undefined;
  return [[x, w, bias], () => torch.linear(x, w, bias)];
}, 2);
spec("addmm", (f) => {
  const n = f.r.int(0, 3), k = f.r.int(0, 3), m = f.r.int(0, 3), dt = f.floatDtype();
  const input = f.fresh(f.r.chance(0.7) ? [n, m] : f.r.chance(0.5) ? [m] : f.shape(), dt);
  const a = f.fresh([n, k], dt);
  const b = f.fresh(f.r.chance(0.85) ? [k, m] : f.shape(), f.r.chance(0.8) ? dt : f.dtype());
  const opts = { beta: f.scalar() as number, alpha: f.scalar() as number };
  return [[input, a, b, opts], () => torch.addmm(input, a, b, opts)];
});
/** Equations with operand shapes that fit them (i=2, j=3, k=4, b=2). */
const EINSUM: [string, number[][]][] = [
  ["ij,jk->ik", [[2, 3], [3, 4]]],
  ["ii->i", [[3, 3]]],
  ["bij,bjk->bik", [[2, 2, 3], [2, 3, 4]]],
  ["i,i->", [[2], [2]]],
  ["...ij->...ji", [[2, 2, 3]]],
  ["ij->", [[2, 3]]],
  ["i,j->ij", [[2], [3]]],
];
spec("einsum", (f) => {
  let eq: string, ops: Tensor[];
  const dt = f.r.chance(0.7) ? "float32" : f.dtype();
  if (f.r.chance(0.7)) {
    const [e, shapes] = f.r.pick(EINSUM);
    eq = e;
    ops = shapes.map((s) =>
      f.fresh(f.r.chance(0.85) ? s : f.shape(27, 3), f.r.chance(0.9) ? dt : f.dtype())
    );
    if (f.r.chance(0.1)) ops.pop();
  } else {
    const chars = "ijk.,->  ab";
    eq = Array.from({ length: f.r.int(0, 10) }, () => f.r.pick([...chars])).join("");
    ops = Array.from({ length: f.r.int(0, 3) }, () => f.fresh(f.shape(27, 3), dt));
  }
  return [[eq, ...ops], () => torch.einsum(eq, ...ops)];
}, 1.5);

// reductions
for (const name of ["sum", "mean"] as const) {
  spec(name, (f) => {
    const x = f.input(), d = f.dimArg(x.ndim);
    const opts = { keepdim: f.r.chance(0.3), dtype: f.dtypeArg() };
    return [[x, d, opts], () => f.r.chance(0.3) ? torch[name](x, d, opts) : x[name](d, opts)];
  }, 1.5);
}
for (const name of ["max", "min", "prod", "all", "any"] as const) {
  spec(name, (f) => {
    const x = f.input();
    return [[x], () => x[name]()];
  });
}
for (const name of ["maxDim", "minDim"] as const) {
  spec(name, (f) => {
    const x = f.input(), d = f.dim(x.ndim), k = f.r.chance(0.3);
    return [[x, d, k], () => x[name](d, k)];
  });
}
for (const name of ["amax", "amin"] as const) {
  spec(name, (f) => {
    const x = f.input(), d = f.r.chance(0.5) ? f.dim(x.ndim) : f.dims(x.ndim), k = f.r.chance(0.3);
    return [[x, d, k], () => x[name](d, k)];
  });
}
for (const name of ["argmax", "argmin"] as const) {
  spec(name, (f) => {
    const x = f.input(), d = f.r.chance(0.3) ? undefined : f.dim(x.ndim), k = f.r.chance(0.3);
    return [
      [x, d, k],
      () => name === "argmax" && f.r.chance(0.3) ? torch.argmax(x, d, k) : x[name](d, k),
    ];
  });
}
spec("logsumexp", (f) => {
  const x = f.input(), d = f.r.chance(0.5) ? f.dim(x.ndim) : f.dims(x.ndim), k = f.r.chance(0.3);
  return [[x, d, k], () => f.r.chance(0.3) ? torch.logsumexp(x, d, k) : x.logsumexp(d, k)];
});
for (const name of ["std", "var"] as const) {
  spec(name, (f) => {
    const x = f.input(), d = f.dimArg(x.ndim);
    const opts = {
      correction: f.r.chance(0.5) ? undefined : f.scalar() as number,
      keepdim: f.r.chance(0.3),
    };
    return [[x, d, opts], () => x[name](d, opts)];
  });
}
spec("norm", (f) => {
  const x = f.input(), p = f.r.pick([1, 2, 0, -1, Infinity, -Infinity, NaN, 0.5, 3]);
  const d = f.dimArg(x.ndim), k = f.r.chance(0.3);
  return [[x, p, d, k], () => x.norm(p, d, k)];
});

// shape
for (const name of ["view", "reshape"] as const) {
  spec(name, (f) => {
    const x = f.input(), s = f.reshapeTo(x.shape);
    return [
      [x, s],
      () => name === "reshape" && f.r.chance(0.3) ? torch.reshape(x, s) : x[name](...s),
    ];
  }, 1.5);
}
spec("permute", (f) => {
  const x = f.input();
  const p = f.r.chance(0.6)
    ? f.r.shuffle([...Array(x.ndim).keys()]).map((d) => (f.r.chance(0.2) ? d - x.ndim : d))
    : f.dims(x.ndim + 1);
  return [[x, p], () => f.r.chance(0.3) ? torch.permute(x, p) : x.permute(...p)];
});
spec("transpose", (f) => {
  const x = f.input(), a = f.dim(x.ndim), b = f.dim(x.ndim);
  return [[x, a, b], () => f.r.chance(0.3) ? torch.transpose(x, a, b) : x.transpose(a, b)];
});
spec("mT", (f) => {
  const x = f.input();
  return [[x], () => x.mT];
});
spec("contiguous", (f) => {
  const x = f.input();
  return [[x], () => x.contiguous()];
});
spec("flatten", (f) => {
  const x = f.input(), a = f.dim(x.ndim), b = f.dim(x.ndim);
  return [[x, a, b], () => f.r.chance(0.3) ? torch.flatten(x, a, b) : x.flatten(a, b)];
});
spec("squeeze", (f) => {
  const x = f.input(),
    d = f.r.chance(0.3) ? undefined : f.r.chance(0.5) ? f.dim(x.ndim) : f.dims(x.ndim);
  return [[x, d], () => f.r.chance(0.3) ? torch.squeeze(x, d) : x.squeeze(d)];
});
spec("unsqueeze", (f) => {
  const x = f.input(), d = f.dim(x.ndim + 1);
  return [[x, d], () => f.r.chance(0.3) ? torch.unsqueeze(x, d) : x.unsqueeze(d)];
});
spec("expand", (f) => {
  const x = f.input();
  const s = f.r.chance(0.6)
    ? [
      ...(f.r.chance(0.5) ? [f.r.int(0, 3)] : []),
      ...x.shape.map((
        n,
      ) => (n === 1 && f.r.chance(0.5) ? f.r.int(0, 4) : f.r.chance(0.15) ? -1 : n)),
    ]
    : f.r.chance(0.8)
    ? f.shape()
    : [2 ** 20, 2 ** 20];
  return [[x, s], () => x.expand(...s)];
});
spec("expandAs", (f) => {
  const x = f.input(), y = f.partner(x);
  return [[x, y], () => x.expandAs(y)];
});
spec("repeat", (f) => {
  const x = f.input();
  const n = x.ndim + f.r.int(-1, 1);
  const reps = Array.from(
    { length: Math.max(n, 0) },
    () => (f.r.chance(0.9) ? f.r.int(0, 3) : f.count()),
  );
  if (f.r.chance(0.03)) reps.push(2 ** 20, 2 ** 20);
  return [[x, reps], () => x.repeat(...reps)];
});
spec("split", (f) => {
  const x = f.input(), d = f.dim(x.ndim);
  const size = f.r.chance(0.6)
    ? f.count(4)
    : Array.from({ length: f.r.int(0, 4) }, () => f.count(3));
  return [[x, size, d], () => f.r.chance(0.3) ? torch.split(x, size, d) : x.split(size, d)];
});
spec("chunk", (f) => {
  const x = f.input(), n = f.count(4), d = f.dim(x.ndim);
  return [[x, n, d], () => f.r.chance(0.3) ? torch.chunk(x, n, d) : x.chunk(n, d)];
});
spec("narrow", (f) => {
  const x = f.input(), d = f.dim(x.ndim), s = f.count(4) - 1, l = f.count(4);
  return [[x, d, s, l], () => f.r.chance(0.3) ? torch.narrow(x, d, s, l) : x.narrow(d, s, l)];
});
spec("select", (f) => {
  const x = f.input(), d = f.dim(x.ndim), i = f.count(5) - 2;
  return [[x, d, i], () => x.select(d, i)];
});
spec("slice", (f) => {
  const x = f.input(), d = f.dim(x.ndim);
  const s = f.r.chance(0.3) ? null : f.count(5) - 2,
    e = f.r.chance(0.3) ? undefined : f.count(6) - 2;
  const step = f.r.chance(0.7) ? f.r.int(1, 3) : f.count(2) - 1;
  return [[x, d, s, e, step], () => x.slice(d, s, e, step)];
});

// indexing
spec("indexSelect", (f) => {
  const x = f.input(), d = f.dim(x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[((d % x.ndim) + x.ndim) % x.ndim] ?? 1;
  const idx = f.indexTensor(n, f.r.chance(0.9) ? [f.r.int(0, 4)] : f.shape(8, 2));
  return [
    [x, d, idx],
    () => f.r.chance(0.3) ? torch.indexSelect(x, d, idx) : x.indexSelect(d, idx),
  ];
}, 1.5);
spec("index", (f) => {
  const x = f.input();
  const k = f.r.int(0, x.ndim + (f.r.chance(0.15) ? 1 : 0));
  const idx: (Tensor | null)[] = [];
  for (let i = 0; i < k; i++) {
    const n = x.shape[i] ?? 1, c = f.r.next();
    if (c < 0.25) idx.push(null);
    else if (c < 0.8) idx.push(f.indexTensor(n, [f.r.int(0, 3)]));
    else idx.push(f.fresh(f.r.chance(0.7) ? x.shape.slice(i, i + 1) : f.shape(8, 2), "bool"));
  }
  return [[x, idx], () => x.index(idx)];
}, 1.5);
spec("gather", (f) => {
  const x = f.input(), d = f.dim(x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[((d % x.ndim) + x.ndim) % x.ndim] ?? 1;
  const s = f.r.chance(0.8) ? x.shape.map((m) => f.r.int(0, m)) : f.shape();
  const idx = f.indexTensor(n, s);
  return [[x, d, idx], () => f.r.chance(0.3) ? torch.gather(x, d, idx) : x.gather(d, idx)];
}, 1.5);
for (const name of ["scatter", "scatterAdd"] as const) {
  spec(name, (f) => {
    const x = f.input(), d = f.dim(x.ndim);
    const n = x.ndim === 0 ? 1 : x.shape[((d % x.ndim) + x.ndim) % x.ndim] ?? 1;
    const s = f.r.chance(0.8) ? x.shape.map((m) => f.r.int(0, m)) : f.shape();
    const idx = f.indexTensor(n, s);
    const src = name === "scatterAdd" || f.r.chance(0.6)
      ? f.fresh(f.r.chance(0.8) ? s : f.shape(), f.r.chance(0.7) ? x.dtype : f.dtype())
      : f.scalar();
    return [
      [x, d, idx, src],
      () => name === "scatter" ? x.scatter(d, idx, src) : x.scatterAdd(d, idx, src as Tensor),
    ];
  }, 1.5);
}
spec("maskedFill", (f) => {
  const x = f.input();
  const mask = f.r.chance(0.8) ? f.partner(x, "bool") : f.partner(x);
  const v = f.r.chance(0.7) ? f.scalar() : f.r.chance(0.6) ? f.fresh([], f.dtype()) : f.input();
  return [[x, mask, v], () => x.maskedFill(mask, v)];
});
spec("topk", (f) => {
  const x = f.input(), k = f.count(4);
  const opts = {
    dim: f.r.chance(0.3) ? undefined : f.dim(x.ndim),
    largest: f.r.chance(0.5),
    sorted: f.r.chance(0.7),
  };
  return [[x, k, opts], () => f.r.chance(0.3) ? torch.topk(x, k, opts) : x.topk(k, opts)];
});
spec("sort", (f) => {
  const x = f.input();
  const opts = { dim: f.r.chance(0.3) ? undefined : f.dim(x.ndim), descending: f.r.chance(0.5) };
  return [[x, opts], () => f.r.chance(0.3) ? torch.sort(x, opts) : x.sort(opts)];
});

// conversion and data out
spec("to(dtype)", (f) => {
  const x = f.input(), d = f.r.chance(0.95) ? f.r.pick(DTYPES) : f.r.pick(BAD_DTYPES) as DType;
  const copy = f.r.chance(0.3);
  return [[x, d, copy], () => x.to(d, { copy })];
}, 1.5);
spec("to(device)", (f) => {
  const x = f.input(), d = f.device() ?? "cpu";
  return [[x, d], () => x.to(d)];
});
for (const name of ["cpu", "float", "double", "long", "clone", "detach"] as const) {
  spec(name, (f) => {
    const x = f.input();
    return [[x], () => x[name]()];
  }, 0.5);
}
spec("cuda", (f) => {
  const x = f.input(), i = f.r.pick([0, 0, 1, -1, 200, 1.5]);
  return [[x, i], () => x.cuda(i)];
});
spec("item", (f) => {
  const x = f.r.chance(0.5) ? f.fresh([], f.dtype()) : f.input();
  return [[x], () => x.item()];
});
for (const name of ["toArray", "toFlat", "toTypedArray", "toBuffer", "toString"] as const) {
  spec(name, (f) => {
    const x = f.input();
    return [[x], () => x[name]()];
  }, 0.5);
}
spec("size", (f) => {
  const x = f.input(), d = f.dim(x.ndim);
  return [[x, d], () => {
    const n = x.size(d);
    if (!Number.isInteger(n)) throw new Error(`size(${d}) returned ${n}`);
    return n;
  }];
});
spec("isContiguous", (f) => {
  const x = f.input();
  return [[x], () => x.isContiguous()];
}, 0.5);

// in place
for (const name of ["add_", "sub_", "mul_", "div_"] as const) {
  spec(name, (f) => {
    const x = f.input();
    const y = name === "sub_" || f.r.chance(0.6) ? f.partner(x) : f.scalar();
    if (name === "add_" || name === "sub_") {
      const alpha = f.r.chance(0.25) ? f.scalar() as number : undefined;
      return [[x, y, alpha], () => name === "add_" ? x.add_(y, alpha) : x.sub_(y as Tensor, alpha)];
    }
    return [[x, y], () => x[name](y)];
  });
}
spec("zero_", (f) => {
  const y = f.input(), x = f.r.chance(0.2) ? y.expand(3, ...y.shape) : y;
  return [[x], () => x.zero_()];
});
spec("fill_", (f) => {
  const x = f.input(), v = f.scalar();
  return [[x, v], () => x.fill_(v)];
});
spec("copy_", (f) => {
  const x = f.input(), y = f.partner(x);
  return [[x, y], () => x.copy_(y)];
});
spec("clamp_", (f) => {
  const x = f.input();
  const lo = f.r.chance(0.7) ? f.scalar() as number : null,
    hi = f.r.chance(0.7) ? f.scalar() as number : undefined;
  return [[x, lo, hi], () => x.clamp_(lo, hi)];
});
spec("requiresGrad_", (f) => {
  const x = f.r.chance(0.7) ? f.input() : f.fresh().mul(2), flag = f.r.chance(0.7);
  return [[x, flag], () => x.requiresGrad_(flag)];
});

// autograd
function gradLeaf(f: Fz): Tensor {
  const x = f.make(f.shape(12, 2), f.r.pick(FLOATS), { grad: true });
  f.pool.push(x);
  return x;
}
spec("backward", (f) => {
  const x = gradLeaf(f);
  const y = f.r.chance(0.7) ? x.mul(2).sin().sum() : x.mul(x);
  const g = f.r.chance(0.3) ? f.partner(y) : undefined;
  const opts = {
    retainGraph: f.r.chance(0.3) ? f.r.chance(0.5) : undefined,
    createGraph: f.r.chance(0.1),
  };
  if (f.r.chance(0.2)) {
    try {
      y.backward(g, { retainGraph: false }); // a second backward must fail cleanly
    } catch { /* the first may fail too */ }
  }
  return [[y, g, opts], () => {
    y.backward(g, opts);
    return x.grad;
  }];
}, 2);
spec("backward(noGrad)", (f) => {
  const x = f.input();
  return [[x], () => x.sum().backward()];
});
spec("grad=", (f) => {
  const x = gradLeaf(f);
  const g = f.r.chance(0.05) ? x : f.r.chance(0.5) ? f.partner(x) : f.input();
  return [[x, g], () => {
    x.grad = g;
    x.mul(3).sum().backward();
    return x.grad;
  }];
}, 1.5);
spec("zeroGrad", (f) => {
  const x = gradLeaf(f);
  x.sum().backward();
  return [[x], () => {
    x.zeroGrad();
    return x.grad;
  }];
}, 0.5);
spec("torch.grad", (f) => {
  const x = gradLeaf(f), z = f.r.chance(0.3) ? f.input() : gradLeaf(f);
  const y = f.r.chance(0.7) ? x.exp().sum() : x.mul(2);
  const opts = {
    allowUnused: f.r.chance(0.5),
    retainGraph: f.r.chance(0.3),
    createGraph: f.r.chance(0.1),
    gradOutputs: f.r.chance(0.3) ? [f.partner(y)] : undefined,
  };
  const inputs = f.r.chance(0.5) ? [x] : [x, z];
  return [[y, inputs, opts], () => torch.grad(y, inputs, opts)];
}, 1.5);
spec("noGrad", (f) => {
  const x = f.floatInput();
  return [[x], () => torch.noGrad(() => x.mul(2).requiresGrad)];
}, 0.5);

// free functions: joins, layers, losses
for (const name of ["cat", "stack"] as const) {
  spec(name, (f) => {
    const x = f.input(), n = f.r.int(0, 4), d = f.dim(x.ndim + (name === "stack" ? 1 : 0));
    const ts = [x];
    for (let i = 1; i < n; i++) {
      const s = x.shape;
      if (s.length > 0 && name === "cat" && f.r.chance(0.6)) {
        s[f.r.int(0, s.length - 1)] = f.r.int(0, 3);
      }
      ts.push(f.r.chance(0.85) ? f.fresh(s, f.r.chance(0.8) ? x.dtype : f.dtype()) : f.input());
    }
    const list = n === 0 ? [] : ts;
    return [[list, d], () => torch[name](list, d)];
  }, 1.5);
}
spec("layerNorm", (f) => {
  const x = f.floatInput(), s = x.shape;
  const ns = f.r.chance(0.7) ? s.slice(f.r.int(0, s.length)) : f.shape(8, 2);
  const w = f.r.chance(0.5) ? f.fresh(f.r.chance(0.8) ? ns : f.shape(), x.dtype) : null;
  const b = f.r.chance(0.5) ? f.fresh(f.r.chance(0.8) ? ns : f.shape(), x.dtype) : undefined;
  const eps = f.r.pick([1e-5, 0, -1, NaN]);
  return [[x, ns, w, b, eps], () => torch.layerNorm(x, ns, w, b, eps)];
}, 1.5);
spec("dropout", (f) => {
  const x = f.input(), p = f.r.pick([0, 0.5, 1, -0.5, 1.5, NaN]), tr = f.r.chance(0.7);
  return [[x, p, tr], () => torch.dropout(x, p, tr)];
});
spec("conv2d", (f) => {
  const x = f.image(), c = x.ndim >= 3 ? x.shape[x.ndim - 3] : 1;
  const groups = f.r.chance(0.8) ? 1 : f.r.pick([c, 2, 0, -1]);
  const o = f.r.int(0, 3) * (groups > 0 ? groups : 1) || 1;
  const ws = f.r.chance(0.85)
    ? [o, Math.max(1, Math.floor(c / (groups > 0 ? groups : 1))), f.r.int(1, 3), f.r.int(1, 3)]
    : f.shape(27, 4);
  const w = f.fresh(ws, f.r.chance(0.85) ? x.dtype : f.dtype());
  const bias = f.r.chance(0.5) ? f.fresh(f.r.chance(0.8) ? [o] : f.shape(), x.dtype) : undefined;
  const opts = { stride: f.pair(1, 2), padding: f.pair(0, 2), dilation: f.pair(1, 2), groups };
  return [[x, w, bias, opts], () => torch.conv2d(x, w, bias, opts)];
}, 2);
spec("conv1d", (f) => {
  const x = f.input(), c = x.ndim >= 2 ? x.shape[x.ndim - 2] : 1;
  const groups = f.r.chance(0.8) ? 1 : f.r.pick([c, 2, 0, -1]);
  const o = f.r.int(0, 3) * (groups > 0 ? groups : 1) || 1;
  const ws = f.r.chance(0.85)
    ? [o, Math.max(1, Math.floor(c / (groups > 0 ? groups : 1))), f.r.int(1, 3)]
    : f.shape(27, 3);
  const w = f.fresh(ws, f.r.chance(0.85) ? x.dtype : f.dtype());
  const bias = f.r.chance(0.5) ? f.fresh(f.r.chance(0.8) ? [o] : f.shape(), x.dtype) : undefined;
  const opts = {
    stride: f.r.int(0, 2),
    padding: f.r.int(-1, 2),
    dilation: f.r.int(0, 2),
    groups,
  };
  return [[x, w, bias, opts], () => torch.conv1d(x, w, bias, opts)];
});
spec("maxPool2d", (f) => {
  const x = f.image(), k = f.pair(1, 3);
  const opts = {
    stride: f.r.chance(0.5) ? undefined : f.pair(1, 2),
    padding: f.r.chance(0.7) ? undefined : f.pair(0, 1),
    dilation: f.r.chance(0.8) ? undefined : f.pair(1, 2),
    ceilMode: f.r.chance(0.3),
  };
  return [[x, k, opts], () => torch.maxPool2d(x, k, opts)];
}, 1.5);
spec("avgPool2d", (f) => {
  const x = f.image(), k = f.pair(1, 3);
  const opts = {
    stride: f.r.chance(0.5) ? undefined : f.pair(1, 2),
    padding: f.r.chance(0.7) ? undefined : f.pair(0, 1),
    ceilMode: f.r.chance(0.3),
    countIncludePad: f.r.chance(0.5),
    divisorOverride: f.r.chance(0.8) ? undefined : f.r.pick([1, 2, 0, -1]),
  };
  return [[x, k, opts], () => torch.avgPool2d(x, k, opts)];
}, 1.5);
spec("adaptiveAvgPool2d", (f) => {
  const x = f.image(), s = f.pair(0, 4);
  return [[x, s], () => torch.adaptiveAvgPool2d(x, s)];
});
spec("interpolate", (f) => {
  const x = f.image();
  const mode = f.r.chance(0.95)
    ? f.r.pick(["nearest", "bilinear", "bicubic"] as const)
    : f.r.pick(["linear", "area"]) as "nearest";
  const k = f.r.next();
  // Huge scale factors are 1e15 (fails fast: "Stride/Storage size calculation
  // overflowed"), not 1e9: with an empty batch the output holds no element, but
  // libtorch's CPU kernels still build per-output-row/column index and weight
  // tables, O(scale) memory: 1e9 gets the process OOM-killed (libtorch issue).
  const opts = {
    mode: f.r.chance(0.2) ? undefined : mode,
    size: k < 0.45 || k > 0.95 ? f.pair(0, 8) : undefined,
    scaleFactor: k >= 0.45
      ? (f.r.chance(0.85)
        ? f.r.pick([0.5, 1, 1.5, 2, 3])
        : f.r.pick([0, -1, NaN, Infinity, 1e15, [2]]))
      : undefined,
    alignCorners: f.r.chance(0.7) ? undefined : f.r.chance(0.5),
  };
  return [[x, opts], () => torch.interpolate(x, opts)];
}, 2);
spec("scaledDotProductAttention", (f) => {
  const b = f.r.int(0, 2),
    h = f.r.int(1, 2),
    l = f.r.int(0, 4),
    s = f.r.int(0, 4),
    e = f.r.int(1, 4);
  const dt = f.r.chance(0.8) ? "float32" : f.floatDtype();
  const q = f.fresh([b, h, l, e], dt);
  const k = f.fresh(f.r.chance(0.85) ? [b, h, s, e] : f.shape(), f.r.chance(0.9) ? dt : f.dtype());
  const v = f.fresh(f.r.chance(0.85) ? [b, h, s, f.r.int(0, 4)] : f.shape(), dt);
  const mask = f.r.chance(0.3)
    ? f.fresh(f.r.chance(0.7) ? [l, s] : f.shape(), f.r.pick(["bool", dt, "int64"] as DType[]))
    : undefined;
  const opts = {
    attnMask: mask,
    dropoutP: f.r.chance(0.8) ? 0 : f.r.pick([0.5, 1, -1]),
    isCausal: f.r.chance(0.2),
    scale: f.r.chance(0.7) ? undefined : f.r.pick([0.5, 0, -1, NaN]),
  };
  return [[q, k, v, opts], () => torch.scaledDotProductAttention(q, k, v, opts)];
}, 2);
spec("crossEntropy", (f) => {
  const n = f.r.int(0, 4), c = f.r.int(1, 4), dt = f.floatDtype();
  const logits = f.fresh(f.r.chance(0.85) ? [n, c] : f.shape(), dt);
  const target = f.r.chance(0.6)
    ? f.indexTensor(c, f.r.chance(0.9) ? [n] : f.shape(8, 2))
    : f.fresh(f.r.chance(0.8) ? [n, c] : f.shape(), f.r.chance(0.8) ? dt : f.dtype());
  const opts = {
    weight: f.r.chance(0.2) ? f.fresh(f.r.chance(0.8) ? [c] : f.shape(), dt) : undefined,
    reduction: f.r.pick(["mean", "sum", "none", "mean", "avg"]) as "mean",
    ignoreIndex: f.r.chance(0.8) ? undefined : f.r.pick([0, -1, 2 ** 40]),
    labelSmoothing: f.r.chance(0.8) ? undefined : f.r.pick([0.1, 1, -0.5, 2]),
  };
  return [[logits, target, opts], () => torch.crossEntropy(logits, target, opts)];
}, 2);
spec("mseLoss", (f) => {
  const x = f.input(), y = f.partner(x);
  const red = f.r.pick(["mean", "sum", "none", "mean", "batchmean"]) as "mean";
  return [[x, y, red], () => torch.mseLoss(x, y, red)];
});

// creation
for (const name of ["zeros", "ones", "empty", "rand", "randn"] as const) {
  spec(name, (f) => {
    const s = f.shapeArg();
    const opts = { dtype: f.dtypeArg(), device: f.device(), requiresGrad: f.r.chance(0.2) };
    return [[s, opts], () => torch[name](s, opts)];
  }, 1.5);
}
spec("randint", (f) => {
  const lo = f.r.chance(0.9) ? f.r.int(-5, 3) : f.r.pick(JUNK_INTS), hi = f.r.int(-2, 8);
  const opts = { dtype: f.dtypeArg(), device: f.device() };
  const s = f.shapeArg();
  return [[lo, hi, s, opts], () => torch.randint(lo, hi, s, opts)];
}, 1.5);
spec("arange", (f) => {
  const x = f.r.next();
  const start = f.r.int(-3, 3);
  const end = x < 0.8 ? start + f.r.int(-1, 8) : f.r.pick([NaN, Infinity, 1e15, 1e300, -1e15]);
  const step = f.r.chance(0.8) ? f.r.pick([1, 2, 0.5, -1]) : f.r.pick([0, -0.5, NaN, Infinity]);
  const opts = { dtype: f.dtypeArg(), device: f.device() };
  return [
    [start, end, step, opts],
    () => f.r.chance(0.2) ? torch.arange(end) : torch.arange(start, end, step, opts),
  ];
}, 1.5);
spec("linspace", (f) => {
  const steps = f.r.chance(0.8) ? f.r.int(0, 8) : f.r.pick([-1, HUGE, 1.5, NaN]);
  const opts = { dtype: f.dtypeArg(), device: f.device() };
  const a = f.scalar() as number, b = f.scalar() as number;
  return [[a, b, steps, opts], () => torch.linspace(a, b, steps, opts)];
});
spec("eye", (f) => {
  const n = f.count(4), m = f.r.chance(0.5) ? undefined : f.count(4);
  const opts = { dtype: f.dtypeArg(), device: f.device() };
  return [[n, m, opts], () => torch.eye(n, m, opts)];
});
spec("full", (f) => {
  const s = f.shapeArg(), v = f.scalar(), opts = { dtype: f.dtypeArg(), device: f.device() };
  return [[s, v, opts], () => torch.full(s, v, opts)];
});
for (const name of ["zerosLike", "onesLike", "emptyLike", "randLike", "randnLike"] as const) {
  spec(name, (f) => {
    const x = f.input(),
      opts = { dtype: f.dtypeArg(), device: f.device(), requiresGrad: f.r.chance(0.2) };
    return [[x, opts], () => torch[name](x, opts)];
  }, 0.7);
}
spec("fullLike", (f) => {
  const x = f.input(), v = f.scalar(), opts = { dtype: f.dtypeArg(), device: f.device() };
  return [[x, v, opts], () => torch.fullLike(x, v, opts)];
});
spec("tensor(nested)", (f) => {
  const s = f.shape(24, 3);
  const kind = f.r.pick(["num", "bool", "bigint"]);
  const leaf = () =>
    kind === "bool"
      ? f.r.chance(0.5)
      : kind === "bigint"
      ? BigInt(f.r.int(-9, 9))
      : f.scalar() as number;
  const build = (d: number): unknown =>
    d === s.length
      ? leaf()
      : Array.from({ length: s[d] + (f.r.chance(0.05) ? 1 : 0) }, () => build(d + 1));
  const data = (f.r.chance(0.05) ? [1, [2, 3]] : build(0)) as number[];
  const opts = { dtype: f.dtypeArg(), device: f.device(), requiresGrad: f.r.chance(0.15) };
  return [[data, opts], () => torch.tensor(data, opts)];
}, 1.5);
spec("tensor(typed)", (f) => {
  const n = f.r.int(0, 8);
  const ctor = f.r.pick([
    Float32Array,
    Float64Array,
    Int32Array,
    Int16Array,
    Int8Array,
    Uint8Array,
    BigInt64Array,
    Uint16Array,
    Uint32Array,
    Uint8ClampedArray,
    BigUint64Array,
  ]);
  const data = new ctor(n);
  const shape = f.r.chance(0.6) ? undefined : f.r.chance(0.5) ? [n] : f.shapeArg();
  const opts = { shape, dtype: f.dtypeArg(), device: f.device() };
  return [[data, opts], () => torch.tensor(data, opts)];
}, 1.5);
spec("fromBuffer", (f) => {
  const dtype = f.r.chance(0.95) ? f.r.pick(DTYPES) : f.r.pick(BAD_DTYPES) as DType;
  const shape = f.r.chance(0.7) ? f.shape() : f.shapeArg();
  const bytesPer = {
    float64: 8,
    int64: 8,
    float32: 4,
    int32: 4,
    float16: 2,
    bfloat16: 2,
    int16: 2,
  }[dtype as string] ?? 1;
  const n = f.r.chance(0.7) ? numelOf(shape) * bytesPer : f.r.int(0, 40);
  const data = new Uint8Array(Number.isSafeInteger(n) && n >= 0 && n < 1e6 ? n : 4);
  const opts = { dtype, device: f.device(), requiresGrad: f.r.chance(0.1) };
  return [[data, shape, opts], () => torch.fromBuffer(data, shape, opts)];
});

// the binding's own limits: results of >1023 tensors, >64 dims, >64 KiB of
// arguments, views too big to copy into JS memory
spec("limits", (f) => {
  const k = f.r.int(0, 7);
  const x = f.fresh([f.r.int(1, 3)], f.dtype());
  const big = torch.zeros([1100]);
  const many = new Array(f.r.pick([65, 100, 9000])).fill(1);
  return [[k, x], () => {
    switch (k) {
      case 0:
        return big.split(1);
      case 1:
        return big.chunk(1100);
      case 2:
        return x.reshape(...many, x.numel);
      case 3:
        return torch.cat(new Array(9000).fill(x));
      case 4:
        return x.expand(HUGE, x.numel).toArray();
      case 5:
        return x.expand(HUGE, x.numel).toString();
      case 6:
        return torch.zeros([HUGE, 3, 0]).toArray(); // no element, but 2**40 nested arrays
      default:
        return torch.einsum("i".repeat(70_000), x);
    }
  }];
}, 0.5);

// torch.ops.aten: the generic, schema-driven path (overload resolution and
// encoding), on ops that are memory-safe by contract (no as_strided, set_,
// _unsafe_*, from_file: those can address arbitrary memory by design)
const ATEN = [
  "add",
  "sub",
  "mul",
  "div",
  "sum",
  "mean",
  "cat",
  "stack",
  "reshape",
  "view",
  "transpose",
  "permute",
  "index_select",
  "gather",
  "scatter",
  "where",
  "matmul",
  "mm",
  "softmax",
  "relu",
  "clamp",
  "arange",
  "zeros",
  "ones",
  "full",
  "narrow",
  "select",
  "slice",
  "squeeze",
  "unsqueeze",
  "flatten",
  "topk",
  "sort",
  "max",
  "min",
  "argmax",
  "std",
  "var",
  "norm",
  "diag",
  "tril",
  "triu",
  "cumsum",
  "cumprod",
  "flip",
  "roll",
  "repeat_interleave",
  "nonzero",
  "bincount",
  "histc",
  "kthvalue",
  "median",
  "mode",
  "searchsorted",
  "bucketize",
  "take",
  "put_",
  "index_add",
  "index_fill",
  "index_put_",
  "masked_select",
  "masked_scatter",
  "constant_pad_nd",
  "pixel_shuffle",
  "unfold",
  "one_hot",
  "cross",
  "cdist",
  "kron",
  "outer",
  "logcumsumexp",
  "diff",
  "trace",
  "nan_to_num",
  "embedding",
  "resize_",
  "fill_",
  "zero_",
  "copy_",
  "expand",
  "t",
  "chunk",
  "split",
  "unbind",
  "unique_consecutive",
  "linalg_inv",
  "cholesky",
  "linalg_det",
  "empty_strided",
  "new_zeros",
  "lerp",
  "addcmul",
  "baddbmm",
  "count_nonzero",
  "renorm",
];
type Packet = ((...a: unknown[]) => unknown) & { overloads: string[] } & Record<string, unknown>;
spec("ops.aten", (f) => {
  const name = f.r.pick(ATEN);
  const args: unknown[] = [];
  const n = f.r.int(0, 4);
  for (let i = 0; i < n; i++) {
    const x = f.r.next();
    if (i === 0 ? x < 0.85 : x < 0.35) args.push(f.input());
    else if (x < 0.55) {
      args.push(f.r.chance(0.9) ? f.r.int(-2, 4) : f.r.pick(JUNK_INTS));
    } else if (x < 0.7) args.push(Array.from({ length: f.r.int(0, 3) }, () => f.r.int(-1, 3)));
    else if (x < 0.8) args.push(f.r.pick([0.5, -1.5, NaN]));
    else if (x < 0.85) args.push(f.r.chance(0.5));
    else if (x < 0.9) args.push(f.r.chance(0.8) ? f.r.pick(DTYPES) : f.r.pick(BAD_DTYPES));
    else if (x < 0.95) args.push(null);
    else args.push([f.input(), f.input()]);
  }
  if (f.r.chance(0.1)) args.push({ dim: f.r.int(-1, 1), keepdim: f.r.chance(0.5) });
  return [[name, ...args], () => {
    const packet = (torch.ops.aten as unknown as Record<string, Packet>)[name];
    if (f.r.chance(0.7)) return packet(...args);
    const ov = f.r.pick(packet.overloads);
    return (packet[ov] as (...a: unknown[]) => unknown)(...args);
  }];
}, 3);

// lifetime misuse and runtime switches
spec("useAfterDispose", (f) => {
  const x = f.fresh(), y = f.input();
  const t = f.r.chance(0.5) ? x : x.mul(1);
  t.dispose();
  const k = f.r.int(0, 4);
  return [
    [t, k],
    () =>
      k === 0
        ? t.add(y)
        : k === 1
        ? y.add(t)
        : k === 2
        ? t.shape
        : k === 3
        ? torch.cat([y, t])
        : t.toArray(),
  ];
});
spec("keep+dispose", (f) => {
  const x = torch.keep(f.fresh().add(1));
  return [[x], () => {
    const r = x.sum().item();
    x.dispose();
    x.dispose(); // twice is fine
    return r;
  }];
}, 0.5);
spec("autocast", (f) => {
  const dev = f.r.pick(["cpu", "cpu", "cuda", "gpu"]) as "cpu";
  const dt = f.r.chance(0.9)
    ? f.r.pick(["bfloat16", "float16", "float32", "int64"] as DType[])
    : f.r.pick(BAD_DTYPES) as DType;
  const a = f.fresh([2, 3], "float32"), b = f.fresh([3, 2], "float32");
  return [[dev, dt, a, b], () => torch.autocast(dev, () => a.matmul(b).relu(), dt)];
});
spec("cuda.runtime", (f) => {
  const k = f.r.int(0, 4), i = f.r.pick([0, 1, -1, 2 ** 31, 1.5]);
  return [
    [k, i],
    () =>
      k === 0
        ? torch.cuda.synchronize(i)
        : k === 1
        ? torch.cuda.emptyCache()
        : k === 2
        ? torch.cuda.deviceName(i)
        : k === 3
        ? torch.memory(i)
        : [torch.cuda.isAvailable(), torch.cuda.deviceCount()],
  ];
}, 0.5);
spec("manualSeed", (f) => {
  const s = f.r.chance(0.7) ? f.r.int(0, 1000) : f.r.pick([-1, 1.5, NaN, 2 ** 60]);
  return [[s], () => torch.manualSeed(s)];
}, 0.3);

// ---------------------------------------------------------------------------
// The run

export interface FuzzResult {
  seed: number;
  calls: number;
  ok: number;
  /** Failures that were TorchErrors carrying libtorch's message (an `op` is set). */
  libtorchErrors: number;
  /** TorchErrors the binding raised itself (argument checks, disposed tensors). */
  bindingErrors: number;
  /** Anything else: a non-TorchError, an empty or placeholder message, a leak. */
  findings: string[];
  /** Results made but not readable (TorchError on metadata, e.g. more than 64 dims). */
  unreadable: string[];
  perOp: Record<string, { ok: number; fail: number; ms: number }>;
  /** A few distinct error messages per call (FUZZ_VERBOSE=1 prints them). */
  samples: Record<string, string[]>;
  warnings: number;
  leakChecks: number;
  ms: number;
}

function tensorsIn(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => tensorsIn(x, out));
  else if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    Object.values(v).forEach((x) => tensorsIn(x, out));
  }
  return out;
}

/** Checks a failure: a TorchError with a real message. Returns a finding or null. */
function judge(e: unknown): { finding: string | null; libtorch: boolean } {
  if (!(e instanceof TorchError)) {
    const name = (e as Error)?.constructor?.name ?? typeof e;
    return { finding: `${name}: ${(e as Error)?.message ?? String(e)}`, libtorch: false };
  }
  const body = e.op ? e.message.slice(e.op.length + 2) : e.message;
  if (!body.trim()) return { finding: "TorchError with an empty message", libtorch: !!e.op };
  if (/unknown (libtorch error|C\+\+ exception|error)$/.test(body)) {
    return { finding: `TorchError with a placeholder message: ${e.message}`, libtorch: !!e.op };
  }
  if (body.includes("Exception raised from")) {
    return {
      finding: `TorchError message carries a C++ backtrace: ${body.slice(0, 120)}`,
      libtorch: true,
    };
  }
  return { finding: null, libtorch: !!e.op };
}

export function runFuzz(
  seed: number,
  calls: number,
  traceFile?: string,
  skip: string[] = [],
): FuzzResult {
  const t0 = performance.now();
  const r = new Rng(seed);
  const f = new Fz(r);
  torch.manualSeed(seed % 1_000_000);
  // One intra-op thread (FUZZ_THREADS to change): inputs are tiny, and on a
  // loaded machine multi-threaded BLAS spins for milliseconds per call.
  torch.setNumThreads(envNum("FUZZ_THREADS") ?? 1);
  let warnings = 0;
  const warned = new Set<string>();
  torch.onWarning((w) => {
    warnings++;
    warned.add(w.split("\n")[0].slice(0, 160));
  });
  const specs = SPECS.filter((s) => !skip.includes(s.name));
  const total = specs.reduce((a, s) => a + s.weight, 0);
  const pickSpec = () => {
    let x = r.next() * total;
    for (const s of specs) if ((x -= s.weight) < 0) return s;
    return specs[specs.length - 1];
  };
  const trace = traceFile
    ? Deno.openSync(traceFile, { write: true, create: true, truncate: true })
    : null;
  const enc = new TextEncoder();
  const res: FuzzResult = {
    seed,
    calls: 0,
    ok: 0,
    libtorchErrors: 0,
    bindingErrors: 0,
    findings: [],
    unreadable: [],
    perOp: Object.fromEntries(specs.map((s) => [s.name, { ok: 0, fail: 0, ms: 0 }])),
    warnings: 0,
    leakChecks: 0,
    ms: 0,
    samples: {},
  };
  const baseline = torch.memory().liveTensors;
  const finding = (what: string) => {
    if (res.findings.length < 200) res.findings.push(what);
  };
  let scopeNo = 0;
  while (res.calls < calls) {
    const first = res.calls;
    scopeNo++;
    torch.scope(() => {
      f.pool = [];
      for (let i = 0; i < 3; i++) f.fresh();
      for (let k = 0; k < 25 && res.calls < calls; k++) {
        const s = pickSpec();
        let call: Call;
        try {
          call = s.make(f);
        } catch (e) {
          finding(
            `fuzz setup for ${s.name} threw ${(e as Error)?.constructor?.name}: ${
              (e as Error)?.message
            }`,
          );
          continue;
        }
        const desc = `${s.name}(${call[0].map((a) => show(a)).join(", ")})`;
        const n = res.calls++;
        trace?.writeSync(enc.encode(`${n} ${desc}\n`));
        let out: unknown;
        const c0 = performance.now();
        try {
          out = call[1]();
        } catch (e) {
          res.perOp[s.name].ms += performance.now() - c0;
          res.perOp[s.name].fail++;
          const j = judge(e);
          const seen = (res.samples[s.name] ??= []);
          const msg = `${desc} -> ${(e as Error)?.message?.split("\n")[0]?.slice(0, 200)}`;
          if (seen.length < 4) seen.push(msg);
          if (j.finding) finding(`#${n} ${desc}: ${j.finding}`);
          else if (j.libtorch) res.libtorchErrors++;
          else res.bindingErrors++;
          continue;
        }
        res.perOp[s.name].ms += performance.now() - c0;
        res.perOp[s.name].ok++;
        res.ok++;
        // Results must be readable; small ones join the pool as later inputs.
        try {
          for (const t of tensorsIn(out)) {
            const numel = t.numel;
            // small ones only: [2**40, 0] holds nothing, but its shape would spread
            if (t.ndim > 6 || numel > 256 || t.shape.some((n) => n > 64)) continue;
            void t.dtype;
            if (numel <= 32 && r.chance(0.1)) t.toArray();
            f.pool.push(t);
          }
        } catch (e) {
          const j = judge(e);
          if (j.finding) finding(`#${n} ${desc}: reading the result: ${j.finding}`);
          else if (res.unreadable.length < 50) {
            res.unreadable.push(`${s.name}: ${(e as Error).message}`);
          }
        }
      }
    });
    const live = torch.memory().liveTensors;
    res.leakChecks++;
    if (live !== baseline) {
      finding(
        `scope ${scopeNo} (calls #${first}..#${res.calls - 1}) left ${
          live - baseline
        } native tensors alive`,
      );
      break;
    }
  }
  trace?.close();
  torch.onWarning(null);
  res.warnings = warnings;
  res.samples["(libtorch warnings)"] = [...warned];
  res.ms = Math.round(performance.now() - t0);
  return res;
}

export function summarize(res: FuzzResult): string {
  const lines = [
    `fuzz seed=${res.seed}: ${res.calls} calls in ${(res.ms / 1000).toFixed(1)} s: ${res.ok} ok, ` +
    `${res.libtorchErrors} libtorch errors (TorchError), ${res.bindingErrors} binding errors (TorchError), ` +
    `${res.findings.length} findings; ${res.warnings} libtorch warnings; ${res.leakChecks} scopes leak-checked`,
  ];
  const ops = Object.entries(res.perOp);
  const cells = ops.map(([k, v]) => `${k} ${v.ok}/${v.fail}`.padEnd(26));
  lines.push("per call, ok/failed:");
  for (let i = 0; i < cells.length; i += 5) lines.push("  " + cells.slice(i, i + 5).join(""));
  // e.g. "meta: buffer too small for 65 dims": one line per kind of message
  const kinds = new Map<string, number>();
  for (const u of res.unreadable) {
    const k = u.replace(/^[^:]*: /, "").replace(/\d+/g, "N");
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  for (const [k, n] of kinds) lines.push(`results not readable (TorchError) x${n}: ${k}`);
  const slow = ops.filter(([, v]) => v.ms > 0).sort((a, b) => b[1].ms - a[1].ms).slice(0, 5);
  lines.push(`slowest: ${slow.map(([k, v]) => `${k} ${Math.round(v.ms)} ms`).join(", ")}`);
  for (const x of res.findings.slice(0, 40)) lines.push(`FINDING ${x}`);
  return lines.join("\n");
}

const envNum = (k: string) => {
  const v = Deno.env.get(k);
  return v === undefined || v === "" ? undefined : Number(v);
};

if (import.meta.main) {
  const seed = envNum("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31);
  const calls = envNum("FUZZ_CALLS") ?? 20_000;
  console.log(`fuzz seed=${seed} (reproduce with FUZZ_SEED=${seed})`);
  const skip = (Deno.env.get("FUZZ_SKIP") ?? "").split(",").filter(Boolean);
  const res = runFuzz(seed, calls, Deno.env.get("FUZZ_TRACE"), skip);
  console.log(summarize(res));
  if (Deno.env.get("FUZZ_VERBOSE")) {
    for (const [k, v] of Object.entries(res.samples)) console.log(`${k}:\n  ${v.join("\n  ")}`);
  }
  console.log("FUZZ_RESULT " + JSON.stringify(res));
}

// ---------------------------------------------------------------------------
// The test: the fuzz runs in a child process, so a crash is caught and located.

Deno.test("fuzz: 10,000+ random calls never crash, fail only with TorchError, leak nothing", async () => {
  const seed = envNum("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31);
  const calls = Math.max(10_000, envNum("FUZZ_CALLS") ?? 20_000);
  console.log(`fuzz seed=${seed} (reproduce with FUZZ_SEED=${seed})`);
  const trace = await Deno.makeTempFile({ prefix: "fuzz_trace_" });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 240_000);
  let passed = false;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", new URL(import.meta.url).pathname],
      env: { FUZZ_SEED: String(seed), FUZZ_CALLS: String(calls), FUZZ_TRACE: trace },
      stdout: "piped",
      stderr: "piped",
      signal: ac.signal,
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) {
      const lines = (await Deno.readTextFile(trace)).trimEnd().split("\n");
      throw new Error(
        `fuzz child ${ac.signal.aborted ? "hung (killed after 240 s)" : "died"} ` +
          `(exit ${out.code}, signal ${out.signal}) at call: ${lines.at(-1)}\n` +
          `previous calls:\n  ${lines.slice(-6, -1).join("\n  ")}\n` +
          `reproduce: FUZZ_SEED=${seed} FUZZ_CALLS=${calls} deno run -A tests/fuzz_test.ts ` +
          `(trace of every call: ${trace})\n` +
          `stderr tail:\n${stderr.slice(-3000)}`,
      );
    }
    const line = stdout.split("\n").find((l) => l.startsWith("FUZZ_RESULT "));
    if (!line) throw new Error(`fuzz child printed no result:\n${stdout}\n${stderr}`);
    const res = JSON.parse(line.slice("FUZZ_RESULT ".length)) as FuzzResult;
    console.log(summarize(res));
    if (res.calls < 10_000) throw new Error(`only ${res.calls} calls were made`);
    const untouched = Object.entries(res.perOp).filter(([, v]) => v.ok + v.fail === 0);
    if (untouched.length > 3) throw new Error(`calls never made: ${untouched.map(([k]) => k)}`);
    if (res.findings.length > 0) {
      throw new Error(
        `${res.findings.length} findings (seed ${seed}):\n${res.findings.join("\n")}`,
      );
    }
    if (res.libtorchErrors === 0 || res.ok === 0) throw new Error("the fuzz exercised nothing");
    passed = true;
  } finally {
    clearTimeout(timer);
    if (passed) await Deno.remove(trace).catch(() => {});
  }
});

Deno.test({
  // Once a segfault: aten.ts passed any integer as a ScalarType and libtorch indexed its
  // tables with it. Enum arguments now take only libtorch's codes.
  name: "fuzz: torch.ops.aten with a ScalarType integer outside libtorch's enum is a TorchError",
  async fn() {
    const mod = new URL("../mod.ts", import.meta.url).href;
    const calls = [
      "aten.sum(x, { dtype: -1 })", // segfault
      "aten.softmax(x, 0, -2)", // segfault
      "aten.sum(x, { dtype: 1000 })", // segfault
    ];
    const failures: string[] = [];
    for (const call of calls) {
      const code = `import { torch, TorchError } from "${mod}";
        const aten = torch.ops.aten as any; const x = torch.randn([2]);
        try { ${call}; console.log("ok"); } catch (e) { console.log(e instanceof TorchError ? "TorchError" : "other"); }`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", code],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const said = new TextDecoder().decode(out.stdout).trim();
      if (!out.success || said !== "TorchError") {
        failures.push(`${call}: exit ${out.code} signal ${out.signal}, printed "${said}"`);
      }
    }
    if (failures.length) throw new Error(`crashes:\n${failures.join("\n")}`);
  },
});

/** The public surface of `mod.ts` and the behaviour of its basics: dtypes,
 * creation, printing, autograd, warnings and nonblocking calls. Expected
 * printouts and seeded random draws come from the .venv's PyTorch. */
import assert from "node:assert/strict";
import { DType, Tensor, torch, TorchError } from "../mod.ts";
import { PYTHON } from "./helpers.ts";

/** Evaluates Python expressions (with `torch` imported); returns their JSON values. */
async function py<T = unknown>(exprs: string[]): Promise<T[]> {
  const code = `import json, torch\nprint(json.dumps([${exprs.join(", ")}]))`;
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", code],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`python failed:\n${dec.decode(out.stderr)}`);
  return JSON.parse(dec.decode(out.stdout));
}

const close = (a: number[], b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length, `lengths ${a.length} vs ${b.length}`);
  a.forEach((x, i) => assert(Math.abs(x - b[i]) <= tol, `[${i}] ${x} vs ${b[i]}`));
};
const flat = (t: Tensor) => t.toFlat() as number[];

Deno.test("api: the torch namespace and Tensor expose the documented surface", () => {
  for (
    const name of [
      "tensor",
      "randn",
      "scope",
      "noGrad",
      "memory",
      "grad",
      "onWarning",
      "fromBuffer",
      "manualSeed",
      "version",
      "library",
    ]
  ) {
    assert.equal(typeof (torch as Record<string, unknown>)[name], "function", `torch.${name}`);
  }
  const mem = torch.memory();
  assert.equal(typeof mem.liveTensors, "number");
  assert.equal(typeof mem.liveBytes, "number");

  const ops = (torch as Record<string, unknown>).ops as { aten?: unknown } | undefined;
  assert(ops !== undefined, "torch.ops is missing: mod.ts should export torch.ops.aten");
  assert(ops.aten !== undefined, "torch.ops.aten is missing");

  for (
    const m of ["add", "matmul", "relu", "sum", "backward", "item", "toArray", "dispose", "to"]
  ) {
    assert.equal(typeof (Tensor.prototype as unknown as Record<string, unknown>)[m], "function", m);
  }
  assert("grad" in Tensor.prototype, "Tensor.grad");
  assert.equal(typeof TorchError, "function");

  torch.scope(() => {
    const a = torch.tensor([[1, 2]], { requiresGrad: true });
    const b = torch.tensor([[3], [4]]);
    const loss = a.matmul(b).relu().add(1).sum();
    assert.equal(loss.item(), 12);
    loss.backward();
    assert.deepEqual(a.grad!.toArray(), [[3, 4]]);
  });
});

Deno.test("api: torch.ops.aten calls operators by name and overload", () => {
  torch.scope(() => {
    const a = torch.tensor([1, 2, 3]);
    const b = torch.tensor([10, 20, 30]);
    assert.deepEqual(torch.ops.aten.add.Tensor(a, b, { alpha: 2 }).toArray(), [21, 42, 63]);
    assert.deepEqual(torch.ops.aten.add(a, b).toArray(), [11, 22, 33]);
    assert.deepEqual(torch.ops.aten.relu(torch.tensor([-1, 2])).toArray(), [0, 2]);
  });
});

Deno.test("api: memory().liveTensors counts handles, scope() and dispose() free them", () => {
  const before = torch.memory().liveTensors;
  const t = torch.zeros([3]);
  assert.equal(torch.memory().liveTensors, before + 1);
  t.dispose();
  t.dispose(); // twice is fine
  assert.equal(torch.memory().liveTensors, before);
  assert(t.isDisposed);
  assert.throws(() => t.add(1), TorchError);
  const kept = torch.scope(() => {
    const x = torch.ones([2]);
    x.mul(3).add(1); // freed at scope end
    return x.mul(2); // escapes
  });
  assert.equal(torch.memory().liveTensors, before + 1);
  assert.deepEqual(kept.toArray(), [2, 2]);
  kept.dispose();
  assert.equal(torch.memory().liveTensors, before);
});

const ALL_DTYPES: DType[] = [
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

Deno.test("api: all 10 dtypes round-trip through tensor(), toArray() and toTypedArray()", () => {
  const values: Record<DType, (number | boolean)[]> = {
    float32: [0.5, -1.25, 3, 1e6],
    float64: [0.1, -1e-300, 1e300, 2 ** 53],
    float16: [0.5, -1.25, 3, 65504],
    bfloat16: [0.5, -1.25, 3, 2 ** 100],
    int64: [0, -1, 2 ** 40, -(2 ** 52)],
    int32: [0, -1, 2 ** 31 - 1, -(2 ** 31)],
    int16: [0, -1, 32767, -32768],
    int8: [0, -1, 127, -128],
    uint8: [0, 1, 128, 255],
    bool: [true, false, false, true],
  };
  const arrayType: Record<DType, string> = {
    float32: "Float32Array",
    float64: "Float64Array",
    float16: "Float32Array", // widened
    bfloat16: "Float32Array", // widened
    int64: "BigInt64Array",
    int32: "Int32Array",
    int16: "Int16Array",
    int8: "Int8Array",
    uint8: "Uint8Array",
    bool: "Uint8Array",
  };
  torch.scope(() => {
    for (const dtype of ALL_DTYPES) {
      const v = values[dtype];
      const t = torch.tensor([v.slice(0, 2), v.slice(2)], { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.shape, [2, 2]);
      assert.deepEqual(t.toArray(), [v.slice(0, 2), v.slice(2)], dtype);
      const typed = t.toTypedArray();
      assert.equal(typed.constructor.name, arrayType[dtype], dtype);
      const asNumbers = Array.from(typed as ArrayLike<number | bigint>, Number);
      assert.deepEqual(asNumbers, v.map(Number), dtype);
      // Bytes out and back in give the same tensor.
      const back = torch.fromBuffer(t.toBuffer(), [2, 2], { dtype });
      assert.deepEqual(back.toArray(), t.toArray(), `${dtype} via fromBuffer`);
    }
    // Typed arrays keep their own dtype; bigints and booleans are inferred.
    assert.equal(torch.tensor(new Int16Array([1, 2])).dtype, "int16");
    assert.equal(torch.tensor(new Float64Array([1, 2])).dtype, "float64");
    assert.equal(torch.tensor(new Uint8Array([1, 2])).dtype, "uint8");
    assert.equal(torch.tensor([1n, 2n]).dtype, "int64");
    assert.equal(torch.tensor([true]).dtype, "bool");
    assert.equal(torch.tensor([1, 2]).dtype, "float32");
    assert.deepEqual(torch.tensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] }).shape, [2, 2]);
    // Rounding into half types matches PyTorch's round-to-nearest-even.
    assert.deepEqual(torch.tensor([1 / 3], { dtype: "float16" }).toArray(), [0.333251953125]);
    assert.deepEqual(torch.tensor([1 / 3], { dtype: "bfloat16" }).toArray(), [0.333984375]);
  });
});

Deno.test("api: .to(dtype) converts like PyTorch", async () => {
  const expected = await py([
    "torch.tensor([1.7, -1.7, 0.0, 300.5]).to(torch.int32).tolist()",
    "torch.tensor([1.7, -1.7, 0.0, 300.5]).to(torch.uint8).tolist()",
    "torch.tensor([1.7, -1.7, 0.0, 300.5]).to(torch.bool).tolist()",
    "torch.tensor([1.7, -1.7, 0.0, 300.5]).to(torch.float16).tolist()",
    "torch.tensor([1.7, -1.7, 0.0, 300.5]).to(torch.bfloat16).tolist()",
    "torch.tensor([1.7, -1.7, 0.0, 300.5]).to(torch.float64).tolist()",
  ]);
  torch.scope(() => {
    const x = torch.tensor([1.7, -1.7, 0, 300.5]);
    const targets: DType[] = ["int32", "uint8", "bool", "float16", "bfloat16", "float64"];
    targets.forEach((d, i) => {
      const y = x.to(d);
      assert.equal(y.dtype, d);
      assert.deepEqual(y.toArray(), expected[i], d);
    });
    assert.deepEqual(torch.tensor([true, false]).to("float32").toArray(), [1, 0]);
    assert.equal(x.to("float32", { copy: true }).dtype, "float32");
    assert.equal(x.double().dtype, "float64");
    assert.equal(x.long().dtype, "int64");
    assert.throws(() => x.to("float8" as DType), /unknown device|dtype/);
  });
});

Deno.test("api: creation functions", async () => {
  const [rand, randn, randint] = await py<number[]>([
    "(torch.manual_seed(7), torch.rand(4).tolist())[1]",
    "(torch.manual_seed(7), torch.randn(4).tolist())[1]",
    "(torch.manual_seed(7), torch.randint(0, 10, (6,)).tolist())[1]",
  ]);
  torch.scope(() => {
    assert.deepEqual(torch.zeros([2, 3]).toArray(), [[0, 0, 0], [0, 0, 0]]);
    assert.deepEqual(torch.ones([2], { dtype: "int32" }).toArray(), [1, 1]);
    assert.equal(torch.ones([2], { dtype: "int32" }).dtype, "int32");
    assert.deepEqual(torch.full([2, 2], 7).toArray(), [[7, 7], [7, 7]]);
    assert.deepEqual(torch.full([1], 2.5, { dtype: "float64" }).toArray(), [2.5]);
    const e = torch.empty([3, 4], { dtype: "int16" });
    assert.deepEqual([e.shape, e.dtype], [[3, 4], "int16"]);
    assert.deepEqual(torch.arange(5).toArray(), [0, 1, 2, 3, 4]);
    assert.deepEqual(torch.arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
    assert.deepEqual(torch.arange(5, undefined, 1, { dtype: "int64" }).dtype, "int64");
    assert.deepEqual(torch.arange(10, 0, -3).toArray(), [10, 7, 4, 1]);
    assert.deepEqual(torch.linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(torch.eye(2).toArray(), [[1, 0], [0, 1]]);
    assert.deepEqual(torch.eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);

    // Seeded draws are PyTorch's own (same CPU generator).
    torch.manualSeed(7);
    close(flat(torch.rand([4])), rand);
    torch.manualSeed(7);
    close(flat(torch.randn([4])), randn, 1e-6);
    torch.manualSeed(7);
    const ri = torch.randint(0, 10, [6]);
    assert.equal(ri.dtype, "int64");
    assert.deepEqual(ri.toArray(), randint);
    const u = flat(torch.rand([1000]));
    assert(u.every((x) => x >= 0 && x < 1));
    const n = torch.randn([2000]);
    assert(Math.abs(n.mean().item()) < 0.1 && Math.abs(n.std().item() - 1) < 0.1);
    assert(flat(torch.randint(-3, 3, [500], { dtype: "int8" })).every((x) => x >= -3 && x < 3));
    assert.equal(torch.randn([2], { requiresGrad: true }).requiresGrad, true);

    // *Like: the shape and dtype of the model tensor unless overridden.
    const m = torch.zeros([2, 3], { dtype: "float64" });
    for (
      const [name, t] of [
        ["zerosLike", torch.zerosLike(m)],
        ["onesLike", torch.onesLike(m)],
        ["emptyLike", torch.emptyLike(m)],
        ["fullLike", torch.fullLike(m, 4)],
        ["randLike", torch.randLike(m)],
        ["randnLike", torch.randnLike(m)],
      ] as const
    ) {
      assert.deepEqual([t.shape, t.dtype], [[2, 3], "float64"], name);
    }
    assert.deepEqual(torch.onesLike(m).toArray(), [[1, 1, 1], [1, 1, 1]]);
    assert.deepEqual(torch.fullLike(m, 4).toArray(), [[4, 4, 4], [4, 4, 4]]);
    assert.equal(torch.zerosLike(m, { dtype: "int8" }).dtype, "int8");

    // fromBuffer: shape and dtype must account for every byte.
    const buf = new Float32Array([1, 2, 3, 4, 5, 6]);
    assert.deepEqual(torch.fromBuffer(buf, [2, 3], { dtype: "float32" }).toArray(), [[1, 2, 3], [
      4,
      5,
      6,
    ]]);
    assert.deepEqual(torch.fromBuffer(buf.buffer, [3], { dtype: "float64" }).shape, [3]);
    assert.throws(
      () => torch.fromBuffer(buf, [4, 2], { dtype: "float32" }),
      (e: Error) => e instanceof TorchError && /24 bytes do not hold shape \[4,2\]/.test(e.message),
    );
    assert.throws(() => torch.fromBuffer(buf, [6], { dtype: "int64" }), TorchError);
    assert.throws(
      () => torch.fromBuffer(buf, [6], { dtype: "float31" as DType }),
      /unknown dtype "float31"/,
    );
    assert.throws(() => torch.zeros([2.5]), TorchError);
    assert.throws(() => torch.tensor([[1, 2], [3]]), /ragged/);
  });
});

Deno.test("api: sizes and dims given as numbers or as one array, as PyTorch takes both", () => {
  torch.scope(() => {
    const same = (a: Tensor, b: Tensor, what: string) => {
      assert.deepEqual([a.shape, a.dtype], [b.shape, b.dtype], what);
      assert.deepEqual(a.toArray(), b.toArray(), what);
    };
    const x = torch.arange(24).reshape([2, 3, 4]);
    same(x, torch.arange(24).reshape(2, 3, 4), "reshape");
    same(x.reshape(-1, 6), x.reshape([-1, 6]), "reshape with -1");
    assert.deepEqual(x.reshape([6, -1]).shape, [6, 4]);
    same(x.view(4, 6), x.view([4, 6]), "view");
    same(x.permute(2, 0, 1), x.permute([2, 0, 1]), "permute");
    assert.deepEqual(x.permute([2, 0, 1]).shape, [4, 2, 3]);
    const col = torch.tensor([[1], [2]]);
    same(col.expand(2, 3), col.expand([2, 3]), "expand");
    assert.deepEqual(col.expand([2, 3]).toArray(), [[1, 1, 1], [2, 2, 2]]);
    same(col.repeat(2, 2), col.repeat([2, 2]), "repeat");
    same(torch.tensor([5]).reshape([]), torch.tensor([5]).reshape(), "0-d");

    // Reductions over one dim or a list of them.
    same(x.sum(1), x.sum([1]), "sum");
    same(x.sum([0, 2]), x.sum(0).sum(1), "sum over a list of dims");
    same(x.mean(2), x.mean([2]), "mean");
    same(torch.sum(x, 0), torch.sum(x, [0]), "torch.sum");

    // Creation: `zeros([2, 3])`, `zeros(2, 3)`, options last either way.
    for (const f of ["zeros", "ones", "empty"] as const) {
      const a = torch[f]([2, 3], { dtype: "int32" }), b = torch[f](2, 3, { dtype: "int32" });
      assert.deepEqual([a.shape, a.dtype], [b.shape, b.dtype], f);
    }
    same(torch.zeros(2, 3), torch.zeros([2, 3]), "zeros");
    same(torch.ones(4), torch.ones([4]), "ones 1-d");
    same(torch.zeros(), torch.zeros([]), "zeros 0-d");
    for (const f of ["rand", "randn"] as const) {
      torch.manualSeed(3);
      const a = torch[f]([2, 3], { dtype: "float64" });
      torch.manualSeed(3);
      same(a, torch[f](2, 3, { dtype: "float64" }), f);
      torch.manualSeed(3);
      const c = torch[f](5);
      torch.manualSeed(3);
      same(c, torch[f]([5]), `${f} without options`);
    }
    assert.equal(torch.randn(2, 2, { requiresGrad: true }).requiresGrad, true);
    assert.throws(() => torch.zeros(2.5, 2), /shape entries must be integers/);
    assert.throws(
      () => (torch.zeros as (...a: unknown[]) => Tensor)(2, "3"),
      (e: Error) => e instanceof TorchError && /as numbers or one array/.test(e.message),
    );
  });
});

Deno.test("api: toString matches PyTorch's repr", async () => {
  const cases: [() => Tensor, string][] = [
    [() => torch.tensor([[1, 2.5], [3, 4]]), "torch.tensor([[1, 2.5], [3, 4]])"],
    [() => torch.tensor([1, 2, 3], { dtype: "int64" }), "torch.tensor([1, 2, 3])"],
    [
      () => torch.tensor([-10, 2, 3], { dtype: "int32" }),
      "torch.tensor([-10, 2, 3], dtype=torch.int32)",
    ],
    [() => torch.tensor([true, false]), "torch.tensor([True, False])"],
    [
      () => torch.tensor([1.5, 2], { requiresGrad: true }),
      "torch.tensor([1.5, 2.0], requires_grad=True)",
    ],
    [
      () => torch.tensor([1, 2], { dtype: "float64" }),
      "torch.tensor([1.0, 2.0], dtype=torch.float64)",
    ],
    [() => torch.tensor(3.25), "torch.tensor(3.25)"],
    [() => torch.tensor([1e-5, 1]), "torch.tensor([1e-5, 1.0])"],
    [() => torch.tensor([1e10, 1]), "torch.tensor([1e10, 1.0])"],
    [() => torch.tensor([NaN, Infinity, 1.5]), "torch.tensor([float('nan'), float('inf'), 1.5])"],
    [
      () => torch.tensor([0.1, -2.25], { dtype: "float16" }),
      "torch.tensor([0.1, -2.25], dtype=torch.float16)",
    ],
    [() => torch.arange(8).reshape(2, 2, 2), "torch.arange(8.).reshape(2, 2, 2)"],
    [() => torch.zeros([2, 0]), "torch.zeros(2, 0)"],
    [() => torch.zeros([0]), "torch.zeros(0)"],
    [() => torch.zeros([0], { dtype: "int64" }), "torch.zeros(0, dtype=torch.int64)"],
    // a tensor made by recorded ops names its autograd node instead of requires_grad
    [
      () => torch.tensor([1, 2], { requiresGrad: true }).exp().sum(),
      "torch.tensor([1., 2.], requires_grad=True).exp().sum()",
    ],
    [
      () => torch.tensor([[1, -2]], { requiresGrad: true }).relu(),
      "torch.tensor([[1., -2.]], requires_grad=True).relu()",
    ],
    // number formats: integer-valued floats switch to sci past a 1000× range, ties round to even
    [() => torch.tensor([1, 2000]), "torch.tensor([1.0, 2000.0])"],
    [() => torch.tensor([0.001, 2]), "torch.tensor([0.001, 2.0])"],
    [() => torch.tensor([0.03125, 0.09375, 1.5]), "torch.tensor([0.03125, 0.09375, 1.5])"],
    [() => torch.tensor([1.03125, 5000.5]), "torch.tensor([1.03125, 5000.5])"],
    [() => torch.tensor([-0, 1.5]), "torch.tensor([-0.0, 1.5])"],
    [() => torch.tensor([0, NaN]), "torch.tensor([0.0, float('nan')])"],
    [() => torch.tensor([1, NaN, -Infinity]), "torch.tensor([1.0, float('nan'), float('-inf')])"],
    [() => torch.tensor([-1e-7, 3, 1e9]), "torch.tensor([-1e-7, 3.0, 1e9])"],
    // line wrapping at 80 columns, at every depth
    [() => torch.arange(40).div(3), "torch.arange(40.).div(3)"],
    [() => torch.arange(60).reshape(3, 20).mul(1.5), "torch.arange(60.).reshape(3, 20).mul(1.5)"],
    // summarized (> 1000 elements): edges only, formats chosen from the shown values
    [() => torch.arange(5000).reshape(50, 100).sin(), "torch.arange(5000.).reshape(50, 100).sin()"],
    [
      () => torch.arange(14000).reshape(2, 1000, 7).div(7),
      "torch.arange(14000.).reshape(2, 1000, 7).div(7)",
    ],
    [
      () => torch.arange(9600).reshape(2, 3, 40, 40).sub(4000),
      "torch.arange(9600.).reshape(2, 3, 40, 40).sub(4000)",
    ],
    [() => torch.arange(2000, undefined, 1, { dtype: "int64" }), "torch.arange(2000)"],
    [
      () => torch.tensor([2 ** 53, -3], { dtype: "int64" }).add(1),
      "torch.tensor([2**53, -3]).add(1)",
    ],
    [
      () => torch.arange(3000).reshape(3, 1000).remainder(3).eq(0),
      "torch.arange(3000.).reshape(3, 1000).remainder(3).eq(0)",
    ],
    [
      () => torch.arange(1200, undefined, 1, { dtype: "float16" }).div(8),
      "torch.arange(1200, dtype=torch.float16).div(8)",
    ],
    [() => torch.arange(1001).reshape(1001, 1), "torch.arange(1001.).reshape(1001, 1)"],
  ];
  const expected = await py<string>(cases.map(([, p]) => `str(${p})`));
  torch.scope(() => {
    cases.forEach(([js, p], i) => assert.equal(js().toString(), expected[i], p));
  });
});

Deno.test("api: gradFn names the autograd node, null for leaves and unrecorded results", () => {
  torch.scope(() => {
    const a = torch.tensor([1, 2], { requiresGrad: true });
    assert.equal(a.gradFn, null);
    assert.equal(a.mul(a).gradFn, "MulBackward0");
    assert.equal(a.sum().gradFn, "SumBackward0");
    assert.equal(torch.noGrad(() => a.exp()).gradFn, null);
    assert.equal(torch.tensor([1]).exp().gradFn, null);
  });
});

Deno.test("api: item()", () => {
  torch.scope(() => {
    assert.equal(torch.tensor(3.5).item(), 3.5);
    assert.equal(torch.tensor([[7]], { dtype: "int64" }).item(), 7);
    assert.equal(torch.tensor([true]).item(), 1);
    assert.equal(torch.tensor([0.1], { dtype: "float64" }).item(), 0.1);
    assert.throws(() => torch.tensor([1, 2]).item(), TorchError);
  });
});

Deno.test("api: noGrad, detach and zeroGrad", () => {
  torch.scope(() => {
    const x = torch.tensor([1, 2, 3], { requiresGrad: true });
    assert.equal(torch.isGradEnabled(), true);
    const y = torch.noGrad(() => {
      assert.equal(torch.isGradEnabled(), false);
      return x.mul(2);
    });
    assert.equal(torch.isGradEnabled(), true);
    assert.equal(y.requiresGrad, false);
    assert.equal(x.mul(2).requiresGrad, true);
    // Grad mode is restored when the function throws.
    assert.throws(() => torch.noGrad(() => torch.tensor([1, 2]).item()), TorchError);
    assert.equal(torch.isGradEnabled(), true);

    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.isLeaf, true);
    d.fill_(5); // shares storage with x
    assert.deepEqual(x.toArray(), [5, 5, 5]);

    const w = torch.tensor([1, 2], { requiresGrad: true });
    w.mul(w).sum().backward();
    assert.deepEqual(w.grad!.toArray(), [2, 4]);
    w.zeroGrad();
    assert.equal(w.grad, null);
  });
});

Deno.test("api: gradients accumulate across backward calls", () => {
  torch.scope(() => {
    const x = torch.tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).sum().backward();
    const g1 = x.grad!;
    assert.deepEqual(g1.toArray(), [2, 4, 6]);
    x.mul(x).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [4, 8, 12]);
    // One graph backpropagated twice needs retainGraph (x*x saves x for backward).
    const y = x.mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assert.deepEqual(x.grad!.toArray(), [8, 16, 24]);
    assert.throws(() => y.backward(), TorchError);
  });
});

Deno.test("api: torch.grad, with createGraph for a second derivative", () => {
  torch.scope(() => {
    const x = torch.tensor([2, -1], { requiresGrad: true });
    const y = x.pow(3).sum();
    const [dy] = torch.grad(y, x, { createGraph: true });
    assert.deepEqual(dy!.toArray(), [12, 3]); // 3x²
    assert.equal(dy!.requiresGrad, true);
    const [d2y] = torch.grad(dy!.sum(), x);
    assert.deepEqual(d2y!.toArray(), [12, -6]); // 6x
    assert.equal(x.grad, null, "torch.grad must not accumulate into .grad");

    const unused = torch.tensor([1], { requiresGrad: true });
    const z = x.sum();
    assert.deepEqual(
      torch.grad(z, [x, unused], { allowUnused: true }).map((g) => g?.toArray() ?? null),
      [[1, 1], null],
    );
    assert.throws(() => torch.grad(x.sum(), [unused]), TorchError);
  });
});

Deno.test("api: libtorch warnings go to torch.onWarning", () => {
  const seen: string[] = [];
  torch.onWarning((m) => seen.push(m));
  try {
    torch.scope(() => {
      const x = torch.tensor([1, 2], { requiresGrad: true });
      const nonLeaf = x.mul(2);
      assert.equal(nonLeaf.grad, null);
      assert.equal(seen.length, 1, `expected one warning at once, got ${JSON.stringify(seen)}`);
      assert.match(seen[0], /\.grad attribute of a Tensor that is not a leaf Tensor/);
      assert.equal(x.grad, null); // a leaf: no warning
      assert.equal(seen.length, 1);
    });
  } finally {
    torch.onWarning(null);
  }
});

Deno.test("api: nonblocking op calls through torch.ops.aten.<op>.<overload>.async", async () => {
  const addOverload = torch.ops.aten.add.Tensor as unknown as { async?: unknown };
  assert.equal(typeof addOverload.async, "function", "torch.ops.aten.add.Tensor.async is missing");
  const before = torch.memory().liveTensors;
  const a = torch.tensor([1, 2, 3]);
  const b = torch.tensor([10, 20, 30]);
  const pending = torch.ops.aten.add.Tensor.async(a, b, { alpha: 2 });
  a.dispose(); // the call holds its own handles
  b.dispose();
  const sum = await pending;
  assert(sum instanceof Tensor);
  assert.deepEqual(sum.toArray(), [21, 42, 63]);
  sum.dispose();

  // Errors come back as rejected promises with libtorch's message.
  const m = torch.ones([2, 3]);
  const n = torch.ones([2, 3]);
  await assert.rejects(
    torch.ops.aten.mm.default.async(m, n),
    (e: Error) =>
      e instanceof TorchError && /cannot be multiplied|size mismatch|shapes/.test(e.message),
  );

  // The JS thread keeps running while the op does.
  const big = torch.randn([1024, 1024]);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const started = performance.now();
  let product: Tensor | undefined;
  try {
    for (let i = 0; i < 5 && ticks === 0; i++) {
      product?.dispose();
      product = await torch.ops.aten.mm.default.async(big, big);
    }
  } finally {
    clearInterval(timer);
  }
  assert(ticks > 0, `no timer ran during ${performance.now() - started} ms of async matmuls`);
  assert.deepEqual(product!.shape, [1024, 1024]);
  // Grad mode of the caller applies on the pool thread.
  const g = torch.tensor([1], { requiresGrad: true });
  const withGrad = await torch.ops.aten.mul.Tensor.async(g, g);
  assert.equal(withGrad.requiresGrad, true);
  torch.setGradEnabled(false);
  let noGrad: Tensor;
  try {
    noGrad = await torch.ops.aten.mul.Tensor.async(g, g);
  } finally {
    torch.setGradEnabled(true);
  }
  assert.equal(noGrad.requiresGrad, false);
  for (const t of [m, n, big, product!, g, withGrad, noGrad]) t.dispose();
  assert.equal(torch.memory().liveTensors, before);
});

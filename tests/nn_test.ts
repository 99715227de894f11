/**
 * Modules: dotted names, state dicts and their mismatch report, freezing,
 * train/eval, `to()`, lifetime; forward parity of each layer with torch.nn
 * given the same weights (≤ 1e-6); initialization equal to torch.nn's under
 * the same seed (tests/oracle/nn.py runs the Python side).
 */
import assert from "node:assert/strict";
import { nn, torch } from "../mod.ts";
import type { Tensor } from "../mod.ts";
import { ROOT, runPython } from "./helpers.ts";

const THREADS = 1;
torch.setNumThreads(THREADS);

interface Enc {
  shape: number[];
  values: number[];
  dtype?: string;
}
const enc = (t: Tensor): Enc => ({
  shape: t.shape,
  values: t.toFlat() as number[],
  dtype: t.dtype,
});
type PyOut = Record<string, Record<string, Enc>>;
const oracle = (cases: unknown[]) =>
  runPython<PyOut>(`${ROOT}/tests/oracle/nn.py`, { threads: THREADS, cases });

function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** A CLIP-like encoder block, to check names several levels deep. */
class Block extends nn.Module {
  readonly selfAttn: nn.MultiheadSelfAttention;
  readonly layerNorm1: nn.LayerNorm;
  readonly mlp: nn.Sequential;
  constructor(d: number) {
    super();
    this.selfAttn = this.registerModule("self_attn", new nn.MultiheadSelfAttention(d, 2));
    this.layerNorm1 = this.registerModule("layer_norm1", new nn.LayerNorm(d));
    this.mlp = this.registerModule(
      "mlp",
      new nn.Sequential(new nn.Linear(d, 2 * d), new nn.QuickGELU(), new nn.Linear(2 * d, d)),
    );
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const h = x.add(this.selfAttn.forward(this.layerNorm1.forward(x)));
      return h.add(this.mlp.forward(h));
    });
  }
}

class Encoder extends nn.Module {
  readonly layers: nn.ModuleList<Block>;
  readonly stem: nn.Conv2d;
  readonly bn: nn.BatchNorm2d;
  readonly scratch: Tensor;
  constructor() {
    super();
    this.stem = this.registerModule("stem", new nn.Conv2d(3, 4, 3, { bias: false }));
    this.bn = this.registerModule("bn", new nn.BatchNorm2d(4));
    this.layers = this.registerModule("layers", new nn.ModuleList([new Block(4), new Block(4)]));
    this.scratch = this.registerBuffer("scratch", torch.zeros([2]), { persistent: false });
  }
}

class Model extends nn.Module {
  readonly encoder: Encoder;
  readonly head: nn.Linear;
  constructor() {
    super();
    this.encoder = this.registerModule("encoder", new Encoder());
    this.head = this.registerModule("head", new nn.Linear(4, 3));
  }
}

Deno.test("nn: PyTorch-style dotted names, buffers, children, modules", () => {
  torch.manualSeed(0);
  const m = new Model();
  const names = m.namedParameters().map(([n]) => n);
  assert.ok(names.includes("encoder.layers.0.self_attn.q_proj.weight"));
  assert.ok(names.includes("encoder.layers.1.mlp.2.bias"));
  assert.deepEqual(
    names.filter((n) => n.startsWith("encoder.layers.0.self_attn.")),
    ["k_proj", "v_proj", "q_proj", "out_proj"].flatMap((p) =>
      [`${p}.weight`, `${p}.bias`].map((s) => `encoder.layers.0.self_attn.${s}`)
    ),
  );
  assert.ok(!names.includes("encoder.stem.bias")); // bias: false
  // A module's own tensors come before its children's, as in PyTorch.
  assert.deepEqual(m.namedBuffers().map(([n]) => n), [
    "encoder.scratch",
    "encoder.bn.running_mean",
    "encoder.bn.running_var",
    "encoder.bn.num_batches_tracked",
  ]);
  const sd = m.stateDict();
  assert.ok(sd.has("encoder.bn.num_batches_tracked"));
  assert.ok(!sd.has("encoder.scratch")); // non-persistent
  assert.equal(sd.size, names.length + 3);
  assert.deepEqual(m.namedChildren().map(([n]) => n), ["encoder", "head"]);
  assert.deepEqual(
    m.namedModules().map(([n]) => n).slice(0, 6),
    ["", "encoder", "encoder.stem", "encoder.bn", "encoder.layers", "encoder.layers.0"],
  );
  assert.equal(
    m.numParameters(),
    m.parameters().reduce((s, p) => s + p.numel, 0),
  );
  assert.equal(m.numParameters(), 4 * 3 * 9 + 8 + 2 * (4 * 20 + 8 + 8 * 4 + 8 + 4 * 8 + 4) + 15);
  assert.match(m.toString(), /\(q_proj\): Linear\(inFeatures=4, outFeatures=4, bias=true\)/);
  assert.throws(() => m.registerModule("head", new nn.ReLU()), /already registered/);
  assert.throws(() => m.registerParameter("a.b", torch.zeros([1])), /contain no "."/);
  m.dispose();
});

Deno.test("nn: tied weights appear once; parameters survive scopes; dispose frees them", () => {
  const before = torch.memory().liveTensors;
  const [a, b] = torch.scope(() => {
    const a = new nn.Linear(3, 3);
    const b = new nn.Linear(3, 3, { bias: false });
    torch.randn([10]); // a temporary, freed
    return [a, b];
  });
  class Tied extends nn.Module {
    constructor() {
      super();
      this.registerModule("a", a);
      this.registerModule("b", b);
      this.registerParameter("shared", a.weight);
    }
  }
  const t = new Tied();
  assert.deepEqual(t.namedParameters().map(([n]) => n), ["shared", "a.bias", "b.weight"]);
  torch.scope(() => assert.equal(a.forward(torch.ones([1, 3])).shape.join(), "1,3"));
  assert.equal(torch.memory().liveTensors, before + 3);
  t.dispose();
  assert.equal(torch.memory().liveTensors, before);
});

Deno.test("nn: stateDict → loadStateDict round trip copies values into the same tensors", () => {
  torch.manualSeed(1);
  const a = new Model();
  torch.manualSeed(2);
  const b = new Model();
  const bParams = b.parameters();
  const res = b.loadStateDict(a.stateDict());
  assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
  for (const [k, t] of a.stateDict()) {
    assert.deepEqual(b.stateDict().get(k)!.toFlat(), t.toFlat(), k);
  }
  assert.ok(b.parameters().every((p, i) => p === bParams[i])); // same objects, values copied
  assert.ok(b.parameters().every((p) => p.requiresGrad && p.isLeaf));
  torch.noGrad(() => a.head.weight.fill_(7));
  assert.notEqual(b.head.weight.toFlat()[0], 7); // a copy, not an alias
  // A plain object works too, and dtype is converted.
  const half = torch.scope(() =>
    Object.fromEntries([...a.stateDict()].map(([k, t]) => [k, torch.keep(t.double())]))
  );
  b.loadStateDict(half);
  assert.equal(b.head.weight.dtype, "float32");
  assert.equal(b.head.weight.toFlat()[0], 7);
  for (const t of Object.values(half)) t.dispose();
  a.dispose();
  b.dispose();
});

Deno.test("nn: loadStateDict names every missing, unexpected and wrongly-shaped key in one error", () => {
  torch.manualSeed(3);
  const m = new Model();
  const sd = new Map(m.stateDict());
  const headBefore = m.head.weight.toFlat();
  const stray = torch.keep(torch.zeros([2]));
  const wrong1 = torch.keep(torch.zeros([3, 5]));
  const wrong2 = torch.keep(torch.zeros([4, 4, 1]));
  const ones = torch.keep(torch.onesLike(m.head.bias!));
  sd.delete("encoder.layers.1.self_attn.v_proj.bias");
  sd.delete("encoder.bn.running_var");
  sd.set("encoder.layers.0.extra", stray);
  sd.set("head.weight", wrong1);
  sd.set("encoder.layers.0.mlp.2.weight", wrong2);
  sd.set("head.bias", ones);
  let err: nn.StateDictError | undefined;
  try {
    m.loadStateDict(sd);
  } catch (e) {
    err = e as nn.StateDictError;
  }
  assert.ok(err instanceof nn.StateDictError);
  assert.deepEqual(
    err.missingKeys,
    [
      "encoder.bn.running_var",
      "encoder.layers.1.self_attn.v_proj.bias",
    ].sort((x, y) => [...m.stateDict().keys()].indexOf(x) - [...m.stateDict().keys()].indexOf(y)),
  );
  assert.deepEqual(err.unexpectedKeys, ["encoder.layers.0.extra"]);
  assert.deepEqual(err.shapeMismatches.map((s) => s.key).sort(), [
    "encoder.layers.0.mlp.2.weight",
    "head.weight",
  ]);
  for (
    const k of [
      "encoder.bn.running_var",
      "encoder.layers.1.self_attn.v_proj.bias",
      "encoder.layers.0.extra",
      "head.weight: expected [3,4], got [3,5]",
      "encoder.layers.0.mlp.2.weight: expected [4,8], got [4,4,1]",
    ]
  ) assert.ok(err.message.includes(k), `message lacks ${k}:\n${err.message}`);
  // Nothing was loaded.
  assert.notDeepEqual(m.head.bias!.toFlat(), [1, 1, 1]);
  assert.deepEqual(m.head.weight.toFlat(), headBefore);
  // strict: false allows missing/unexpected keys but not shape mismatches.
  assert.throws(() => m.loadStateDict(sd, { strict: false }), /shape mismatches \(2\)/);
  sd.set("head.weight", m.head.weight);
  sd.set("encoder.layers.0.mlp.2.weight", m.stateDict().get("encoder.layers.0.mlp.2.weight")!);
  const res = m.loadStateDict(sd, { strict: false });
  assert.equal(res.missingKeys.length, 2);
  assert.deepEqual(res.unexpectedKeys, ["encoder.layers.0.extra"]);
  assert.deepEqual(m.head.bias!.toFlat(), [1, 1, 1]);
  for (const t of [stray, wrong1, wrong2, ones]) t.dispose();
  m.dispose();
});

Deno.test("nn: requiresGrad_(false) freezes a subtree", () => {
  torch.manualSeed(4);
  const m = new Model();
  const total = m.numParameters();
  m.encoder.requiresGrad_(false);
  assert.equal(m.numParameters({ trainableOnly: true }), 15);
  assert.equal(m.numParameters(), total);
  torch.scope(() => {
    const feats = torch.randn([2, 5, 4]);
    let h = feats;
    for (const blk of m.encoder.layers) h = blk.forward(h);
    m.head.forward(h).sum().backward();
  });
  assert.ok(m.head.weight.grad !== null);
  assert.ok(m.encoder.layers.at(0).selfAttn.qProj.weight.grad === null);
  m.zeroGrad();
  assert.ok(m.head.weight.grad === null);
  m.requiresGrad_(true);
  assert.equal(m.numParameters({ trainableOnly: true }), total);
  m.dispose();
});

Deno.test("nn: train/eval switch Dropout and BatchNorm2d", () => {
  const d = new nn.Dropout(0.25);
  const bn = new nn.BatchNorm2d(3, { momentum: 0.5 });
  const seq = new nn.Sequential(bn, d);
  torch.scope(() => {
    const x = torch.ones([64, 64]);
    const y = d.forward(x).toFlat() as number[];
    const zeros = y.filter((v) => v === 0).length;
    assert.ok(zeros > 4096 * 0.2 && zeros < 4096 * 0.3, `dropped ${zeros} of 4096`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
    seq.eval();
    assert.equal(d.training, false);
    assert.equal(bn.training, false);
    assert.deepEqual(d.forward(x).toFlat(), x.toFlat());
    // Eval: running stats (0, 1) used and left alone.
    const img = torch.randn([4, 3, 2, 2]).mul(3).add(2);
    const evalOut = bn.forward(img);
    assert.ok(
      maxDiff(evalOut.toFlat() as number[], img.div(Math.sqrt(1 + 1e-5)).toFlat() as number[]) <
        1e-6,
    );
    assert.deepEqual(bn.runningMean!.toFlat(), [0, 0, 0]);
    assert.equal(bn.numBatchesTracked!.item(), 0);
    seq.train();
    const out = bn.forward(img);
    assert.ok(Math.abs(out.mean().item()) < 1e-5); // batch statistics
    assert.equal(bn.numBatchesTracked!.item(), 1);
    const mean = img.mean([0, 2, 3]).mul(0.5);
    assert.ok(maxDiff(bn.runningMean!.toFlat() as number[], mean.toFlat() as number[]) < 1e-6);
  });
  seq.dispose();
});

Deno.test("nn: to(dtype) converts floating parameters and buffers in place, gradients included", () => {
  torch.manualSeed(5);
  const m = new Model();
  const p0 = m.head.weight;
  torch.scope(() => m.head.forward(torch.randn([2, 4])).sum().backward());
  m.to("float64");
  assert.equal(m.head.weight, p0); // same object
  assert.equal(p0.dtype, "float64");
  assert.equal(p0.grad!.dtype, "float64");
  assert.ok(p0.requiresGrad && p0.isLeaf);
  assert.equal(m.encoder.bn.runningMean!.dtype, "float64");
  assert.equal(m.encoder.bn.numBatchesTracked!.dtype, "int64");
  torch.scope(() => {
    const y = m.head.forward(torch.randn([2, 4], { dtype: "float64" }));
    assert.equal(y.dtype, "float64");
    y.sum().backward();
  });
  m.to("float32").to("cpu");
  assert.equal(p0.dtype, "float32");
  m.dispose();
});

Deno.test("nn: forward parity with torch.nn given the same weights (≤ 1e-6)", async () => {
  torch.manualSeed(6);
  const cases: {
    id: string;
    mod: nn.Module & { forward(...a: never[]): Tensor };
    spec: Record<string, unknown>;
    inputs: Tensor[];
    train: boolean;
    call?: (m: never) => Tensor;
    kwargs?: Record<string, unknown>;
  }[] = [];
  const add = (
    id: string,
    mod: nn.Module,
    spec: Record<string, unknown>,
    inputs: Tensor[],
    train = false,
    call?: (m: never) => Tensor,
    kwargs?: Record<string, unknown>,
  ) =>
    cases.push({
      id,
      mod: mod as never,
      spec,
      inputs: inputs.map((t) => torch.keep(t)),
      train,
      call,
      kwargs,
    });
  add("linear", new nn.Linear(7, 5), { kind: "linear", in: 7, out: 5 }, [torch.randn([3, 2, 7])]);
  add("linear-nobias", new nn.Linear(7, 5, { bias: false }), {
    kind: "linear",
    in: 7,
    out: 5,
    bias: false,
  }, [torch.randn([4, 7])]);
  add(
    "conv2d",
    new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2 }),
    { kind: "conv2d", in: 4, out: 6, k: 3, stride: 2, padding: 1, groups: 2 },
    [torch.randn([2, 4, 9, 8])],
  );
  add(
    "conv2d-dilated",
    new nn.Conv2d(3, 2, [3, 2], { dilation: 2, bias: false }),
    { kind: "conv2d", in: 3, out: 2, k: [3, 2], dilation: 2, bias: false },
    [torch.randn([1, 3, 10, 10])],
  );
  const ln = new nn.LayerNorm([4, 5], { eps: 1e-6 });
  torch.noGrad(() => {
    nn.init.normal_(ln.weight!);
    nn.init.normal_(ln.bias!);
  });
  add("layernorm", ln, { kind: "layernorm", shape: [4, 5], eps: 1e-6 }, [
    torch.randn([3, 4, 5]).mul(4).add(1),
  ]);
  for (const train of [true, false]) {
    const bn = new nn.BatchNorm2d(3, { momentum: 0.3 });
    torch.noGrad(() => {
      nn.init.normal_(bn.weight!);
      nn.init.normal_(bn.bias!);
      nn.init.uniform_(bn.runningMean!);
      nn.init.uniform_(bn.runningVar!, 0.5, 2);
      bn.numBatchesTracked!.fill_(3);
    });
    add(
      `batchnorm2d-${train ? "train" : "eval"}`,
      bn,
      {
        kind: "batchnorm2d",
        c: 3,
        momentum: 0.3,
      },
      [torch.randn([5, 3, 4, 3]).mul(2).add(1)],
      train,
    );
  }
  // momentum null: a cumulative average over the batches seen (3 before this one).
  const cum = new nn.BatchNorm2d(3, { momentum: null });
  torch.noGrad(() => {
    nn.init.uniform_(cum.runningMean!);
    cum.numBatchesTracked!.fill_(3);
  });
  add("batchnorm2d-cumulative", cum, { kind: "batchnorm2d", c: 3, momentum: null }, [
    torch.randn([4, 3, 2, 2]),
  ], true);
  add("embedding", new nn.Embedding(10, 4, { paddingIdx: -2 }), {
    kind: "embedding",
    n: 10,
    d: 4,
    padding_idx: 8,
  }, [torch.tensor([[1, 8, 3], [9, 0, 8]], { dtype: "int64" })]);
  const mha = new nn.MultiheadSelfAttention(16, 4);
  add("mha", mha, { kind: "mha", d: 16, heads: 4 }, [torch.randn([2, 6, 16])], true);
  // Causal: ours with isCausal, torch.nn's with an additive mask (-1e9: JSON has no -Infinity;
  // exp underflows to 0 all the same).
  const causal = torch.tensor(
    Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (j > i ? -1e9 : 0))),
  );
  add(
    "mha-causal",
    mha,
    { kind: "mha", d: 16, heads: 4 },
    [torch.randn([2, 6, 16])],
    true,
    ((m: nn.MultiheadSelfAttention, x: Tensor) => m.forward(x, { isCausal: true })) as never,
    { mask: enc(causal) },
  );
  const mask = torch.randn([6, 6]);
  add(
    "mha-mask",
    mha,
    { kind: "mha", d: 16, heads: 4 },
    [torch.randn([2, 6, 16])],
    true,
    ((m: nn.MultiheadSelfAttention, x: Tensor) => m.forward(x, { attnMask: mask })) as never,
    { mask: enc(mask) },
  );

  const py = await oracle(cases.map((c) => ({
    id: c.id,
    op: "forward",
    spec: c.spec,
    weights: Object.fromEntries([...c.mod.stateDict()].map(([k, t]) => [k, enc(t)])),
    inputs: c.inputs.map(enc),
    train: c.train,
    kwargs: c.kwargs ?? {},
  })));
  const report: string[] = [];
  for (const c of cases) {
    c.mod.train(c.train);
    const diff = torch.scope(() => {
      const out = c.call
        ? (c.call as unknown as (m: nn.Module, x: Tensor) => Tensor)(c.mod, c.inputs[0])
        : (c.mod.forward as (...a: Tensor[]) => Tensor)(...c.inputs);
      assert.deepEqual(out.shape, py[c.id].out.shape, c.id);
      let d = maxDiff(out.toFlat() as number[], py[c.id].out.values);
      // State after the call (batch norm's running statistics).
      for (const [k, t] of c.mod.stateDict()) {
        const theirs = py[c.id][`state.${k}`];
        if (theirs && c.spec.kind !== "mha") {
          d = Math.max(d, maxDiff(t.toFlat() as number[], theirs.values));
        }
      }
      return d;
    });
    report.push(`${c.id.padEnd(20)} max |Δ| = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-6, `${c.id}: max abs diff ${diff}`);
  }
  console.log(report.join("\n"));
  for (const c of cases) {
    c.mod.dispose();
    for (const t of c.inputs) t.dispose();
  }
  mask.dispose();
  causal.dispose();
});

Deno.test("nn: init follows the seed and equals torch.nn's under the same seed", async () => {
  const modules: [string, () => nn.Module, Record<string, unknown>][] = [
    ["linear", () => new nn.Linear(13, 7), { kind: "linear", in: 13, out: 7 }],
    ["conv2d", () => new nn.Conv2d(4, 6, 3, { groups: 2 }), {
      kind: "conv2d",
      in: 4,
      out: 6,
      k: 3,
      groups: 2,
    }],
    ["embedding", () => new nn.Embedding(9, 5, { paddingIdx: 2 }), {
      kind: "embedding",
      n: 9,
      d: 5,
      padding_idx: 2,
    }],
    ["layernorm", () => new nn.LayerNorm(6), { kind: "layernorm", shape: [6] }],
    ["batchnorm2d", () => new nn.BatchNorm2d(3), { kind: "batchnorm2d", c: 3 }],
  ];
  type Fn = (t: Tensor) => Tensor;
  const fns: [string, Fn, string, Record<string, unknown>, number[]][] = [
    ["trunc-std", (t) => nn.init.truncNormal_(t, { std: 0.02 }), "trunc_normal_", { std: 0.02 }, [
      50,
      40,
    ]],
    // A window holding little of the mass: the uniform-proposal branch.
    [
      "trunc-tail",
      (t) => nn.init.truncNormal_(t, { mean: 0, std: 1, a: 2, b: 3 }),
      "trunc_normal_",
      { mean: 0, std: 1, a: 2, b: 3 },
      [300],
    ],
    // Bounds within the bulk: the rejection branch redraws some.
    ["trunc-narrow", (t) => nn.init.truncNormal_(t, { a: -1, b: 1 }), "trunc_normal_", {
      a: -1,
      b: 1,
    }, [400]],
    ["xavier-uniform", (t) => nn.init.xavierUniform_(t, 1.5), "xavier_uniform_", { gain: 1.5 }, [
      8,
      3,
      2,
    ]],
    ["xavier-normal", (t) => nn.init.xavierNormal_(t), "xavier_normal_", {}, [8, 6]],
    [
      "kaiming-uniform",
      (t) => nn.init.kaimingUniform_(t, { a: 0.2 }),
      "kaiming_uniform_",
      { a: 0.2 },
      [5, 4, 3],
    ],
    [
      "kaiming-normal",
      (t) => nn.init.kaimingNormal_(t, { mode: "fanOut", nonlinearity: "relu" }),
      "kaiming_normal_",
      { mode: "fan_out", nonlinearity: "relu" },
      [6, 5],
    ],
    ["normal", (t) => nn.init.normal_(t, 1, 2), "normal_", { mean: 1, std: 2 }, [10]],
    ["uniform", (t) => nn.init.uniform_(t, -3, 1), "uniform_", { a: -3, b: 1 }, [10]],
  ];
  const py = await oracle([
    ...modules.map(([id, , spec]) => ({ id, op: "init_module", seed: 11, spec })),
    ...fns.map(([id, , fn, kwargs, shape]) => ({
      id,
      op: "init_fn",
      seed: 12,
      fn,
      kwargs,
      shape,
    })),
  ]);
  for (const [id, make] of modules) {
    torch.manualSeed(11);
    const a = make();
    torch.manualSeed(11);
    const b = make();
    for (const [k, t] of a.stateDict()) {
      assert.deepEqual(t.toFlat(), b.stateDict().get(k)!.toFlat(), `${id}.${k}: not reproducible`);
      assert.deepEqual(t.toFlat(), py[id][k].values, `${id}.${k}: differs from torch.nn`);
    }
    a.dispose();
    b.dispose();
  }
  for (const [id, fn, , , shape] of fns) {
    torch.manualSeed(12);
    const t = torch.keep(torch.empty(shape));
    fn(t);
    assert.deepEqual(t.toFlat(), py[id].out.values, `${id}: differs from torch.nn.init`);
    if (id.startsWith("trunc")) {
      const v = t.toFlat() as number[];
      const [lo, hi] = id === "trunc-tail" ? [2, 3] : id === "trunc-narrow" ? [-1, 1] : [-2, 2];
      assert.ok(v.every((x) => x >= lo && x <= hi), `${id}: out of bounds`);
    }
    t.dispose();
  }
  assert.throws(() => nn.init.xavierUniform_(torch.zeros([3])), /at least 2 dimensions/);
  assert.equal(nn.init.calculateGain("leaky_relu", Math.sqrt(5)), Math.sqrt(2 / 6.000000000000001));
});

Deno.test("nn: activations and Sequential", () => {
  torch.scope(() => {
    const x = torch.tensor([-2, -0.5, 0, 1.5]);
    const q = new nn.QuickGELU().forward(x).toFlat() as number[];
    const expect = [-2, -0.5, 0, 1.5].map((v) => v / (1 + Math.exp(-1.702 * v)));
    assert.ok(maxDiff(q, expect) < 1e-6);
    assert.deepEqual(new nn.ReLU().forward(x).toFlat(), [0, 0, 0, 1.5]);
    assert.deepEqual(
      new nn.LeakyReLU(0.1).forward(x).toFlat(),
      [-0.2, -0.05, 0, 1.5].map(Math.fround),
    );
    assert.deepEqual(new nn.GELU().forward(x).toFlat(), x.gelu().toFlat());
    assert.deepEqual(
      new nn.GELU({ approximate: "tanh" }).forward(x).toFlat(),
      x.gelu({ approximate: "tanh" }).toFlat(),
    );
    const seq = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
    assert.deepEqual([...seq.stateDict().keys()], ["0.weight", "0.bias", "2.weight", "2.bias"]);
    assert.equal(seq.length, 3);
    assert.ok(seq.at(-1) instanceof nn.Linear);
    const live = torch.memory().liveTensors;
    const y = seq.forward(torch.ones([5, 4]));
    assert.deepEqual(y.shape, [5, 2]);
    assert.equal(torch.memory().liveTensors, live + 2); // the input and the output only
    seq.dispose();
  });
});

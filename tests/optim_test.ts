/**
 * Optimizers against torch.optim, resume from a state dict, clipping and
 * schedules.
 *
 * Parity: the same MLP (Linear(8,16) GELU Linear(16,16) ReLU Linear(16,4),
 * MSE), the same initial weights and batches, 50 steps of SGD-momentum
 * (plain and Nesterov), Adam and AdamW, each with weight decay, two parameter
 * groups with their own lr and weight decay, and the cosine-with-warm-up
 * schedule (LambdaLR with the same formula in Python). Our fused and
 * per-parameter-loop paths are each compared with Python's fused and its
 * default (single-tensor) path; the final parameters must agree within 1e-6
 * (the measured max abs differences are printed).
 */
import assert from "node:assert/strict";
import { nn, optim, torch } from "../mod.ts";
import type { Tensor } from "../mod.ts";
import { ROOT, runPython } from "./helpers.ts";

const STEPS = 50, BATCH = 16, ROWS = 64;
const THREADS = 1;
torch.setNumThreads(THREADS);

/** The test MLP, initialized from the global seed. */
function mlp(): nn.Sequential {
  return new nn.Sequential(
    new nn.Linear(8, 16),
    new nn.GELU(),
    new nn.Linear(16, 16),
    new nn.ReLU(),
    new nn.Linear(16, 4),
  );
}

const flat = (t: Tensor) => ({ shape: t.shape, values: t.toFlat() as number[] });

type OptName = "sgd" | "adam" | "adamw";
interface Case {
  id: string;
  optimizer: OptName;
  impl: "fused" | "forloop";
  pyImpl: "default" | "fused" | "foreach";
  defaults: Record<string, unknown>;
  groups: ({ names: string[] } & Record<string, unknown>)[];
  schedule: { warmupSteps: number; totalSteps: number; minLrRatio: number } | null;
  clip: number | null;
}

const WEIGHTS = ["0.weight", "2.weight"];
const OTHERS = ["0.bias", "2.bias", "4.weight", "4.bias"];
const SCHEDULE = { warmupSteps: 5, totalSteps: STEPS, minLrRatio: 0.1 };

const BASE: Record<OptName, Omit<Case, "id" | "impl" | "pyImpl">> = {
  sgd: {
    optimizer: "sgd",
    defaults: { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 },
    groups: [{ names: WEIGHTS, lr: 0.1, weightDecay: 5e-3 }, { names: OTHERS }],
    schedule: SCHEDULE,
    clip: null,
  },
  adam: {
    optimizer: "adam",
    defaults: { lr: 1e-2, betas: [0.8, 0.99], weightDecay: 1e-2, eps: 1e-7 },
    groups: [{ names: WEIGHTS, lr: 2e-2, weightDecay: 5e-2 }, { names: OTHERS, amsgrad: true }],
    schedule: SCHEDULE,
    clip: null,
  },
  adamw: {
    optimizer: "adamw",
    defaults: { lr: 1e-2, weightDecay: 0.1 },
    groups: [{ names: WEIGHTS, lr: 3e-2 }, { names: OTHERS, weightDecay: 0, amsgrad: true }],
    schedule: SCHEDULE,
    clip: 0.5,
  },
};

function cases(): Case[] {
  const out: Case[] = [];
  for (const name of ["sgd", "adam", "adamw"] as const) {
    for (const impl of ["fused", "forloop"] as const) {
      for (const pyImpl of ["default", "fused"] as const) {
        out.push({ id: `${name}/${impl}~py-${pyImpl}`, impl, pyImpl, ...BASE[name] });
      }
    }
  }
  // Nesterov (dampening must be 0), and momentum 0 (no state).
  for (const impl of ["fused", "forloop"] as const) {
    out.push({
      ...BASE.sgd,
      id: `sgd-nesterov/${impl}~py-default`,
      impl,
      pyImpl: "default",
      defaults: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
    });
    out.push({
      ...BASE.sgd,
      id: `sgd-plain/${impl}~py-default`,
      impl,
      pyImpl: "default",
      defaults: { lr: 0.05 },
      schedule: null,
    });
  }
  return out;
}

function makeOptimizer(c: Case, model: nn.Module): optim.Optimizer<optim.GroupHyper> {
  const named = new Map(model.namedParameters());
  const groups = c.groups.map(({ names, ...h }) => ({
    ...h,
    params: names.map((n) => named.get(n)!),
  }));
  const opts = { ...c.defaults, implementation: c.impl };
  // deno-lint-ignore no-explicit-any
  const g = groups as any;
  if (c.optimizer === "sgd") return new optim.SGD(g, opts);
  if (c.optimizer === "adam") return new optim.Adam(g, opts);
  return new optim.AdamW(g, opts);
}

/** Trains `model` from step `from` to `to` (exclusive) with `opt` (and its schedule). */
function train(
  model: nn.Sequential,
  opt: optim.Optimizer<optim.GroupHyper>,
  sched: optim.LRSchedule | null,
  c: Case,
  x: Tensor,
  y: Tensor,
  from: number,
  to: number,
): number[] {
  const losses: number[] = [];
  for (let i = from; i < to; i++) {
    torch.scope(() => {
      const lo = (i * BATCH) % ROWS;
      opt.zeroGrad();
      const loss = torch.mseLoss(model.forward(x.narrow(0, lo, BATCH)), y.narrow(0, lo, BATCH));
      loss.backward();
      if (c.clip !== null) optim.clipGradNorm(model.parameters(), c.clip);
      opt.step();
      sched?.step();
      losses.push(loss.item());
    });
  }
  return losses;
}

function schedule(c: Case, opt: optim.Optimizer<optim.GroupHyper>): optim.LRSchedule | null {
  return c.schedule ? new optim.CosineWithWarmup(opt, c.schedule) : null;
}

function data() {
  torch.manualSeed(7);
  const x = torch.keep(torch.randn([ROWS, 8]));
  const y = torch.keep(torch.randn([ROWS, 4]));
  return { x, y };
}

Deno.test("optim: fused kernels are present in this libtorch (CPU)", () => {
  for (const k of ["aten::_fused_adam_", "aten::_fused_adamw_", "aten::_fused_sgd_"]) {
    assert.ok(optim.hasOp(k), `${k} missing`);
  }
  const p = torch.keep(torch.zeros([2], { requiresGrad: true }));
  assert.equal(new optim.Adam([p]).implementation, "fused");
  assert.equal(new optim.SGD([p], { implementation: "forloop" }).implementation, "forloop");
  p.dispose();
});

Deno.test("optim: 50 steps match torch.optim within 1e-6 (SGD, Adam, AdamW; groups, wd, cosine warm-up)", async () => {
  const { x, y } = data();
  torch.manualSeed(0);
  const init = mlp();
  const weights = Object.fromEntries([...init.stateDict()].map(([k, t]) => [k, flat(t)]));
  const cs = cases();
  const py = await runPython<
    Record<string, { params: Record<string, number[]>; losses: number[] }>
  >(`${ROOT}/tests/oracle/optim.py`, {
    threads: THREADS,
    x: flat(x),
    y: flat(y),
    weights,
    cases: cs.map((c) => ({
      id: c.id,
      optimizer: c.optimizer,
      impl: c.pyImpl,
      defaults: c.defaults,
      groups: c.groups,
      schedule: c.schedule,
      steps: STEPS,
      batch: BATCH,
      clip: c.clip,
    })),
  });
  const report: string[] = [];
  let worst = 0;
  for (const c of cs) {
    const model = mlp();
    model.loadStateDict(init.stateDict());
    const opt = makeOptimizer(c, model);
    assert.equal((opt as unknown as { implementation: string }).implementation, c.impl);
    train(model, opt, schedule(c, opt), c, x, y, 0, STEPS);
    let diff = 0;
    for (const [k, t] of model.stateDict()) {
      const ours = t.toFlat() as number[], theirs = py[c.id].params[k];
      assert.equal(ours.length, theirs.length, k);
      for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
    }
    // The parameters moved: the comparison is not of two untouched copies.
    const moved = Math.abs(
      (model.stateDict().get("4.bias")!.toFlat()[0] as number) -
        (init.stateDict().get("4.bias")!.toFlat()[0] as number),
    );
    assert.ok(moved > 1e-4, `${c.id}: parameters did not move`);
    report.push(`${c.id.padEnd(32)} max |Δparam| = ${diff.toExponential(2)}`);
    worst = Math.max(worst, diff);
    assert.ok(diff <= 1e-6, `${c.id}: max abs diff ${diff} > 1e-6`);
    opt.dispose();
    model.dispose();
  }
  console.log(report.join("\n") + `\nworst: ${worst.toExponential(2)}`);
  init.dispose();
  x.dispose();
  y.dispose();
});

Deno.test("optim: stateDict → loadStateDict resume gives the uninterrupted trajectory exactly", () => {
  const { x, y } = data();
  for (const name of ["sgd", "adam", "adamw"] as const) {
    for (const impl of ["fused", "forloop"] as const) {
      const c: Case = { ...BASE[name], id: name, impl, pyImpl: "default" };
      torch.manualSeed(1);
      const a = mlp();
      const optA = makeOptimizer(c, a);
      const lossesA = train(a, optA, schedule(c, optA), c, x, y, 0, STEPS);

      // Interrupted run: 20 steps, checkpoint (copies), drop everything, rebuild, resume.
      torch.manualSeed(1);
      const b = mlp();
      let optB = makeOptimizer(c, b);
      let schedB = schedule(c, optB);
      const lossesB = train(b, optB, schedB, c, x, y, 0, 20);
      const ckpt = torch.scope(() => {
        const sd = optB.stateDict();
        const state = Object.fromEntries(
          Object.entries(sd.state).map((
            [k, s],
          ) => [
            k,
            Object.fromEntries(Object.entries(s).map(([n, t]) => [n, torch.keep(t.clone())])),
          ]),
        );
        return {
          model: new Map([...b.stateDict()].map(([k, t]) => [k, torch.keep(t.clone())])),
          optim: { state, paramGroups: JSON.parse(JSON.stringify(sd.paramGroups)) },
          sched: schedB?.stateDict() ?? null,
        };
      });
      optB.dispose();
      b.dispose();
      torch.manualSeed(99); // a different init: everything must come from the checkpoint
      const b2 = mlp();
      b2.loadStateDict(ckpt.model);
      optB = makeOptimizer(c, b2);
      optB.loadStateDict(ckpt.optim);
      schedB = schedule(c, optB);
      if (ckpt.sched) schedB!.loadStateDict(ckpt.sched);
      for (const t of ckpt.model.values()) t.dispose();
      for (const s of Object.values(ckpt.optim.state)) {
        for (const t of Object.values(s)) t.dispose();
      }
      lossesB.push(...train(b2, optB, schedB, c, x, y, 20, STEPS));

      assert.deepEqual(lossesB, lossesA, `${name}/${impl}: loss trajectories differ`);
      for (const [k, t] of a.stateDict()) {
        assert.deepEqual(
          b2.stateDict().get(k)!.toFlat(),
          t.toFlat(),
          `${name}/${impl}: ${k} differs after resume`,
        );
      }
      optA.dispose();
      optB.dispose();
      a.dispose();
      b2.dispose();
    }
  }
  x.dispose();
  y.dispose();
});

Deno.test("optim: a step allocates no lasting tensors; state is kept past scopes", () => {
  torch.manualSeed(3);
  const model = mlp();
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
  const x = torch.keep(torch.randn([4, 8]));
  const step = () =>
    torch.scope(() => {
      opt.zeroGrad();
      model.forward(x).sum().backward();
      optim.clipGradNorm(model.parameters(), 1);
      opt.step();
    });
  step();
  const live = torch.memory().liveTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(torch.memory().liveTensors, live);
  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.state).length, 6);
  assert.deepEqual(Object.keys(sd.state["0"]).sort(), ["exp_avg", "exp_avg_sq", "step"]);
  assert.equal(sd.state["0"].step.item(), 6);
  opt.dispose();
  model.dispose();
  x.dispose();
});

Deno.test("optim: clipGradNorm matches torch.nn.utils.clip_grad_norm_ semantics", () => {
  const a = torch.keep(torch.tensor([3, 4], { requiresGrad: true }));
  const b = torch.keep(torch.tensor([12], { requiresGrad: true }));
  const c = torch.keep(torch.tensor([1], { requiresGrad: true })); // no grad: skipped
  torch.scope(() => {
    a.mul(a).sum().div(2).add(b.mul(b).sum().div(2)).backward(); // grads: [3, 4], [12]
    const total = optim.clipGradNorm([a, b, c], 6.5);
    assert.equal(total.item(), 13);
    const coef = Math.fround(Math.fround(1 / Math.fround(13 + 1e-6)) * 6.5);
    assert.deepEqual(a.grad!.toFlat(), [3, 4].map((v) => Math.fround(v * coef)));
    // Under the limit nothing changes.
    const before = b.grad!.toFlat();
    optim.clipGradNorm([b], 100);
    assert.deepEqual(b.grad!.toFlat(), before);
    const maxAbs = b.grad!.item(); // 6: the largest gradient element
    assert.equal(optim.clipGradNorm([a, b], 1, { normType: Infinity }).item(), maxAbs);
  });
  assert.throws(
    () =>
      torch.scope(() => {
        a.grad = torch.tensor([NaN, 1]);
        optim.clipGradNorm([a], 1, { errorIfNonfinite: true });
      }),
    /non-finite/,
  );
  for (const t of [a, b, c]) t.dispose();
});

Deno.test("optim: schedules set each group's lr like torch.optim.lr_scheduler", () => {
  const p = torch.keep(torch.zeros([1], { requiresGrad: true }));
  const q = torch.keep(torch.zeros([1], { requiresGrad: true }));
  const mk = () => new optim.SGD([{ params: [p], lr: 1 }, { params: [q], lr: 0.5 }]);
  const lrs = (s: optim.LRSchedule, n: number) => {
    const out = [s.lastLr()];
    for (let i = 0; i < n; i++) {
      s.step();
      out.push(s.lastLr());
    }
    return out;
  };
  const stepLr = lrs(new optim.StepLR(mk(), { stepSize: 2, gamma: 0.5 }), 4);
  assert.deepEqual(stepLr, [[1, 0.5], [1, 0.5], [0.5, 0.25], [0.5, 0.25], [0.25, 0.125]]);
  const exp = lrs(new optim.ExponentialLR(mk(), 0.5), 2);
  assert.deepEqual(exp, [[1, 0.5], [0.5, 0.25], [0.25, 0.125]]);
  const lam = lrs(new optim.LambdaLR(mk(), [(s) => s + 1, (s) => 1 / (s + 1)]), 1);
  assert.deepEqual(lam, [[1, 0.5], [2, 0.25]]);
  const cos = new optim.CosineWithWarmup(mk(), { warmupSteps: 2, totalSteps: 6 });
  const seen = lrs(cos, 7).map((l) => l[0]);
  assert.deepEqual(seen.slice(0, 3), [0, 0.5, 1]);
  assert.ok(Math.abs(seen[4] - 0.5) < 1e-12); // halfway through the decay
  assert.deepEqual(seen.slice(6), [0, 0]); // floor, then stays there
  // Resume the schedule position.
  const opt = mk();
  const s2 = new optim.CosineWithWarmup(opt, { warmupSteps: 2, totalSteps: 6 });
  s2.loadStateDict({ lastStep: 4 });
  assert.ok(Math.abs(opt.paramGroups[0].lr - 0.5) < 1e-12);
  assert.equal(opt.paramGroups[1].initialLr, 0.5);
  p.dispose();
  q.dispose();
});

Deno.test("optim: bad hyperparameters and mismatched state dicts are reported", () => {
  const p = torch.keep(torch.zeros([2], { requiresGrad: true }));
  assert.throws(() => new optim.SGD([p], { nesterov: true }), /Nesterov/);
  assert.throws(() => new optim.Adam([p], { betas: [1, 0.9] }), /beta1/);
  assert.throws(() => new optim.Adam([{ params: [p] }, { params: [p] }]), /more than one group/);
  const a = new optim.Adam([p]);
  const other = torch.keep(torch.zeros([3], { requiresGrad: true }));
  const b = new optim.Adam([p, other]);
  assert.throws(() => a.loadStateDict(b.stateDict()), /group 0 has 2 parameters/);
  // Loading an optimizer's own (live) state dict is safe.
  p.grad = torch.keep(torch.ones([2]));
  a.step();
  const live = torch.memory().liveTensors;
  a.loadStateDict(a.stateDict());
  assert.equal(torch.memory().liveTensors, live);
  assert.equal(a.state.get(p)!.step.item(), 1);
  a.dispose();
  assert.equal(torch.memory().liveTensors, live - 3);
  p.dispose();
  other.dispose();
});

/**
 * Lifetime and leaks: 100,000 ops in 1,000 scopes give back every native
 * tensor and keep RSS flat; dispose()/`using` free at once; scope results move
 * to the parent scope; keep() survives scopes; disposed tensors throw
 * TorchError; an exception inside a scope frees its tensors.
 */
import { type Tensor, torch, TorchError } from "../mod.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
function assertEquals<T>(actual: T, expected: T, msg: string) {
  if (actual !== expected) throw new Error(`${msg}: expected ${expected}, got ${actual}`);
}
function assertThrowsTorch(fn: () => unknown, what: string, match?: RegExp): TorchError {
  try {
    fn();
  } catch (e) {
    assert(e instanceof TorchError, `${what}: expected a TorchError, got ${e}`);
    if (match) assert(match.test(e.message), `${what}: message "${e.message}" !~ ${match}`);
    return e;
  }
  throw new Error(`${what}: expected a TorchError, nothing was thrown`);
}

const live = () => torch.memory().liveTensors;
const liveBytes = () => torch.memory().liveBytes;

// ---------------------------------------------------------------------------
// 100,000 ops in 1,000 scopes

const OPS_PER_SCOPE = 100;

/** One scope of a small training-like workload: 10 steps of exactly 10 ops
 * (each counted call creates, changes or frees native tensors). */
function workload(w1: Tensor, w2: Tensor, step: number): number {
  let ops = 0;
  const op = <T>(v: T): T => {
    ops++;
    return v;
  };
  for (let i = 0; i < 10; i++) {
    const x = op(torch.randn([8, 16]));
    const h = op(op(x.matmul(w1)).relu());
    const y = op(h.matmul(w2));
    const loss = op(op(y.pow(2)).mean());
    op(loss.backward());
    const g1 = op(w1.grad); // the grad wrapper is owned by w1, not by the scope
    assert(g1 !== null && g1.shape[0] === 16, "w1.grad after backward");
    switch ((step + i) % 4) {
      case 0: // an SGD step on w1
        torch.noGrad(() => op(w1.add_(g1, -1e-3)));
        break;
      case 1:
        op(y.softmax(-1));
        break;
      case 2:
        op(torch.cat([y, h], 1));
        break;
      default:
        op(y.sum(0, { keepdim: true }));
    }
    op(w1.zeroGrad()); // frees w1's grad (and its wrapper) now
    w2.zeroGrad();
  }
  return ops;
}

Deno.test("leak: 100,000 ops in 1,000 scopes return live tensors to baseline, RSS flat", () => {
  torch.manualSeed(0);
  // One intra-op thread: on a loaded 2-core machine a tiny matmul costs ~1 ms
  // with 2 threads (spinning on a descheduled peer) against ~6 µs with one.
  const threads = torch.getNumThreads();
  torch.setNumThreads(1);
  // Other test files share this process (and its native counters): count from here.
  const start = live();
  const w1 = torch.keep(torch.randn([16, 32], { requiresGrad: true }));
  const w2 = torch.keep(torch.randn([32, 8], { requiresGrad: true }));
  try {
    const baseline = live();
    const baseBytes = liveBytes();
    let warm = 0;
    // Warm-up: allocator caches, V8 code and heap reach their steady state.
    for (let s = 0; s < 200; s++) {
      warm += torch.scope(() => workload(w1, w2, s));
      assertEquals(live(), baseline, `live tensors after warm-up scope ${s}`);
    }
    const rss0 = Deno.memoryUsage().rss;
    const t0 = performance.now();
    let counted = 0;
    for (let s = 0; s < 1000; s++) {
      counted += torch.scope(() => workload(w1, w2, s));
      if (s % 50 === 0) assertEquals(live(), baseline, `live tensors after scope ${s}`);
    }
    const ms = performance.now() - t0;
    const rss1 = Deno.memoryUsage().rss;
    assertEquals(counted, 1000 * OPS_PER_SCOPE, "ops in the measured scopes");
    assertEquals(live(), baseline, "live tensors after 1,000 scopes");
    assertEquals(liveBytes(), baseBytes, "live bytes after 1,000 scopes");
    const growth = (rss1 - rss0) / rss0 * 100;
    console.log(
      `leak: ${counted} ops in 1000 scopes (after ${warm} warm-up ops) in ${ms.toFixed(0)} ms ` +
        `(${
          (ms * 1000 / counted).toFixed(1)
        } µs/op); live tensors ${live()} = baseline ${baseline}; ` +
        `RSS ${(rss0 / 2 ** 20).toFixed(1)} -> ${(rss1 / 2 ** 20).toFixed(1)} MiB (${
          growth >= 0 ? "+" : ""
        }${growth.toFixed(2)}%)`,
    );
    assert(growth < 5, `RSS grew ${growth.toFixed(2)}% (limit 5%)`);
  } finally {
    w1.dispose();
    w2.dispose();
    torch.setNumThreads(threads);
  }
  assertEquals(live(), start, "live tensors after disposing the weights");
});

// ---------------------------------------------------------------------------
// Lifetime rules

Deno.test("leak: dispose() and `using` free at once", () => {
  const before = live(), bytes = liveBytes();
  const t = torch.randn([64, 64]);
  assertEquals(live(), before + 1, "live after create");
  assert(liveBytes() >= bytes + 64 * 64 * 4, "live bytes after create");
  t.dispose();
  assertEquals(live(), before, "live right after dispose()");
  assertEquals(liveBytes(), bytes, "live bytes right after dispose()");
  assert(t.isDisposed, "isDisposed");
  t.dispose(); // twice is a no-op
  assertEquals(live(), before, "live after a second dispose()");

  let seen: Tensor | null = null;
  {
    using u = torch.ones([8, 8]);
    using v = u.mul(2);
    seen = v;
    assertEquals(live(), before + 2, "live inside the using block");
    assertEquals(v.toFlat().reduce((a, b) => +a + +b, 0), 128, "value inside the using block");
  }
  assertEquals(live(), before, "`using` frees at block exit");
  assert(seen.isDisposed, "and marks the tensor disposed");
  // `using` inside a scope: freed at block exit, and the scope's later free is a no-op
  torch.scope(() => {
    {
      using w = torch.zeros([3]);
      assertEquals(live(), before + 1, "inside the block");
      void w;
    }
    assertEquals(live(), before, "freed before the scope ends");
  });
  assertEquals(live(), before, "after the scope");

  // a leaf's grad is owned by the leaf: freed with it
  const x = torch.randn([4], { requiresGrad: true });
  torch.scope(() => x.mul(3).sum().backward());
  const n = live();
  const g = x.grad!;
  assertEquals(live(), n + 1, "grad wrapper holds one handle");
  assert(x.grad === g, "the same grad wrapper while libtorch keeps the same grad");
  x.dispose();
  assertEquals(live(), n - 1, "dispose() of a leaf frees its grad too");
  assert(g.isDisposed, "the grad wrapper is disposed with its leaf");
});

Deno.test("leak: a tensor returned from a scope survives and moves to the parent scope", () => {
  const before = live();
  let inner: Tensor | null = null;
  let temp: Tensor | null = null;
  torch.scope(() => {
    const kept = torch.scope(() => {
      temp = torch.randn([3, 3]);
      inner = temp.matmul(temp).relu();
      return inner;
    });
    assert(temp!.isDisposed, "the inner scope's temporaries are freed");
    assert(!kept.isDisposed && kept === inner, "the returned tensor survives the inner scope");
    assertEquals(live(), before + 1, "only the returned tensor is alive");
    assertEquals(kept.shape.join(), "3,3", "and it is usable");
    // structures: arrays, plain objects and Maps carry tensors out too
    const out = torch.scope(() => {
      const a = torch.ones([2]), b = torch.zeros([2]), dropped = torch.ones([5]);
      void dropped;
      return { pair: [a, b], map: new Map([["m", a.add(b)]]), n: 1 };
    });
    assertEquals(live(), before + 4, "kept + a, b and the Map value");
    assertEquals(out.pair[0].add(out.map.get("m")!).sum().item(), 4, "values usable");
  });
  assert(inner!.isDisposed, "the parent scope frees what moved into it");
  assertEquals(live(), before, "live after the parent scope");

  // at top level (no parent) the returned tensor is the caller's to dispose
  const top = torch.scope(() => torch.randn([2]).mul(2));
  assertEquals(live(), before + 1, "top-level scope result survives");
  top.dispose();
  assertEquals(live(), before, "and frees on dispose()");
});

Deno.test("leak: torch.keep() survives every enclosing scope", () => {
  const before = live();
  let k: Tensor | null = null;
  torch.scope(() => {
    torch.scope(() => {
      k = torch.keep(torch.randn([4]));
      torch.randn([4]); // a temporary beside it
    });
    assert(!k!.isDisposed, "kept past the inner scope");
  });
  assert(!k!.isDisposed, "kept past the outer scope");
  assertEquals(live(), before + 1, "only the kept tensor is alive");
  assertEquals(k!.shape.join(), "4", "kept tensor usable");
  // returning a kept tensor does not hand it to the parent scope either
  torch.scope(() => torch.scope(() => k));
  assert(!k!.isDisposed, "a returned kept tensor stays kept");
  k!.dispose();
  assertEquals(live(), before, "dispose() frees a kept tensor");
});

Deno.test("leak: using a disposed tensor throws TorchError", () => {
  const before = live();
  const t = torch.randn([2, 2]);
  const other = torch.ones([2, 2]);
  t.dispose();
  const re = /disposed|dispose\(\)/;
  assertThrowsTorch(() => t.add(1), "t.add", re);
  assertThrowsTorch(() => other.add(t), "other.add(t)", re);
  assertThrowsTorch(() => t.shape, "t.shape", re);
  assertThrowsTorch(() => t.toArray(), "t.toArray", re);
  assertThrowsTorch(() => torch.cat([other, t]), "cat", re);
  assertThrowsTorch(() => t.backward(), "backward", re);
  assertThrowsTorch(() => t.grad, "grad", re);
  // freed by its scope, then used outside
  let escaped: Tensor | null = null;
  torch.scope(() => {
    escaped = torch.zeros([1]);
  });
  assertThrowsTorch(() => escaped!.item(), "tensor freed by its scope", re);
  other.dispose();
  assertEquals(live(), before, "live after");
});

Deno.test("leak: an exception inside a scope frees its tensors", () => {
  const before = live();
  let made: Tensor[] = [];
  try {
    torch.scope(() => {
      made = [torch.randn([3]), torch.ones([3, 3])];
      throw new Error("boom");
    });
  } catch (e) {
    assertEquals((e as Error).message, "boom", "the exception propagates");
  }
  assert(made.every((t) => t.isDisposed), "tensors of the failed scope are disposed");
  assertEquals(live(), before, "live after a JS exception");

  // a libtorch error in the middle of a scope
  assertThrowsTorch(
    () =>
      torch.scope(() => {
        const a = torch.randn([2, 3]);
        return a.matmul(a); // shape mismatch
      }),
    "matmul in scope",
    /cannot be multiplied/,
  );
  assertEquals(live(), before, "live after a TorchError");

  // nested: the inner scope fails, the outer catches and goes on
  torch.scope(() => {
    const outer = torch.ones([2]);
    try {
      torch.scope(() => {
        torch.zeros([2]);
        throw new TorchError("inner failure");
      });
    } catch { /* handled */ }
    assert(!outer.isDisposed, "the outer scope's tensors are untouched");
    assertEquals(live(), before + 1, "only the outer tensor is alive");
  });
  assertEquals(live(), before, "live after the nested case");

  // a scope whose fn returns a Promise is refused, and still frees
  try {
    torch.scope(() => {
      torch.ones([1]);
      return Promise.resolve(1);
    });
  } catch (e) {
    assert(e instanceof TypeError, "Promise result is refused");
  }
  assertEquals(live(), before, "live after a refused Promise");
});

Deno.test("leak: async op calls hold their inputs; disposing them meanwhile is safe", async () => {
  const before = live();
  const aten = torch.ops.aten;
  const pending: Promise<Tensor>[] = [];
  const expected: number[] = [];
  for (let i = 0; i < 200; i++) {
    const a = torch.full([16, 16], i % 7);
    const b = torch.ones([16, 16]);
    pending.push(
      i % 2 === 0 ? aten.matmul.default.async(a, b) : aten.add.Tensor.async(a, b, { alpha: 2 }),
    );
    expected.push(i % 2 === 0 ? (i % 7) * 16 : (i % 7) + 2);
    a.dispose(); // while the call may still be running on the FFI pool
    b.dispose();
  }
  // failures come back as rejected promises with TorchError, and leak nothing
  const bad = torch.ones([2, 3]);
  const failing = aten.matmul.default.async(bad, bad);
  bad.dispose();
  let failure: unknown = null;
  try {
    await failing;
  } catch (e) {
    failure = e;
  }
  assert(failure instanceof TorchError, `async failure is a TorchError: ${failure}`);
  const results = await Promise.all(pending);
  results.forEach((r, i) => {
    assertEquals(r.toFlat()[0], expected[i], `async result ${i}`);
    r.dispose();
  });
  assertEquals(live(), before, "live after the async calls and their results are disposed");
});

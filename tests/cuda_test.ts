/** CUDA: device placement, matmul + backward against the CPU, allocator figures, the device
 * name, and bf16 autocast. These run only where `torch.cuda.isAvailable()`; elsewhere Deno
 * reports them as ignored, and one test checks that asking for CUDA fails cleanly. */
import assert from "node:assert/strict";
import { torch, TorchError } from "../mod.ts";

const HAS_CUDA = torch.cuda.isAvailable();
const cudaTest = (name: string, fn: () => void | Promise<void>) =>
  Deno.test({ name: `cuda: ${name}`, ignore: !HAS_CUDA, fn });

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const flat = (t: torch.Tensor) => Float64Array.from(t.toTypedArray() as Float32Array);

Deno.test("cuda: a device that is not there is a TorchError, not a crash", () => {
  torch.scope(() => {
    const t = torch.ones([2, 2]);
    if (!HAS_CUDA) {
      // No CUDA (a CPU libtorch, or no GPU): moving to or creating on cuda fails cleanly.
      assert.throws(() => t.to("cuda"), TorchError);
      assert.throws(() => torch.zeros([2], { device: "cuda" }), TorchError);
      assert.equal(torch.cuda.deviceCount(), 0);
      assert.equal(torch.memory().cuda, null);
    } else {
      // With CUDA: an index past the last device fails the same way.
      const missing = `cuda:${torch.cuda.deviceCount()}` as const;
      assert.throws(() => t.to(missing), TorchError);
      assert.throws(() => torch.zeros([2], { device: missing }), TorchError);
    }
  });
});

cudaTest("device placement: .to('cuda'), creation on cuda, back to cpu", () => {
  torch.scope(() => {
    const host = torch.tensor([[1, 2], [3, 4]]);
    const dev = host.to("cuda");
    assert.match(dev.device, /^cuda(:\d+)?$/);
    assert.equal(dev.dtype, "float32");
    assert.deepEqual(dev.shape, [2, 2]);
    assert.deepEqual(dev.cpu().toArray(), [[1, 2], [3, 4]]);

    const z = torch.zeros([3, 5], { device: "cuda", dtype: "float64" });
    assert.match(z.device, /^cuda/);
    assert.equal(z.dtype, "float64");
    assert.equal(z.sum().item(), 0);

    const r = torch.randn([4], { device: "cuda:0" });
    assert.equal(r.device, "cuda:0");
    assert.equal(r.cuda(0).device, "cuda:0");
    assert.equal(r.to("cpu").device, "cpu");
    // Mixing devices in one op is libtorch's error, not a crash.
    assert.throws(() => r.add(torch.randn([4])), TorchError);
  });
});

cudaTest("matmul + relu + sum backward on cuda matches the cpu within 1e-4", () => {
  torch.scope(() => {
    torch.manualSeed(0);
    const aCpu = torch.randn([64, 48], { requiresGrad: true });
    const bCpu = torch.randn([48, 32], { requiresGrad: true });
    const aDev = aCpu.detach().to("cuda").requiresGrad_();
    const bDev = bCpu.detach().to("cuda").requiresGrad_();

    const lossCpu = aCpu.matmul(bCpu).relu().sum();
    const lossDev = aDev.matmul(bDev).relu().sum();
    lossCpu.backward();
    lossDev.backward();

    // TF32 is off by default in libtorch for matmul, so fp32 results agree closely.
    const rel = Math.abs(lossDev.item() - lossCpu.item()) / Math.max(1, Math.abs(lossCpu.item()));
    assert.ok(rel < 1e-4, `loss: cpu ${lossCpu.item()} cuda ${lossDev.item()}`);
    assert.ok(aDev.grad !== null && bDev.grad !== null);
    assert.match(aDev.grad.device, /^cuda/);
    const da = maxAbsDiff(flat(aDev.grad.cpu()), flat(aCpu.grad!));
    const db = maxAbsDiff(flat(bDev.grad.cpu()), flat(bCpu.grad!));
    assert.ok(da < 1e-4, `a.grad differs by ${da}`);
    assert.ok(db < 1e-4, `b.grad differs by ${db}`);
  });
});

cudaTest("torch.memory().cuda reports the caching allocator", () => {
  torch.cuda.synchronize();
  const before = torch.memory();
  assert.ok(before.cuda !== null);
  const bytes = 16 * 1024 * 1024;
  const t = torch.empty([bytes / 4], { device: "cuda" });
  try {
    const during = torch.memory();
    assert.ok(during.cuda !== null);
    assert.ok(
      during.cuda.allocated >= before.cuda.allocated + bytes,
      `allocated ${before.cuda.allocated} -> ${during.cuda.allocated}`,
    );
    assert.ok(during.cuda.reserved >= during.cuda.allocated);
    assert.ok(during.cuda.peakAllocated >= during.cuda.allocated);
    assert.equal(during.liveTensors, before.liveTensors + 1);
  } finally {
    t.dispose();
  }
  const after = torch.memory();
  assert.equal(after.cuda!.allocated, before.cuda.allocated);
  torch.cuda.emptyCache();
});

cudaTest("torch.cuda.deviceName() and deviceCount()", () => {
  assert.ok(torch.cuda.deviceCount() >= 1);
  const name = torch.cuda.deviceName();
  assert.equal(typeof name, "string");
  assert.ok(name !== null && name.length > 0);
  assert.equal(torch.cuda.deviceName(0), name);
});

cudaTest("autocast('cuda') runs a matmul in bfloat16, and switches back off", () => {
  torch.scope(() => {
    const a = torch.randn([32, 16], { device: "cuda" });
    const b = torch.randn([16, 8], { device: "cuda" });
    const inside = torch.autocast("cuda", () => a.matmul(b));
    assert.equal(inside.dtype, "bfloat16");
    assert.match(inside.device, /^cuda/);
    const half = torch.autocast("cuda", () => a.matmul(b), "float16");
    assert.equal(half.dtype, "float16");
    const outside = a.matmul(b);
    assert.equal(outside.dtype, "float32");
    // bf16 keeps ~3 significant digits: close to the fp32 product.
    const diff = maxAbsDiff(flat(inside.float().cpu()), flat(outside.cpu()));
    assert.ok(diff < 0.25, `bf16 vs fp32 differ by ${diff}`);
  });
});

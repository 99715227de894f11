/**
 * Data-parallel `deno task train` on Gloo: 2 ranks end a tiny run (24 steps over 3 epochs: the
 * frozen-backbone warm-up, then everything, so DDP is rebuilt at the phase change; the
 * compactness term on, which sums over the batch) with the weights and Adam moments of one
 * process with the same config (≤ 1e-6; the attention key bias aside, see NOISE_PARAM) — launched by `--nproc-per-node 2`, by
 * `torchrun --no-python --nproc-per-node 2`, and stopped by SIGINT and resumed with 2 ranks.
 */
import assert from "node:assert/strict";
import { distributed } from "../mod.ts";
import { autoThreads } from "../src/config/index.ts";
import { loadCheckpoint } from "../src/io/index.ts";
import type { Tensor } from "../src/tensor/index.ts";
import { launchPlan, withoutLaunchFlags } from "../src/cli/launch.ts";
import { parseTrainArgs } from "../src/cli/train_args.ts";
import { ConfigError } from "../src/config/index.ts";
import { ROOT } from "./helpers.ts";
import { runScript, TINY } from "./train_helpers.ts";

const TOTAL = 24;
const ARGS = [
  ...TINY.filter((a, i) => a !== "--threads" && TINY[i - 1] !== "--threads"),
  "--epochs",
  "3",
  "--batches",
  "8",
  "--warmup-epochs",
  "1",
  "--set",
  "loss.weights.cpt=1e-4",
  "--pictures",
  "0",
  "--no-monitor-test",
];

const haveGloo = distributed.isBackendAvailable("gloo");
if (!haveGloo) {
  const msg = "the shim was built without Gloo (apt-get install libgloo-dev, deno task build)";
  if (Deno.env.get("CI") === "true") throw new Error(`distributed training tests: ${msg}`);
  console.warn(`SKIPPING distributed training tests: ${msg}`);
}

/** The attention key bias gets no gradient in exact arithmetic (softmax is invariant to a
 * shift common to all of a query's logits): backward hands back rounding noise (~1e-9), which
 * Adam divides by its own size into steps of about ±lr, so any other summation order (two
 * half-batches) moves it differently. It and its Adam moments are left out of the comparison —
 * and the test checks that its gradient was that noise in the one-process run. */
const NOISE_PARAM = /\.self_attn\.k_proj\.bias$/;

interface FinalState {
  /** Weights and Adam moments, the key biases' left out. */
  values: Map<string, Float32Array>;
  /** The largest √v (Adam's gradient RMS) of each left-out key bias. */
  noiseRms: number[];
}

async function finalState(runDir: string): Promise<FinalState> {
  using ck = await loadCheckpoint(`${runDir}/checkpoints/last.safetensors`);
  const values = new Map<string, Float32Array>();
  const model = [...(ck.model as Map<string, Tensor>)];
  for (const [k, t] of model) {
    if (!NOISE_PARAM.test(k)) values.set(k, Float32Array.from(t.toTypedArray() as Float32Array));
  }
  // Adam's state is keyed by the parameter's place in its groups; a key bias is told by
  // its shape and by its moments being noise-sized, which is then checked against the count.
  const opt = ck.optimizer as { state: Record<string, Record<string, Tensor>> };
  const noiseRms: number[] = [];
  for (const [i, s] of Object.entries(opt.state)) {
    const rms = Math.sqrt(Math.max(...(s.exp_avg_sq.toTypedArray() as Float32Array)));
    if (rms < 1e-7) {
      noiseRms.push(rms);
      continue;
    }
    for (const [k, t] of Object.entries(s)) {
      values.set(`optimizer.${i}.${k}`, Float32Array.from(t.toTypedArray() as Float32Array));
    }
  }
  assert.equal(
    noiseRms.length,
    model.filter(([k]) => NOISE_PARAM.test(k)).length,
    "exactly the key biases have noise-sized gradients",
  );
  return { values, noiseRms };
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let m = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    assert.equal(x.length, y.length, k);
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  }
  return m;
}

function stepLosses(runDir: string): number[] {
  return Deno.readTextFileSync(`${runDir}/metrics.jsonl`).split("\n").filter((l) =>
    l.includes('"type":"step"')
  ).map((l) => JSON.parse(l).loss);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The epoch lines of a run's metrics: epoch, held-out accuracy, whether it was the best. */
function epochRecords(runDir: string): unknown[] {
  return Deno.readTextFileSync(`${runDir}/metrics.jsonl`).split("\n")
    .filter((l) => l.includes('"type":"epoch"')).map((l) => JSON.parse(l))
    .map((r) => [r.epoch, r.heldoutSeenAcc, r.best]);
}

interface Reference {
  state: FinalState;
  losses: number[];
  epochs: unknown[];
}

let reference: Reference | null = null;

/** One process, 1 thread, the same config: what every distributed run must end with (run once,
 * kept in memory). */
async function oneProcess(): Promise<Reference> {
  if (reference) return reference;
  const base = await Deno.makeTempDir({ prefix: "dsva_ddp_one_" });
  try {
    const r = await runScript("train.ts", [...ARGS, "--threads", "1", "--runs-dir", base]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.last.steps, TOTAL);
    const dir = String(r.last.runDir);
    reference = {
      state: await finalState(dir),
      losses: stepLosses(dir),
      epochs: epochRecords(dir),
    };
    return reference;
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

/** Checks a distributed run's folder against the one-process run. */
async function expectSameAsOneProcess(dir: string, what: string) {
  const ref = await oneProcess();
  const d = maxDiff(ref.state.values, (await finalState(dir)).values);
  console.log(`${what}: max |Δ| of weights and Adam moments vs one process = ${d}`);
  assert.ok(d <= 1e-6, `${what}: max |Δ| = ${d}`);
  const la = ref.losses, lb = stepLosses(dir);
  assert.equal(lb.length, TOTAL, "every step logged once, by rank 0 alone");
  la.forEach((l, i) => assert.ok(Math.abs(l - lb[i]) <= 1e-5 * Math.abs(l), `step ${i + 1} loss`));
  // The epoch-end evaluation, sharded over the ranks and gathered, selects as one process does.
  assert.deepEqual(epochRecords(dir), ref.epochs);
}

function runDirIn(runs: string): string | null {
  try {
    for (const e of Deno.readDirSync(runs)) if (e.isDirectory) return `${runs}/${e.name}`;
  } catch { /* not made yet */ }
  return null;
}

Deno.test({
  name: "distributed train: --nproc-per-node 2 ends with one process's weights (24 steps)",
  ignore: !haveGloo,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "dsva_ddp_train_" });
    const r = await runScript("train.ts", [
      ...ARGS,
      "--nproc-per-node",
      "2",
      "--runs-dir",
      `${base}/two`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.last.steps, TOTAL);
    // Rank 0 alone made the run folder.
    assert.equal([...Deno.readDirSync(`${base}/two`)].length, 1);
    await expectSameAsOneProcess(String(r.last.runDir), "--nproc-per-node 2");
    const cfg = JSON.parse(Deno.readTextFileSync(`${r.last.runDir}/config.json`));
    assert.equal(cfg.threads, Math.max(1, Math.floor(autoThreads() / 2)), "threads split");
    await Deno.remove(base, { recursive: true });
  },
});

Deno.test({
  name: "distributed train: torchrun --no-python --nproc-per-node 2 deno run scripts/train.ts",
  ignore: !haveGloo,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "dsva_ddp_torchrun_" });
    const out = await new Deno.Command(`${ROOT}/.venv/bin/torchrun`, {
      args: [
        "--no-python",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        String(freePort()),
        Deno.execPath(),
        "run",
        "-A",
        `${ROOT}/scripts/train.ts`,
        ...ARGS,
        "--threads",
        "1",
        "--runs-dir",
        `${base}/tr`,
      ],
      cwd: ROOT,
      env: { NO_PROGRESS: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, log);
    const dir = runDirIn(`${base}/tr`)!;
    assert.equal([...Deno.readDirSync(`${base}/tr`)].length, 1);
    await expectSameAsOneProcess(dir, "torchrun");
    await Deno.remove(base, { recursive: true });
  },
});

Deno.test({
  name: "distributed train: SIGINT of both ranks, resumed with 2 ranks, ends equal",
  ignore: !haveGloo,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "dsva_ddp_resume_" });
    const runs = `${base}/b`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}/scripts/train.ts`,
        ...ARGS,
        "--nproc-per-node",
        "2",
        "--runs-dir",
        runs,
      ],
      cwd: ROOT,
      env: { NO_PROGRESS: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    let dir: string | null = null;
    const t0 = performance.now();
    while (performance.now() - t0 < 60_000) {
      dir ??= runDirIn(runs);
      try {
        if (dir && stepLosses(dir).length >= 3) break;
      } catch { /* no metrics yet */ }
      await new Promise((r) => setTimeout(r, 20));
    }
    // The launcher passes it on to both ranks.
    child.kill("SIGINT");
    const o = await output;
    const stdout = new TextDecoder().decode(o.stdout);
    assert.equal(o.code, 130, stdout + new TextDecoder().decode(o.stderr));
    const last = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.equal(last.status, "interrupted");
    assert.ok(last.step > 0 && last.step < TOTAL, `stopped at step ${last.step}`);

    const r = await runScript("train.ts", ["--resume", dir!, "--nproc-per-node", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.last.steps, TOTAL);
    await expectSameAsOneProcess(dir!, `SIGINT at step ${last.step}, resumed`);
    await Deno.remove(base, { recursive: true });
  },
});

Deno.test("distributed train: the launch flags (torchrun's names), what each rank runs, bad values", () => {
  const argv = ["--epochs", "2", "--nproc-per-node", "4", "--master-port=29511", "--ways", "4"];
  const a = parseTrainArgs(argv);
  assert.deepEqual(a.launch, {
    nprocPerNode: 4,
    nnodes: null,
    nodeRank: null,
    masterAddr: null,
    masterPort: 29511,
  });
  assert.deepEqual(Object.keys(a.partial).sort(), ["epochs", "ways"], "not config fields");
  assert.deepEqual(withoutLaunchFlags(argv), ["--epochs", "2", "--ways", "4"]);
  assert.equal(parseTrainArgs(["--epochs", "2"]).launch, null);
  const plan = launchPlan({ ...a.launch!, nnodes: 2, nodeRank: 1, masterAddr: "node0" });
  assert.deepEqual(plan, {
    nproc: 4,
    worldSize: 8,
    firstRank: 4,
    masterAddr: "node0",
    masterPort: 29511,
  });
  const none = {
    nprocPerNode: 2,
    nnodes: null,
    nodeRank: null,
    masterAddr: null,
    masterPort: null,
  };
  assert.equal(launchPlan(none, () => 40000).masterPort, 40000, "a free port on one machine");
  assert.throws(() => launchPlan({ ...none, nnodes: 2 }), ConfigError, "--master-addr");
  assert.throws(() => launchPlan({ ...none, nnodes: 2, nodeRank: 2 }), /--node-rank 2/);
  assert.throws(() => launchPlan({ ...none, nprocPerNode: 0 }), /--nproc-per-node 0/);
  assert.throws(() => parseTrainArgs(["--nproc-per-node", "two"]), /--nproc-per-node two/);
});

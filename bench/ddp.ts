/** `deno task bench ddp`: data-parallel DSVA training on this machine.
 *
 * 1. Training steps/s: `deno task train` (the default synthetic run's model and episode, 8 × 3
 *    images, `--max-steps`) as 1 process × 2 threads and as `--nproc-per-node 2` × 1 thread,
 *    from the step times rank 0 logs (the first `--warmup` steps left out).
 * 2. Gradient all-reduce time per step, ours against PyTorch's DDP in the same run: 2 ranks × 1
 *    thread each side, the parameters of that run's DSVA (same shapes and order), DDP with
 *    25 MiB buckets (first 1 MiB), a loss that costs next to nothing (Σ_p Σ p), so that a step's
 *    time with DDP minus its time without is the bucketed all-reduce. Ours:
 *    `nn.DistributedDataParallel` (c10d's Reducer on ProcessGroupGloo), launched with the
 *    torchrun variables; PyTorch's: bench/ddp_baseline.py under `torchrun --nproc-per-node 2`.
 *
 * Part 2 runs `--rounds` times, alternating which side goes first (the machine may be shared);
 * the last line is JSON; `ratio` is PyTorch's median all-reduce ms over ours (≥ 1: ours no
 * slower).
 */
import { Command, InvalidArgumentError } from "npm:commander@^15";
import { parseOrExit } from "../src/cli/task_exit.ts";
import { distributed, nn, torch } from "../mod.ts";
import { loadCheckpoint } from "../src/io/index.ts";
import { median } from "./harness.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const SELF = new URL(import.meta.url).pathname;
const MiB = 1024 * 1024;

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("a whole number ≥ 1");
  return n;
};

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function output(cmd: Deno.Command, what: string): Promise<string> {
  const o = await cmd.output();
  const dec = new TextDecoder();
  if (o.code !== 0) {
    throw new Error(
      `${what} failed (${o.code}):\n${dec.decode(o.stdout)}\n${dec.decode(o.stderr)}`,
    );
  }
  return dec.decode(o.stdout);
}

/** Steps/s of a `deno task train` run from its metrics log (steps after `warmup`). */
async function trainStepsPerSecond(extra: string[], steps: number, warmup: number) {
  const runs = await Deno.makeTempDir({ prefix: "dsva_bench_ddp_" });
  const args = [
    "run",
    "-A",
    `${ROOT}/scripts/train.ts`,
    "--max-steps",
    String(steps),
    "--no-monitor-test",
    "--pictures",
    "0",
    "--runs-dir",
    runs,
    ...extra,
  ];
  const out = await output(
    new Deno.Command(Deno.execPath(), { args, cwd: ROOT, env: { NO_PROGRESS: "1" } }),
    `train ${extra.join(" ")}`,
  );
  const runDir = JSON.parse(out.trim().split("\n").at(-1)!).runDir as string;
  const times = Deno.readTextFileSync(`${runDir}/metrics.jsonl`).split("\n")
    .filter((l) => l.includes('"type":"step"')).map((l) => JSON.parse(l).time as number);
  const t = times.slice(warmup - 1);
  return { stepsPerSecond: (t.length - 1) / (t.at(-1)! - t[0]), runDir, runs };
}

/** A module holding parameters of the given shapes; its loss is the sum of all of them. */
class ParameterBag extends nn.Module {
  readonly list: torch.Tensor[];
  constructor(shapes: number[][]) {
    super();
    this.list = shapes.map((s, i) => this.registerParameter(`p${i}`, torch.randn(...s)));
  }
  forward(): torch.Tensor {
    return this.list.map((p) => p.sum()).reduce((a, b) => a.add(b));
  }
}

/** A rank of part 2: ms per step (zero grads, loss, backward) without and with DDP. */
function allReduceWorker(shapesFile: string, steps: number, warmup: number) {
  torch.setNumThreads(1);
  const shapes = JSON.parse(Deno.readTextFileSync(shapesFile)) as number[][];
  distributed.initProcessGroup({ backend: "gloo", env: true, timeoutMs: 120_000 });
  const bag = new ParameterBag(shapes);
  const time = (forward: () => torch.Tensor) => {
    const ms: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      distributed.barrier();
      const t0 = performance.now();
      torch.scope(() => {
        for (const p of bag.list) p.grad = null;
        forward().backward();
        bag.list[0].grad!.flatten().narrow(0, 0, 1).item(); // the gradients are there
      });
      if (i >= warmup) ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  const localMs = time(() => bag.forward());
  const ddp = new nn.DistributedDataParallel(bag, { bucketCapMb: 25, firstBucketCapMb: 1 });
  const ddpMs = time(() => ddp.forward());
  const out = { localMs, ddpMs, allReduceMs: ddpMs - localMs, buckets: ddp.bucketSizes().length };
  distributed.barrier();
  distributed.destroy();
  console.log(JSON.stringify(out));
}

async function ourAllReduce(shapesFile: string, steps: number, warmup: number) {
  const port = freePort();
  const ranks = [0, 1].map((rank) =>
    output(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", SELF, "--worker", shapesFile, "--steps", String(steps)].concat(
          ["--warmup", String(warmup)],
        ),
        cwd: ROOT,
        env: {
          RANK: String(rank),
          WORLD_SIZE: "2",
          LOCAL_RANK: String(rank),
          LOCAL_WORLD_SIZE: "2",
          MASTER_ADDR: "127.0.0.1",
          MASTER_PORT: String(port),
          OMP_NUM_THREADS: "1",
        },
      }),
      `our DDP rank ${rank}`,
    )
  );
  const res = await Promise.all(ranks);
  return res.map((o) => JSON.parse(o.trim().split("\n").at(-1)!));
}

async function torchAllReduce(shapesFile: string, steps: number, warmup: number) {
  const outDir = await Deno.makeTempDir({ prefix: "dsva_bench_ddp_torch_" });
  await output(
    new Deno.Command(`${ROOT}/.venv/bin/torchrun`, {
      args: [
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        String(freePort()),
        `${ROOT}/bench/ddp_baseline.py`,
        shapesFile,
        String(steps),
        String(warmup),
        outDir,
      ],
      cwd: ROOT,
      env: { OMP_NUM_THREADS: "1" },
    }),
    "PyTorch DDP (torchrun bench/ddp_baseline.py)",
  );
  const res = [0, 1].map((r) => JSON.parse(Deno.readTextFileSync(`${outDir}/${r}.json`)));
  Deno.removeSync(outDir, { recursive: true });
  return res;
}

/** Runs the suite. */
export async function run(args: string[]): Promise<void> {
  const prog = new Command("deno task bench ddp")
    .option("--steps <n>", "training steps per run (part 1)", positive, 30)
    .option("--reduce-steps <n>", "timed all-reduce steps (part 2)", positive, 50)
    .option("--warmup <n>", "steps left out at the start", positive, 5)
    .option("--rounds <n>", "part 2 rounds, alternating which side goes first", positive, 3)
    .option("--worker <shapes>", "(internal) a rank of part 2")
    .exitOverride();
  parseOrExit("bench ddp", prog, args);
  const o = prog.opts() as {
    steps: number;
    reduceSteps: number;
    warmup: number;
    rounds: number;
    worker?: string;
  };
  if (o.worker) return allReduceWorker(o.worker, o.steps, o.warmup);

  console.log(`1. DSVA training, default synthetic run, ${o.steps} steps:`);
  const one = await trainStepsPerSecond(["--threads", "2"], o.steps, o.warmup);
  console.log(`   1 process × 2 threads: ${one.stepsPerSecond.toFixed(2)} steps/s`);
  const two = await trainStepsPerSecond(
    ["--nproc-per-node", "2", "--threads", "1"],
    o.steps,
    o.warmup,
  );
  console.log(`   2 ranks × 1 thread:    ${two.stepsPerSecond.toFixed(2)} steps/s`);

  const shapes = await (async () => {
    using ck = await loadCheckpoint(`${one.runDir}/checkpoints/last.safetensors`);
    return [...(ck.model as Map<string, torch.Tensor>).values()].map((t) => t.shape);
  })();
  for (const r of [one, two]) await Deno.remove(r.runs, { recursive: true });
  const tmp = await Deno.makeTempDir({ prefix: "dsva_bench_ddp_" });
  const shapesFile = `${tmp}/shapes.json`;
  Deno.writeTextFileSync(shapesFile, JSON.stringify(shapes));
  const mb = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0) * 4 / MiB;
  console.log(
    `2. gradient all-reduce, ${shapes.length} parameters (${mb.toFixed(1)} MiB), buckets of ` +
      `25 MiB (first 1 MiB), 2 ranks × 1 thread, median of ${o.reduceSteps} steps:`,
  );
  // A round's figure: the slower rank's (DDP's step waits for both). The machine is shared, so
  // rounds alternate which side goes first and the medians are compared.
  const slower = (rs: { allReduceMs: number }[]) => Math.max(...rs.map((r) => r.allReduceMs));
  type RankResult = { allReduceMs: number; buckets: number };
  const rounds: { ours: RankResult[]; torch: RankResult[] }[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const a = () => ourAllReduce(shapesFile, o.reduceSteps, o.warmup);
    const b = () => torchAllReduce(shapesFile, o.reduceSteps, o.warmup);
    const round = r % 2 === 0
      ? { ours: await a(), torch: await b() }
      : { torch: await b(), ours: await a() };
    rounds.push(round);
    console.log(
      `   round ${r + 1}: ours (c10d Reducer via the shim) ${slower(round.ours).toFixed(2)} ms ` +
        `(${round.ours[0].buckets} bucket(s)); PyTorch DDP ${slower(round.torch).toFixed(2)} ms ` +
        `(${round.torch[0].buckets} bucket(s))`,
    );
  }
  const oursMs = median(rounds.map((r) => slower(r.ours)));
  const torchMs = median(rounds.map((r) => slower(r.torch)));
  console.log(`   median: ours ${oursMs.toFixed(2)} ms, PyTorch ${torchMs.toFixed(2)} ms`);
  await Deno.remove(tmp, { recursive: true });
  console.log(JSON.stringify({
    bench: "ddp",
    train: {
      steps: o.steps,
      oneProcessTwoThreadsStepsPerSecond: one.stepsPerSecond,
      twoRanksOneThreadStepsPerSecond: two.stepsPerSecond,
      speedup: two.stepsPerSecond / one.stepsPerSecond,
    },
    allReduce: {
      parameters: shapes.length,
      mib: mb,
      bucketCapMb: 25,
      oursMs,
      torchMs,
      rounds,
      ratio: torchMs / oursMs,
    },
  }));
}

if (import.meta.main) await run(Deno.args);

/** `deno task bench ops`: per-op overhead and a mid-size training step, Deno vs
 * Python torch on the same libtorch and the same thread counts.
 *
 *  add:    `a.add(b).dispose()` on 16-element float32 tensors (allocate + free;
 *          Python: `a.add(b)` with the result dropped)
 *  matmul: `relu(A @ B).sum().backward()` on 512x512 float32 leaves, grads
 *          reset (set to None) before each iteration
 *
 * Method: one Python process (bench/ops_baseline.py) stays up and answers
 * requests over a pipe, so there is no `import torch` per measurement. A round
 * is `reps` pairs of one timed block in this process and the same block in
 * Python, the side that goes first alternating from pair to pair. Blocks are
 * short (tens of ms), so a burst of load from other processes hits both sides
 * alike or only a few rounds. Per side and round: the median of its blocks;
 * the reported ratio is the median of the per-round ratios Deno/Python, and the
 * reported times are the medians of the per-round medians. The last line
 * printed is one JSON object with the figures.
 *
 * Threads: 1 for both workloads and both sides by default. On the 2-vCPU shared
 * development VM, 2 OpenMP threads made the matmul step 1.4-8x slower and far
 * noisier than 1 (another process holds the second core); use
 * `--matmul-threads 2` (or more) on a machine with idle cores.
 *
 * Options: --rounds N (15), --add-iters N (20000), --add-reps N (5),
 * --matmul-iters N (4), --matmul-reps N (5), --add-threads N (1),
 * --matmul-threads N (1), --quick (5 rounds).
 * Env: DSVA_TORCH_PYTHON, the Python with torch (default .venv/bin/python). */
import { torch } from "../mod.ts";
import type { Tensor } from "../mod.ts";
import { benchProgram, intAtLeast, median, parseBenchOptions, PythonBaseline } from "./harness.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface Config {
  rounds: number;
  addIters: number;
  addReps: number;
  addThreads: number;
  matmulIters: number;
  matmulReps: number;
  matmulThreads: number;
}

function parseArgs(args: string[]): Config {
  const pos = intAtLeast(1);
  const prog = benchProgram("ops", "tiny add and 512x512 matmul+relu+sum fwd+bwd")
    .option("--rounds <n>", "rounds", pos, 15)
    .option("--add-iters <n>", "adds per timed block", pos, 20_000)
    .option("--add-reps <n>", "add blocks per side and round", pos, 5)
    .option("--add-threads <n>", "threads of the add workload", pos, 1)
    .option("--matmul-iters <n>", "matmul steps per timed block", pos, 4)
    .option("--matmul-reps <n>", "matmul blocks per side and round", pos, 5)
    .option("--matmul-threads <n>", "threads of the matmul workload", pos, 1)
    .option("--quick", "5 rounds");
  return parseBenchOptions<Config>("ops", prog, args, { rounds: 5 });
}

// ---- the Deno side ----

type Op = "add" | "matmul";
interface Measured {
  /** Per rep: ns per add, or ms per matmul step. */
  times: number[];
  /** The thread count libtorch reported while measuring. */
  threads: number;
}

function benchAdd(threads: number, iters: number, reps: number): Measured {
  torch.setNumThreads(threads);
  const a = torch.randn([16]);
  const b = torch.randn([16]);
  try {
    for (let i = 0; i < 1000; i++) a.add(b).dispose();
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) a.add(b).dispose();
      times.push((performance.now() - t0) * 1e6 / iters);
    }
    return { times, threads: torch.getNumThreads() };
  } finally {
    a.dispose();
    b.dispose();
  }
}

function matmulStep(A: Tensor, B: Tensor) {
  A.zeroGrad();
  B.zeroGrad();
  torch.scope(() => A.matmul(B).relu().sum().backward());
}

function benchMatmul(threads: number, iters: number, reps: number): Measured {
  torch.setNumThreads(threads);
  torch.manualSeed(0);
  const A = torch.randn([512, 512], { requiresGrad: true });
  const B = torch.randn([512, 512], { requiresGrad: true });
  try {
    matmulStep(A, B);
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) matmulStep(A, B);
      times.push((performance.now() - t0) / iters);
    }
    return { times, threads: torch.getNumThreads() };
  } finally {
    A.dispose();
    B.dispose();
  }
}

const DENO: Record<Op, (threads: number, iters: number, reps: number) => Measured> = {
  add: benchAdd,
  matmul: benchMatmul,
};

// ---- the Python side: a long-lived process answering one JSON line per request ----

// ---- driver ----

interface Round {
  deno: number;
  python: number;
  ratio: number;
}

async function compare(
  py: PythonBaseline,
  op: Op,
  rounds: number,
  threads: number,
  iters: number,
  reps: number,
): Promise<Round[]> {
  const out: Round[] = [];
  const one = (who: string, m: Measured) => {
    if (m.threads !== threads) {
      throw new Error(`bench ops: ${who} ran ${op} with ${m.threads} threads, not ${threads}`);
    }
    return m.times[0];
  };
  for (let r = 0; r < rounds; r++) {
    // One rep per side at a time, the first side alternating, so both sides
    // sample the same stretch of host load.
    const deno: number[] = [], python: number[] = [];
    for (let k = 0; k < reps; k++) {
      if ((r + k) % 2 === 0) {
        deno.push(one("Deno", DENO[op](threads, iters, 1)));
        python.push(one("Python", await py.request<Measured>({ op, threads, iters, reps: 1 })));
      } else {
        python.push(one("Python", await py.request<Measured>({ op, threads, iters, reps: 1 })));
        deno.push(one("Deno", DENO[op](threads, iters, 1)));
      }
    }
    const d = median(deno), p = median(python);
    out.push({ deno: d, python: p, ratio: d / p });
  }
  return out;
}

const fmt = (x: number, d = 1) => x.toFixed(d);
const threads = (n: number) => `${n} thread${n === 1 ? "" : "s"}`;

export async function run(args: string[]): Promise<void> {
  const c = parseArgs(args);
  const python = Deno.env.get("DSVA_TORCH_PYTHON") ?? `${ROOT}/.venv/bin/python`;
  const started = performance.now();
  const py = new PythonBaseline(python, "ops_baseline.py", "bench ops");
  try {
    const hello = await py.next<{ torch: string; package: string; python: string }>();
    const lib = torch.library();
    const denoPkg = lib.libtorch?.cmakePrefix.replace(/\/share\/cmake$/, "");
    let same = false;
    try {
      same = denoPkg !== undefined && Deno.realPathSync(denoPkg) === hello.package;
    } catch { /* not a folder: reported below */ }
    console.log(
      `bench ops: libtorch ${torch.version()} (${lib.origin}: ${lib.path})\n` +
        `  Python ${hello.python}, torch ${hello.torch} at ${hello.package}` +
        (same ? " (the libtorch Deno uses)" : `\n  WARNING: Deno uses libtorch ${denoPkg ?? "?"}`),
    );
    console.log(
      `  threads (both sides): add ${c.addThreads}, matmul ${c.matmulThreads}; ${c.rounds} rounds;` +
        ` per side and round: add ${c.addReps} blocks x ${c.addIters} ops, matmul ${c.matmulReps}` +
        ` blocks x ${c.matmulIters} steps`,
    );

    // Warm-up: V8 optimizes the Deno loops (and OSR) before anything is timed.
    DENO.add(c.addThreads, 50_000, 4);
    await py.request<Measured>({ op: "add", threads: c.addThreads, iters: 1000, reps: 1 });
    DENO.matmul(c.matmulThreads, 2, 1);
    await py.request<Measured>({ op: "matmul", threads: c.matmulThreads, iters: 2, reps: 1 });

    const add = await compare(py, "add", c.rounds, c.addThreads, c.addIters, c.addReps);
    const mm = await compare(
      py,
      "matmul",
      c.rounds,
      c.matmulThreads,
      c.matmulIters,
      c.matmulReps,
    );

    console.log(
      "\nround   add ns: Deno   Python  ratio   matmul ms: Deno   Python  ratio",
    );
    for (let r = 0; r < c.rounds; r++) {
      const a = add[r], m = mm[r];
      console.log(
        `${String(r + 1).padStart(5)}` +
          `${fmt(a.deno).padStart(15)} ${fmt(a.python).padStart(8)} ${
            fmt(a.ratio, 3).padStart(6)
          }` +
          `${fmt(m.deno, 2).padStart(18)} ${fmt(m.python, 2).padStart(8)} ${
            fmt(m.ratio, 3).padStart(6)
          }`,
      );
    }

    const pick = (rs: Round[], k: "deno" | "python" | "ratio") => median(rs.map((x) => x[k]));
    const result = {
      bench: "ops",
      libtorch: torch.version(),
      threads: { add: c.addThreads, matmul: c.matmulThreads },
      rounds: c.rounds,
      addNsDeno: +fmt(pick(add, "deno")),
      addNsPython: +fmt(pick(add, "python")),
      addRatio: +fmt(pick(add, "ratio"), 3),
      matmulMsDeno: +fmt(pick(mm, "deno"), 3),
      matmulMsPython: +fmt(pick(mm, "python"), 3),
      matmulRatio: +fmt(pick(mm, "ratio"), 3),
      seconds: +fmt((performance.now() - started) / 1000),
    };
    const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");
    console.log(
      `\nmedians of the per-round medians; ratio = median of the per-round Deno/Python ratios\n` +
        `  tiny add (16 x f32, alloc+free, ${
          threads(c.addThreads)
        }): Deno ${result.addNsDeno} ns,` +
        ` Python ${result.addNsPython} ns, ratio ${result.addRatio}` +
        `  [target <= 0.75: ${verdict(result.addRatio <= 0.75)}]\n` +
        `  512x512 matmul+relu+sum fwd+bwd (${threads(c.matmulThreads)}): Deno ` +
        `${result.matmulMsDeno} ms, Python ${result.matmulMsPython} ms, ratio ` +
        `${result.matmulRatio}  [target 0.95-1.05: ${
          verdict(result.matmulRatio >= 0.95 && result.matmulRatio <= 1.05)
        }]\n  took ${result.seconds} s`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await py.close();
  }
}

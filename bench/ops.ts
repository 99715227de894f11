/** `deno task bench ops`: per-op overhead and a mid-size training step, Deno vs
 * Python torch on the same libtorch and the same thread counts.
 *
 *  add:    `a.add(b).dispose()` on 16-element float32 tensors (allocate + free)
 *  matmul: `relu(A @ B).sum().backward()` on 512x512 float32 leaves, grads
 *          reset (set to None) before each iteration
 *
 * Method: one Python process (bench/ops_baseline.py) stays up and serves rounds
 * over a pipe; each round measures Deno in this process and Python in that one,
 * alternating which goes first. Within a side, the median of its reps; the
 * reported ratio is the median of the per-round ratios Deno/Python. The last
 * line printed is one JSON object with the figures.
 *
 * Options: --rounds N (7), --add-iters N (100000), --add-reps N (3),
 * --matmul-iters N (15), --matmul-reps N (3), --add-threads N (1),
 * --matmul-threads N (1), --quick (3 rounds, fewer iterations).
 * Env: DSVA_TORCH_PYTHON, the Python with torch (default .venv/bin/python). */
import { torch } from "../mod.ts";
import type { Tensor } from "../mod.ts";

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

interface Side {
  addNs: number[];
  matmulMs: number[];
  threads: [number, number];
}

function parseArgs(args: string[]): Config {
  const c: Config = {
    rounds: 7,
    addIters: 100_000,
    addReps: 3,
    addThreads: 1,
    matmulIters: 15,
    matmulReps: 3,
    matmulThreads: 1,
  };
  const keys: Record<string, keyof Config> = {
    "--rounds": "rounds",
    "--add-iters": "addIters",
    "--add-reps": "addReps",
    "--add-threads": "addThreads",
    "--matmul-iters": "matmulIters",
    "--matmul-reps": "matmulReps",
    "--matmul-threads": "matmulThreads",
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    if (flag === "--quick") {
      Object.assign(c, { rounds: 3, addIters: 50_000, addReps: 2, matmulIters: 8, matmulReps: 2 });
      continue;
    }
    const key = keys[flag];
    if (!key) throw new Error(`bench ops: unknown option ${args[i]}`);
    const v = Number(inline ?? args[++i]);
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`bench ops: ${flag} needs a positive integer`);
    }
    c[key] = v;
  }
  return c;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---- the Deno side ----

function benchAdd(threads: number, iters: number, reps: number): [number[], number] {
  torch.setNumThreads(threads);
  const a = torch.randn([16]);
  const b = torch.randn([16]);
  try {
    const out: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) a.add(b).dispose();
      out.push((performance.now() - t0) * 1e6 / iters);
    }
    return [out, torch.getNumThreads()];
  } finally {
    a.dispose();
    b.dispose();
  }
}

function benchMatmul(threads: number, iters: number, reps: number): [number[], number] {
  torch.setNumThreads(threads);
  torch.manualSeed(0);
  const A = torch.randn([512, 512], { requiresGrad: true });
  const B = torch.randn([512, 512], { requiresGrad: true });
  const step = (A: Tensor, B: Tensor) => {
    A.zeroGrad();
    B.zeroGrad();
    torch.scope(() => A.matmul(B).relu().sum().backward());
  };
  try {
    step(A, B);
    const out: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) step(A, B);
      out.push((performance.now() - t0) / iters);
    }
    return [out, torch.getNumThreads()];
  } finally {
    A.dispose();
    B.dispose();
  }
}

function denoRound(c: Config): Side {
  const [addNs, t1] = benchAdd(c.addThreads, c.addIters, c.addReps);
  const [matmulMs, t2] = benchMatmul(c.matmulThreads, c.matmulIters, c.matmulReps);
  return { addNs, matmulMs, threads: [t1, t2] };
}

// ---- the Python side: a long-lived process answering one JSON line per round ----

class PythonBaseline {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #enc = new TextEncoder();

  constructor(python: string) {
    this.#child = new Deno.Command(python, {
      args: ["-u", `${ROOT}/bench/ops_baseline.py`],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = lines(this.#child.stdout)[Symbol.asyncIterator]();
  }
  async next<T>(): Promise<T> {
    const r = await this.#lines.next();
    if (r.done) throw new Error("bench ops: the Python baseline exited early (see stderr above)");
    return JSON.parse(r.value) as T;
  }
  async round(c: Config): Promise<Side> {
    await this.#writer.write(this.#enc.encode(JSON.stringify(c) + "\n"));
    return await this.next<Side>();
  }
  async close() {
    await this.#writer.write(this.#enc.encode('{"quit":true}\n'));
    await this.#writer.close();
    await this.#child.status;
  }
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const p of parts) if (p.trim()) yield p;
  }
  if (rest.trim()) yield rest;
}

// ---- driver ----

const fmt = (x: number, d = 1) => x.toFixed(d);

export async function run(args: string[]): Promise<void> {
  const c = parseArgs(args);
  const python = Deno.env.get("DSVA_TORCH_PYTHON") ?? `${ROOT}/.venv/bin/python`;
  const started = performance.now();
  const py = new PythonBaseline(python);
  try {
    const hello = await py.next<{ torch: string; package: string; python: string }>();
    const lib = torch.library();
    const denoPkg = lib.libtorch?.cmakePrefix.replace(/\/share\/cmake$/, "");
    const same = denoPkg !== undefined && Deno.realPathSync(denoPkg) === hello.package;
    console.log(
      `bench ops: libtorch ${torch.version()} (${lib.origin}: ${lib.path})\n` +
        `  Python ${hello.python}, torch ${hello.torch} at ${hello.package}` +
        (same ? " (same libtorch as Deno)" : `\n  WARNING: Deno's libtorch is ${denoPkg ?? "?"}`),
    );
    console.log(
      `  threads: add ${c.addThreads}, matmul ${c.matmulThreads} (both sides);` +
        ` ${c.rounds} rounds; add ${c.addReps}x${c.addIters} iters,` +
        ` matmul ${c.matmulReps}x${c.matmulIters} iters per side per round`,
    );

    // Warm-up: let V8 optimize the Deno loops; one small Python round.
    const warm = { ...c, addIters: Math.min(c.addIters, 50_000), addReps: 4, matmulReps: 1 };
    warm.matmulIters = 3;
    denoRound(warm);
    await py.round({ ...warm, addReps: 1 });

    const rows: { deno: Side; py: Side }[] = [];
    console.log(
      "\nround  first   add ns: Deno   Python  ratio   matmul ms: Deno   Python  ratio",
    );
    for (let r = 0; r < c.rounds; r++) {
      let deno: Side, pyr: Side;
      if (r % 2 === 0) {
        deno = denoRound(c);
        pyr = await py.round(c);
      } else {
        pyr = await py.round(c);
        deno = denoRound(c);
      }
      for (const [who, s] of [["Deno", deno], ["Python", pyr]] as const) {
        if (s.threads[0] !== c.addThreads || s.threads[1] !== c.matmulThreads) {
          throw new Error(`bench ops: ${who} ran with threads ${s.threads}`);
        }
      }
      rows.push({ deno, py: pyr });
      const [da, pa, dm, pm] = [
        median(deno.addNs),
        median(pyr.addNs),
        median(deno.matmulMs),
        median(pyr.matmulMs),
      ];
      console.log(
        `${String(r + 1).padStart(5)}  ${r % 2 === 0 ? "Deno  " : "Python"}` +
          `${fmt(da).padStart(14)} ${fmt(pa).padStart(8)} ${fmt(da / pa, 3).padStart(6)}` +
          `${fmt(dm, 2).padStart(18)} ${fmt(pm, 2).padStart(8)} ${fmt(dm / pm, 3).padStart(6)}`,
      );
    }

    const all = (f: (x: { deno: Side; py: Side }) => number[]) => median(rows.flatMap(f));
    const ratio = (f: (s: Side) => number[]) =>
      median(rows.map(({ deno, py }) => median(f(deno)) / median(f(py))));
    const result = {
      bench: "ops",
      libtorch: torch.version(),
      threads: { add: c.addThreads, matmul: c.matmulThreads },
      rounds: c.rounds,
      addNsDeno: +fmt(all((x) => x.deno.addNs)),
      addNsPython: +fmt(all((x) => x.py.addNs)),
      addRatio: +fmt(ratio((s) => s.addNs), 3),
      matmulMsDeno: +fmt(all((x) => x.deno.matmulMs), 3),
      matmulMsPython: +fmt(all((x) => x.py.matmulMs), 3),
      matmulRatio: +fmt(ratio((s) => s.matmulMs), 3),
      seconds: +fmt((performance.now() - started) / 1000),
    };
    const check = (ok: boolean) => (ok ? "ok" : "MISSED");
    console.log(
      `\nmedians over all reps; ratio = median of per-round Deno/Python ratios\n` +
        `  tiny add (16 x f32, alloc+free, ${c.addThreads} thread): Deno ${result.addNsDeno} ns,` +
        ` Python ${result.addNsPython} ns, ratio ${result.addRatio}` +
        `  [target <= 0.75: ${check(result.addRatio <= 0.75)}]\n` +
        `  512x512 matmul+relu+sum fwd+bwd (${c.matmulThreads} thread): Deno ${result.matmulMsDeno}` +
        ` ms, Python ${result.matmulMsPython} ms, ratio ${result.matmulRatio}` +
        `  [target 0.95-1.05: ${
          check(result.matmulRatio >= 0.95 && result.matmulRatio <= 1.05)
        }]\n  took ${result.seconds} s`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await py.close();
  }
}

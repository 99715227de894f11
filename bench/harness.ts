/** Shared pieces of the Deno-vs-Python benches: the long-lived Python baseline
 * process (one JSON request per line in, one JSON result per line out), medians,
 * this thread's run-queue wait (how long it waited for a core), timed rounds that
 * alternate which side goes first, and their comparison. */
import process from "node:process";
import { Command, InvalidArgumentError } from "npm:commander@^15";
import { parseOrExit } from "../src/cli/task_exit.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The median of `xs`. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The median of the non-null entries, NaN when there are none. */
export const medianOf = (xs: readonly (number | null)[]): number => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? median(v) : NaN;
};

/** Nanoseconds this thread has waited on a run queue (Linux schedstat), or null. */
export function runQueueNs(): number | null {
  try {
    return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[1]);
  } catch {
    return null;
  }
}

/** Non-empty lines of a byte stream. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const p of parts) if (p.trim()) yield p;
  }
  if (rest.trim()) yield rest;
}

/** A `bench/<script>` Python process serving JSON requests over a pipe, so that
 * `import torch` is paid once. */
export class PythonBaseline {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #enc = new TextEncoder();

  constructor(
    python: string,
    script: string,
    readonly name: string,
    env: Record<string, string> = {},
  ) {
    this.#child = new Deno.Command(python, {
      args: ["-u", `${ROOT}/bench/${script}`],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env,
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = lines(this.#child.stdout)[Symbol.asyncIterator]();
  }
  async next<T>(): Promise<T> {
    const r = await this.#lines.next();
    if (r.done) {
      throw new Error(`${this.name}: the Python baseline exited early (see stderr above)`);
    }
    return JSON.parse(r.value) as T;
  }
  async request<T>(req: Record<string, unknown>): Promise<T> {
    await this.#writer.write(this.#enc.encode(JSON.stringify(req) + "\n"));
    return await this.next<T>();
  }
  async close() {
    try {
      await this.#writer.write(this.#enc.encode('{"quit":true}\n'));
      await this.#writer.close();
    } catch {
      // already gone
    }
    await this.#child.status;
  }
}

/** One side's timed iterations of a round (the Python baselines answer the same shape). */
export interface Side {
  ms: number[];
  cpuMs: number[];
  waitMs: (number | null)[];
  threads: number;
}

/** `iters` calls of `step`, each timed: wall ms, this process's CPU ms, and how long this thread
 * waited for a core. `threads`: the intra-op threads it ran with. */
export function timedRound(iters: number, threads: number, step: () => void): Side {
  const side: Side = { ms: [], cpuMs: [], waitMs: [], threads };
  for (let i = 0; i < iters; i++) {
    const w0 = runQueueNs(), c0 = process.cpuUsage(), t0 = performance.now();
    step();
    const t1 = performance.now(), c1 = process.cpuUsage(c0), w1 = runQueueNs();
    side.ms.push(t1 - t0);
    side.cpuMs.push((c1.user + c1.system) / 1000);
    side.waitMs.push(w0 === null || w1 === null ? null : (w1 - w0) / 1e6);
  }
  return side;
}

/** One round of both sides. */
export interface Round {
  deno: Side;
  py: Side;
}

/** `rounds` rounds, Deno first in the even ones, each side checked to have run with `threads`;
 * `onRound` sees each as it ends (for the per-round table). */
export async function alternateRounds(o: {
  bench: string;
  rounds: number;
  threads: number;
  deno: () => Side;
  python: () => Promise<Side>;
  onRound: (r: number, round: Round) => void;
}): Promise<Round[]> {
  const rows: Round[] = [];
  for (let r = 0; r < o.rounds; r++) {
    let deno: Side, py: Side;
    if (r % 2 === 0) {
      deno = o.deno();
      py = await o.python();
    } else {
      py = await o.python();
      deno = o.deno();
    }
    for (const [who, s] of [["Deno", deno], ["Python", py]] as const) {
      if (s.threads !== o.threads) {
        throw new Error(`bench ${o.bench}: ${who} ran with ${s.threads} threads`);
      }
    }
    rows.push({ deno, py });
    o.onRound(r, { deno, py });
  }
  return rows;
}

/** Medians over every timed iteration, the median of the per-round Python/Deno time ratios
 * (wall and CPU), and whether waiting for a core was a tenth of the time (a busy machine). */
export function compareRounds(rows: readonly Round[]) {
  const all = (f: (r: Round) => number[]) => median(rows.flatMap(f));
  const perRound = (f: (s: Side) => number[]) =>
    median(rows.map((r) => median(f(r.py)) / median(f(r.deno))));
  const denoMs = all((r) => r.deno.ms), pyMs = all((r) => r.py.ms);
  const denoWait = medianOf(rows.flatMap((r) => r.deno.waitMs));
  const pyWait = medianOf(rows.flatMap((r) => r.py.waitMs));
  return {
    denoMs,
    pyMs,
    ratio: perRound((s) => s.ms),
    denoCpu: all((r) => r.deno.cpuMs),
    pyCpu: all((r) => r.py.cpuMs),
    cpuRatio: perRound((s) => s.cpuMs),
    denoWait: Number.isNaN(denoWait) ? null : denoWait,
    pyWait: Number.isNaN(pyWait) ? null : pyWait,
    busy: denoWait + pyWait > 0.1 * (denoMs + pyMs),
  };
}

/** A bench suite's command line (`deno task bench <name> [options]`): `--help` lists the
 * options; a bad one ends the process in one line with exit status 2 (see src/cli/task_exit.ts). */
export function benchProgram(bench: string, description: string): Command {
  return new Command(`deno task bench ${bench}`)
    .description(description)
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride();
}

/** commander's reader of an integer option of at least `min` (1 for counts, 0 for warm-up). */
export function intAtLeast(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(
        min > 0 ? "needs a positive integer" : "needs an integer >= 0",
      );
    }
    return n;
  };
}

/** Parses `args` with `prog` (exits on `--help` and on bad options) and returns its options; a
 * `--quick` preset fills only the fields not given on the command line. */
export function parseBenchOptions<T extends object>(
  bench: string,
  prog: Command,
  args: readonly string[],
  quick: Partial<T> = {},
): T {
  const o = parseOrExit(`bench ${bench}`, prog, args) as T & { quick?: boolean };
  if (o.quick) {
    for (const [k, v] of Object.entries(quick)) {
      if (prog.getOptionValueSource(k) !== "cli") (o as Record<string, unknown>)[k] = v;
    }
  }
  delete o.quick;
  return o;
}

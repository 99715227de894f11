/** `deno task bench vit`: ViT-B/32 training throughput (forward + backward), images/s at
 * batch 8 and 224×224, Deno against PyTorch eager from Python on the same libtorch and the
 * same thread count, in one run.
 *
 *  Deno:   our `models.VisionTransformer` with preset "clip-b32", random init
 *  Python: Hugging Face transformers `CLIPVisionModel` with the same config and
 *          attn_implementation="sdpa", random init (bench/vit_baseline.py)
 *
 * One iteration, identical on both sides: drop every gradient (set to None), forward a
 * [8, 3, 224, 224] float32 batch, loss = lastHiddenState.mean() + pooledOutput.mean(),
 * backward. Both models are in train mode (dropout 0) and built once.
 *
 * Method (as bench/ops.ts): one Python process stays up and serves rounds over a pipe; each
 * round times `--iters` iterations in this process and then in that one, or the other way
 * round, alternating which goes first. Rounds are short (one iteration per side by default)
 * so that the two halves of a round see the same load on a shared machine. Within a side,
 * the median iteration of the round; images/s = batch / median wall time; the reported
 * ratio is the median of the per-round ratios Deno/Python images/s. Each side's process
 * CPU time per iteration is reported too (at 1 thread it is the work done, whatever the
 * machine's load). The last line printed is one JSON object with the figures.
 *
 * Options: --rounds N (10), --iters N (1), --warmup N (1), --batch N (8), --threads N
 * (intra-op threads on both sides; 1 by default, as bench/ops.ts, because on a small
 * shared machine more threads than idle cores measure the scheduler, not the code),
 * --quick (4 rounds).
 * Env: DSVA_TORCH_PYTHON, the Python with torch + transformers (default .venv/bin/python). */
import { models, torch } from "../mod.ts";
import {
  alternateRounds,
  benchProgram,
  compareRounds,
  intAtLeast,
  median,
  medianOf,
  parseBenchOptions,
  PythonBaseline,
  type Side,
  timedRound,
} from "./harness.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const IMAGE = 224;
const PRESET = "clip-b32";

interface Config {
  rounds: number;
  iters: number;
  warmup: number;
  batch: number;
  threads: number;
}

function parseArgs(args: string[]): Config {
  const pos = intAtLeast(1);
  const prog = benchProgram("vit", "ViT-B/32 fwd+bwd images/s, Deno vs transformers")
    .option("--rounds <n>", "timed rounds", pos, 10)
    .option("--iters <n>", "timed iterations per side and round", pos, 1)
    .option("--warmup <n>", "untimed iterations first", intAtLeast(0), 1)
    .option("--batch <n>", "images per batch", pos, 8)
    .option("--threads <n>", "intra-op threads on both sides", pos, 1)
    .option("--quick", "4 rounds");
  return parseBenchOptions<Config>("vit", prog, args, { rounds: 4 });
}

// ---- the Deno side ----

class DenoBench {
  readonly model: models.VisionTransformer;
  readonly pixels: torch.Tensor;
  readonly params: number;

  constructor(readonly c: Config) {
    torch.setNumThreads(c.threads);
    torch.manualSeed(0);
    this.model = new models.VisionTransformer(models.vitConfig(PRESET));
    this.model.train();
    this.pixels = torch.keep(torch.randn([c.batch, 3, IMAGE, IMAGE]));
    this.params = this.model.parameters().reduce((n, p) => n + p.numel, 0);
  }

  round(iters: number): Side {
    torch.setNumThreads(this.c.threads);
    return timedRound(iters, torch.getNumThreads(), () => {
      this.model.zeroGrad();
      torch.scope(() => {
        const out = this.model.forward(this.pixels);
        out.lastHiddenState.mean().add(out.pooledOutput.mean()).backward();
      });
    });
  }

  dispose() {
    this.model.dispose();
    this.pixels.dispose();
  }
}

// ---- the Python side: a long-lived process answering one JSON line per request ----

// ---- driver ----

const fmt = (x: number, d = 1) => x.toFixed(d);

export async function run(args: string[]): Promise<void> {
  const c = parseArgs(args);
  const python = Deno.env.get("DSVA_TORCH_PYTHON") ?? `${ROOT}/.venv/bin/python`;
  const started = performance.now();
  const py = new PythonBaseline(python, "vit_baseline.py", "bench vit");
  let deno: DenoBench | null = null;
  try {
    const hello = await py.next<
      { torch: string; package: string; python: string; transformers: string }
    >();
    const lib = torch.library();
    const denoPkg = lib.libtorch?.cmakePrefix.replace(/\/share\/cmake$/, "");
    const same = denoPkg !== undefined && Deno.realPathSync(denoPkg) === hello.package;
    console.log(
      `bench vit: libtorch ${torch.version()} (${lib.origin}: ${lib.path})\n` +
        `  Python ${hello.python}, torch ${hello.torch} at ${hello.package}` +
        (same ? " (same libtorch as Deno)" : `\n  WARNING: Deno's libtorch is ${denoPkg ?? "?"}`),
    );
    console.log(
      `  ViT-B/32 (${PRESET}) fwd+bwd, batch ${c.batch}, ${IMAGE}x${IMAGE}, float32,` +
        ` ${c.threads} threads (both sides)\n` +
        `  Deno: models.VisionTransformer; Python: transformers ${hello.transformers}` +
        ` CLIPVisionModel, attn_implementation="sdpa"\n` +
        `  ${c.rounds} rounds x ${c.iters} timed iterations per side, after ${c.warmup} warm-up`,
    );

    // Build both models and warm up (Deno first, then Python; each idle while the other runs).
    deno = new DenoBench(c);
    const denoWarm = deno.round(c.warmup).ms;
    const setup = await py.request<{ threads: number; params: number; warmupMs: number[] }>({
      setup: true,
      threads: c.threads,
      batch: c.batch,
      warmup: c.warmup,
    });
    if (setup.params !== deno.params) {
      throw new Error(
        `bench vit: parameter counts differ (Deno ${deno.params}, Python ${setup.params})`,
      );
    }
    console.log(
      `  parameters: ${deno.params} (both); warm-up ms: Deno ${denoWarm.map((x) => fmt(x, 0))},` +
        ` Python ${setup.warmupMs.map((x) => fmt(x, 0))}`,
    );

    console.log(
      "\nround  first   wall ms/iter: Deno  Python   images/s: Deno  Python   ratio" +
        "   CPU ms/iter: Deno  Python   run-queue wait ms: Deno  Python",
    );
    const rows = await alternateRounds({
      bench: "vit",
      rounds: c.rounds,
      threads: c.threads,
      deno: () => deno!.round(c.iters),
      python: () => py.request<Side>({ iters: c.iters }),
      onRound: (r, { deno: d, py: p }) => {
        const [dm, pm] = [median(d.ms), median(p.ms)];
        const [di, pi] = [c.batch * 1000 / dm, c.batch * 1000 / pm];
        console.log(
          `${String(r + 1).padStart(5)}  ${r % 2 === 0 ? "Deno  " : "Python"}` +
            `${fmt(dm, 0).padStart(19)} ${fmt(pm, 0).padStart(7)}` +
            `${fmt(di, 2).padStart(16)} ${fmt(pi, 2).padStart(7)} ${fmt(di / pi, 3).padStart(7)}` +
            `${fmt(median(d.cpuMs), 0).padStart(19)} ${fmt(median(p.cpuMs), 0).padStart(7)}` +
            `${fmt(medianOf(d.waitMs), 0).padStart(25)} ${fmt(medianOf(p.waitMs), 0).padStart(7)}`,
        );
      },
    });
    const { denoMs, pyMs, ratio, denoCpu, pyCpu, cpuRatio, denoWait, pyWait, busy } = compareRounds(
      rows,
    );
    const result = {
      bench: "vit",
      model: "ViT-B/32",
      python: `transformers ${hello.transformers} CLIPVisionModel sdpa`,
      libtorch: torch.version(),
      sameLibtorch: same,
      batch: c.batch,
      imageSize: IMAGE,
      threads: c.threads,
      rounds: c.rounds,
      itersPerRound: c.iters,
      msPerIterDeno: +fmt(denoMs),
      msPerIterPython: +fmt(pyMs),
      imagesPerSecDeno: +fmt(c.batch * 1000 / denoMs, 3),
      imagesPerSecPython: +fmt(c.batch * 1000 / pyMs, 3),
      ratio: +fmt(ratio, 3),
      cpuMsPerIterDeno: +fmt(denoCpu),
      cpuMsPerIterPython: +fmt(pyCpu),
      cpuRatio: +fmt(cpuRatio, 3),
      runQueueWaitMsDeno: denoWait === null ? null : +fmt(denoWait),
      runQueueWaitMsPython: pyWait === null ? null : +fmt(pyWait),
      seconds: +fmt((performance.now() - started) / 1000),
    };
    console.log(
      `\nmedians over all timed iterations; ratio = median of per-round Deno/Python images/s\n` +
        `  ViT-B/32 fwd+bwd, batch ${c.batch}, ${c.threads} threads: Deno ${result.imagesPerSecDeno}` +
        ` images/s, Python ${result.imagesPerSecPython} images/s, ratio ${result.ratio}` +
        `  [target >= 1.0: ${result.ratio >= 1 ? "ok" : "MISSED"}]\n` +
        `  CPU time per iteration: Deno ${result.cpuMsPerIterDeno} ms, Python` +
        ` ${result.cpuMsPerIterPython} ms, ratio Python/Deno ${result.cpuRatio}\n` +
        `  main thread waiting for a core (other load on the machine) per iteration:` +
        ` Deno ${result.runQueueWaitMsDeno ?? "n/a"} ms, Python ${
          result.runQueueWaitMsPython ?? "n/a"
        } ms` +
        (busy
          ? "\n  NOTE: the machine was busy; the wall-time ratio moves with that load, the CPU" +
            " ratio does not"
          : "") +
        `\n  took ${result.seconds} s`,
    );
    console.log(JSON.stringify(result));
  } finally {
    deno?.dispose();
    await py.close();
  }
}

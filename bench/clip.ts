/** `deno task bench clip`: CLIP contrastive fine-tuning throughput, images/s, Deno against
 * PyTorch eager from Python on the same libtorch and the same thread count, in one run.
 *
 *  Model:  the small from-scratch CLIP of `deno task clip:finetune` (48×48, patch 8, width 96,
 *          3 vision + 2 text layers, 1 000-token vocabulary, context 24), random init, train
 *          mode; both sides build it from the same Hugging Face config.json
 *  Deno:   models.CLIPModel + clip.contrastiveLoss + clipOptimizer (AdamW, decay on
 *          matrices) + clampLogitScale (src/clip/)
 *  Python: transformers CLIPModel (attn_implementation="sdpa") + the same loss, AdamW groups and
 *          clamp (bench/clip_baseline.py)
 *
 * One iteration = one optimizer step on a fixed batch (no image decoding: that is `bench data`):
 * zero the gradients, encode images and texts, symmetric cross-entropy with the learned
 * temperature, backward, AdamW step, clamp the logit scale.
 *
 * Method (as bench/vit.ts): a long-lived Python process serves rounds over a pipe; each round
 * times `--iters` iterations here and there, alternating which side goes first; images/s =
 * batch / median iteration time; the ratio is the median of the per-round Deno/Python ratios.
 * The last line is one JSON object.
 *
 * Options: --rounds N (5), --iters N (3), --warmup N (2), --batch N (64), --threads N
 * (libtorch's default, the same on both sides), --quick (3 rounds of 2).
 * Env: DSVA_TORCH_PYTHON (default .venv/bin/python). */
import { models, torch } from "../mod.ts";
import { clipConfigToHf } from "../src/models/clip.ts";
import { clampLogitScale, contrastiveLoss } from "../src/clip/loss.ts";
import { clipOptimizer } from "../src/clip/optimizer.ts";
import { tinyClipConfig } from "../src/clip/tiny.ts";
import { FINETUNE_DEFAULTS } from "../src/clip/finetune_config.ts";
import type { AdamW } from "../src/optim/index.ts";
import {
  alternateRounds,
  benchProgram,
  compareRounds,
  intAtLeast,
  median,
  parseBenchOptions,
  PythonBaseline,
  type Side,
  timedRound,
} from "./harness.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const VOCAB = 1000, SEQ = 24;

interface Config {
  rounds: number;
  iters: number;
  warmup: number;
  batch: number;
  threads: number;
}

function parseArgs(args: string[]): Config {
  const pos = intAtLeast(1);
  const prog = benchProgram("clip", "tiny CLIP contrastive fine-tuning step images/s")
    .option("--rounds <n>", "timed rounds", pos, 5)
    .option("--iters <n>", "timed steps per side and round", pos, 3)
    .option("--warmup <n>", "untimed steps first", intAtLeast(0), 2)
    .option("--batch <n>", "image–caption pairs per batch", pos, 64)
    .option("--threads <n>", "intra-op threads on both sides", pos, torch.getNumThreads())
    .option("--quick", "3 rounds of 2 steps");
  return parseBenchOptions<Config>("clip", prog, args, { rounds: 3, iters: 2 });
}

class DenoBench {
  readonly model: models.CLIPModel;
  readonly opt: AdamW;
  readonly pixels: torch.Tensor;
  readonly ids: torch.Tensor;
  readonly params: number;

  constructor(readonly c: Config, readonly config: models.CLIPConfig) {
    torch.setNumThreads(c.threads);
    torch.manualSeed(0);
    this.model = new models.CLIPModel(config);
    this.model.train();
    this.opt = clipOptimizer(this.model, { lr: 1e-3, weightDecay: 0.1 });
    const size = config.vision.imageSize;
    this.pixels = torch.keep(torch.randn([c.batch, 3, size, size]));
    const ids = new BigInt64Array(c.batch * SEQ);
    let s = 1;
    for (let i = 0; i < ids.length; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      const col = i % SEQ;
      ids[i] = BigInt(
        col === 0
          ? config.text.bosTokenId
          : col === SEQ - 1
          ? config.text.eosTokenId
          : s % (VOCAB - 2),
      );
    }
    this.ids = torch.keep(torch.fromBuffer(ids, [c.batch, SEQ], { dtype: "int64" }));
    this.params = this.model.numParameters();
  }

  round(iters: number): Side {
    torch.setNumThreads(this.c.threads);
    return timedRound(iters, torch.getNumThreads(), () => {
      this.opt.zeroGrad();
      torch.scope(() => contrastiveLoss(this.model, this.pixels, this.ids, null).loss.backward());
      this.opt.step();
      clampLogitScale(this.model);
    });
  }

  dispose() {
    this.opt.dispose();
    this.model.dispose();
    this.pixels.dispose();
    this.ids.dispose();
  }
}

const fmt = (x: number, d = 1) => x.toFixed(d);

/** Runs the benchmark. */
export async function run(args: string[]): Promise<void> {
  const c = parseArgs(args);
  const python = Deno.env.get("DSVA_TORCH_PYTHON") ?? `${ROOT}/.venv/bin/python`;
  const started = performance.now();
  const m = FINETUNE_DEFAULTS.model as Exclude<
    typeof FINETUNE_DEFAULTS.model,
    { kind: "pretrained" }
  >;
  const config = tinyClipConfig(VOCAB, m);
  const py = new PythonBaseline(python, "clip_baseline.py", "bench clip");
  let deno: DenoBench | null = null;
  try {
    const hello = await py.next<
      { torch: string; package: string; python: string; transformers: string }
    >();
    const lib = torch.library();
    const denoPkg = lib.libtorch?.cmakePrefix.replace(/\/share\/cmake$/, "");
    const same = denoPkg !== undefined && Deno.realPathSync(denoPkg) === hello.package;
    console.log(
      `bench clip: libtorch ${torch.version()} (${lib.origin})\n` +
        `  Python ${hello.python}, torch ${hello.torch}, transformers ${hello.transformers}` +
        (same ? " (same libtorch as Deno)" : `\n  WARNING: Deno's libtorch is ${denoPkg ?? "?"}`),
    );
    console.log(
      `  CLIP fine-tuning step (fwd + symmetric InfoNCE + bwd + AdamW + clamp), batch ${c.batch},` +
        ` ${m.imageSize}×${m.imageSize} images, ${SEQ} tokens, ${c.threads} threads (both sides)\n` +
        `  ${c.rounds} rounds × ${c.iters} timed iterations per side, after ${c.warmup} warm-up`,
    );
    deno = new DenoBench(c, config);
    const denoWarm = deno.round(c.warmup).ms;
    const setup = await py.request<{ threads: number; params: number; warmupMs: number[] }>({
      setup: true,
      config: clipConfigToHf(config),
      threads: c.threads,
      batch: c.batch,
      seq: SEQ,
      warmup: c.warmup,
    });
    if (setup.params !== deno.params) {
      throw new Error(
        `bench clip: parameter counts differ (Deno ${deno.params}, Python ${setup.params})`,
      );
    }
    console.log(
      `  parameters: ${deno.params} (both); warm-up ms: Deno ${denoWarm.map((x) => fmt(x, 0))},` +
        ` Python ${setup.warmupMs.map((x) => fmt(x, 0))}`,
    );
    console.log("\nround  first   ms/iter: Deno  Python   images/s: Deno  Python   ratio");
    const rows = await alternateRounds({
      bench: "clip",
      rounds: c.rounds,
      threads: c.threads,
      deno: () => deno!.round(c.iters),
      python: () => py.request<Side>({ iters: c.iters }),
      onRound: (r, { deno: d, py: p }) => {
        const [dm, pm] = [median(d.ms), median(p.ms)];
        const [di, pi] = [c.batch * 1000 / dm, c.batch * 1000 / pm];
        console.log(
          `${String(r + 1).padStart(5)}  ${r % 2 === 0 ? "Deno  " : "Python"}` +
            `${fmt(dm, 0).padStart(14)} ${fmt(pm, 0).padStart(7)}` +
            `${fmt(di, 1).padStart(16)} ${fmt(pi, 1).padStart(7)} ${fmt(di / pi, 3).padStart(7)}`,
        );
      },
    });
    const { denoMs, pyMs, ratio, denoCpu, pyCpu, denoWait, pyWait, busy } = compareRounds(rows);
    const result = {
      bench: "clip",
      model:
        `tiny CLIP ${m.imageSize}px/${m.patchSize}, width ${m.width}, ${m.visionLayers}+${m.textLayers} layers`,
      python: `transformers ${hello.transformers} CLIPModel sdpa + torch.optim.AdamW`,
      libtorch: torch.version(),
      sameLibtorch: same,
      batch: c.batch,
      threads: c.threads,
      rounds: c.rounds,
      itersPerRound: c.iters,
      msPerIterDeno: +fmt(denoMs),
      msPerIterPython: +fmt(pyMs),
      imagesPerSecDeno: +fmt(c.batch * 1000 / denoMs, 2),
      imagesPerSecPython: +fmt(c.batch * 1000 / pyMs, 2),
      ratio: +fmt(ratio, 3),
      cpuMsPerIterDeno: +fmt(denoCpu),
      cpuMsPerIterPython: +fmt(pyCpu),
      runQueueWaitMsDeno: denoWait === null ? null : +fmt(denoWait),
      runQueueWaitMsPython: pyWait === null ? null : +fmt(pyWait),
      seconds: +fmt((performance.now() - started) / 1000),
    };
    console.log(
      `\nmedians over all timed iterations; ratio = median of per-round Deno/Python images/s\n` +
        `  Deno ${result.imagesPerSecDeno} images/s, Python ${result.imagesPerSecPython} images/s,` +
        ` ratio ${result.ratio}  [target >= 1.0: ${result.ratio >= 1 ? "ok" : "MISSED"}]` +
        (busy
          ? "\n  NOTE: the machine was busy (run-queue waits); the ratio moves with that load"
          : "") +
        `\n  took ${result.seconds} s`,
    );
    console.log(JSON.stringify(result));
  } finally {
    deno?.dispose();
    await py.close();
  }
}

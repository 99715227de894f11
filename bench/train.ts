/** `deno task bench train`: DSVA training throughput, images/s of full training steps, Deno
 * against PyTorch eager from Python on the same libtorch and the same thread count, in one run;
 * with `--memory`, a long Deno-only run that reports live native tensors and RSS instead.
 *
 * The model and step are those of the default `deno task train` run in its fine-tune phase:
 * the `cpu-tiny` ViT at the preset's image size (64×64), DSVA with the synthetic scenes' K
 * attributes and groups, AC on (the resolved default `ac` settings), the clean recipe's loss at
 * its last epoch (CE on logits, cpt on), one Adam over the recipe's two parameter groups (heads,
 * backbone) with its betas and eps, batch = ways × shots (8 × 3). Inputs are random and built
 * once (no data loading in the timed part): pixels `randn[B, 3, 64, 64]`, labels `shots`
 * images each of `ways` seen classes, the seen classes' 0/1 attribute rows.
 *
 *  Deno:   `buildModel` (src/train/model.ts) as `deno task train` builds it; one step is the
 *          trainer's own `dsvaTrainStep` (src/train/step.ts): libtorch re-seeded from (seed,
 *          step), forward and `dsvaLoss` (under the config's autocast), the finiteness check,
 *          zeroGrad, backward, Adam step, the loss values read back.
 *  Python: bench/train_baseline.py: the plain-torch DSVA forward + losses of
 *          tests/oracle/dsva_ref.py (attention through scaled_dot_product_attention),
 *          `torch.optim.Adam(fused=True)` over the same groups, the loss read back.
 *  Same initial weights: this process writes its state dict (and the inputs) to safetensors
 *  files in a temporary folder and the Python side loads them.
 *
 * Method (as bench/vit.ts): one Python process stays up and serves rounds over a pipe; each round
 * times `--iters` steps in this process and then in that one, or the other way round, alternating
 * which goes first. Images/s = batch / median step wall time; the reported ratio is the median of
 * the per-round ratios Deno/Python images/s. `OMP_WAIT_POLICY=PASSIVE` (as `deno task train`
 * sets it) is set for both processes unless already set. The last line is one JSON object.
 *
 * Options: --rounds N (20), --iters N (3), --warmup N (3), --threads N (intra-op threads on both
 * sides; 1 by default, as the other suites), --quick (4 rounds of 2).
 * Memory mode: --memory [--steps N (2000)]: N Deno training steps (same model and step, no
 * Python), sampling `torch.memory().liveTensors` and the process RSS ten times; start = after the
 * first 1% of the steps (at least 10: allocator caches and lazily built kernels settle), end =
 * after the last. Growth = (end − start) / start.
 * Env: DSVA_TORCH_PYTHON, the Python with torch (default .venv/bin/python). */
import { torch } from "../mod.ts";
import { resolveConfig } from "../src/config/index.ts";
import { SCENE_CLASSES, sceneAttributeMatrix, sceneGroups } from "../src/data/synthetic/index.ts";
import type { DSVA } from "../src/dsva/model.ts";
import { recipeLoss, recipePhase } from "../src/dsva/recipes.ts";
import { saveSafetensors } from "../src/io/index.ts";
import { Adam } from "../src/optim/adam.ts";
import { buildModel } from "../src/train/model.ts";
import { dsvaTrainStep } from "../src/train/step.ts";
import { acInTraining, runRecipe } from "../src/train/recipe.ts";
import type { TrainConfig } from "../src/config/types.ts";
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

interface Options {
  rounds: number;
  iters: number;
  warmup: number;
  threads: number;
  steps: number;
  memory: boolean;
}

function parseArgs(args: string[]): Options {
  const pos = intAtLeast(1);
  const prog = benchProgram(
    "train",
    "DSVA training step images/s, Deno vs PyTorch eager; --memory: live tensors + RSS",
  )
    .option("--rounds <n>", "timed rounds", pos, 20)
    .option("--iters <n>", "timed steps per side and round", pos, 3)
    .option("--warmup <n>", "untimed steps first", intAtLeast(0), 3)
    .option("--threads <n>", "intra-op threads on both sides", pos, 1)
    .option("--steps <n>", "training steps of --memory", pos, 2000)
    .option("--quick", "4 rounds of 2 steps")
    .option("--memory", "a long Deno-only run: live tensors and RSS", false);
  return parseBenchOptions<Options>("train", prog, args, { rounds: 4, iters: 2 });
}

const fmt = (x: number, d = 1) => x.toFixed(d);

// ---- the Deno side: the default run's model and training step ----

class DenoBench {
  readonly config: TrainConfig;
  readonly batch: number;
  readonly numAttributes: number;
  readonly numClasses: number;
  readonly groups: Record<string, number[]>;
  readonly lr: { heads: number; backbone: number };
  readonly lossCfg: ReturnType<typeof recipeLoss>;
  readonly useAC: boolean;
  readonly params: number;
  loss = NaN;
  /** Steps taken (the trainer re-seeds libtorch from it before each one). */
  steps = 0;

  private constructor(
    readonly o: Options,
    readonly model: DSVA,
    readonly opt: Adam,
    readonly pixels: torch.Tensor,
    readonly labels: torch.Tensor,
    readonly attributes: torch.Tensor,
    config: TrainConfig,
    groups: Record<string, number[]>,
  ) {
    this.config = config;
    this.groups = groups;
    this.batch = pixels.size(0);
    this.numAttributes = attributes.size(1);
    this.numClasses = attributes.size(0);
    const epoch = config.epochs - 1; // the fine-tune phase: every parameter trains
    const recipe = runRecipe(config);
    const phase = recipePhase(recipe, epoch);
    this.lr = {
      heads: phase.groups.find((g) => !g.sets.includes("backbone"))!.lr,
      backbone: phase.groups.find((g) => g.sets.includes("backbone"))!.lr,
    };
    this.lossCfg = recipeLoss(recipe, epoch);
    this.useAC = acInTraining(config, epoch);
    this.params = model.parameters().reduce((n, p) => n + p.numel, 0);
  }

  static async create(o: Options): Promise<DenoBench> {
    torch.setNumThreads(o.threads);
    const config = resolveConfig({});
    const groups = sceneGroups();
    const matrix = sceneAttributeMatrix();
    const seen = SCENE_CLASSES.flatMap((c, i) => (c.unseen ? [] : [i]));
    const k = matrix[0].length;
    const model = await buildModel(config, k, groups);
    model.train();
    const recipe = runRecipe(config);
    const phase = recipePhase(recipe, config.epochs - 1);
    const ro = recipe.optimizer;
    for (const g of phase.groups) {
      if (g.frozen) throw new Error("bench train: the last phase freezes parameters");
    }
    const opt = new Adam(
      phase.groups.map((g) => ({ params: g.sets.flatMap((s) => model.parameterSet(s)), lr: g.lr })),
      { betas: [ro.betas[0], ro.betas[1]], eps: ro.eps, weightDecay: ro.weightDecay },
    );
    const b = config.ways * config.shots;
    const size = config.imageSize;
    torch.manualSeed(1234);
    const pixels = torch.keep(torch.randn([b, 3, size, size]));
    // `shots` images of each of `ways` seen classes (rows of the seen attribute matrix).
    const stride = Math.max(1, Math.floor(seen.length / config.ways));
    const labels = torch.keep(torch.tensor(
      BigInt64Array.from(
        { length: b },
        (_, i) => BigInt((Math.floor(i / config.shots) * stride) % seen.length),
      ),
    ));
    const attributes = torch.keep(
      torch.tensor(Float32Array.from(seen.flatMap((c) => matrix[c])), { dtype: "float32" })
        .reshape(seen.length, k),
    );
    return new DenoBench(o, model, opt, pixels, labels, attributes, config, groups);
  }

  /** The oracle's case description (bench/train_baseline.py, tests/oracle/dsva_ref.py). */
  pythonCase(): Record<string, unknown> {
    const c = this.config, w = this.lossCfg.weights;
    const vit = this.model.backbone as unknown as {
      config: { patchSize: number; numHeads: number; act: string; layerNormEps: number };
    };
    if (c.ac.iterations !== 1) throw new Error("bench train: the oracle runs one AC round");
    return {
      vit: {
        patch_size: vit.config.patchSize,
        num_heads: vit.config.numHeads,
        act: vit.config.act,
        eps: vit.config.layerNormEps,
      },
      groups: Object.values(this.groups),
      thr: c.ac.thr,
      pro_weight: c.ac.proWeight,
      use_ac: this.useAC,
      weights: {
        xe: w.ce,
        attri: w.mseGlobal,
        xe_pro: w.ceCrop,
        l_xe: w.ceVam,
        l_attri: w.mseVam,
        cpt: w.cpt,
        l_regular: w.glassoPrototypes,
        regular: w.glassoAle,
      },
      ce_on_probabilities: this.lossCfg.ceOnProbabilities,
    };
  }

  async export(dir: string): Promise<void> {
    await saveSafetensors(`${dir}/weights.safetensors`, this.model.stateDict());
    await saveSafetensors(`${dir}/inputs.safetensors`, {
      pixels: this.pixels,
      att: this.attributes,
      labels: this.labels,
    });
  }

  /** One training step: the trainer's own (src/train/step.ts), at the next step number. */
  trainStep(): void {
    this.loss = dsvaTrainStep({
      model: this.model,
      optimizer: this.opt,
      pixels: this.pixels,
      labels: this.labels,
      attributes: this.attributes,
      loss: this.lossCfg,
      useAC: this.useAC,
      config: this.config,
      step: this.steps,
      epoch: this.config.epochs - 1,
      batch: this.steps % this.config.batchesPerEpoch,
    }).total;
    this.steps++;
  }

  round(iters: number): Side {
    torch.setNumThreads(this.o.threads);
    return timedRound(iters, torch.getNumThreads(), () => this.trainStep());
  }

  describe(): string {
    const c = this.config;
    return `DSVA (cpu-tiny ViT, ${c.imageSize}x${c.imageSize}), K=${this.numAttributes} attributes` +
      ` in ${Object.keys(this.groups).length} groups, ${this.numClasses} seen classes,` +
      ` batch ${this.batch} (${c.ways} ways x ${c.shots} shots), AC ${this.useAC ? "on" : "off"},` +
      ` ${c.recipe} loss (CE on ${this.lossCfg.ceOnProbabilities ? "probabilities" : "logits"}),` +
      ` Adam lr heads ${this.lr.heads} backbone ${this.lr.backbone}`;
  }

  dispose() {
    this.opt.dispose();
    this.model.dispose();
    this.pixels.dispose();
    this.labels.dispose();
    this.attributes.dispose();
  }
}

// ---- the Python side ----

// ---- memory mode ----

async function memoryRun(o: Options): Promise<void> {
  const started = performance.now();
  const deno = await DenoBench.create(o);
  try {
    console.log(
      `bench train --memory: libtorch ${torch.version()}, ${o.threads} threads,` +
        ` OMP_WAIT_POLICY=${Deno.env.get("OMP_WAIT_POLICY")}\n  ${deno.describe()}\n` +
        `  ${o.steps} training steps (Deno only)`,
    );
    // RSS is measured from 10% of the run on: before that the allocators are still filling
    // their pools (the first 2,000-step run: 406 MB at step 20, 455 MB at 200, then 442-480 MB
    // with no trend). The live-tensor count must not change at any point.
    const startAt = Math.min(o.steps, Math.max(10, Math.ceil(o.steps / 10)));
    const marks = new Set<number>([startAt, o.steps]);
    for (let i = 1; i <= 10; i++) marks.add(Math.max(startAt, Math.round((o.steps * i) / 10)));
    const samples: { step: number; liveTensors: number; liveBytes: number; rss: number }[] = [];
    console.log("\n   step  live tensors  live MB    RSS MB  loss");
    for (let s = 1; s <= o.steps; s++) {
      deno.trainStep();
      if (marks.has(s)) {
        const m = torch.memory();
        const rss = Deno.memoryUsage().rss;
        samples.push({ step: s, liveTensors: m.liveTensors, liveBytes: m.liveBytes, rss });
        console.log(
          `${String(s).padStart(7)} ${String(m.liveTensors).padStart(13)}` +
            ` ${fmt(m.liveBytes / 2 ** 20, 2).padStart(8)} ${fmt(rss / 2 ** 20).padStart(9)}` +
            `  ${fmt(deno.loss, 4)}`,
        );
      }
    }
    const [a, z] = [samples[0], samples[samples.length - 1]];
    const growth = (100 * (z.rss - a.rss)) / a.rss;
    const result = {
      bench: "train-memory",
      steps: o.steps,
      threads: o.threads,
      batch: deno.batch,
      startStep: a.step,
      liveTensorsStart: a.liveTensors,
      liveTensorsEnd: z.liveTensors,
      liveBytesStart: a.liveBytes,
      liveBytesEnd: z.liveBytes,
      rssStartMB: +fmt(a.rss / 2 ** 20),
      rssEndMB: +fmt(z.rss / 2 ** 20),
      rssMaxMB: +fmt(Math.max(...samples.map((x) => x.rss)) / 2 ** 20),
      rssGrowthPercent: +fmt(growth, 2),
      flat: z.liveTensors === a.liveTensors && growth < 5,
      seconds: +fmt((performance.now() - started) / 1000),
    };
    console.log(
      `\nlive native tensors ${a.liveTensors} -> ${z.liveTensors}; RSS ${result.rssStartMB} MB ->` +
        ` ${result.rssEndMB} MB (${result.rssGrowthPercent}% from step ${a.step} to ${z.step})` +
        `  [target: tensors equal, RSS < 5%: ${
          result.flat ? "ok" : "MISSED"
        }]; took ${result.seconds} s`,
    );
    console.log(JSON.stringify(result));
  } finally {
    deno.dispose();
  }
}

// ---- driver ----

export async function run(args: string[]): Promise<void> {
  const o = parseArgs(args);
  if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
  if (o.memory) return await memoryRun(o);
  const python = Deno.env.get("DSVA_TORCH_PYTHON") ?? `${ROOT}/.venv/bin/python`;
  const started = performance.now();
  const py = new PythonBaseline(python, "train_baseline.py", "bench train", {
    OMP_WAIT_POLICY: Deno.env.get("OMP_WAIT_POLICY") ?? "PASSIVE",
  });
  let deno: DenoBench | null = null;
  const dir = await Deno.makeTempDir({ prefix: "dsva-bench-train-" });
  try {
    const hello = await py.next<
      { torch: string; package: string; python: string; ompWaitPolicy: string | null }
    >();
    const lib = torch.library();
    const denoPkg = lib.libtorch?.cmakePrefix.replace(/\/share\/cmake$/, "");
    const same = denoPkg !== undefined && Deno.realPathSync(denoPkg) === hello.package;
    deno = await DenoBench.create(o);
    await deno.export(dir);
    console.log(
      `bench train: libtorch ${torch.version()} (${lib.origin}: ${lib.path})\n` +
        `  Python ${hello.python}, torch ${hello.torch} at ${hello.package}` +
        (same ? " (same libtorch as Deno)" : `\n  WARNING: Deno's libtorch is ${denoPkg ?? "?"}`) +
        `\n  ${deno.describe()}\n` +
        `  one step: forward (ViT + VAM + ALE + AC crop re-feed) + loss + backward + Adam step\n` +
        `  Deno: DSVA + dsvaLoss + optim.Adam; Python: tests/oracle/dsva_ref.py (sdpa) +` +
        ` torch.optim.Adam(fused=True); same initial weights (our state dict via safetensors)\n` +
        `  ${o.threads} threads, OMP_WAIT_POLICY=${Deno.env.get("OMP_WAIT_POLICY")} (Deno),` +
        ` ${hello.ompWaitPolicy} (Python); ${o.rounds} rounds x ${o.iters} timed steps per side,` +
        ` after ${o.warmup} warm-up`,
    );

    const denoWarm = deno.round(o.warmup).ms;
    const denoLoss0 = deno.loss;
    const setup = await py.request<
      { threads: number; params: number; warmupMs: number[]; loss: number }
    >({
      setup: true,
      threads: o.threads,
      dir,
      case: deno.pythonCase(),
      lr: deno.lr,
      betas: runRecipe(deno.config).optimizer.betas,
      eps: runRecipe(deno.config).optimizer.eps,
      warmup: o.warmup,
    });
    if (setup.params !== deno.params) {
      throw new Error(
        `bench train: parameter counts differ (Deno ${deno.params}, Python ${setup.params})`,
      );
    }
    console.log(
      `  parameters: ${deno.params} (both); loss after ${o.warmup} warm-up steps: Deno` +
        ` ${fmt(denoLoss0, 5)}, Python ${fmt(setup.loss, 5)}; warm-up ms: Deno` +
        ` ${denoWarm.map((x) => fmt(x, 0))}, Python ${setup.warmupMs.map((x) => fmt(x, 0))}`,
    );

    console.log(
      "\nround  first   wall ms/step: Deno  Python   images/s: Deno  Python   ratio" +
        "   CPU ms/step: Deno  Python   run-queue wait ms: Deno  Python",
    );
    const b = deno.batch;
    const rows = await alternateRounds({
      bench: "train",
      rounds: o.rounds,
      threads: o.threads,
      deno: () => deno!.round(o.iters),
      python: () => py.request<Side>({ iters: o.iters }),
      onRound: (r, { deno: d, py: p }) => {
        const [dm, pm] = [median(d.ms), median(p.ms)];
        console.log(
          `${String(r + 1).padStart(5)}  ${r % 2 === 0 ? "Deno  " : "Python"}` +
            `${fmt(dm, 1).padStart(19)} ${fmt(pm, 1).padStart(7)}` +
            `${fmt(b * 1000 / dm, 1).padStart(16)} ${fmt(b * 1000 / pm, 1).padStart(7)}` +
            ` ${fmt(pm / dm, 3).padStart(7)}` +
            `${fmt(median(d.cpuMs), 1).padStart(18)} ${fmt(median(p.cpuMs), 1).padStart(7)}` +
            `${fmt(medianOf(d.waitMs), 1).padStart(25)} ${fmt(medianOf(p.waitMs), 1).padStart(7)}`,
        );
      },
    });
    const { denoMs, pyMs, ratio, denoCpu, pyCpu, cpuRatio, denoWait, pyWait, busy } = compareRounds(
      rows,
    );
    const result = {
      bench: "train",
      model: "DSVA cpu-tiny ViT, AC on, clean loss, Adam",
      python: "tests/oracle/dsva_ref.py (sdpa) + torch.optim.Adam(fused=True)",
      initialWeights: "Deno state dict via safetensors",
      libtorch: torch.version(),
      sameLibtorch: same,
      batch: b,
      imageSize: deno.config.imageSize,
      numAttributes: deno.numAttributes,
      threads: o.threads,
      ompWaitPolicy: Deno.env.get("OMP_WAIT_POLICY") ?? null,
      rounds: o.rounds,
      itersPerRound: o.iters,
      msPerStepDeno: +fmt(denoMs, 2),
      msPerStepPython: +fmt(pyMs, 2),
      imagesPerSecDeno: +fmt(b * 1000 / denoMs, 2),
      imagesPerSecPython: +fmt(b * 1000 / pyMs, 2),
      ratio: +fmt(ratio, 3),
      cpuMsPerStepDeno: +fmt(denoCpu, 2),
      cpuMsPerStepPython: +fmt(pyCpu, 2),
      cpuRatio: +fmt(cpuRatio, 3),
      runQueueWaitMsDeno: denoWait === null ? null : +fmt(denoWait, 2),
      runQueueWaitMsPython: pyWait === null ? null : +fmt(pyWait, 2),
      seconds: +fmt((performance.now() - started) / 1000),
    };
    console.log(
      `\nmedians over all timed steps; ratio = median of per-round Deno/Python images/s\n` +
        `  DSVA training step, batch ${b}, ${o.threads} threads: Deno ${result.imagesPerSecDeno}` +
        ` images/s, Python ${result.imagesPerSecPython} images/s, ratio ${result.ratio}` +
        `  [target >= 1.0: ${result.ratio >= 1 ? "ok" : "MISSED"}]\n` +
        `  CPU time per step: Deno ${result.cpuMsPerStepDeno} ms, Python` +
        ` ${result.cpuMsPerStepPython} ms, ratio Python/Deno ${result.cpuRatio}\n` +
        `  main thread waiting for a core per step: Deno ${
          result.runQueueWaitMsDeno ?? "n/a"
        } ms,` +
        ` Python ${result.runQueueWaitMsPython ?? "n/a"} ms` +
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
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** `deno task bench data`: decode + augment throughput at 224×224 on AID, Deno's ImageLoader
 * against a PyTorch DataLoader with Pillow (bench/data_baseline.py) with the same number of
 * workers, in the same run.
 *
 * Pipeline on both sides: decode JPEG → Resize(256) bilinear → RandomCrop(224) →
 * RandomHorizontalFlip → normalise (ImageNet) → NCHW float32 batches of 32. Deno runs with
 * `--workers` worker threads (the ratio) and on the main thread (`workers: 0`, the loader's
 * default, reported beside it); Python with `--workers` worker processes. Each side's rate is the steady
 * state after its first batch (start-up reported apart); rounds alternate which side goes
 * first and the median is reported. The last line is one JSON object with the figures.
 *
 * Options: --images N (1024), --workers N (2), --rounds N (3), --aid DIR
 * (default ../shared/data/aid). Env: DSVA_TORCH_PYTHON (default .venv/bin/python). */
// The data modules one by one (not mod.ts): this suite needs no libtorch.
import process from "node:process";
import { openDatasetFolder, splitSamples } from "../src/data/dataset.ts";
import { ImageLoader, type Sample } from "../src/data/loader.ts";
import { ShuffledBatchSampler } from "../src/data/shuffle_sampler.ts";
import { trainTransform } from "../src/data/transforms.ts";
import { benchProgram, intAtLeast, parseBenchOptions } from "./harness.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const PYTHON = Deno.env.get("DSVA_TORCH_PYTHON") ?? `${ROOT}/.venv/bin/python`;

interface Rate {
  imagesPerSec: number;
  firstBatchMs: number;
  /** CPU time of the whole epoch (every thread or worker process, start-up included) per image:
   * what the rate would be on an otherwise idle machine does not depend on the load. */
  cpuMsPerImage: number;
}

function options(args: string[]) {
  const prog = benchProgram("data", "decode + augment images/s at 224x224 on AID")
    .option("--images <n>", "images decoded per side and round", intAtLeast(1), 1024)
    .option("--workers <n>", "worker threads / processes", intAtLeast(0), 2)
    .option("--rounds <n>", "rounds", intAtLeast(1), 3)
    .option("--aid <dir>", "the AID dataset folder", `${ROOT}/../shared/data/aid`);
  return parseBenchOptions<{ images: number; workers: number; rounds: number; aid: string }>(
    "data",
    prog,
    args,
  );
}

async function deno(samples: Sample[], workers: number): Promise<Rate> {
  const loader = new ImageLoader(samples, {
    transform: trainTransform(224, 256),
    workers, // concurrency: the loader's default
  });
  const sampler = new ShuffledBatchSampler(samples.length, { batchSize: 32, seed: 0 });
  const c0 = process.cpuUsage(), t0 = performance.now();
  let n = 0, first = 0, t1 = 0;
  for await (const b of loader.batches(sampler.epoch())) {
    if (n === 0) [t1, first] = [performance.now(), b.shape[0]];
    n += b.shape[0];
  }
  const cpu = process.cpuUsage(c0);
  return {
    imagesPerSec: (n - first) / ((performance.now() - t1) / 1000),
    firstBatchMs: t1 - t0,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / n,
  };
}

async function python(paths: string[], workers: number): Promise<Rate> {
  const child = new Deno.Command(PYTHON, {
    args: [`${ROOT}/bench/data_baseline.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(
    new TextEncoder().encode(JSON.stringify({ paths, workers, batch: 32, resize: 256, crop: 224 })),
  );
  await w.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`data_baseline.py failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the suite. */
export async function run(args: string[]): Promise<void> {
  const o = options(args);
  const ds = await openDatasetFolder(o.aid, { split: "25_5" });
  const samples = splitSamples(ds, "trainval").slice(0, o.images);
  const paths = samples.map((s) => s.path);
  console.log(
    `AID trainval, ${samples.length} images (150×150 JPEG) → 224×224 batches of 32; ` +
      `${navigator.hardwareConcurrency} CPUs; ${o.workers} workers`,
  );
  const sides: Record<string, Rate[]> = { deno: [], denoWorkers: [], python: [] };
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0
      ? ["deno", "denoWorkers", "python"]
      : ["python", "denoWorkers", "deno"];
    for (const side of order) {
      const rate = side === "python"
        ? await python(paths, o.workers)
        : await deno(samples, side === "deno" ? 0 : o.workers);
      sides[side].push(rate);
      console.log(
        `  round ${r + 1} ${side.padEnd(11)} ${
          rate.imagesPerSec.toFixed(0).padStart(6)
        } images/s, ${rate.cpuMsPerImage.toFixed(2)} CPU ms/image ` +
          `(first batch ${rate.firstBatchMs.toFixed(0)} ms)`,
      );
    }
  }
  const m = Object.fromEntries(
    Object.entries(sides).map(([k, v]) => [k, median(v.map((x) => x.imagesPerSec))]),
  );
  const cpu = Object.fromEntries(
    Object.entries(sides).map(([k, v]) => [k, median(v.map((x) => x.cpuMsPerImage))]),
  );
  // The headline compares like with like: N worker threads against N DataLoader workers.
  const ratio = m.denoWorkers / m.python;
  console.log(
    `median images/s: deno ${m.deno.toFixed(0)} (main thread), deno ${
      m.denoWorkers.toFixed(0)
    } (${o.workers} worker threads), python ${m.python.toFixed(0)} (${o.workers} workers); ` +
      `ratio ${ratio.toFixed(2)} (main thread: ${(m.deno / m.python).toFixed(2)})\n` +
      `median CPU ms per image: deno ${cpu.denoWorkers.toFixed(2)} (worker threads), ` +
      `${cpu.deno.toFixed(2)} (main thread), python ${cpu.python.toFixed(2)}; CPU ratio ` +
      `python/deno ${(cpu.python / cpu.denoWorkers).toFixed(2)}`,
  );
  console.log(JSON.stringify({
    images: samples.length,
    workers: o.workers,
    cpus: navigator.hardwareConcurrency,
    denoImagesPerSec: Math.round(m.denoWorkers),
    denoMainThreadImagesPerSec: Math.round(m.deno),
    pythonImagesPerSec: Math.round(m.python),
    ratio: Number(ratio.toFixed(3)),
    denoCpuMsPerImage: Number(cpu.denoWorkers.toFixed(3)),
    pythonCpuMsPerImage: Number(cpu.python.toFixed(3)),
    cpuRatio: Number((cpu.python / cpu.denoWorkers).toFixed(3)),
  }));
}

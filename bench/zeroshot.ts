/** `deno task bench zeroshot`: image-encoding throughput of zero-shot classification, images/s,
 * our loader + model against transformers on the same weights, batch and threads, in one run.
 *
 *  Weights: a random CLIP written once as a Hugging Face folder (vision tower ViT-B/32 at 224,
 *           or `--vision tiny`: the 48×48 tower of clip:finetune's default; a small text
 *           tower and a BPE tokenizer, which zero-shot loading needs but this bench does not
 *           time), plus the input batch as `pixels.safetensors`
 *  Deno:    `loadClip(dir)` (src/zeroshot/load.ts) → `CLIPModel.encodeImage(pixels,
 *           { normalize: true })` under noGrad
 *  Python:  `--against open_clip` (default): open_clip's `create_model("ViT-B-32-quickgelu")`,
 *           random, saved as a plain state dict that the Deno side loads (`loadClip(file)`),
 *           timed as `encode_image(pixels, normalize=True)`; `--against transformers`:
 *           `CLIPModel.from_pretrained(dir)` (sdpa) → `get_image_features`, L2-normalised,
 *           under no_grad (bench/zeroshot_baseline.py)
 *
 * Method as bench/vit.ts: rounds alternate which side goes first; images/s = batch / median
 * iteration time; the ratio is the median of the per-round Deno/Python ratios. The two sides'
 * embeddings of the same batch are compared first (max abs difference printed and in the JSON).
 * The last line is one JSON object.
 *
 * Options: --rounds N (6), --iters N (2), --warmup N (1), --batch N (16), --threads N (1),
 * --vision b32|tiny (b32), --quick (3 rounds).
 * Env: DSVA_TORCH_PYTHON (default .venv/bin/python). */
import { models, torch } from "../mod.ts";
import { bpeTokenizerFiles, trainBpe } from "../src/clip/bpe.ts";
import { initClipWeights, tinyClipConfig } from "../src/clip/tiny.ts";
import { saveHfClip } from "../src/clip/save.ts";
import { FINETUNE_DEFAULTS } from "../src/clip/finetune_config.ts";
import { loadSafetensors, saveSafetensors } from "../src/io/index.ts";
import { loadClip } from "../src/zeroshot/load.ts";
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
const OPEN_CLIP_BPE =
  `${ROOT}/.venv/lib/python3.11/site-packages/open_clip/bpe_simple_vocab_16e6.txt.gz`;

interface Config {
  rounds: number;
  iters: number;
  warmup: number;
  batch: number;
  threads: number;
  vision: string;
  against: string;
}

function parseArgs(args: string[]): Config {
  const pos = intAtLeast(1);
  const prog = benchProgram("zeroshot", "CLIP image encoding images/s, Deno vs transformers")
    .option("--rounds <n>", "timed rounds", pos, 6)
    .option("--iters <n>", "timed encodings per side and round", pos, 2)
    .option("--warmup <n>", "untimed encodings first", intAtLeast(0), 1)
    .option("--batch <n>", "images per batch", pos, 16)
    .option("--threads <n>", "intra-op threads on both sides", pos, 1)
    .option("--vision <b32|tiny>", "the image tower: ViT-B/32 at 224, or clip:finetune's", "b32")
    .option(
      "--against <open_clip|transformers>",
      "the Python side: open_clip's ViT-B-32-quickgelu (b32 only) or transformers' CLIPModel",
      "open_clip",
    )
    .option("--quick", "3 rounds");
  const c = parseBenchOptions<Config>("zeroshot", prog, args, { rounds: 3 });
  if (c.vision !== "b32" && c.vision !== "tiny") {
    console.error(`bench zeroshot: --vision ${c.vision}: expected b32 or tiny`);
    Deno.exit(2);
  }
  if (c.against !== "open_clip" && c.against !== "transformers") {
    console.error(`bench zeroshot: --against ${c.against}: expected open_clip or transformers`);
    Deno.exit(2);
  }
  if (c.against === "open_clip" && c.vision !== "b32") {
    console.error(
      "bench zeroshot: --against open_clip takes --vision b32 only (heads = width / 64)",
    );
    Deno.exit(2);
  }
  return c;
}

/** A random CLIP as a Hugging Face folder (unless open_clip writes the weights), and the batch
 * as pixels.safetensors. */
async function writeWeights(dir: string, c: Config): Promise<void> {
  if (c.against === "open_clip") {
    // open_clip's own BPE vocabulary beside its weights, as a user puts RemoteCLIP's.
    await Deno.copyFile(OPEN_CLIP_BPE, `${dir}/bpe_simple_vocab_16e6.txt.gz`);
    using pixels = torch.randn([c.batch, 3, 224, 224]);
    await saveSafetensors(`${dir}/pixels.safetensors`, new Map([["pixels", pixels]]));
    return;
  }
  const bpe = trainBpe(["a satellite image of an airport.", "an aerial photograph of a beach."], {
    maxMerges: 50,
    minFrequency: 1,
  });
  const m = FINETUNE_DEFAULTS.model as { imageSize: number; patchSize: number; width: number };
  const tiny = tinyClipConfig(Object.keys(bpe.vocab).length, {
    imageSize: m.imageSize,
    patchSize: m.patchSize,
    width: m.width,
    contextLength: 32,
    projectionDim: 512,
  });
  const vision = c.vision === "b32" ? models.vitConfig("clip-b32") : tiny.vision;
  torch.manualSeed(0);
  const model = new models.CLIPModel({ ...tiny, vision });
  initClipWeights(model);
  await saveHfClip(dir, model, bpeTokenizerFiles(bpe, 32));
  model.dispose();
  using pixels = torch.randn([c.batch, 3, vision.imageSize, vision.imageSize]);
  await saveSafetensors(`${dir}/pixels.safetensors`, new Map([["pixels", pixels]]));
}

const fmt = (x: number, d = 1) => x.toFixed(d);

export async function run(args: string[]): Promise<void> {
  const c = parseArgs(args);
  const python = Deno.env.get("DSVA_TORCH_PYTHON") ?? `${ROOT}/.venv/bin/python`;
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "bench-zeroshot-" });
  const py = new PythonBaseline(python, "zeroshot_baseline.py", "bench zeroshot");
  try {
    const hello = await py.next<
      { torch: string; python: string; transformers: string; open_clip: string | null }
    >();
    if (c.against === "open_clip" && !hello.open_clip) {
      throw new Error("bench zeroshot: open_clip is not importable in the Python baseline");
    }
    torch.setNumThreads(c.threads);
    await writeWeights(dir, c);
    type Setup = {
      threads: number;
      params: number;
      loadMs: number;
      warmupMs: number[];
      first: number[][];
    };
    const pySetup = () =>
      py.request<Setup>({
        setup: true,
        dir,
        threads: c.threads,
        warmup: c.warmup,
        against: c.against,
      });
    // open_clip writes the weights the Deno side then reads; transformers reads Deno's folder.
    const early = c.against === "open_clip" ? await pySetup() : null;
    torch.setNumThreads(c.threads);
    const source = c.against === "open_clip" ? `${dir}/ViT-B-32-quickgelu.pt` : dir;
    const t0 = performance.now();
    const { model } = await loadClip(
      c.against === "open_clip" ? { path: source, activation: "quick_gelu" } : source,
    );
    const loadMs = performance.now() - t0;
    const batch = await loadSafetensors(`${dir}/pixels.safetensors`);
    const pixels = batch.get("pixels")!;
    const params = model.parameters().reduce((n, p) => n + p.numel, 0);
    const encode = () => torch.noGrad(() => model.encodeImage(pixels, { normalize: true }));
    const round = (iters: number): Side => {
      torch.setNumThreads(c.threads);
      return timedRound(iters, torch.getNumThreads(), () => torch.scope(() => void encode()));
    };
    const denoWarm = round(c.warmup).ms;
    const setup = early ?? await pySetup();
    if (setup.params !== params) {
      throw new Error(
        `bench zeroshot: parameter counts differ (Deno ${params}, Python ${setup.params})`,
      );
    }
    const ours = torch.scope(() => encode().narrow(0, 0, 2).toArray() as number[][]);
    const diff = Math.max(
      ...ours.flatMap((r, i) => r.map((x, j) => Math.abs(x - setup.first[i][j]))),
    );
    const size = c.vision === "b32"
      ? 224
      : (FINETUNE_DEFAULTS.model as { imageSize: number }).imageSize;
    console.log(
      `bench zeroshot: libtorch ${torch.version()}; Python ${hello.python}, torch ${hello.torch}, ` +
        `transformers ${hello.transformers}, open_clip ${hello.open_clip}; against ${c.against}\n` +
        `  image tower ${c.vision} (${size}×${size}), ${params} parameters (both), batch ${c.batch}, ` +
        `${c.threads} threads (both sides)\n` +
        `  load: Deno loadClip ${fmt(loadMs, 0)} ms, Python ${
          c.against === "open_clip" ? "create_model + save" : "from_pretrained"
        } ${fmt(setup.loadMs, 0)} ms; ` +
        `embeddings max |Deno − Python| ${diff.toExponential(2)}\n` +
        `  warm-up ms: Deno ${denoWarm.map((x) => fmt(x, 0))}, Python ${
          setup.warmupMs.map((x) => fmt(x, 0))
        }`,
    );
    console.log("\nround  first   wall ms/iter: Deno  Python   images/s: Deno  Python   ratio");
    const rows = await alternateRounds({
      bench: "zeroshot",
      rounds: c.rounds,
      threads: c.threads,
      deno: () => round(c.iters),
      python: () => py.request<Side>({ iters: c.iters }),
      onRound: (r, { deno: d, py: p }) => {
        const [dm, pm] = [median(d.ms), median(p.ms)];
        console.log(
          `${String(r + 1).padStart(5)}  ${r % 2 === 0 ? "Deno  " : "Python"}` +
            `${fmt(dm, 0).padStart(19)} ${fmt(pm, 0).padStart(7)}` +
            `${fmt(c.batch * 1000 / dm, 2).padStart(16)} ${
              fmt(c.batch * 1000 / pm, 2).padStart(7)
            }` +
            `${fmt(pm / dm, 3).padStart(8)}`,
        );
      },
    });
    const { denoMs, pyMs, ratio, cpuRatio } = compareRounds(rows);
    model.dispose();
    pixels.dispose();
    const result = {
      bench: "zeroshot",
      vision: c.vision,
      imageSize: size,
      python: c.against === "open_clip"
        ? `open_clip ${hello.open_clip} ViT-B-32-quickgelu encode_image`
        : `transformers ${hello.transformers} CLIPModel sdpa`,
      against: c.against,
      batch: c.batch,
      threads: c.threads,
      rounds: c.rounds,
      itersPerRound: c.iters,
      imagesPerSecDeno: +fmt(c.batch * 1000 / denoMs, 3),
      imagesPerSecPython: +fmt(c.batch * 1000 / pyMs, 3),
      ratio: +fmt(ratio, 3),
      cpuRatio: +fmt(cpuRatio, 3),
      loadMsDeno: +fmt(loadMs, 0),
      loadMsPython: +fmt(setup.loadMs, 0),
      maxAbsDiff: diff,
      seconds: +fmt((performance.now() - started) / 1000),
    };
    console.log(
      `\nimage encoding, batch ${c.batch}, ${c.threads} threads: Deno ${result.imagesPerSecDeno} ` +
        `images/s, ${c.against} ${result.imagesPerSecPython} images/s, ratio ${result.ratio}`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await py.close();
    await Deno.remove(dir, { recursive: true });
  }
}

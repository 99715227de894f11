/**
 * `deno task attributes --model DIR [options]`: collect a class × attribute matrix with CLIP.
 *
 * Every image of every class is embedded; every attribute is embedded as its phrases in every
 * prompt template (ensembled); each image's scores are CLIP's probabilities over the attributes
 * (options: cosine, centered cosine), averaged per class (options: median, max, trimmed mean)
 * and each attribute is min–max scaled
 * over the classes (options: z-score, row L2, none). Writes `attributes.csv`, `attributes.json`,
 * `groups.json` (the formats `deno task train --attributes/--groups` reads), `vocabulary.json`,
 * `attributes_raw.json` and `attributes.html` (per attribute, the classes it scores highest and
 * lowest). With true attributes (the synthetic scenes, or `--truth FILE`), prints the mean
 * per-attribute AUROC over classes. The last line is a JSON object with `auroc` and the paths.
 * Exit status: 0 done, 1 bad data / model / vocabulary, 2 bad command line. `--help` lists the
 * options.
 * @module
 */
import { Command } from "npm:commander@^15";
import { cuda, setNumThreads } from "../tensor/index.ts";
import type { Device } from "../tensor/index.ts";
import { findDatasetLayout } from "../data/dataset.ts";
import { scanImageFolder } from "../data/image_folder.ts";
import { ensureSyntheticDataset } from "../data/synthetic/generate.ts";
import { createRunDir } from "../run/run_dir.ts";
import { cachedImageEmbeddings } from "../zeroshot/embed.ts";
import { clipWeightsHash } from "../zeroshot/load.ts";
import {
  collectAttributes,
  type CollectSettings,
  type EncodeAutocast,
  loadClip,
  scoreAgainstTruth,
  writeAttributeFiles,
} from "../attributes/collect.ts";
import {
  readTemplates,
  readTrueAttributes,
  type TrueAttributes,
} from "../attributes/input_files.ts";
import { readVocabulary } from "../attributes/vocabulary.ts";
import { DEFAULT_TEMPLATES } from "../attributes/scoring.ts";
import {
  SYNTHETIC_TEMPLATES,
  syntheticTruth,
  syntheticVocabulary,
} from "../attributes/synthetic.ts";
import { absolutePath } from "../config/paths.ts";
import { flagReader, givenFlags } from "./flag_reader.ts";
import { parseOrExit, runCommand, UsageError } from "./task_exit.ts";
import { nonEmpty, userPath } from "./paths.ts";

const TASK = "attributes";

/** The command's flags (values are read as text and checked afterwards, so that an error names
 * the flag and the value). */
export function attributesProgram(): Command {
  return new Command("deno task attributes")
    .description("Collect a class × attribute matrix with CLIP.")
    .option(
      "--model <dir>",
      "a Hugging Face CLIP folder (config.json, weights, tokenizer.json), a clip:finetune run folder (its model/), an OpenAI archive or an open_clip checkpoint",
      userPath,
    )
    .option("--format <hf|openai|open_clip>", "the weights' format (default detected)")
    .option(
      "--activation <quick_gelu|gelu>",
      "MLP activation (default the source's: OpenAI quick_gelu, open_clip gelu, HF config.json)",
    )
    .option("--tokenizer <file>", "tokenizer.json or bpe_simple_vocab_16e6.txt.gz (default beside)")
    .option("--no-cache", "neither read nor write the image-embedding cache (shared with zeroshot)")
    .optionsGroup("Images (default: the synthetic scenes):")
    .option(
      "--synthetic",
      "the built-in synthetic scenes (vocabulary and true attributes built in)",
    )
    .option("--dataset <dir>", "a dataset folder (images/ with one sub-folder per class)", userPath)
    .option("--images <dir>", "an image folder (one sub-folder per class)", userPath)
    .optionsGroup("Attributes:")
    .option(
      "--vocabulary <file>",
      "attribute names and groups (JSON; see src/attributes/vocabulary.ts); built in for --synthetic",
      userPath,
    )
    .option(
      "--template <t>",
      `a prompt template with {} for the attribute (repeat to ensemble); default "${
        DEFAULT_TEMPLATES[0]
      }" (synthetic: the captions' 4 openings)`,
      (t: string, prev: string[] | undefined) => [...(prev ?? []), t],
    )
    .option("--templates <file>", "templates, one per line", userPath)
    .option(
      "--similarity <s>",
      "softmax (default: CLIP's probabilities over the attributes at the model's temperature), " +
        "cosine, or centered (cosine minus the image's mean cosine over the attributes)",
    )
    .option("--aggregation <a>", "mean (default), median, max or trimmed-mean")
    .option("--trim <x>", "fraction cut at each end by trimmed-mean (0.1)")
    .option(
      "--normalization <n>",
      "minmax (default: each attribute to [0, 1] over the classes), zscore, l2 (each class row), none",
    )
    .option(
      "--truth <file>",
      "true attributes (csv/json/npy/mat, named rows and columns) for AUROC",
      userPath,
    )
    .optionsGroup("Output:")
    .option(
      "--out <dir>",
      "output folder (default runs/<timestamp>-attributes); a folder that is not empty needs " +
        "--overwrite",
      userPath,
    )
    .option("--overwrite", "with --out: replace the files of a folder that is not empty")
    .option("--batch-size <n>", "images per CLIP batch (64)")
    .option("--threads <n>", "libtorch threads")
    .option("--device <device>", "cpu, cuda or cuda:N (cpu)")
    .option(
      "--autocast <none|bf16>",
      "encode in float32 (none) or under bf16 autocast (CUDA's, or libtorch's CPU autocast)",
    )
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride();
}

const fail = (msg: string): never => {
  throw new UsageError(msg);
};

/** What `runAttributes` printed last: the JSON summary. */
export interface AttributesSummary {
  auroc: number | null;
  csv: string;
  json: string;
  groups: string;
  html: string;
  vocabulary: string;
  out: string;
  classes: number;
  attributes: number;
  images: number;
  seconds: number;
}

/** Runs the command on `argv` (also used by clip:demo); returns the summary. */
export async function runAttributes(argv: readonly string[]): Promise<AttributesSummary> {
  const prog = attributesProgram();
  parseOrExit(TASK, prog, argv);
  const v = givenFlags(prog) as {
    [k: string]: string | string[] | boolean | undefined;
    model?: string;
    synthetic?: boolean;
    dataset?: string;
    images?: string;
    vocabulary?: string;
    template?: string[];
    templates?: string;
    truth?: string;
    out?: string;
    overwrite?: boolean;
  };
  const { z, flag } = await flagReader(v);
  const t0 = performance.now();
  if (!v.model) {
    fail(
      "--model DIR is required (a CLIP folder or a clip:finetune run). For the built-in " +
        "demo that trains one first, run deno task clip:demo",
    );
  }
  const sources = [v.synthetic, v.dataset, v.images].filter(Boolean).length;
  if (sources > 1) fail("give one of --synthetic, --dataset DIR, --images DIR");
  const synthetic = sources === 0 || !!v.synthetic;
  if (v.template && v.templates) fail("give --template or --templates, not both");
  if (v.out && !v.overwrite && nonEmpty(v.out)) {
    fail(
      `--out ${v.out}: not empty; give a new or empty folder, or --overwrite to replace its files`,
    );
  }
  const settings: CollectSettings = {
    templates: DEFAULT_TEMPLATES,
    similarity: flag("similarity", z.enum(["softmax", "cosine", "centered"]), "softmax"),
    aggregation: flag(
      "aggregation",
      z.enum(["mean", "median", "max", "trimmed-mean"]),
      "mean",
    ),
    trim: flag("trim", z.coerce.number().min(0).lt(0.5), 0.1),
    normalization: flag("normalization", z.enum(["minmax", "zscore", "l2", "none"]), "minmax"),
  };
  const batchSize = flag("batch-size", z.coerce.number().int().positive(), 64);
  const device = flag(
    "device",
    z.string().regex(/^(cpu|cuda(:\d+)?)$/, "cpu, cuda or cuda:N"),
    "cpu",
  ) as Device;
  if (device.startsWith("cuda") && !cuda.isAvailable()) {
    fail(`--device ${device}: CUDA is not available in the linked libtorch`);
  }
  const autocast = flag<EncodeAutocast>("autocast", z.enum(["none", "bf16"]), "none");
  if (v.threads) setNumThreads(flag("threads", z.coerce.number().int().positive(), 1));

  // Templates.
  if (v.template) settings.templates = v.template;
  else if (v.templates) settings.templates = await readTemplates(v.templates);
  else if (synthetic) settings.templates = SYNTHETIC_TEMPLATES;
  const badTemplate = settings.templates.find((t) => !t.includes("{}"));
  if (badTemplate !== undefined) {
    fail(`template ${JSON.stringify(badTemplate)} has no "{}" where the attribute goes`);
  }

  // Images, vocabulary, truth.
  let imagesDir: string;
  let truth: TrueAttributes | null = null;
  if (synthetic) {
    imagesDir = `${(await ensureSyntheticDataset({})).dir}/images`;
    truth = syntheticTruth();
  } else if (v.dataset) imagesDir = findDatasetLayout(v.dataset).images;
  else imagesDir = v.images!;
  const vocabulary = v.vocabulary
    ? await readVocabulary(v.vocabulary)
    : synthetic
    ? syntheticVocabulary()
    : fail("--vocabulary FILE is required (the attribute names and groups)");
  if (v.truth) truth = await readTrueAttributes(v.truth);
  const folder = await scanImageFolder(imagesDir);

  const clipOpts = {
    format: flag("format", z.enum(["hf", "openai", "open_clip"]).optional(), undefined),
    activation: flag("activation", z.enum(["quick_gelu", "gelu"]).optional(), undefined),
    tokenizer: v.tokenizer as string | undefined,
  };
  const { model, tokenizer, dir: modelDir } = await loadClip(v.model!, device, clipOpts);
  const out = v.out ?? absolutePath(Deno.cwd(), await createRunDir("runs", "attributes"));
  console.log(
    `attributes: ${folder.classes.length} classes, ${folder.samples.length} images from ${imagesDir}\n` +
      `  model ${modelDir} (format ${clipOpts.format ?? "detected"}, activation ${
        clipOpts.activation ?? "the source's default"
      }); ${vocabulary.names.length} attributes in ${
        Object.keys(vocabulary.groups).length
      } groups; ${settings.templates.length} template(s) × phrases, ${settings.similarity}, ` +
      `${settings.aggregation}, ${settings.normalization}`,
  );
  // The image embeddings through the cache deno task zeroshot writes (same key, same entries).
  const cached = await cachedImageEmbeddings({
    model,
    modelPath: modelDir,
    weightsHash: await clipWeightsHash({ path: v.model!, ...clipOpts }),
    samples: folder.samples,
    batchSize,
    autocast,
    useCache: v.cache !== false,
  });
  console.log(`  image embeddings: cache ${cached.state}`);
  const collected = await collectAttributes(
    model,
    tokenizer,
    folder.samples,
    folder.classes,
    vocabulary,
    settings,
    { batchSize, images: cached.images, autocast },
  );
  cached.images.dispose();
  model.dispose();
  let auroc: number | null = null, per: (number | null)[] | undefined, t: number[][] | undefined;
  if (truth) {
    const s = scoreAgainstTruth(collected, truth);
    auroc = s.mean;
    per = s.perAttribute;
    t = s.truth;
  }
  const files = await writeAttributeFiles(out, collected, {
    truth: t,
    perAttributeAuroc: per,
    title: `CLIP attributes: ${modelDir}`,
  });
  if (per) {
    const names = vocabulary.names;
    const w = Math.max(...names.map((n) => n.length));
    console.log("per-attribute AUROC over classes:");
    for (let i = 0; i < names.length; i += 3) {
      console.log(
        "  " +
          names.slice(i, i + 3).map((n, j) =>
            `${n.padEnd(w)} ${per![i + j] === null ? "  –  " : per![i + j]!.toFixed(3)}`
          ).join("   "),
      );
    }
    console.log(`mean per-attribute AUROC: ${auroc === null ? "undefined" : auroc.toFixed(4)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(`wrote ${out}/ (attributes.csv, attributes.json, groups.json, attributes.html)`);
  const summary: AttributesSummary = {
    auroc,
    csv: files.csv,
    json: files.json,
    groups: files.groups,
    html: files.html,
    vocabulary: files.vocabulary,
    out,
    classes: collected.classes.length,
    attributes: vocabulary.names.length,
    images: folder.samples.length,
    seconds,
  };
  console.log(JSON.stringify(summary));
  return summary;
}

/** Runs `deno task attributes` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand(TASK, argv, async (args) => {
    await runAttributes(args);
  }, () => attributesProgram().helpInformation());
}

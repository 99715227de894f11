/** Attribute collection end to end, as `deno task attributes` runs it: load a CLIP (a Hugging
 * Face folder, or the `model/` of a `clip:finetune` run), embed every image of every class,
 * embed every attribute (phrases × prompt templates, ensembled), score, aggregate per class,
 * normalize, and write the files `deno task train` reads plus an HTML page.
 * @module
 */
import { exists, isFile } from "../../ffi/fs.ts";
import { autocast, cat, noGrad, scope, stack, type Tensor } from "../tensor/index.ts";
import type { Device } from "../tensor/index.ts";
import { CLIPModel, l2Normalize } from "../models/clip.ts";
import { CLIPTokenizer } from "../models/tokenizer.ts";
import { type CLIPActivation, type CLIPFormat, tokenizerBeside } from "../models/clip_sources.ts";
import { DataError } from "../data/errors.ts";
import { ImageLoader, type Sample } from "../data/loader.ts";
import { CLIP as CLIP_NORM } from "../data/normalize.ts";
import { batchToTensor } from "../data/tensor.ts";
import { clipEvalTransform } from "../clip/transforms.ts";
import {
  aggregateByClass,
  type Aggregation,
  attributePrompts,
  imageAttributeScores,
  type Normalization,
  normalizeAttributes,
  type Similarity,
} from "./scoring.ts";
import { type AttributeVocabulary, vocabularyJson } from "./vocabulary.ts";
import { attributeAuroc } from "./auroc.ts";
import { attributeReportHtml } from "./report.ts";
import { writeJsonAtomic as writeJson } from "../run/run_dir.ts";

/** The CLIP source of `path`: a weights file itself (OpenAI archive, open_clip checkpoint), the
 * `model/` of a `clip:finetune` run folder, else the folder itself when it has a `config.json`. */
export function resolveModelDir(path: string): string {
  const p = path.replace(/\/+$/, "");
  if (isFile(p)) return p; // an OpenAI archive or open_clip checkpoint: CLIPModel reads it
  if (isFile(`${p}/model/config.json`)) return `${p}/model`;
  if (isFile(`${p}/checkpoints/last.safetensors`)) {
    throw new DataError(
      p,
      "is a clip:finetune run that has not finished (no model/ yet); resume it with " +
        `deno task clip:finetune --resume ${p}`,
    );
  }
  if (isFile(`${p}/config.json`)) return p;
  if (!exists(p)) throw new DataError(p, "no such model folder");
  throw new DataError(
    p,
    "is not a CLIP model folder (no config.json) nor a clip:finetune run folder (no model/)",
  );
}

/** A CLIP model and its tokenizer from a folder or weights file (see
 * {@link resolveModelDir}); `opts` sets the format and activation (`CLIPModel.fromPretrained`)
 * and a tokenizer file. A folder without a text tower, or a source without a tokenizer, fails
 * with a message saying so (and, for a weights file, what to pass). */
export async function loadClip(
  path: string,
  device: Device = "cpu",
  opts: { format?: CLIPFormat; activation?: CLIPActivation; tokenizer?: string } = {},
): Promise<{ model: CLIPModel; tokenizer: CLIPTokenizer; dir: string }> {
  const dir = resolveModelDir(path);
  const readTokenizer = async () => {
    try {
      return await CLIPTokenizer.fromPretrained(opts.tokenizer ?? dir);
    } catch (e) {
      if (!opts.tokenizer && isFile(dir) && !tokenizerBeside(dir)) {
        throw new DataError(
          dir,
          "an OpenAI / open_clip weights file has no tokenizer of its own: pass --tokenizer " +
            "<tokenizer.json or bpe_simple_vocab_16e6.txt.gz> (open_clip's is in its package), " +
            "or put one beside the file",
        );
      }
      throw e;
    }
  };
  const load = { device, format: opts.format, activation: opts.activation };
  // A weights file: the tokenizer first, so that a missing one fails before 600 MB are read. A
  // folder: the model first, whose error says when it has no text tower at all.
  const early = isFile(dir) ? await readTokenizer() : null;
  const model = await CLIPModel.fromPretrained(dir, load);
  let tokenizer: CLIPTokenizer;
  try {
    tokenizer = early ?? await readTokenizer();
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer, dir };
}

/** How the CLIP's forward passes run: `none` in float32, `bf16` under bfloat16 autocast (of the
 * model's device type; libtorch's CPU autocast as well as CUDA's). */
export type EncodeAutocast = "none" | "bf16";

/** `encode()`'s [B, P] features as unit float32 rows: under bf16 autocast when asked, cast to
 * float32 before the norm is taken (a bfloat16 norm would lose the digits the cosines need). */
function unitFeatures(
  model: CLIPModel,
  mode: EncodeAutocast | undefined,
  encode: () => Tensor,
): Tensor {
  if (mode !== "bf16") return l2Normalize(encode());
  const type = model.logitScale.device.startsWith("cuda") ? "cuda" : "cpu";
  return scope(() => l2Normalize(autocast(type, encode, "bfloat16").to("float32")));
}

/** Unit-length image embeddings [N, P] (on the CPU) of `samples`, Resize → CenterCrop at the
 * model's input size, CLIP pixel statistics. */
export async function embedImages(
  model: CLIPModel,
  samples: readonly Sample[],
  opts: {
    batchSize?: number;
    concurrency?: number;
    onBatch?: (done: number) => void;
    autocast?: EncodeAutocast;
  } = {},
): Promise<Tensor> {
  const size = model.config.vision.imageSize;
  const bs = opts.batchSize ?? 64;
  const device = model.logitScale.device;
  const loader = new ImageLoader(samples, {
    transform: clipEvalTransform(size),
    normalization: CLIP_NORM,
    concurrency: opts.concurrency ?? 4,
  });
  const plans = Array.from({ length: Math.ceil(samples.length / bs) }, (_, b) => ({
    epoch: 0,
    batch: b,
    indices: Array.from(
      { length: Math.min(bs, samples.length - b * bs) },
      (_, i) => b * bs + i,
    ),
  }));
  const parts: Tensor[] = [];
  let done = 0;
  try {
    for await (const b of loader.batches(plans)) {
      parts.push(
        noGrad(() =>
          scope(() =>
            unitFeatures(model, opts.autocast, () => model.encodeImage(batchToTensor(b, device)))
              .to("cpu")
          )
        ),
      );
      done += b.indices.length;
      opts.onBatch?.(done);
    }
    return scope(() => (parts.length === 1 ? parts[0].clone() : cat(parts, 0)));
  } finally {
    for (const p of parts) p.dispose();
  }
}

/** Attribute embeddings [K, P] (unit length, CPU): for each attribute, every phrase in every
 * template, each text embedding normalized, averaged and normalized again (CLIP's prompt
 * ensembling, here over templates and phrases alike). */
export function encodePhrases(
  model: CLIPModel,
  tokenizer: CLIPTokenizer,
  phrases: readonly (readonly string[])[],
  templates: readonly string[],
  batchSize = 256,
  mode?: EncodeAutocast,
): Tensor {
  // attributePrompts checks the templates (each needs "{}").
  const texts: string[] = [], owner: number[] = [];
  phrases.forEach((ps, k) => {
    for (const row of attributePrompts(ps, templates)) {
      for (const t of row) {
        texts.push(t);
        owner.push(k);
      }
    }
  });
  const device = model.logitScale.device;
  const maxLength = Math.min(tokenizer.contextLength, model.config.text.maxPositionEmbeddings);
  return noGrad(() =>
    scope(() => {
      const parts: Tensor[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        const enc = tokenizer.encode(texts.slice(i, i + batchSize), { maxLength });
        parts.push(
          unitFeatures(model, mode, () =>
            model.encodeText(enc.inputIds.to(device), {
              attentionMask: enc.attentionMask.to(device),
            })).to("cpu"),
        );
      }
      const all = parts.length === 1 ? parts[0] : cat(parts, 0);
      const rows = phrases.map((_, k) => {
        const idx = owner.flatMap((o, i) => (o === k ? [i] : []));
        return all.narrow(0, idx[0], idx.length).mean(0); // one attribute's texts are contiguous
      });
      return l2Normalize(stack(rows, 0));
    })
  );
}

/** How the matrix is computed (the command's options). */
export interface CollectSettings {
  /** Prompt templates with `{}` (ensembled). */
  templates: readonly string[];
  similarity: Similarity;
  aggregation: Aggregation;
  /** For trimmed-mean. */
  trim: number;
  normalization: Normalization;
}

/** The collected matrix and what it came from. */
export interface CollectedAttributes {
  classes: readonly string[];
  vocabulary: AttributeVocabulary;
  /** Final (normalized) values, classes × attributes. */
  values: number[][];
  /** Per-class aggregated similarities before normalization. */
  raw: number[][];
  settings: CollectSettings;
  /** Images per class used. */
  imagesPerClass: number[];
}

/** Scores every class of `samples` (labels index `classes`) on the vocabulary. */
export async function collectAttributes(
  model: CLIPModel,
  tokenizer: CLIPTokenizer,
  samples: readonly Sample[],
  classes: readonly string[],
  vocabulary: AttributeVocabulary,
  settings: CollectSettings,
  opts: {
    batchSize?: number;
    concurrency?: number;
    onBatch?: (done: number) => void;
    /** The samples' unit image embeddings [N, P] when already computed (the zero-shot cache);
     * the caller keeps them. */
    images?: Tensor;
    /** The forward passes' autocast (default none). */
    autocast?: EncodeAutocast;
  } = {},
): Promise<CollectedAttributes> {
  model.eval();
  const own = opts.images ? null : await embedImages(model, samples, opts);
  using _own = own;
  const img = opts.images ?? own!;
  using txt = encodePhrases(
    model,
    tokenizer,
    vocabulary.phrases,
    settings.templates,
    256,
    opts.autocast,
  );
  const labels = samples.map((s) => s.label);
  const { matrix, raw } = noGrad(() =>
    scope(() => {
      const s = imageAttributeScores(img, txt, {
        similarity: settings.similarity,
        logitScale: Math.exp(model.logitScale.item() as number),
      });
      const raw = aggregateByClass(s, labels, classes.length, {
        method: settings.aggregation,
        trim: settings.trim,
        classNames: classes,
      });
      return { matrix: normalizeAttributes(raw, settings.normalization), raw };
    })
  );
  try {
    const counts = classes.map((_, c) => labels.filter((l) => l === c).length);
    return {
      classes,
      vocabulary,
      values: matrix.toArray() as number[][],
      raw: raw.toArray() as number[][],
      settings,
      imagesPerClass: counts,
    };
  } finally {
    matrix.dispose();
    raw.dispose();
  }
}

/** Paths written by {@link writeAttributeFiles}. */
export interface AttributeFiles {
  csv: string;
  json: string;
  groups: string;
  html: string;
  vocabulary: string;
  raw: string;
}

const csvCell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
const num = (x: number) => String(Number(x.toPrecision(6)));

/** Writes the matrix as `attributes.csv` (ZS-ViDAT layout: header of attribute names, one row
 * per class), `attributes.json` (`{classes, attributes, values}`), `groups.json` (group →
 * column indices), `vocabulary.json`, `attributes_raw.json` (before normalization, with the
 * settings) and `attributes.html`, the formats `deno task train` and `src/data` read. */
export async function writeAttributeFiles(
  out: string,
  r: CollectedAttributes,
  extra: { truth?: number[][]; perAttributeAuroc?: (number | null)[]; title?: string } = {},
): Promise<AttributeFiles> {
  await Deno.mkdir(out, { recursive: true });
  const names = r.vocabulary.names;
  const files: AttributeFiles = {
    csv: `${out}/attributes.csv`,
    json: `${out}/attributes.json`,
    groups: `${out}/groups.json`,
    html: `${out}/attributes.html`,
    vocabulary: `${out}/vocabulary.json`,
    raw: `${out}/attributes_raw.json`,
  };
  const lines = [
    ["", ...names].map(csvCell).join(","),
    ...r.classes.map((c, i) => [csvCell(c), ...r.values[i].map(num)].join(",")),
  ];
  await Deno.writeTextFile(files.csv, lines.join("\n") + "\n");
  await writeJson(files.json, { classes: r.classes, attributes: names, values: r.values });
  const groupLines = Object.entries(r.vocabulary.groups).map(([g, idx]) =>
    `  ${JSON.stringify(g)}: ${JSON.stringify(idx)}`
  );
  await Deno.writeTextFile(files.groups, `{\n${groupLines.join(",\n")}\n}\n`);
  await writeJson(files.vocabulary, vocabularyJson(r.vocabulary));
  await writeJson(files.raw, {
    classes: r.classes,
    attributes: names,
    values: r.raw,
    settings: r.settings,
    imagesPerClass: r.imagesPerClass,
  });
  await Deno.writeTextFile(
    files.html,
    attributeReportHtml(r, {
      truth: extra.truth,
      auroc: extra.perAttributeAuroc,
      title: extra.title,
    }),
  );
  return files;
}

/** Mean per-attribute AUROC of a collected matrix against true attributes (rows matched by
 * class name, columns by attribute name; both must cover the collected ones). */
export function scoreAgainstTruth(
  r: CollectedAttributes,
  truth: { classes: readonly string[]; attributes: readonly string[]; values: number[][] },
): { truth: number[][]; perAttribute: (number | null)[]; mean: number | null } {
  const rowOf = r.classes.map((c) => truth.classes.indexOf(c));
  const colOf = r.vocabulary.names.map((a) => truth.attributes.indexOf(a));
  const missingRows = r.classes.filter((_, i) => rowOf[i] < 0);
  const missingCols = r.vocabulary.names.filter((_, i) => colOf[i] < 0);
  if (missingRows.length || missingCols.length) {
    throw new DataError(
      "",
      `the true attributes do not cover the collected ones: ${
        missingRows.length ? `classes ${missingRows.join(", ")} ` : ""
      }${missingCols.length ? `attributes ${missingCols.join(", ")}` : ""}`,
    );
  }
  const t = rowOf.map((ri) => colOf.map((ci) => truth.values[ri][ci]));
  const { perAttribute, mean } = attributeAuroc(r.values, t);
  return { truth: t, perAttribute, mean };
}

/** The one place zero-shot classification gets a CLIP from: `loadClip(source)` (a Hugging Face
 * folder, a `clip:finetune` run folder, an OpenAI TorchScript archive or an open_clip
 * checkpoint, through `CLIPModel.fromPretrained`, with an optional format, activation and
 * tokenizer file), and the files that make up that CLIP, which the embedding cache hashes. */
import { isFile } from "../../ffi/fs.ts";
import type { Device } from "../tensor/index.ts";
import type { CLIPModel } from "../models/clip.ts";
import type { CLIPActivation, CLIPFormat } from "../models/clip_sources.ts";
import type { CLIPTokenizer } from "../models/tokenizer.ts";
import { loadClip as loadAnyClip, resolveModelDir } from "../attributes/collect.ts";
import { DataError } from "../data/errors.ts";
import { tokenizerBeside } from "../models/clip_sources.ts";
import { hashFiles, hashJson } from "./cache.ts";

/** A CLIP to load: where, and the settings a weights file may need. */
export interface ClipSource {
  /** A folder (Hugging Face, `clip:finetune` run) or a weights file. */
  path: string;
  /** The format, when not detected. */
  format?: CLIPFormat;
  /** Both towers' MLP activation, when not the source's default. */
  activation?: CLIPActivation;
  /** The tokenizer (`tokenizer.json` or `bpe_simple_vocab_16e6.txt.gz`), when not in the
   * folder or beside the weights file. */
  tokenizer?: string;
}

/** A path alone, or a {@link ClipSource}. */
export type ClipSourceLike = string | ClipSource;

/** `s` as a {@link ClipSource}. */
export function clipSource(s: ClipSourceLike): ClipSource {
  return typeof s === "string" ? { path: s } : s;
}

/** A one-line description of the settings given (for the task's first lines). */
export function describeClipSource(s: ClipSourceLike): string {
  const c = clipSource(s);
  return `${c.path} (format ${c.format ?? "detected"}, activation ${
    c.activation ?? "the source's default"
  }${c.tokenizer ? `, tokenizer ${c.tokenizer}` : ""})`;
}

/** A loaded CLIP: both towers, its tokenizer, and where it came from. */
export interface LoadedClip {
  model: CLIPModel;
  tokenizer: CLIPTokenizer;
  /** The folder (or file) it was read from. */
  source: string;
}

/** Loads the CLIP of `source` onto `device`; a weights file without a tokenizer (given or
 * beside it) is an error naming what to pass. */
export async function loadClip(
  source: ClipSourceLike,
  device: Device = "cpu",
): Promise<LoadedClip> {
  const s = clipSource(source);
  const { model, tokenizer, dir } = await loadAnyClip(s.path, device, s);
  return { model, tokenizer, source: dir };
}

/** The tokenizer file of a weights file: the one given, else the one beside it. */
function tokenizerOf(s: ClipSource): string | undefined {
  return s.tokenizer ?? tokenizerBeside(s.path.replace(/\/+$/, ""));
}

/** The files whose bytes define the CLIP of `source` (weights, config, tokenizer): what the
 * embedding cache key hashes. A folder's, sorted; a weights file, then its tokenizer (by role,
 * so that the same tokenizer given or beside gives the same key). */
export function clipSourceFiles(source: ClipSourceLike): string[] {
  const s = clipSource(source);
  if (isFile(s.path)) {
    const tok = tokenizerOf(s);
    return tok ? [s.path, tok] : [s.path];
  }
  const dir = resolveModelDir(s.path);
  const files = [
    "config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
  ]
    .map((f) => `${dir}/${f}`)
    .filter(isFile);
  if (s.tokenizer) files.push(s.tokenizer);
  if (!files.some((f) => /model\.safetensors$|pytorch_model\.bin$/.test(f))) {
    throw new DataError(dir, "neither model.safetensors nor pytorch_model.bin found");
  }
  return files.sort();
}

/** The cache's key part for the CLIP of `source`: the SHA-256 of its files, with the format and
 * activation when they are given (an override changes the embeddings of the same bytes). */
export async function clipWeightsHash(source: ClipSourceLike): Promise<string> {
  const s = clipSource(source);
  const files = await hashFiles(clipSourceFiles(s));
  return s.format || s.activation
    ? hashJson({ files, format: s.format, activation: s.activation })
    : files;
}

/** Whether the CLIP of `source` has a text tower and a tokenizer (what zero-shot
 * classification needs), without loading the weights: a Hugging Face folder by its
 * `config.json`; an OpenAI / open_clip weights file always has both towers, so it is whether a
 * tokenizer is given or lies beside it. */
export function hasTextTower(source: ClipSourceLike): boolean {
  const s = clipSource(source);
  try {
    if (isFile(s.path)) return tokenizerOf(s) !== undefined;
    const dir = resolveModelDir(s.path);
    const cfg = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
    return typeof cfg.text_config === "object" && cfg.text_config !== null &&
      (s.tokenizer !== undefined || isFile(`${dir}/tokenizer.json`) ||
        (isFile(`${dir}/vocab.json`) && isFile(`${dir}/merges.txt`)));
  } catch {
    return false;
  }
}

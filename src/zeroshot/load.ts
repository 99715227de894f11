/** The one place zero-shot classification gets a CLIP from: `loadClip(pathOrDir)` (today a
 * Hugging Face folder or a `clip:finetune` run folder, through `CLIPModel.fromPretrained`; a
 * loader for other formats plugs in here), and the files that make up that CLIP, which the
 * embedding cache hashes. */
import { isFile } from "../../ffi/fs.ts";
import type { Device } from "../tensor/index.ts";
import type { CLIPModel } from "../models/clip.ts";
import type { CLIPTokenizer } from "../models/tokenizer.ts";
import { loadClip as loadHfClip, resolveModelDir } from "../attributes/collect.ts";
import { DataError } from "../data/errors.ts";

/** A loaded CLIP: both towers, its tokenizer, and where it came from. */
export interface LoadedClip {
  model: CLIPModel;
  tokenizer: CLIPTokenizer;
  /** The folder (or file) it was read from. */
  source: string;
}

/** Loads the CLIP at `pathOrDir` onto `device`: a Hugging Face CLIPModel folder
 * (`config.json`, weights, `tokenizer.json`) or a `clip:finetune` run folder (its `model/`). */
export async function loadClip(pathOrDir: string, device: Device = "cpu"): Promise<LoadedClip> {
  const { model, tokenizer, dir } = await loadHfClip(pathOrDir, device);
  return { model, tokenizer, source: dir };
}

/** The files whose bytes define the CLIP at `pathOrDir` (weights, config, tokenizer), sorted:
 * what the embedding cache key hashes. */
export function clipSourceFiles(pathOrDir: string): string[] {
  if (isFile(pathOrDir)) return [pathOrDir];
  const dir = resolveModelDir(pathOrDir);
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
  if (!files.some((f) => /model\.safetensors$|pytorch_model\.bin$/.test(f))) {
    throw new DataError(dir, "neither model.safetensors nor pytorch_model.bin found");
  }
  return files.sort();
}

/** Whether the CLIP at `pathOrDir` has a text tower and a tokenizer (what zero-shot
 * classification needs), read from its `config.json` without loading the weights. */
export function hasTextTower(pathOrDir: string): boolean {
  try {
    const dir = resolveModelDir(pathOrDir);
    const cfg = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
    return typeof cfg.text_config === "object" && cfg.text_config !== null &&
      (isFile(`${dir}/tokenizer.json`) ||
        (isFile(`${dir}/vocab.json`) && isFile(`${dir}/merges.txt`)));
  } catch {
    return false;
  }
}

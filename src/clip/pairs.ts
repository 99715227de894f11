/** The image–caption pairs a fine-tuning run trains on, from its {@link CaptionSource}.
 * @module
 */
import { DataError } from "../data/errors.ts";
import { ensureSyntheticDataset, SYNTHETIC_SPLIT } from "../data/synthetic/generate.ts";
import { openDatasetFolder } from "../data/dataset.ts";
import { type CaptionedImage, readCaptions } from "./captions.ts";
import type { CaptionSource } from "./finetune_config.ts";

/** Image–caption pairs of a source (images checked to exist). */
export async function loadCaptionPairs(src: CaptionSource): Promise<CaptionedImage[]> {
  if (src.kind === "file") {
    return await readCaptions(src.file, {
      images: src.images ?? undefined,
      splits: src.splits ?? undefined,
    });
  }
  const { dir } = await ensureSyntheticDataset({
    seed: src.seed,
    imagesPerClass: src.imagesPerClass,
    size: src.size,
  });
  const ds = await openDatasetFolder(dir, { split: SYNTHETIC_SPLIT });
  const caps = await readCaptions(`${dir}/captions.json`, { images: `${dir}/images` });
  const byPath = new Map(caps.map((c) => [c.path, c.captions]));
  const idx = src.part === "all" ? ds.samples.map((_, i) => i) : ds.split.trainval;
  return idx.map((i) => {
    const s = ds.samples[i];
    const captions = byPath.get(s.path);
    if (!captions) throw new DataError(`${dir}/captions.json`, `no captions for ${ds.files[i]}`);
    return { path: s.path, captions, label: s.label };
  });
}

/** The two embedding matrices zero-shot classification compares, through the cache: unit-length
 * image embeddings of the samples, and one unit-length text embedding per class (CLIP's prompt
 * ensembling: every template's text embedding L2-normalised, averaged, normalised again). The
 * CLIP is loaded only when something has to be encoded: the input size the image key needs comes
 * from a folder's config.json or, for a weights file, from the geometry the cache kept when it
 * was first loaded, so that a full hit reads no weights. */
import { isFile } from "../../ffi/fs.ts";
import { type Device, type Tensor, zeros } from "../tensor/index.ts";
import type { CLIPModel } from "../models/clip.ts";
import type { Sample } from "../data/loader.ts";
import { CLIP as CLIP_NORM } from "../data/normalize.ts";
import {
  embedImages,
  type EncodeAutocast,
  encodePhrases,
  resolveModelDir,
} from "../attributes/collect.ts";
import { clipSource, type ClipSourceLike, loadClip, type LoadedClip } from "./load.ts";
import {
  imageCacheKey,
  readCached,
  readCachedImageSize,
  textCacheKey,
  writeCached,
  writeCachedImageSize,
} from "./cache.ts";

/** Where each matrix came from. */
export type CacheState = "hit" | "miss" | "off";

/** The embeddings and how they were obtained. */
export interface ZeroShotEmbeddings {
  /** [N, P] unit rows, the samples in order (CPU). */
  images: Tensor;
  /** [C, P] unit rows, the classes in order (CPU). */
  text: Tensor;
  /** exp(logit_scale): CLIP's inverse softmax temperature. */
  scale: number;
  cache: { images: CacheState; text: CacheState };
  /** Images and prompt texts encoded in this call (0 and 0 on two cache hits). */
  encoded: { images: number; texts: number };
}

/** What to embed. */
export interface EmbedRequest {
  /** The CLIP (see {@link loadClip}): a path, or a path with format / activation / tokenizer. */
  model: ClipSourceLike;
  /** The hash of its files (see `hashFiles`): the cache key's part for the weights. */
  weightsHash: string;
  samples: readonly Sample[];
  /** Per class, the texts put into the templates (usually one: its readable name or alias). */
  classTexts: readonly string[];
  templates: readonly string[];
  device?: Device;
  batchSize?: number;
  /** Both towers' forward passes in float32 (`none`, the default) or under bf16 autocast; the
   * embeddings are float32 either way, and each mode has its own cache entries. */
  autocast?: EncodeAutocast;
  /** Read and write the cache (default true). */
  useCache?: boolean;
  log?: (line: string) => void;
}

/** The model's input side from its config.json (no weights read), or null when it has none. */
function configImageSize(model: string): number | null {
  try {
    const dir = resolveModelDir(model);
    if (!isFile(`${dir}/config.json`)) return null;
    const cfg = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
    const size = cfg.vision_config?.image_size ?? 224;
    return typeof size === "number" ? size : null;
  } catch {
    return null;
  }
}

/** The transform the image embeddings are computed under (part of their cache key). */
function transformOf(size: number) {
  return { transform: `clipEvalTransform(${size})`, ...CLIP_NORM };
}

/** Unit image embeddings [N, P] (CPU) of `samples` by a loaded `model` through the same cache
 * entries as {@link zeroShotEmbeddings} (the same key: weights hash, transform, image list):
 * what `deno task attributes` reuses. */
export async function cachedImageEmbeddings(r: {
  model: CLIPModel;
  /** Where it came from (the entry's metadata). */
  modelPath: string;
  weightsHash: string;
  samples: readonly Sample[];
  batchSize?: number;
  autocast?: EncodeAutocast;
  useCache?: boolean;
  log?: (line: string) => void;
}): Promise<{ images: Tensor; state: CacheState }> {
  const useCache = r.useCache ?? true;
  const size = r.model.config.vision.imageSize;
  const paths = r.samples.map((s) => s.path);
  const key = imageCacheKey(r.weightsHash, transformOf(size), paths, r.autocast);
  if (useCache) await writeCachedImageSize(r.weightsHash, size);
  const hit = useCache ? await readCached(key) : null;
  if (hit && hit.embeddings.size(0) === paths.length) {
    return { images: hit.embeddings, state: "hit" };
  }
  hit?.embeddings.dispose();
  r.log?.(`encoding ${paths.length} images (${size}×${size}) ...`);
  const images = await embedImages(r.model, r.samples, {
    batchSize: r.batchSize ?? 64,
    autocast: r.autocast,
  });
  if (!useCache) return { images, state: "off" };
  await writeCached(key, images, {
    kind: "image",
    model: r.modelPath,
    images: `${paths.length}`,
    autocast: r.autocast ?? "none",
  });
  return { images, state: "miss" };
}

/** Image and class-text embeddings of `r`, each read from the cache when it is there. */
export async function zeroShotEmbeddings(r: EmbedRequest): Promise<ZeroShotEmbeddings> {
  const log = r.log ?? (() => {});
  const useCache = r.useCache ?? true;
  const autocast = r.autocast ?? "none";
  let clip: LoadedClip | null = null;
  const getClip = async () => {
    if (clip) return clip;
    clip = await loadClip(r.model, r.device ?? "cpu");
    if (useCache) await writeCachedImageSize(r.weightsHash, clip.model.config.vision.imageSize);
    return clip;
  };
  try {
    const prompts = r.classTexts.map((c) => r.templates.map((t) => t.replaceAll("{}", c)));
    const modelPath = clipSource(r.model).path;
    let size = configImageSize(modelPath) ?? (useCache ? readCachedImageSize(r.weightsHash) : null);
    if (size === null) size = (await getClip()).model.config.vision.imageSize;
    const paths = r.samples.map((s) => s.path);
    const imageKey = imageCacheKey(r.weightsHash, transformOf(size), paths, autocast);
    const textKey = textCacheKey(r.weightsHash, prompts, autocast);

    let images: Tensor, imageState: CacheState = useCache ? "hit" : "off", nImages = 0;
    const ci = useCache ? await readCached(imageKey) : null;
    if (ci && ci.embeddings.size(0) === paths.length) images = ci.embeddings;
    else {
      ci?.embeddings.dispose();
      const { model } = await getClip();
      log(`encoding ${paths.length} images (${size}×${size}) ...`);
      images = r.samples.length === 0
        ? zeros([0, model.config.projectionDim])
        : await embedImages(model, r.samples, { batchSize: r.batchSize ?? 64, autocast });
      nImages = paths.length;
      if (useCache) {
        imageState = "miss";
        await writeCached(imageKey, images, {
          kind: "image",
          model: modelPath,
          images: `${nImages}`,
          autocast,
        });
      }
    }

    let text: Tensor, scale: number, textState: CacheState = useCache ? "hit" : "off", nTexts = 0;
    const ct = useCache ? await readCached(textKey) : null;
    if (ct && ct.embeddings.size(0) === prompts.length && ct.meta.scale) {
      text = ct.embeddings;
      scale = Number(ct.meta.scale);
    } else {
      ct?.embeddings.dispose();
      const { model, tokenizer } = await getClip();
      nTexts = prompts.length * r.templates.length;
      log(
        `encoding ${nTexts} prompts (${r.classTexts.length} classes × ${r.templates.length} templates) ...`,
      );
      text = encodePhrases(
        model,
        tokenizer,
        r.classTexts.map((c) => [c]),
        r.templates,
        256,
        autocast,
      );
      scale = Math.exp(model.logitScale.item() as number);
      if (useCache) {
        textState = "miss";
        await writeCached(textKey, text, {
          kind: "text",
          model: modelPath,
          scale: String(scale),
          autocast,
        });
      }
    }
    return {
      images,
      text,
      scale,
      cache: { images: imageState, text: textState },
      encoded: { images: nImages, texts: nTexts },
    };
  } finally {
    (clip as LoadedClip | null)?.model.dispose();
  }
}

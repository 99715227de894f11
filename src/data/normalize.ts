/** Turning 8-bit RGB images into normalised float32 CHW planes and NCHW batches. */
import type { RgbImage } from "./image.ts";

/** Per-channel mean and standard deviation, applied as `(x / 255 - mean) / std`. */
export interface Normalization {
  /** Per-channel mean (R, G, B) of values in [0, 1]. */
  readonly mean: readonly [number, number, number];
  /** Per-channel standard deviation (R, G, B). */
  readonly std: readonly [number, number, number];
}

/** ImageNet statistics (torchvision, timm, DSVA). */
export const IMAGENET: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** OpenAI CLIP statistics. */
export const CLIP: Normalization = {
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/** No normalisation beyond scaling to [0, 1] (torchvision's `ToTensor`). */
export const UNIT: Normalization = { mean: [0, 0, 0], std: [1, 1, 1] };

// Keyed by the values: worker threads receive a fresh copy of the statistics with every job.
const lutCache = new Map<string, Float32Array>();

/** 3 × 256 lookup table of normalised values, computed as torchvision does in float32: entry
 * `c * 256 + v` is channel `c`'s value for byte `v`. */
export function normalizationTable(n: Normalization): Float32Array {
  const key = `${n.mean}/${n.std}`;
  let t = lutCache.get(key);
  if (!t) {
    t = new Float32Array(768);
    const f = Math.fround;
    for (let c = 0; c < 3; c++) {
      for (let v = 0; v < 256; v++) {
        t[c * 256 + v] = f(f(f(v / 255) - f(n.mean[c])) / f(n.std[c]));
      }
    }
    lutCache.set(key, t);
  }
  return t;
}

/** Writes `img` as three normalised planes (CHW) into `out` at element `offset`. */
export function writeChw(
  img: RgbImage,
  out: Float32Array,
  offset = 0,
  norm: Normalization = IMAGENET,
): void {
  const t = normalizationTable(norm);
  const n = img.width * img.height, d = img.data;
  if (offset + 3 * n > out.length) {
    throw new RangeError(`writeChw: ${out.length} elements cannot hold ${3 * n} at ${offset}`);
  }
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[offset + i] = t[d[j]];
    out[offset + n + i] = t[256 + d[j + 1]];
    out[offset + 2 * n + i] = t[512 + d[j + 2]];
  }
}

/** A batch of images on the host: `data` holds `shape` = [N, 3, H, W] float32 values. */
export interface HostBatch {
  /** `N × 3 × H × W` float32 values, row-major. */
  readonly data: Float32Array;
  /** `[N, 3, H, W]`. */
  readonly shape: [number, number, number, number];
}

/** Stacks same-sized images into one normalised NCHW float32 batch. */
export function stackImages(imgs: readonly RgbImage[], norm: Normalization = IMAGENET): HostBatch {
  if (imgs.length === 0) throw new RangeError("stackImages: no images");
  const { width: w, height: h } = imgs[0];
  const data = new Float32Array(imgs.length * 3 * h * w);
  imgs.forEach((img, i) => {
    if (img.width !== w || img.height !== h) {
      throw new RangeError(
        `stackImages: image ${i} is ${img.width}×${img.height}, the first is ${w}×${h}; ` +
          "crop or resize them to one size first",
      );
    }
    writeChw(img, data, i * 3 * h * w, norm);
  });
  return { data, shape: [imgs.length, 3, h, w] };
}

/** Geometric image transforms with torchvision's semantics (on PIL images), seeded. */
import type { RgbImage } from "./image.ts";
import { type ResampleFilter, resize, shorterSideSize } from "./resize.ts";
import type { Rng } from "./rng.ts";

/** One step of an image pipeline. `apply` must draw all its randomness from `rng`. */
export interface Transform {
  /** A short description, e.g. `resize(256)`. */
  readonly name: string;
  /** Applies the step. May return `img` itself when it changes nothing. */
  apply(img: RgbImage, rng: Rng): RgbImage;
  /** A plain-data description that {@link transformFromSpec} rebuilds, present on the built-in
   * transforms: what lets a loader run them in worker threads. */
  readonly spec?: TransformSpec;
}

/** Plain-data descriptions of the built-in transforms. */
export type TransformSpec =
  | { op: "resize"; size: Size2; filter: ResampleFilter }
  | { op: "centerCrop"; size: Size2 }
  | { op: "randomCrop"; size: Size2 }
  | {
    op: "randomResizedCrop";
    size: Size2;
    scale?: [number, number];
    ratio?: [number, number];
    filter?: ResampleFilter;
  }
  | { op: "hflip"; p: number }
  | { op: "vflip"; p: number }
  | { op: "compose"; steps: TransformSpec[] };

/** Rebuilds a built-in transform from its {@link TransformSpec}. */
export function transformFromSpec(s: TransformSpec): Transform {
  switch (s.op) {
    case "resize":
      return Resize(s.size, s.filter);
    case "centerCrop":
      return CenterCrop(s.size);
    case "randomCrop":
      return RandomCrop(s.size);
    case "randomResizedCrop":
      return RandomResizedCrop(s.size, s);
    case "hflip":
      return RandomHorizontalFlip(s.p);
    case "vflip":
      return RandomVerticalFlip(s.p);
    case "compose":
      return Compose(...s.steps.map(transformFromSpec));
  }
}

/** A size: one number for a square, or `[height, width]` as torchvision takes it. */
export type Size2 = number | readonly [number, number];
/** A {@link Size2} as `[height, width]`. */
export const hw = (s: Size2): [number, number] => (typeof s === "number" ? [s, s] : [s[0], s[1]]);

/** The size `Resize(size)` gives a `width × height` image. */
export function resizedSize(size: Size2, width: number, height: number) {
  return typeof size === "number"
    ? shorterSideSize(width, height, size)
    : { width: size[1], height: size[0] };
}

/** Where torchvision's centre crop of `crop` pixels starts along a side of `side` pixels
 * (negative: padding). */
export function centerCropStart(side: number, crop: number): number {
  return side >= crop ? roundHalfEven((side - crop) / 2) : -Math.trunc((crop - side) / 2);
}

/** Python's `round` (half to even), which torchvision's crop arithmetic uses. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Copies the `width × height` window at (`left`, `top`); parts outside the image are zero. */
export function crop(
  img: RgbImage,
  top: number,
  left: number,
  height: number,
  width: number,
): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const x0 = Math.max(0, left), x1 = Math.min(img.width, left + width);
  if (x1 > x0) {
    for (let y = Math.max(0, top); y < Math.min(img.height, top + height); y++) {
      const src = (y * img.width + x0) * 3;
      out.set(img.data.subarray(src, src + (x1 - x0) * 3), ((y - top) * width + (x0 - left)) * 3);
    }
  }
  return { width, height, data: out };
}

/** Mirrors left-right. */
export function flipHorizontal(img: RgbImage): RgbImage {
  const { width: w, height: h, data: d } = img;
  const out = new Uint8Array(d.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0; x < w; x++) {
      const s = row + x * 3, t = row + (w - 1 - x) * 3;
      out[t] = d[s];
      out[t + 1] = d[s + 1];
      out[t + 2] = d[s + 2];
    }
  }
  return { width: w, height: h, data: out };
}

/** Mirrors top-bottom. */
export function flipVertical(img: RgbImage): RgbImage {
  const { width: w, height: h, data: d } = img;
  const out = new Uint8Array(d.length);
  const stride = w * 3;
  for (let y = 0; y < h; y++) {
    out.set(d.subarray(y * stride, (y + 1) * stride), (h - 1 - y) * stride);
  }
  return { width: w, height: h, data: out };
}

/** `Resize(size)`: a number resizes the shorter side to it (keeping the aspect ratio, as
 * torchvision does); `[h, w]` resizes to exactly that. Bilinear with antialiasing by default. */
export function Resize(size: Size2, filter: ResampleFilter = "bilinear"): Transform {
  return {
    name: `resize(${size})`,
    spec: { op: "resize", size, filter },
    apply(img) {
      const s = resizedSize(size, img.width, img.height);
      return s.width === img.width && s.height === img.height
        ? img
        : resize(img, s.width, s.height, filter);
    },
  };
}

/** `CenterCrop(size)`: torchvision's centre (half-to-even rounding), zero-padded when the image
 * is smaller than the crop. */
export function CenterCrop(size: Size2): Transform {
  const [th, tw] = hw(size);
  return {
    name: `centerCrop(${size})`,
    spec: { op: "centerCrop", size },
    apply(img) {
      if (img.width === tw && img.height === th) return img;
      return crop(img, centerCropStart(img.height, th), centerCropStart(img.width, tw), th, tw);
    },
  };
}

/** `RandomCrop(size)`: a uniformly placed window. Images smaller than the crop are zero-padded
 * symmetrically first (torchvision's `pad_if_needed=True`). */
export function RandomCrop(size: Size2): Transform {
  const [th, tw] = hw(size);
  return {
    name: `randomCrop(${size})`,
    spec: { op: "randomCrop", size },
    apply(img, rng) {
      const padX = Math.max(0, tw - img.width), padY = Math.max(0, th - img.height);
      const h = img.height + 2 * padY, w = img.width + 2 * padX;
      const top = rng.int(h - th + 1) - padY, left = rng.int(w - tw + 1) - padX;
      return crop(img, top, left, th, tw);
    },
  };
}

/** `RandomResizedCrop(size, scale, ratio)`: torchvision's area/aspect sampling (10 tries, then
 * the centre crop), then a bilinear resize of the window to `size`. */
export function RandomResizedCrop(
  size: Size2,
  opts: { scale?: [number, number]; ratio?: [number, number]; filter?: ResampleFilter } = {},
): Transform {
  const [th, tw] = hw(size);
  const [smin, smax] = opts.scale ?? [0.08, 1];
  const [rmin, rmax] = opts.ratio ?? [3 / 4, 4 / 3];
  return {
    name: `randomResizedCrop(${size})`,
    spec: { op: "randomResizedCrop", size, ...opts },
    apply(img, rng) {
      const { top, left, height, width } = randomResizedCropBox(
        img.width,
        img.height,
        rng,
        smin,
        smax,
        rmin,
        rmax,
      );
      return resize(crop(img, top, left, height, width), tw, th, opts.filter ?? "bilinear");
    },
  };
}

/** The window `RandomResizedCrop` picks (torchvision's `get_params`). */
export function randomResizedCropBox(
  width: number,
  height: number,
  rng: Rng,
  smin = 0.08,
  smax = 1,
  rmin = 3 / 4,
  rmax = 4 / 3,
): { top: number; left: number; height: number; width: number } {
  const area = width * height;
  const lr0 = Math.log(rmin), lr1 = Math.log(rmax);
  for (let i = 0; i < 10; i++) {
    const target = area * rng.uniform(smin, smax);
    const aspect = Math.exp(rng.uniform(lr0, lr1));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width, h = height;
  if (inRatio < rmin) h = roundHalfEven(w / rmin);
  else if (inRatio > rmax) w = roundHalfEven(h * rmax);
  return {
    top: Math.trunc((height - h) / 2),
    left: Math.trunc((width - w) / 2),
    height: h,
    width: w,
  };
}

/** Mirrors left-right with probability `p`. */
export function RandomHorizontalFlip(p = 0.5): Transform {
  return {
    name: `randomHorizontalFlip(${p})`,
    spec: { op: "hflip", p },
    apply: (img, rng) => (rng.float() < p ? flipHorizontal(img) : img),
  };
}

/** Mirrors top-bottom with probability `p`. */
export function RandomVerticalFlip(p = 0.5): Transform {
  return {
    name: `randomVerticalFlip(${p})`,
    spec: { op: "vflip", p },
    apply: (img, rng) => (rng.float() < p ? flipVertical(img) : img),
  };
}

/** Runs transforms in order as one (with a spec when every step has one). */
export function Compose(...steps: Transform[]): Transform {
  const specs = steps.map((s) => s.spec);
  return {
    name: steps.map((s) => s.name).join(" → ") || "identity",
    spec: specs.every((s) => s !== undefined) ? { op: "compose", steps: specs } : undefined,
    apply(img, rng) {
      for (const s of steps) img = s.apply(img, rng);
      return img;
    },
  };
}

/** DSVA's training augmentation (`transform_mode normal`): Resize(resize) → RandomCrop(crop)
 * → RandomHorizontalFlip(0.5). Normalisation happens when the batch is written. */
export function trainTransform(crop = 224, resizeTo = Math.round((crop * 256) / 224)): Transform {
  return Compose(Resize(resizeTo), RandomCrop(crop), RandomHorizontalFlip());
}

/** DSVA's test transform: Resize(resize) → CenterCrop(crop). */
export function evalTransform(crop = 224, resizeTo = Math.round((crop * 256) / 224)): Transform {
  return Compose(Resize(resizeTo), CenterCrop(crop));
}

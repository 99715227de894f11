/** A decoded image through its transform into normalised CHW planes, the last step of the data
 * loader on the main thread and in worker threads. Resize → (Center|Random)Crop → flips, the
 * DSVA training and test pipelines, run fused ({@link resizeWindowToChw}); anything else runs
 * step by step. Both give the same values and draw the same random numbers. */
import type { RgbImage } from "./image.ts";
import { type Normalization, writeChw } from "./normalize.ts";
import { resizeWindowToChw, type WindowPlan } from "./resize_chw.ts";
import type { Rng } from "./rng.ts";
import {
  centerCropStart,
  hw,
  resizedSize,
  type Transform,
  type TransformSpec,
} from "./transforms.ts";
import type { ChwImage } from "./worker_pool.ts";

/** Applies `t` to `img` with `rng` and normalises the result into a buffer from `take`. */
export function transformToChw(
  img: RgbImage,
  t: Transform,
  rng: Rng,
  norm: Normalization,
  take: (n: number) => Float32Array = (n) => new Float32Array(n),
): ChwImage {
  const plan = t.spec ? planWindow(t.spec, img.width, img.height, rng) : null;
  if (plan) {
    const data = take(plan.width * plan.height * 3);
    resizeWindowToChw(img, plan, norm, data);
    return { data, width: plan.width, height: plan.height };
  }
  const out = t.apply(img, rng);
  const data = take(out.width * out.height * 3);
  writeChw(out, data, 0, norm);
  return { data, width: out.width, height: out.height };
}

function flatten(s: TransformSpec): TransformSpec[] {
  return s.op === "compose" ? s.steps.flatMap(flatten) : [s];
}

/** The window plan of a `[resize] [centerCrop | randomCrop] flips…` pipeline on a
 * `width × height` image, or null (drawing nothing from `rng`) for any other pipeline or a crop
 * that would need padding. */
export function planWindow(
  spec: TransformSpec,
  width: number,
  height: number,
  rng: Rng,
): WindowPlan | null {
  if (width === 0 || height === 0) return null;
  const steps = flatten(spec);
  let i = 0;
  let rw = width, rh = height, filter: WindowPlan["filter"] = "bilinear";
  const first = steps[0];
  if (first?.op === "resize") {
    ({ width: rw, height: rh } = resizedSize(first.size, width, height));
    filter = first.filter;
    i++;
  }
  const step = steps[i];
  const crop = step?.op === "centerCrop" || step?.op === "randomCrop" ? (i++, step) : null;
  if (steps.slice(i).some((s) => s.op !== "hflip" && s.op !== "vflip")) return null;
  const [ch, cw] = crop ? hw(crop.size) : [rh, rw];
  if (ch > rh || cw > rw) return null;
  // Random draws from here on, in the order the step-by-step transforms make them.
  let top = 0, left = 0;
  if (crop?.op === "centerCrop") {
    [top, left] = [centerCropStart(rh, ch), centerCropStart(rw, cw)];
  } else if (crop?.op === "randomCrop") {
    top = rng.int(rh - ch + 1);
    left = rng.int(rw - cw + 1);
  }
  let flipH = false, flipV = false;
  for (const s of steps.slice(i)) {
    if (s.op === "hflip" && rng.float() < s.p) flipH = !flipH;
    if (s.op === "vflip" && rng.float() < s.p) flipV = !flipV;
  }
  return {
    resizeWidth: rw,
    resizeHeight: rh,
    filter,
    top,
    left,
    width: cw,
    height: ch,
    flipH,
    flipV,
  };
}

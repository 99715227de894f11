/**
 * The Attention Concentration (AC) box step of DSVA: threshold an attention map at its mean ×
 * `thr`, label the 8-connected components of the mask, keep the largest, return its bounding box.
 *
 * Follows `CLIP_proto.get_proposal.box` in the official code (reference/dsva.md §3):
 *
 * ```py
 * a = torch.mean(tmp_map, dim=(0, 1))
 * M = (tmp_map > a * self.opt.pro_thr).cpu().numpy()
 * component_labels = measure.label(M)            # 2-D default connectivity = 2 (8-neighbourhood)
 * properties = measure.regionprops(component_labels)
 * if len(properties) == 0: bbox = [0, 0, 224, 224]
 * max_idx = areas.index(max(areas))              # first of equal areas
 * bbox = regionprops(component_labels == max_idx + 1)[0].bbox
 * ```
 *
 * so: the comparison is strict (`>`), the mean is over every pixel of the (already min-max
 * normalised, group-averaged, upsampled) map, components are numbered like `skimage.measure.label`
 * (in raster order of each component's first pixel), a tie in area goes to the component with the
 * lowest label, i.e. the one whose first pixel comes first in row-major order, and an empty mask
 * gives the whole map `(0, 0, H, W)`. Boxes are `regionprops.bbox`: `(min_row, min_col, max_row,
 * max_col)` with the max exclusive, so `map[y0:y1, x0:x1]` is the crop.
 *
 * Labeling is hand-written (no image library for Deno does 8-connected labeling on a typed
 * array): two raster passes with union-find over the mask, O(H·W).
 * @module
 */
import type { Tensor } from "../tensor/index.ts";

/** A bounding box as `skimage.measure.regionprops(...).bbox`: rows `[y0, y1)`, columns `[x0, x1)`. */
export interface Box {
  /** min_row. */
  y0: number;
  /** min_col. */
  x0: number;
  /** max_row, exclusive. */
  y1: number;
  /** max_col, exclusive. */
  x1: number;
}

/** The 8-connected components of a mask. */
export interface Components {
  /** Per pixel (row-major): 0 = background, else the component label 1..count, numbered in
   * raster order of each component's first pixel (as `skimage.measure.label`). */
  labels: Int32Array;
  /** Number of components. */
  count: number;
  /** Pixels per component: `areas[k]` is label k + 1. */
  areas: Int32Array;
  /** Bounding boxes, `count × 4` as y0, x0, y1, x1 (max exclusive); row k is label k + 1. */
  boxes: Int32Array;
}

/** Labels the 8-connected components of a `height × width` row-major mask (non-zero = on),
 * with the labels, areas and bounding boxes `skimage.measure.label(mask, connectivity=2)` +
 * `regionprops` give. */
export function labelComponents(
  mask: ArrayLike<number | boolean>,
  height: number,
  width: number,
): Components {
  checkDims(mask.length, height, width, "mask");
  const n = height * width;
  const lab = new Int32Array(n);
  const parent = new Int32Array(n + 1);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  // Joins the set of provisional label `b` into that of `a` (0 = none yet); the root of a set is
  // always its smallest label, i.e. the label of its first pixel in raster order.
  const join = (a: number, b: number): number => {
    const rb = find(b);
    if (a === 0) return rb;
    const ra = find(a);
    if (ra === rb) return ra;
    if (ra < rb) {
      parent[rb] = ra;
      return ra;
    }
    parent[ra] = rb;
    return rb;
  };
  let next = 1;
  for (let r = 0; r < height; r++) {
    const row = r * width;
    for (let c = 0; c < width; c++) {
      const i = row + c;
      if (!mask[i]) continue;
      let l = 0;
      if (r > 0) {
        const up = i - width;
        if (c > 0 && lab[up - 1] !== 0) l = join(l, lab[up - 1]);
        if (lab[up] !== 0) l = join(l, lab[up]);
        if (c < width - 1 && lab[up + 1] !== 0) l = join(l, lab[up + 1]);
      }
      if (c > 0 && lab[i - 1] !== 0) l = join(l, lab[i - 1]);
      if (l === 0) {
        l = next++;
        parent[l] = l;
      }
      lab[i] = l;
    }
  }
  const final = new Int32Array(next);
  let count = 0;
  for (let l = 1; l < next; l++) if (parent[l] === l) final[l] = ++count;
  const areas = new Int32Array(count);
  const boxes = new Int32Array(count * 4);
  for (let k = 0; k < count; k++) {
    boxes[4 * k] = height;
    boxes[4 * k + 1] = width;
  }
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const i = r * width + c;
      if (lab[i] === 0) continue;
      const L = final[find(lab[i])];
      lab[i] = L;
      const k = L - 1;
      areas[k]++;
      const b = 4 * k;
      if (r < boxes[b]) boxes[b] = r;
      if (c < boxes[b + 1]) boxes[b + 1] = c;
      if (r + 1 > boxes[b + 2]) boxes[b + 2] = r + 1;
      if (c + 1 > boxes[b + 3]) boxes[b + 3] = c + 1;
    }
  }
  return { labels: lab, count, areas, boxes };
}

/** The label (1-based) of the largest component, the lowest label among equal areas (as
 * `areas.index(max(areas))` in the official code); 0 when there is none. */
export function largestComponent(components: Components): number {
  let best = 0;
  for (let k = 0; k < components.count; k++) {
    if (best === 0 || components.areas[k] > components.areas[best - 1]) best = k + 1;
  }
  return best;
}

/** The official threshold factor (`--pro_thr` is 1.0 in every official script): the default of
 * the box step here and of `OFFICIAL_AC` (attention_concentration.ts). */
export const OFFICIAL_AC_THR = 1;

/** How the threshold `mean(map) × thr` is computed. `"float32"` reproduces the official code's
 * float32 tensors: the mean rounded to float32, times `thr` rounded to float32, product rounded
 * to float32 (the mean itself is computed exactly here and rounded once; torch's float32 sum may
 * differ from that by an ulp — pass `mean` to use torch's value). `"float64"`: no rounding. */
export type AcPrecision = "float32" | "float64";

/** Options of the AC box step. */
export interface AcBoxOptions {
  /** Threshold factor (`--pro_thr`); default {@link OFFICIAL_AC_THR}. */
  thr?: number;
  /** Arithmetic of the threshold; default `"float32"` for a Float32Array / float32 tensor map,
   * else `"float64"`. */
  precision?: AcPrecision;
  /** Use this value as mean(map) instead of computing it (e.g. `map.mean().item()` from torch, to
   * match the official float32 reduction bit for bit). */
  mean?: number;
}

/** The result of the AC box step for one map. */
export interface AcBoxResult {
  /** The crop box (the whole map when the mask is empty). */
  box: Box;
  /** Pixels of the chosen component (0 when the mask is empty). */
  area: number;
  /** Label of the chosen component (0 when the mask is empty). */
  label: number;
  /** Number of components in the mask. */
  components: number;
  /** Pixels above the threshold. */
  maskPixels: number;
  /** The threshold used, `mean(map) × thr`. */
  threshold: number;
  /** True when no pixel was above the threshold (box = whole map, like the official fallback). */
  empty: boolean;
}

/** The AC threshold `mean(map) × thr` (see {@link AcPrecision}). The mean is over all pixels;
 * a NaN anywhere makes it NaN, so no pixel passes and the box falls back to the whole map (as in
 * the official code, where a constant map min-max normalises to NaN). */
export function acThreshold(map: ArrayLike<number>, opts: AcBoxOptions = {}): number {
  const thr = opts.thr ?? OFFICIAL_AC_THR;
  const precision = opts.precision ?? (map instanceof Float32Array ? "float32" : "float64");
  let mean = opts.mean;
  if (mean === undefined) {
    // Neumaier-compensated sum: the float64 mean is then correctly rounded in practice.
    let sum = 0;
    let comp = 0;
    for (let i = 0; i < map.length; i++) {
      const v = map[i];
      const t = sum + v;
      comp += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
      sum = t;
    }
    mean = (sum + comp) / map.length;
  }
  if (precision === "float32") return Math.fround(Math.fround(mean) * Math.fround(thr));
  return mean * thr;
}

/** The AC mask: 1 where `map > mean(map) × thr` (strictly), row-major like `map`. */
export function acMask(map: ArrayLike<number>, opts: AcBoxOptions = {}): Uint8Array {
  const t = acThreshold(map, opts);
  const mask = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) mask[i] = map[i] > t ? 1 : 0;
  return mask;
}

/** The box of the largest 8-connected component of a mask (whole map when empty). */
export function boxFromMask(
  mask: ArrayLike<number | boolean>,
  height: number,
  width: number,
): Omit<AcBoxResult, "threshold"> {
  const comps = labelComponents(mask, height, width);
  const label = largestComponent(comps);
  let maskPixels = 0;
  for (let k = 0; k < comps.count; k++) maskPixels += comps.areas[k];
  if (label === 0) {
    return {
      box: { y0: 0, x0: 0, y1: height, x1: width },
      area: 0,
      label: 0,
      components: 0,
      maskPixels: 0,
      empty: true,
    };
  }
  const b = 4 * (label - 1);
  return {
    box: {
      y0: comps.boxes[b],
      x0: comps.boxes[b + 1],
      y1: comps.boxes[b + 2],
      x1: comps.boxes[b + 3],
    },
    area: comps.areas[label - 1],
    label,
    components: comps.count,
    maskPixels,
    empty: false,
  };
}

/** The AC box step on one `height × width` attention map (row-major): threshold, largest
 * 8-connected component, its bounding box. */
export function acBox(
  map: ArrayLike<number>,
  height: number,
  width: number,
  opts: AcBoxOptions = {},
): AcBoxResult {
  checkDims(map.length, height, width, "map");
  const threshold = acThreshold(map, opts);
  const mask = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) mask[i] = map[i] > threshold ? 1 : 0;
  return { ...boxFromMask(mask, height, width), threshold };
}

/** A batch of maps as host data: `[B, H, W]`, row-major. */
export interface HostMaps {
  /** `B·H·W` values. */
  readonly data: Float32Array | Float64Array;
  /** `[B, H, W]`. */
  readonly shape: readonly number[];
}

/** The AC box step on a batch of maps: a `[B, H, W]` (or `[B, 1, H, W]`) tensor on any device,
 * or host data with its shape. One result per map, in batch order.
 * @param opts as {@link acBox}; `means`, when given, replaces the computed mean of each map. */
export function acBoxes(
  maps: Tensor | HostMaps,
  opts: Omit<AcBoxOptions, "mean"> & { means?: ArrayLike<number> } = {},
): AcBoxResult[] {
  let shape = maps.shape.slice();
  let data: ArrayLike<number>;
  if ("toTypedArray" in maps && typeof maps.toTypedArray === "function") {
    const a = maps.toTypedArray();
    if (!(a instanceof Float32Array || a instanceof Float64Array)) {
      throw new RangeError(`acBoxes: maps must be a float tensor, got ${maps.dtype}`);
    }
    data = a;
  } else {
    data = (maps as HostMaps).data;
  }
  if (shape.length === 4 && shape[1] === 1) shape = [shape[0], shape[2], shape[3]];
  if (shape.length !== 3) {
    throw new RangeError(`acBoxes: maps must be [B, H, W] or [B, 1, H, W], got [${maps.shape}]`);
  }
  const [b, h, w] = shape;
  checkDims(data.length, b * h, w, "maps");
  if (opts.means && opts.means.length !== b) {
    throw new RangeError(`acBoxes: ${opts.means.length} means for a batch of ${b} maps`);
  }
  const precision = opts.precision ?? (data instanceof Float32Array ? "float32" : "float64");
  const out: AcBoxResult[] = [];
  const hw = h * w;
  for (let i = 0; i < b; i++) {
    const one = (data as Float32Array).subarray(i * hw, (i + 1) * hw);
    out.push(acBox(one, h, w, { thr: opts.thr, precision, mean: opts.means?.[i] }));
  }
  return out;
}

function checkDims(length: number, height: number, width: number, what: string): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(
      `${what}: height and width must be positive integers, got ${height}×${width}`,
    );
  }
  if (length !== height * width) {
    throw new RangeError(`${what}: ${length} values do not make a ${height}×${width} map`);
  }
}

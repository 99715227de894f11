/** Resize → crop → flips → normalise in one pass, straight into CHW float32 planes.
 *
 * The same fixed-point arithmetic as {@link resize} (Pillow's), but only for the output pixels
 * inside the crop window, and the vertical pass writes normalised floats at their flipped
 * place instead of an 8-bit image that later steps copy three more times. Every value equals
 * what `resize` → `crop` → `flip` → `writeChw` gives; the data loader's training and test
 * pipelines (Resize → RandomCrop/CenterCrop → flips) take this path. */
import type { RgbImage } from "./image.ts";
import { type Normalization, normalizationTable } from "./normalize.ts";
import {
  type Coeffs,
  coeffs,
  HALF,
  horizontal,
  PRECISION_BITS,
  type ResampleFilter,
} from "./resize.ts";

/** Where the output comes from: the image resized to `resizeWidth × resizeHeight`, the
 * `width × height` window at (`left`, `top`) of it, mirrored as asked. */
export interface WindowPlan {
  resizeWidth: number;
  resizeHeight: number;
  filter: ResampleFilter;
  top: number;
  left: number;
  width: number;
  height: number;
  flipH: boolean;
  flipV: boolean;
}

/** The taps of outputs `[first, first + n)` of an axis. */
function window(c: Coeffs, first: number, n: number): Coeffs {
  return {
    ksize: c.ksize,
    bounds: c.bounds.subarray(first * 2, (first + n) * 2),
    kk: c.kk.subarray(first * c.ksize, (first + n) * c.ksize),
  };
}

/** Identity taps: output pixel i is input pixel `first + i`. */
function identity(first: number, n: number): Coeffs {
  const bounds = new Int32Array(n * 2), kk = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    bounds[i * 2] = first + i;
    bounds[i * 2 + 1] = 1;
    kk[i] = 1 << PRECISION_BITS;
  }
  return { ksize: 1, bounds, kk };
}

/** Writes the planned window of `img` as three normalised planes into `out` at `offset`. The
 * window must lie inside the resized image. */
export function resizeWindowToChw(
  img: RgbImage,
  p: WindowPlan,
  norm: Normalization,
  out: Float32Array,
  offset = 0,
): void {
  const { top, left, width: w, height: h } = p;
  if (top < 0 || left < 0 || top + h > p.resizeHeight || left + w > p.resizeWidth) {
    throw new RangeError(
      `resizeWindowToChw: window ${w}×${h} at (${left}, ${top}) is outside ` +
        `${p.resizeWidth}×${p.resizeHeight}`,
    );
  }
  if (offset + 3 * w * h > out.length) {
    throw new RangeError(`resizeWindowToChw: ${out.length} elements cannot hold ${3 * w * h}`);
  }
  const ch = p.resizeWidth === img.width
    ? identity(left, w)
    : window(coeffs(img.width, 0, img.width, p.resizeWidth, p.filter), left, w);
  const cv = p.resizeHeight === img.height
    ? identity(top, h)
    : window(coeffs(img.height, 0, img.height, p.resizeHeight, p.filter), top, h);
  // Horizontal pass over only the input rows the window's output rows read.
  const first = cv.bounds[0];
  const last = cv.bounds[(h - 1) * 2] + cv.bounds[(h - 1) * 2 + 1];
  const rows = horizontalFew(img, first, last - first, w, ch);
  vertical(rows, w, first, cv, p, normalizationTable(norm), out, offset);
}

/** The vertical pass, normalising and placing each value in its (flipped) plane position. */
function vertical(
  src: Uint8Array,
  w: number,
  rowFirst: number,
  c: Coeffs,
  p: WindowPlan,
  lut: Float32Array,
  out: Float32Array,
  offset: number,
): void {
  const { ksize, bounds, kk } = c;
  const h = p.height, stride = w * 3, plane = w * h;
  if (ksize > 3) {
    // Shrinking: many taps. Pillow's 8-bit rows first, then the same placement as below.
    const rows = new Uint8Array(stride * h);
    for (let yy = 0; yy < h; yy++) {
      const ymin = bounds[yy * 2] - rowFirst, n = bounds[yy * 2 + 1];
      for (let i = 0; i < stride; i++) {
        let ss = HALF;
        for (let t = 0; t < n; t++) ss += src[(ymin + t) * stride + i] * kk[yy * ksize + t];
        rows[yy * stride + i] = clip8(ss);
      }
    }
    return vertical(rows, w, 0, identity(0, h), p, lut, out, offset);
  }
  for (let yy = 0; yy < h; yy++) {
    // Up to three taps, unrolled (two when enlarging, the common case); a missing tap weighs 0.
    const ymin = bounds[yy * 2] - rowFirst, n = bounds[yy * 2 + 1], kb = yy * ksize;
    const w0 = kk[kb], w1 = n > 1 ? kk[kb + 1] : 0, w2 = n > 2 ? kk[kb + 2] : 0;
    const r0 = ymin * stride, r1 = n > 1 ? r0 + stride : r0, r2 = n > 2 ? r0 + 2 * stride : r0;
    const step = p.flipH ? -1 : 1;
    let o = offset + (p.flipV ? h - 1 - yy : yy) * w + (p.flipH ? w - 1 : 0);
    if (n <= 2) {
      for (let i = 0; i < stride; i += 3, o += step) {
        out[o] = lut[clip8((HALF + Math.imul(src[r0 + i], w0) + Math.imul(src[r1 + i], w1)) | 0)];
        out[o + plane] = lut[
          256 + clip8((HALF + Math.imul(src[r0 + i + 1], w0) + Math.imul(src[r1 + i + 1], w1)) | 0)
        ];
        out[o + 2 * plane] = lut[
          512 + clip8((HALF + Math.imul(src[r0 + i + 2], w0) + Math.imul(src[r1 + i + 2], w1)) | 0)
        ];
      }
      continue;
    }
    for (let i = 0; i < stride; i += 3, o += step) {
      out[o] = lut[clip8(HALF + src[r0 + i] * w0 + src[r1 + i] * w1 + src[r2 + i] * w2)];
      out[o + plane] = lut[
        256 + clip8(HALF + src[r0 + i + 1] * w0 + src[r1 + i + 1] * w1 + src[r2 + i + 1] * w2)
      ];
      out[o + 2 * plane] = lut[
        512 + clip8(HALF + src[r0 + i + 2] * w0 + src[r1 + i + 2] * w1 + src[r2 + i + 2] * w2)
      ];
    }
  }
}

/** The horizontal pass of {@link resize}, unrolled for up to three taps (any enlargement). */
function horizontalFew(
  img: RgbImage,
  rowFirst: number,
  rows: number,
  outW: number,
  c: Coeffs,
): Uint8Array {
  const { ksize, bounds, kk } = c;
  if (ksize > 3) return horizontal(img, rowFirst, rows, outW, c);
  const out = new Uint8Array(outW * rows * 3), s = img.data;
  for (let yy = 0; yy < rows; yy++) {
    const rowIn = (yy + rowFirst) * img.width * 3;
    let o = yy * outW * 3;
    for (let xx = 0; xx < outW; xx++, o += 3) {
      const n = bounds[xx * 2 + 1], kb = xx * ksize;
      const p0 = rowIn + bounds[xx * 2] * 3;
      const w0 = kk[kb], w1 = n > 1 ? kk[kb + 1] : 0, w2 = n > 2 ? kk[kb + 2] : 0;
      const p1 = n > 1 ? p0 + 3 : p0, p2 = n > 2 ? p0 + 6 : p0;
      out[o] = clip8(
        (HALF + Math.imul(s[p0], w0) + Math.imul(s[p1], w1) + Math.imul(s[p2], w2)) | 0,
      );
      out[o + 1] = clip8(
        (HALF + Math.imul(s[p0 + 1], w0) + Math.imul(s[p1 + 1], w1) + Math.imul(s[p2 + 1], w2)) | 0,
      );
      out[o + 2] = clip8(
        (HALF + Math.imul(s[p0 + 2], w0) + Math.imul(s[p1 + 2], w1) + Math.imul(s[p2 + 2], w2)) | 0,
      );
    }
  }
  return out;
}

function clip8(s: number): number {
  const v = s >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** A float RGB raster with the few anti-aliased primitives the scene painter needs.
 *
 * Hand-written: the scenes are drawn in pure TypeScript so that generation is fast, has no
 * native dependency beyond PNG encoding, and is bit-for-bit deterministic. Shapes are drawn at
 * `supersample`× the output resolution with hard edges and box-filtered down. Coordinates are
 * in scene units: (0, 0) top left, (1, 1) bottom right. */
import type { RgbImage } from "../image.ts";

/** An RGB colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

/** Inside-test in scene units, with (u, v) the point in the shape's own frame. */
type Inside = (x: number, y: number) => number;

/** A float RGB canvas in scene units. */
export class Canvas {
  /** Pixels per side of the working raster. */
  readonly n: number;
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  readonly #ss: number;

  constructor(size: number, supersample = 2) {
    this.#ss = supersample;
    this.n = size * supersample;
    const k = this.n * this.n;
    this.r = new Float32Array(k);
    this.g = new Float32Array(k);
    this.b = new Float32Array(k);
  }

  /** Sets every pixel from `fn(x, y)`. With `coarse`, `fn` is evaluated once per output pixel
   * (at its centre) and copied to its supersamples: for smooth textures, 4× cheaper. */
  shade(fn: (x: number, y: number) => Rgb, coarse = false): void {
    const n = this.n, k = coarse ? this.#ss : 1, m = n / k;
    for (let j = 0; j < m; j++) {
      const y = (j + 0.5) / m;
      for (let i = 0; i < m; i++) {
        const c = fn((i + 0.5) / m, y);
        for (let dy = 0; dy < k; dy++) {
          for (let dx = 0; dx < k; dx++) {
            const p = (j * k + dy) * n + i * k + dx;
            this.r[p] = c[0];
            this.g[p] = c[1];
            this.b[p] = c[2];
          }
        }
      }
    }
  }

  /** Multiplies each pixel's colour by `fn(x, y)` (brightness texture); `coarse` as in
   * {@link Canvas.shade}. */
  modulate(fn: (x: number, y: number) => number, coarse = false): void {
    const n = this.n, k = coarse ? this.#ss : 1, m = n / k;
    for (let j = 0; j < m; j++) {
      const y = (j + 0.5) / m;
      for (let i = 0; i < m; i++) {
        const f = fn((i + 0.5) / m, y);
        if (f === 1) continue;
        for (let dy = 0; dy < k; dy++) {
          for (let dx = 0; dx < k; dx++) {
            const p = (j * k + dy) * n + i * k + dx;
            this.r[p] *= f;
            this.g[p] *= f;
            this.b[p] *= f;
          }
        }
      }
    }
  }

  /** Blends `fn(x, y)` where it returns a colour (skips `null`), with opacity `alpha`, over the
   * box `[x0, x1) × [y0, y1)`: one evaluation per pixel for shapes whose colour and extent come
   * from the same computation. */
  draw(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    fn: (x: number, y: number) => Rgb | null,
    alpha = 1,
  ): void {
    this.#each(x0, y0, x1, y1, (p, x, y) => {
      const c = fn(x, y);
      if (c === null) return;
      this.r[p] += (c[0] - this.r[p]) * alpha;
      this.g[p] += (c[1] - this.g[p]) * alpha;
      this.b[p] += (c[2] - this.b[p]) * alpha;
    });
  }

  #each(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    f: (p: number, x: number, y: number) => void,
  ) {
    const n = this.n;
    const i0 = Math.max(0, Math.floor(x0 * n)), i1 = Math.min(n, Math.ceil(x1 * n));
    const j0 = Math.max(0, Math.floor(y0 * n)), j1 = Math.min(n, Math.ceil(y1 * n));
    for (let j = j0; j < j1; j++) {
      const y = (j + 0.5) / n;
      for (let i = i0; i < i1; i++) f(j * n + i, (i + 0.5) / n, y);
    }
  }

  /** Blends `color` with opacity `alpha × inside(x, y)` over the box `[x0, x1) × [y0, y1)`;
   * `color` may vary per pixel. */
  paint(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    inside: Inside,
    color: Rgb | ((x: number, y: number) => Rgb),
    alpha = 1,
  ): void {
    const fixed = typeof color === "function" ? null : color;
    this.#each(x0, y0, x1, y1, (p, x, y) => {
      const a = inside(x, y) * alpha;
      if (a <= 0) return;
      const c = fixed ?? (color as (x: number, y: number) => Rgb)(x, y);
      this.r[p] += (c[0] - this.r[p]) * a;
      this.g[p] += (c[1] - this.g[p]) * a;
      this.b[p] += (c[2] - this.b[p]) * a;
    });
  }

  /** A rectangle centred at (cx, cy), `w × h`, turned by `angle` radians. */
  rect(
    cx: number,
    cy: number,
    w: number,
    h: number,
    angle: number,
    color: Rgb | ((x: number, y: number) => Rgb),
    alpha = 1,
  ): void {
    const c = Math.cos(angle), s = Math.sin(angle);
    const ex = (Math.abs(c) * w + Math.abs(s) * h) / 2,
      ey = (Math.abs(s) * w + Math.abs(c) * h) / 2;
    const hw = w / 2, hh = h / 2;
    if (typeof color === "function") {
      this.paint(
        cx - ex,
        cy - ey,
        cx + ex,
        cy + ey,
        (x, y) => {
          const dx = x - cx, dy = y - cy;
          return Math.abs(dx * c + dy * s) <= hw && Math.abs(dy * c - dx * s) <= hh ? 1 : 0;
        },
        color,
        alpha,
      );
      return;
    }
    this.#fill(cx - ex, cy - ey, cx + ex, cy + ey, color, alpha, (dx, dy) => {
      const u = (dx - cx) * c + (dy - cy) * s, v = (dy - cy) * c - (dx - cx) * s;
      return Math.abs(u) <= hw && Math.abs(v) <= hh;
    });
  }

  /** An ellipse centred at (cx, cy) with radii (rx, ry), turned by `angle`. */
  ellipse(
    cx: number,
    cy: number,
    rx: number,
    ry: number,
    angle: number,
    color: Rgb,
    alpha = 1,
  ): void {
    const c = Math.cos(angle), s = Math.sin(angle), e = Math.max(rx, ry);
    this.#fill(cx - e, cy - e, cx + e, cy + e, color, alpha, (x, y) => {
      const dx = x - cx, dy = y - cy;
      const u = (dx * c + dy * s) / rx, v = (dy * c - dx * s) / ry;
      return u * u + v * v <= 1;
    });
  }

  /** Blends a constant colour where `inside` holds, over a box. */
  #fill(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    color: Rgb,
    alpha: number,
    inside: (x: number, y: number) => boolean,
  ) {
    const n = this.n, [cr, cg, cb] = color;
    const i0 = Math.max(0, Math.floor(x0 * n)), i1 = Math.min(n, Math.ceil(x1 * n));
    const j0 = Math.max(0, Math.floor(y0 * n)), j1 = Math.min(n, Math.ceil(y1 * n));
    for (let j = j0; j < j1; j++) {
      const y = (j + 0.5) / n;
      for (let i = i0; i < i1; i++) {
        if (!inside((i + 0.5) / n, y)) continue;
        const p = j * n + i;
        this.r[p] += (cr - this.r[p]) * alpha;
        this.g[p] += (cg - this.g[p]) * alpha;
        this.b[p] += (cb - this.b[p]) * alpha;
      }
    }
  }

  /** A disc. */
  circle(cx: number, cy: number, r: number, color: Rgb, alpha = 1): void {
    this.ellipse(cx, cy, r, r, 0, color, alpha);
  }

  /** A ring between radii r0 < r1. */
  ring(cx: number, cy: number, r0: number, r1: number, color: Rgb, alpha = 1): void {
    this.paint(
      cx - r1,
      cy - r1,
      cx + r1,
      cy + r1,
      (x, y) => {
        const d = Math.hypot(x - cx, y - cy);
        return d >= r0 && d <= r1 ? 1 : 0;
      },
      color,
      alpha,
    );
  }

  /** A straight stroke of width `w` from (x0, y0) to (x1, y1), square ends. */
  line(x0: number, y0: number, x1: number, y1: number, w: number, color: Rgb, alpha = 1): void {
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (len === 0) return;
    this.rect((x0 + x1) / 2, (y0 + y1) / 2, len, w, Math.atan2(y1 - y0, x1 - x0), color, alpha);
  }

  /** Box-filters the working raster down to an 8-bit {@link RgbImage}. */
  toImage(): RgbImage {
    const k = this.#ss, n = this.n, m = n / k;
    const out = new Uint8Array(m * m * 3);
    const inv = 1 / (k * k);
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < m; i++) {
        let r = 0, g = 0, b = 0;
        for (let dy = 0; dy < k; dy++) {
          const row = (j * k + dy) * n + i * k;
          for (let dx = 0; dx < k; dx++) {
            r += this.r[row + dx];
            g += this.g[row + dx];
            b += this.b[row + dx];
          }
        }
        const o = (j * m + i) * 3;
        out[o] = clamp8(r * inv);
        out[o + 1] = clamp8(g * inv);
        out[o + 2] = clamp8(b * inv);
      }
    }
    return { width: m, height: m, data: out };
  }
}

const clamp8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** The text layer of the report's PNG pictures: labels placed in pixels, written as one SVG that
 * src/data/image.ts `drawSvgOver` renders over the raster (librsvg, a generic sans-serif font).
 * Layouts are pure data so that tests can read what a picture says without decoding it. */
import { drawSvgOver, type RgbImage } from "../data/image.ts";
import { escapeMarkup } from "../io/markup.ts";

/** One line of text on a picture; `x`, `y` is the anchor point on the baseline, in pixels. */
export interface TextLabel {
  text: string;
  x: number;
  y: number;
  /** Font size in pixels. */
  size: number;
  /** Which end of the text sits at `x` (default `start`). */
  anchor?: "start" | "middle" | "end";
  bold?: boolean;
  /** CSS colour (default near-black). */
  color?: string;
  /** Degrees about the anchor; −90 reads bottom to top. */
  rotate?: number;
}

/** Average advance of a character in em, a little over DejaVu Sans's (the font fontconfig picks
 * for `sans-serif` on Debian; about 0.50 and 0.56 em measured on class names and titles) so that
 * margins sized with it are not too small. */
const EM_PER_CHAR = 0.56, EM_PER_CHAR_BOLD = 0.62;

/** The width `text` is expected to take at `size` px (an estimate: no font metrics here). */
export function textWidth(text: string, size: number, bold = false): number {
  return [...text].length * size * (bold ? EM_PER_CHAR_BOLD : EM_PER_CHAR);
}

/** The largest size ≤ `size` (and ≥ `min`) at which `text` is expected to fit in `maxWidth`. */
export function fitSize(
  text: string,
  maxWidth: number,
  size: number,
  bold = false,
  min = 7,
): number {
  const w = textWidth(text, size, bold);
  return w <= maxWidth ? size : Math.max(min, Math.floor((size * maxWidth) / w * 10) / 10);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** The labels as an SVG document of `width × height` px (transparent where there is no text). */
export function textLayerSvg(width: number, height: number, labels: readonly TextLabel[]): string {
  const texts = labels.map((l) => {
    const pos = l.rotate
      ? `transform="translate(${r1(l.x)},${r1(l.y)}) rotate(${l.rotate})"`
      : `x="${r1(l.x)}" y="${r1(l.y)}"`;
    return `<text ${pos} font-size="${r1(l.size)}"` +
      (l.anchor && l.anchor !== "start" ? ` text-anchor="${l.anchor}"` : "") +
      (l.bold ? ` font-weight="bold"` : "") +
      ` fill="${escapeMarkup(l.color ?? "#1a1a1a")}">${escapeMarkup(l.text)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif">${texts.join("")}</svg>`;
}

/** `base` with `labels` rendered over it. */
export function drawLabels(base: RgbImage, labels: readonly TextLabel[]): Promise<RgbImage> {
  return drawSvgOver(base, textLayerSvg(base.width, base.height, labels));
}

/** A white canvas with `img` pasted at (`x`, `y`). */
export function padImage(
  img: RgbImage,
  width: number,
  height: number,
  x: number,
  y: number,
): RgbImage {
  const data = new Uint8Array(width * height * 3).fill(255);
  for (let row = 0; row < img.height; row++) {
    data.set(
      img.data.subarray(row * img.width * 3, (row + 1) * img.width * 3),
      ((y + row) * width + x) * 3,
    );
  }
  return { width, height, data };
}

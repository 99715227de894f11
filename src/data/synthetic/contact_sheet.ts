/** A contact sheet: a grid of images, one row per class, with the class names beside them. */
import type { OverlayOptions } from "npm:sharp@^0.34";
import { loadSharp } from "../npm.ts";
import type { RgbImage } from "../image.ts";
import { escapeMarkup as esc } from "../../io/markup.ts";

/** Options for {@link contactSheet}. */
export interface ContactSheetOptions {
  /** Width of the label column in pixels (0: no labels; default: fits the longest label). */
  labelWidth?: number;
  /** Gap between images in pixels. */
  gap?: number;
}

/** Tiles `rows` (each a label and same-sized images) into one PNG. Labels are drawn with SVG
 * text and fall back to none where no font is available. */
export async function contactSheet(
  rows: readonly { label: string; images: readonly RgbImage[] }[],
  opts: ContactSheetOptions = {},
): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const gap = opts.gap ?? 2;
  const lw = opts.labelWidth ?? Math.ceil(Math.max(...rows.map((r) => r.label.length)) * 7.8) + 12;
  const { width: w, height: h } = rows[0].images[0];
  const cols = Math.max(...rows.map((r) => r.images.length));
  const W = lw + cols * (w + gap) + gap, H = rows.length * (h + gap) + gap;
  const layers: OverlayOptions[] = [];
  rows.forEach((r, j) => {
    r.images.forEach((img, i) => {
      layers.push({
        input: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength),
        raw: { width: img.width, height: img.height, channels: 3 },
        left: lw + gap + i * (w + gap),
        top: gap + j * (h + gap),
      });
    });
  });
  if (lw > 0) {
    const text = rows.map((r, j) =>
      `<text x="${lw - 6}" y="${gap + j * (h + gap) + h / 2 + 5}" text-anchor="end">${
        esc(r.label)
      }</text>`
    ).join("");
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
      `<g font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="13" fill="#222">${text}</g></svg>`;
    layers.unshift({ input: Buffer.from(svg), left: 0, top: 0 });
  }
  const buf = await sharp({ create: { width: W, height: H, channels: 3, background: "#ffffff" } })
    .composite(layers)
    .png({ compressionLevel: 9, palette: true, quality: 90, effort: 10 })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Decoding image files (JPEG, PNG, TIFF, WebP, ...) into 8-bit RGB pixels: JPEGs in WebAssembly
 * when they decode cleanly (./jpeg_wasm.ts), everything else with sharp. */
import { Buffer } from "node:buffer";
import type { OutputInfo } from "npm:sharp@^0.34";
import { loadSharp } from "./npm.ts";
import { DataError } from "./errors.ts";
import { decodeJpegWasm, looksLikeJpeg } from "./jpeg_wasm.ts";

/** An 8-bit RGB image, row-major, channels interleaved (HWC): pixel (x, y) channel c is at
 * `data[(y * width + x) * 3 + c]`. */
export interface RgbImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width × height × 3` bytes, RGB interleaved, row-major. */
  readonly data: Uint8Array;
}

/** Makes an {@link RgbImage}, checking that `data` holds `width × height × 3` bytes. */
export function rgbImage(width: number, height: number, data?: Uint8Array): RgbImage {
  const n = width * height * 3;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`rgbImage: bad size ${width}×${height}`);
  }
  if (data && data.length !== n) {
    throw new RangeError(`rgbImage: ${data.length} bytes do not hold ${width}×${height}×3`);
  }
  return { width, height, data: data ?? new Uint8Array(n) };
}

/** Options for {@link decodeImage}. */
export interface DecodeOptions {
  /** The name used in error messages when `source` is bytes. */
  name?: string;
  /** Reject images with decoder warnings such as a truncated JPEG (default true). */
  strict?: boolean;
}

/**
 * Decodes an image file (path) or encoded bytes into 8-bit RGB.
 *
 * Gray images are replicated to three channels, alpha is dropped (not composited, as Pillow's
 * `convert("RGB")` does), CMYK is converted to sRGB, 16-bit samples are scaled to 8 bits, and
 * embedded EXIF orientation is ignored (as Pillow and torchvision do). A file that is missing,
 * truncated or not an image gives a {@link DataError} naming the file.
 */
export async function decodeImage(
  source: string | Uint8Array,
  opts: DecodeOptions = {},
): Promise<RgbImage> {
  const name = typeof source === "string" ? source : (opts.name ?? "<bytes>");
  // A JPEG that the WebAssembly decoder reads without a warning is done here; anything else
  // (other formats, CMYK, damaged files, unreadable paths) goes to sharp, which words the error.
  // A .jpg file is read once: the bytes go to sharp when WebAssembly declines them.
  let input = source;
  if (opts.strict !== false) {
    if (typeof input === "string" && /\.jpe?g$/i.test(input)) {
      input = await Deno.readFile(input).catch(() => source);
    }
    if (typeof input !== "string" && looksLikeJpeg(input)) {
      const fast = await decodeJpegWasm(input);
      if (fast) return fast;
    }
  }
  const sharp = await loadSharp();
  let out: { data: Uint8Array; info: OutputInfo };
  try {
    out = await sharp(input, {
      failOn: opts.strict === false ? "none" : "warning",
      limitInputPixels: 1 << 28,
    })
      .toColourspace("srgb")
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw decodeError(name, e);
  }
  const { width, height, channels } = out.info;
  let data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
  if (channels === 1) data = grayToRgb(data);
  else if (channels !== 3) {
    throw new DataError(name, `decoded to ${channels} channels, expected 3`);
  }
  return { width, height, data };
}

function decodeError(name: string, e: unknown): DataError {
  const msg = e instanceof Error ? e.message : String(e);
  if (typeof name === "string" && /no such file|Input file is missing/i.test(msg)) {
    return new DataError(name, "no such file", { cause: e });
  }
  const kind = /unsupported image format/i.test(msg)
    ? "not an image in a known format (JPEG, PNG, TIFF, WebP, GIF)"
    : "corrupted or truncated image";
  return new DataError(name, `${kind}: ${msg.trim().split("\n")[0]}`, { cause: e });
}

function grayToRgb(g: Uint8Array): Uint8Array {
  const out = new Uint8Array(g.length * 3);
  for (let i = 0, j = 0; i < g.length; i++, j += 3) out[j] = out[j + 1] = out[j + 2] = g[i];
  return out;
}

/** Encodes an {@link RgbImage} as PNG bytes (deterministic for the same pixels). */
export async function encodePng(img: RgbImage, compressionLevel = 6): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel, adaptiveFiltering: false })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Writes an {@link RgbImage} to a PNG file. */
export async function writePng(path: string, img: RgbImage): Promise<void> {
  await Deno.writeFile(path, await encodePng(img));
}

/** Width and height from an image file's header, without decoding its pixels. */
export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  const sharp = await loadSharp();
  try {
    const m = await sharp(path).metadata();
    return { width: m.width ?? 0, height: m.height ?? 0 };
  } catch (e) {
    throw decodeError(path, e);
  }
}

/** `base` with an SVG image drawn over its top-left corner: sharp renders the SVG with librsvg,
 * whose text is set in the fonts fontconfig finds (scripts/setup.sh installs one where none is),
 * then blends it by its alpha. Used for picture labels: the pixels stay, the words go on top. */
export async function drawSvgOver(base: RgbImage, svg: string): Promise<RgbImage> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(base.data, {
    raw: { width: base.width, height: base.height, channels: 3 },
  })
    .composite([{ input: Buffer.from(svg, "utf8"), top: 0, left: 0 }])
    .removeAlpha()
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  return rgbImage(
    info.width,
    info.height,
    new Uint8Array(data.buffer, data.byteOffset, data.length),
  );
}

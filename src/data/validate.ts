/**
 * A fast check that image files are readable images, from their headers, their last bytes and
 * their sizes only (no pixel decoding): an empty file, a text file named `.jpg`, a JPEG without a
 * frame header or cut short before its end marker, a PNG without IHDR or IEND. It finds what
 * makes a decoder fail on most damaged files in a fraction of a decode's time; `decodeImage`
 * remains the full check.
 * @module
 */
import { mapOrdered } from "./ordered.ts";

/** One file that failed the check, and why. */
export interface ImageProblem {
  /** The image file. */
  readonly path: string;
  /** What is wrong with it (one line). */
  readonly problem: string;
}

/** Bytes read from the start of a file; a JPEG's segment walk reads further only past them. */
const HEAD = 8 * 1024;
/** Bytes read from the end: end markers may be followed by a little padding. */
const TAIL = 4 * 1024;

/** The frame-header markers SOF0–SOF15 (not DHT C4, JPG C8 or DAC CC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** A file's head and tail, with reads beyond the head on demand. */
class FileBytes {
  private constructor(
    readonly file: Deno.FsFile,
    readonly size: number,
    readonly head: Uint8Array,
    readonly tail: Uint8Array,
  ) {}

  static async open(path: string): Promise<FileBytes> {
    const file = await Deno.open(path, { read: true });
    try {
      const { size } = await file.stat();
      const head = await readAt(file, 0, Math.min(size, HEAD));
      const t = Math.min(size, TAIL);
      const tail = size <= HEAD ? head.subarray(size - t) : await readAt(file, size - t, t);
      return new FileBytes(file, size, head, tail);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** `n` bytes at `offset` (fewer at the end of the file). */
  async at(offset: number, n: number): Promise<Uint8Array> {
    if (offset + n <= this.head.length) return this.head.subarray(offset, offset + n);
    return await readAt(this.file, offset, Math.max(0, Math.min(n, this.size - offset)));
  }

  close(): void {
    this.file.close();
  }
}

async function readAt(file: Deno.FsFile, offset: number, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) {
    const r = await file.read(out.subarray(got));
    if (r === null) break;
    got += r;
  }
  return out.subarray(0, got);
}

const startsWith = (b: Uint8Array, sig: readonly number[]) =>
  b.length >= sig.length && sig.every((x, i) => b[i] === x);

/** Whether `needle` occurs in `hay`. */
function contains(hay: Uint8Array, needle: readonly number[]): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** What the first bytes look like, for "not an image" messages. */
function describeStart(b: Uint8Array): string {
  const start = b.subarray(0, 16);
  const printable = start.every((x) => x === 9 || x === 10 || x === 13 || (x >= 32 && x < 127));
  if (printable) {
    return `text ${JSON.stringify(new TextDecoder().decode(start))}${b.length > 16 ? "..." : ""}`;
  }
  return `bytes ${
    Array.from(start.subarray(0, 8), (x) => x.toString(16).padStart(2, "0")).join(" ")
  }`;
}

async function checkJpeg(f: FileBytes): Promise<string | null> {
  // Walk the marker segments up to the first scan, looking for the frame header's size.
  let pos = 2, dims: [number, number] | null = null, scanStart = -1;
  while (pos + 4 <= f.size) {
    const m = await f.at(pos, 4);
    if (m[0] !== 0xff) return `damaged JPEG: no marker at byte ${pos}`;
    if (m[1] === 0xff) {
      pos++; // fill byte
      continue;
    }
    const marker = m[1], len = (m[2] << 8) | m[3];
    if (marker === 0xd9) return "JPEG ends before its first scan (an end marker, no image data)";
    if (len < 2) {
      return `damaged JPEG: segment FF ${
        marker.toString(16).toUpperCase()
      } at byte ${pos} has length ${len}`;
    }
    if (isSof(marker)) {
      const h = await f.at(pos + 5, 4);
      if (h.length < 4) break;
      dims = [(h[2] << 8) | h[3], (h[0] << 8) | h[1]];
    }
    if (marker === 0xda) {
      if (pos + 2 + len < f.size) scanStart = pos + 2 + len;
      break;
    }
    pos += 2 + len;
  }
  if (!dims) return "truncated or damaged JPEG: no frame header (SOF) before the image data";
  if (dims[0] === 0 || dims[1] === 0) {
    return `JPEG frame header gives a size of ${dims[0]}×${dims[1]}`;
  }
  if (scanStart < 0) return `truncated JPEG: the file (${f.size} bytes) ends before its image data`;
  // Only the scan data counts: headers (an EXIF thumbnail) may hold an end marker of their own.
  const tailStart = f.size - f.tail.length;
  if (!contains(f.tail.subarray(Math.max(0, scanStart - tailStart)), [0xff, 0xd9])) {
    return `truncated JPEG: no end-of-image marker (FF D9) at the end of its ${f.size} bytes`;
  }
  return null;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
const IEND = [0x49, 0x45, 0x4e, 0x44] as const;

function checkPng(f: FileBytes): string | null {
  const h = f.head;
  const ihdr = h.length >= 24 && h[12] === 0x49 && h[13] === 0x48 && h[14] === 0x44 &&
    h[15] === 0x52;
  if (!ihdr) return "damaged PNG: no IHDR header after the signature";
  const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const w = view.getUint32(16), ht = view.getUint32(20);
  if (w === 0 || ht === 0) return `PNG header gives a size of ${w}×${ht}`;
  if (!contains(f.tail, IEND)) {
    return `truncated PNG: no IEND chunk at the end of its ${f.size} bytes`;
  }
  return null;
}

/** Formats the check recognises by their signatures without looking further. */
const OTHER_SIGNATURES: readonly (readonly number[])[] = [
  [0x49, 0x49, 0x2a, 0x00], // TIFF, little-endian
  [0x4d, 0x4d, 0x00, 0x2a], // TIFF, big-endian
  [0x42, 0x4d], // BMP
  [0x47, 0x49, 0x46, 0x38], // GIF
];

function checkWebp(f: FileBytes): string | null {
  const declared = new DataView(f.head.buffer, f.head.byteOffset).getUint32(4, true) + 8;
  return declared > f.size
    ? `truncated WebP: its header says ${declared} bytes, the file has ${f.size}`
    : null;
}

/** The problem with one image file by its header, end and size, or null when it looks like a
 * whole image. Never throws: an unreadable file is a problem too. */
export async function checkImageFile(path: string): Promise<string | null> {
  let f: FileBytes;
  try {
    f = await FileBytes.open(path);
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? "no such file" : `cannot read: ${e}`;
  }
  try {
    if (f.size === 0) return "empty file (0 bytes)";
    const h = f.head;
    if (startsWith(h, [0xff, 0xd8, 0xff])) return await checkJpeg(f);
    if (startsWith(h, PNG_SIGNATURE)) return checkPng(f);
    if (
      startsWith(h, [0x52, 0x49, 0x46, 0x46]) && h.length >= 12 && h[8] === 0x57 &&
      h[9] === 0x45 && h[10] === 0x42 && h[11] === 0x50
    ) return checkWebp(f);
    if (OTHER_SIGNATURES.some((s) => startsWith(h, s))) return null;
    return `not an image in a known format (JPEG, PNG, TIFF, WebP, GIF, BMP): it starts with ${
      describeStart(h)
    }`;
  } catch (e) {
    return `cannot read: ${e}`;
  } finally {
    f.close();
  }
}

/** Options for {@link validateImages}. */
export interface ValidateOptions {
  /** Files checked at once (default 16). */
  concurrency?: number;
}

/** Checks every file of `paths` with {@link checkImageFile}; the problems, in `paths` order
 * (empty when every file looks like a whole image). */
export async function validateImages(
  paths: readonly string[],
  opts: ValidateOptions = {},
): Promise<ImageProblem[]> {
  const concurrency = opts.concurrency ?? 16;
  const out: ImageProblem[] = [];
  const results = mapOrdered(paths, (p) => checkImageFile(p), {
    concurrency,
    window: concurrency * 2,
  });
  let i = 0;
  for await (const problem of results) {
    if (problem) out.push({ path: paths[i], problem });
    i++;
  }
  return out;
}

/** Image–caption pairs for CLIP training, from the three layouts the project meets:
 *
 * - **RSICD / UCM-captions / Sydney-captions JSON** (Karpathy's `dataset_*.json`):
 *   `{"images": [{"filename": "x.jpg", "sentences": [{"raw": "..."}, ...], "split"?: "train",
 *   "filepath"?: "sub/folder"}, ...]}`; image paths are relative to an image folder (default:
 *   the JSON file's folder).
 * - **CSV**: two columns, image path and sentence, one row per caption (an image may have
 *   several rows); a header row (`image,caption`, `filename,sentence`, ...) is recognised and
 *   skipped; paths are relative to an image folder (default: the CSV's folder).
 * - **dataset `captions.json`** (the synthetic scenes): `{"Class/file.png": ["...", ...]}`,
 *   relative to the dataset's `images/`.
 *
 * Every problem is a `DataError` naming the file and, for bad rows, their line or entry
 * numbers; images that do not exist are listed (the first ten, and how many in all).
 * @module
 */
import { DataError, listSome } from "../data/errors.ts";
import { loadCsvParse, loadZod } from "../data/npm.ts";
import { checkJson, readJsonFile, readText } from "../data/read_text.ts";

/** One image and its captions. */
export interface CaptionedImage {
  /** The image file. */
  readonly path: string;
  /** Its captions (at least one, none empty). */
  readonly captions: readonly string[];
  /** Its class index, when the source knows it (dataset folders). */
  readonly label?: number;
}

/** Options of {@link readCaptions}. */
export interface ReadCaptionsOptions {
  /** The folder image paths are relative to (default: the caption file's folder). */
  images?: string;
  /** For the JSON layout: keep only images whose `split` is one of these (default: all). */
  splits?: readonly string[];
  /** Do not check that the images exist (default false: they are checked). */
  skipExistenceCheck?: boolean;
}

const dirOf = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) || "/" : ".");
const join = (dir: string, rel: string) => (rel.startsWith("/") ? rel : `${dir}/${rel}`);

/** Reads a caption file, choosing the layout from the extension (`.json`: RSICD or
 * `captions.json`; `.csv`/`.tsv`: image + sentence), and checks the images exist. */
export async function readCaptions(
  file: string,
  opts: ReadCaptionsOptions = {},
): Promise<CaptionedImage[]> {
  const ext = file.slice(file.lastIndexOf(".")).toLowerCase();
  let out: CaptionedImage[];
  if (ext === ".json") out = await readCaptionJson(file, opts);
  else if (ext === ".csv" || ext === ".tsv") {
    out = parseCaptionCsv(await readText(file), file, opts.images ?? dirOf(file), await loadCsv());
  } else {
    throw new DataError(
      file,
      `unknown caption file type "${ext}": use RSICD/UCM-style .json, a captions.json ` +
        `({image: [caption, ...]}) or a .csv of image path and sentence`,
    );
  }
  if (out.length === 0) throw new DataError(file, "holds no image–caption pairs");
  if (!opts.skipExistenceCheck) await checkImagesExist(out, file);
  return out;
}

const loadCsv = () => loadCsvParse();

async function readCaptionJson(file: string, opts: ReadCaptionsOptions): Promise<CaptionedImage[]> {
  const raw = await readJsonFile(file);
  const root = opts.images ?? dirOf(file);
  const z = await loadZod();
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw) && "images" in raw) {
    const Rsicd = z.object({
      images: z.array(z.object({
        filename: z.string().min(1),
        filepath: z.string().optional(),
        split: z.string().optional(),
        sentences: z.array(z.object({ raw: z.string() })).min(1),
      })),
    });
    const j = checkJson(
      raw,
      Rsicd,
      'an RSICD/UCM caption file ({"images": [{"filename", "sentences": [{"raw"}]}]})',
      file,
    );
    const bad: string[] = [];
    const out: CaptionedImage[] = [];
    j.images.forEach((im, i) => {
      if (opts.splits && !opts.splits.includes(im.split ?? "")) return;
      const caps = im.sentences.map((s) => s.raw.trim());
      const empty = caps.flatMap((c, k) => (c === "" ? [k] : []));
      if (empty.length) {
        bad.push(`images.${i} (${im.filename}): sentence ${empty.join(", ")} empty`);
      }
      const rel = im.filepath ? `${im.filepath}/${im.filename}` : im.filename;
      out.push({ path: join(root, rel), captions: caps });
    });
    if (bad.length) {
      throw new DataError(file, `${bad.length} entries have empty captions: ${listSome(bad)}`);
    }
    if (opts.splits && out.length === 0) {
      const have = [...new Set(j.images.map((im) => im.split ?? "(none)"))].join(", ");
      throw new DataError(
        file,
        `no image is in split ${opts.splits.join("/")}; the file's splits are: ${have}`,
      );
    }
    return out;
  }
  const ByImage = z.record(z.string(), z.array(z.string()).min(1));
  const j = checkJson(
    raw,
    ByImage,
    'a caption file (RSICD/UCM {"images": [...]} or {"image path": ["caption", ...]})',
    file,
  );
  const bad = Object.entries(j).flatMap(([k, caps]) =>
    caps.some((c) => c.trim() === "") ? [k] : []
  );
  if (bad.length) {
    throw new DataError(file, `${bad.length} images have an empty caption: ${listSome(bad)}`);
  }
  return Object.entries(j).map(([k, caps]) => ({
    path: join(root, k),
    captions: caps.map((c) => c.trim()),
  }));
}

const HEADER = /^(image|images|img|file|filename|file_name|path|image_path|filepath)$/i;

/** Parses the CSV layout (exported for tests): rows of image path and sentence. Rows with the
 * wrong number of columns, an empty path or an empty sentence are collected and reported
 * together with their line numbers. */
export function parseCaptionCsv(
  text: string,
  file: string,
  root: string,
  parse: Awaited<ReturnType<typeof loadCsvParse>>,
): CaptionedImage[] {
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, {
      delimiter: file.toLowerCase().endsWith(".tsv") ? "\t" : ",",
      skip_empty_lines: true,
      trim: true,
      bom: true,
      relax_column_count: true,
      relax_quotes: false,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    throw new DataError(file, `not valid CSV: ${(e as Error).message}`);
  }
  if (rows.length > 0 && HEADER.test(rows[0].record[0] ?? "")) rows = rows.slice(1);
  const bad: string[] = [];
  const byPath = new Map<string, string[]>();
  for (const { record, info } of rows) {
    const line = info.lines;
    if (record.length !== 2) {
      bad.push(`line ${line}: ${record.length} columns (need image path, sentence)`);
      continue;
    }
    const [p, s] = record;
    if (p === "") bad.push(`line ${line}: empty image path`);
    else if (s === "") bad.push(`line ${line}: empty sentence for ${p}`);
    else {
      const k = join(root, p);
      if (!byPath.has(k)) byPath.set(k, []);
      byPath.get(k)!.push(s);
    }
  }
  if (bad.length) {
    throw new DataError(
      file,
      `${bad.length} bad row${bad.length > 1 ? "s" : ""} (each row: image path, sentence): ${
        listSome(bad, 5)
      }`,
    );
  }
  return [...byPath].map(([path, captions]) => ({ path, captions }));
}

/** Fails with a {@link DataError} listing the images that do not exist. */
export async function checkImagesExist(
  items: readonly { path: string }[],
  file: string,
): Promise<void> {
  const missing: string[] = [];
  await Promise.all(items.map(async ({ path }) => {
    try {
      if (!(await Deno.stat(path)).isFile) missing.push(path);
    } catch {
      missing.push(path);
    }
  }));
  if (missing.length) {
    missing.sort();
    throw new DataError(
      file,
      `${missing.length} of ${items.length} images do not exist: ${listSome(missing, 5)}` +
        ` (paths are relative to the image folder; pass --images DIR if it is elsewhere)`,
    );
  }
}

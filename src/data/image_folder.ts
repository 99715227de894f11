/** Image folders: one sub-folder per class, image files inside (torchvision's `ImageFolder`). */
import { DataError, listSome, type ProblemLog } from "./errors.ts";
import type { Sample } from "./loader.ts";

/** File extensions taken as images (lower case). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  ".jpg",
  ".jpeg",
  ".png",
  ".tif",
  ".tiff",
  ".bmp",
  ".webp",
  ".gif",
];

/** A scanned image folder. */
export interface ImageFolder {
  /** The folder scanned. */
  readonly root: string;
  /** Class names = sub-folder names, sorted by code point (torchvision's order). */
  readonly classes: readonly string[];
  /** Every image, class by class, file names sorted; `path` is absolute. */
  readonly samples: readonly Sample[];
  /** `samples[i].path` relative to `root` (`Class/file.jpg`), the form split files use. */
  readonly files: readonly string[];
  /** Classes left out with `skipEmpty`. */
  readonly emptyClasses: readonly string[];
}

/** Options for {@link scanImageFolder}. */
export interface ScanOptions extends ProblemLog {
  /** Leave out class folders without images, with a warning, instead of failing. */
  skipEmpty?: boolean;
  /** File extensions taken as images (default {@link IMAGE_EXTENSIONS}). */
  extensions?: readonly string[];
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Lists `root`'s class folders and their images. Fails with a {@link DataError} naming the
 * folder when it is missing, has no class folders, or has a class folder without images. */
export async function scanImageFolder(root: string, opts: ScanOptions = {}): Promise<ImageFolder> {
  const exts = new Set((opts.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase()));
  const isImage = (n: string) => exts.has(n.slice(n.lastIndexOf(".")).toLowerCase());
  root = root.replace(/\/+$/, "") || "/";
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(root));
  } catch (e) {
    throw new DataError(
      root,
      e instanceof Deno.errors.NotFound ? "no such folder" : `cannot read: ${e}`,
    );
  }
  const dirs = entries.filter((e) => e.isDirectory && !e.name.startsWith(".")).map((e) => e.name);
  dirs.sort(byCodePoint);
  if (dirs.length === 0) {
    throw new DataError(root, "has no class folders (expected one sub-folder of images per class)");
  }
  const classes: string[] = [], samples: Sample[] = [], files: string[] = [], empty: string[] = [];
  for (const d of dirs) {
    const names = (await Array.fromAsync(Deno.readDir(`${root}/${d}`)))
      .filter((e) => (e.isFile || e.isSymlink) && !e.name.startsWith(".") && isImage(e.name))
      .map((e) => e.name)
      .sort(byCodePoint);
    if (names.length === 0) {
      empty.push(d);
      continue;
    }
    const label = classes.length;
    classes.push(d);
    for (const n of names) {
      samples.push({ path: `${root}/${d}/${n}`, label });
      files.push(`${d}/${n}`);
    }
  }
  if (empty.length > 0) {
    const msg = `${empty.length} class folder(s) have no images (${[...exts].join(" ")}): ${
      listSome(empty)
    }`;
    if (!opts.skipEmpty) {
      throw new DataError(
        empty.length === 1 ? `${root}/${empty[0]}` : root,
        `${msg}; remove them or pass skipEmpty to leave them out`,
      );
    }
    (opts.warn ?? console.warn)(`${root}: ${msg}; left out`);
  }
  return { root, classes, samples, files, emptyClasses: empty };
}

/** Drawing a seeded seen/unseen split of an image folder's classes and writing it as
 * `splits.json` (the format {@link readSplitFile} reads). */
import { DataError } from "./errors.ts";
import { type ImageFolder, scanImageFolder } from "./image_folder.ts";
import { Rng } from "./rng.ts";
import type { SplitDef } from "./splits.ts";

/** How to draw a split. */
export interface DrawSplitOptions {
  /** Seen classes; the others are unseen. */
  seen: number;
  /** The seed: the same seed and folder give the same split. */
  seed: number;
  /** Each seen class's share of test-seen images (default 0.2, as AID's 25_5: 6,704 / 1,676). */
  testSeenFraction?: number;
}

/** The `splits.json` content: `{classes, seed, splits: {"<seen>_<unseen>": SplitDef}}`. */
export interface SplitsJson {
  classes: string[];
  seed: number;
  splits: Record<string, SplitDef>;
}

// Stream tags: the class draw and each class's test-seen draw use separate generators.
const CLASS_DRAW = 0x5b11, IMAGE_DRAW = 0x5b12;

/**
 * A seeded split of `folder`: `seen` classes drawn at random (the rest unseen), each seen class's
 * images split into trainval and test-seen (`round(n · testSeenFraction)` test images, at least 1
 * when the class has 2 or more), every unseen image in test-unseen. Classes and files are listed
 * in folder order. Deterministic for a seed.
 */
export function drawSplit(folder: ImageFolder, opts: DrawSplitOptions): SplitsJson {
  const c = folder.classes.length;
  const fraction = opts.testSeenFraction ?? 0.2;
  if (!(Number.isInteger(opts.seen) && opts.seen >= 1 && opts.seen < c)) {
    throw new DataError(
      folder.root,
      `has ${c} classes: seen must be an integer from 1 to ${c - 1}, got ${opts.seen}`,
    );
  }
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`testSeenFraction must be in [0, 1), got ${fraction}`);
  }
  const seenSet = new Set(
    new Rng(opts.seed, CLASS_DRAW).permutation(c).slice(0, opts.seen),
  );
  const byClass = folder.classes.map(() => [] as string[]);
  folder.samples.forEach((s, i) => byClass[s.label].push(folder.files[i]));
  const def: SplitDef = { seen: [], unseen: [], trainval: [], test_seen: [], test_unseen: [] };
  for (let k = 0; k < c; k++) {
    const files = byClass[k];
    if (!seenSet.has(k)) {
      def.unseen.push(folder.classes[k]);
      def.test_unseen.push(...files);
      continue;
    }
    def.seen.push(folder.classes[k]);
    let t = Math.round(files.length * fraction);
    if (t === 0 && fraction > 0 && files.length >= 2) t = 1;
    const test = new Set(
      new Rng(opts.seed, IMAGE_DRAW, k).permutation(files.length).slice(0, t),
    );
    files.forEach((f, i) => (test.has(i) ? def.test_seen : def.trainval).push(f));
  }
  return {
    classes: [...folder.classes],
    seed: opts.seed,
    splits: { [`${def.seen.length}_${def.unseen.length}`]: def },
  };
}

/** Options for {@link writeSplits}. */
export interface WriteSplitsOptions extends DrawSplitOptions {
  /** The file to write (default `<folder>/splits.json`). */
  out?: string;
  /** Replace an existing file (default false: an existing file is an error). */
  overwrite?: boolean;
}

/** Draws a split of dataset folder `folder` (its `images/` sub-folder, or `folder` itself when it
 * has none) with {@link drawSplit} and writes it; returns the file written and its content. */
export async function writeSplits(
  folder: string,
  opts: WriteSplitsOptions,
): Promise<{ file: string; splits: SplitsJson }> {
  folder = folder.replace(/\/+$/, "") || "/";
  const images = await isDir(`${folder}/images`) ? `${folder}/images` : folder;
  const splits = drawSplit(await scanImageFolder(images), opts);
  const file = opts.out ?? `${folder}/splits.json`;
  if (!opts.overwrite && await exists(file)) {
    throw new DataError(file, "exists already; pass overwrite to replace it");
  }
  const tmp = `${file}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(splits, null, 1) + "\n");
  await Deno.rename(tmp, file);
  return { file, splits };
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await Deno.stat(p)).isDirectory;
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

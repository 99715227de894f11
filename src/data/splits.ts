/** Seen/unseen split files (`splits.json`) and resolving them against an image folder. */
import {
  canonicalName,
  findClassNames,
  FIX_CLASS_NAMES,
  type MatchOptions,
} from "./class_names.ts";
import { DataError, listSome, type ProblemLog } from "./errors.ts";
import type { ImageFolder } from "./image_folder.ts";
import { loadZod } from "./npm.ts";
import { checkJson, readJsonFile } from "./read_text.ts";

async function schemas() {
  const z = await loadZod();
  const Split = z.object({
    seen: z.array(z.string()).min(1),
    unseen: z.array(z.string()),
    trainval: z.array(z.string()),
    test_seen: z.array(z.string()),
    test_unseen: z.array(z.string()),
  });
  const SplitsJson = z.object({
    classes: z.array(z.string()).optional(),
    seed: z.number().optional(),
    splits: z.record(z.string(), Split),
  });
  return { Split, SplitsJson };
}

/** One seen/unseen split as the file gives it: class names and image paths relative to the
 * image folder (`Class/file.jpg`). */
export interface SplitDef {
  /** Seen class names. */
  seen: string[];
  /** Unseen class names. */
  unseen: string[];
  /** Training images (seen classes). */
  trainval: string[];
  /** Test images of seen classes. */
  test_seen: string[];
  /** Test images of unseen classes. */
  test_unseen: string[];
}

/** A split file: `{classes?, seed?, splits: {name: SplitDef}}` (a bare SplitDef is read as one
 * split named "default"). */
export interface SplitFile {
  /** The split file. */
  readonly file: string;
  /** All class names, when the file lists them. */
  readonly classes?: readonly string[];
  /** The seed the splits were drawn with, when recorded. */
  readonly seed?: number;
  /** Splits by name (e.g. `25_5`). */
  readonly splits: Readonly<Record<string, SplitDef>>;
}

/** Reads and checks the shape of a split file. */
export async function readSplitFile(path: string): Promise<SplitFile> {
  const raw = await readJsonFile(path);
  const { Split, SplitsJson } = await schemas();
  const what = "a split file ({splits: {name: {seen, unseen, trainval, test_seen, test_unseen}}})";
  if (raw !== null && typeof raw === "object" && !("splits" in raw) && "seen" in raw) {
    return { file: path, splits: { default: checkJson(raw, Split, what, path) } };
  }
  const j = checkJson(raw, SplitsJson, what, path);
  return { file: path, classes: j.classes, seed: j.seed, splits: j.splits };
}

/** A split in terms of one image folder: class and sample indices. */
export interface ResolvedSplit {
  /** The split's name in the file. */
  readonly name: string;
  /** Class indices (into the folder's classes), in the split file's order. */
  readonly seen: readonly number[];
  /** Unseen class indices, in the split file's order. */
  readonly unseen: readonly number[];
  /** Sample indices (into the folder's samples). */
  readonly trainval: readonly number[];
  /** Test images of seen classes (sample indices). */
  readonly testSeen: readonly number[];
  /** Test images of unseen classes (sample indices). */
  readonly testUnseen: readonly number[];
  /** Images named by the split but absent from the folder (left out with `skipMissing`). */
  readonly missing: number;
}

/** Options for {@link resolveSplit}. */
export interface ResolveSplitOptions extends ProblemLog, Pick<MatchOptions, "aliases"> {
  /** Leave out images the split names but the folder lacks, warning once with a count. */
  skipMissing?: boolean;
}

/** Picks one split of a file, by name; with no name, the only one (or fails listing them). */
export function pickSplit(f: SplitFile, name?: string): [string, SplitDef] {
  const names = Object.keys(f.splits);
  if (name === undefined) {
    if (names.length === 1) return [names[0], f.splits[names[0]]];
    throw new DataError(
      f.file,
      `holds ${names.length} splits (${names.join(", ")}); say which one`,
    );
  }
  const s = f.splits[name];
  if (!s) throw new DataError(f.file, `has no split "${name}"; it has: ${names.join(", ")}`);
  return [name, s];
}

/**
 * Resolves split `name` of `file` against `folder`, collecting every problem instead of stopping
 * at the first: classes that do not match, images the folder lacks, images filed under the wrong
 * part (a trainval image of an unseen class, ...), overlaps. `problems` is empty when the split
 * is sound; missing images are reported there too unless `skipMissing` (then only counted).
 */
export function checkSplit(
  folder: ImageFolder,
  file: SplitFile,
  name?: string,
  opts: ResolveSplitOptions = {},
): { split: ResolvedSplit; problems: string[]; warnings: string[] } {
  const [splitName, def] = pickSplit(file, name);
  const problems: string[] = [], warnings: string[] = [];
  // Both parts' names are matched before anything is reported, so that a misspelt name is
  // offered only the class folders that neither part claims.
  const seenMatch = findClassNames(def.seen, folder.classes, opts);
  const unseenMatch = findClassNames(def.unseen, folder.classes, opts);
  const seen = seenMatch.indices.filter((c) => c >= 0);
  const unseen = unseenMatch.indices.filter((c) => c >= 0);
  const claimed = new Set([...seen, ...unseen]);
  const unclaimed = folder.classes.filter((_, c) => !claimed.has(c));
  const namesWrong = [seenMatch, unseenMatch].some((m) => m.missing.length || m.ambiguous.length);
  for (const [part, m] of [["seen", seenMatch], ["unseen", unseenMatch]] as const) {
    if (!m.missing.length && !m.ambiguous.length) continue;
    const parts = [];
    if (m.missing.length) {
      parts.push(
        `${m.missing.length} of the ${part} classes of split "${splitName}" have no match in ` +
          `the class folders: ${listSome(m.missing, 50)}`,
      );
    }
    if (m.ambiguous.length) parts.push(`ambiguous: ${listSome(m.ambiguous, 50)}`);
    if (unclaimed.length) {
      parts.push(`class folders in neither seen nor unseen: ${listSome(unclaimed, 50)}`);
    }
    parts.push(FIX_CLASS_NAMES);
    problems.push(parts.join("; "));
  }
  const both = seen.filter((c) => unseen.includes(c));
  if (both.length) {
    problems.push(
      `classes both seen and unseen in split "${splitName}": ${
        listSome(both.map((c) => folder.classes[c]))
      }`,
    );
  }
  const byPath = new Map<string, number>();
  const byLoose = new Map<string, number>();
  folder.files.forEach((f, i) => {
    byPath.set(f, i);
    byLoose.set(looseKey(f), i);
  });
  let missingTotal = 0;
  const resolve = (paths: readonly string[], part: string, allowed: Set<number>, kind: string) => {
    const out: number[] = [], missing: string[] = [], wrong: string[] = [], dup: string[] = [];
    const seenHere = new Set<number>();
    for (const p of paths) {
      const i = byPath.get(p) ?? byLoose.get(looseKey(p));
      if (i === undefined) {
        missing.push(p);
        continue;
      }
      if (seenHere.has(i)) dup.push(p);
      seenHere.add(i);
      const label = folder.samples[i].label;
      // With a class name unmatched, its images belong to no part: that is the name's problem,
      // already reported, not the image's.
      if (!allowed.has(label) && !(namesWrong && !claimed.has(label))) wrong.push(p);
      out.push(i);
    }
    if (missing.length) {
      missingTotal += missing.length;
      const msg =
        `split "${splitName}" ${part} names ${missing.length} image(s) not in ${folder.root}: ${
          listSome(missing, 5)
        }`;
      (opts.skipMissing ? warnings : problems).push(opts.skipMissing ? `${msg} (skipped)` : msg);
    }
    if (wrong.length) {
      problems.push(
        `split "${splitName}" ${part} holds ${wrong.length} image(s) of classes that are not ${kind}: ${
          listSome(wrong, 5)
        }`,
      );
    }
    if (dup.length) {
      problems.push(
        `split "${splitName}" ${part} lists ${dup.length} image(s) twice: ${listSome(dup, 5)}`,
      );
    }
    return out;
  };
  const seenSet = new Set(seen), unseenSet = new Set(unseen);
  const trainval = resolve(def.trainval, "trainval", seenSet, "seen");
  const testSeen = resolve(def.test_seen, "test_seen", seenSet, "seen");
  const testUnseen = resolve(def.test_unseen, "test_unseen", unseenSet, "unseen");
  const tv = new Set(trainval);
  const overlap = testSeen.filter((i) => tv.has(i));
  if (overlap.length) {
    problems.push(
      `split "${splitName}": ${overlap.length} image(s) are in both trainval and test_seen: ${
        listSome(overlap.map((i) => folder.files[i]), 5)
      }`,
    );
  }
  const inSplit = new Set([...seen, ...unseen]);
  const spare = folder.classes.filter((_, c) => !inSplit.has(c));
  if (spare.length && problems.length === 0) {
    warnings.push(
      `split "${splitName}" uses neither seen nor unseen for ${spare.length} class folder(s): ${
        listSome(spare)
      }`,
    );
  }
  return {
    split: { name: splitName, seen, unseen, trainval, testSeen, testUnseen, missing: missingTotal },
    problems,
    warnings,
  };
}

function looseKey(p: string): string {
  const parts = p.replace(/\\/g, "/").replace(/^\.\//, "").split("/");
  const fileName = parts.pop() ?? "";
  return [...parts.map(canonicalName), fileName.toLowerCase()].join("/");
}

/** {@link checkSplit}, failing with one {@link DataError} that names the split file and lists
 * every problem; warnings (skipped images, unused classes) go to `warn`. */
export function resolveSplit(
  folder: ImageFolder,
  file: SplitFile,
  name?: string,
  opts: ResolveSplitOptions = {},
): ResolvedSplit {
  const r = checkSplit(folder, file, name, opts);
  if (r.problems.length) {
    const hint = r.problems.some((p) => p.includes("not in "))
      ? " (pass --skip-missing, or skipMissing: true in the dataset's options, to leave missing " +
        "images out)"
      : "";
    throw new DataError(file.file, r.problems.join("; ") + hint);
  }
  for (const w of r.warnings) (opts.warn ?? console.warn)(`${file.file}: ${w}`);
  return r.split;
}

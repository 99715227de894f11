/** Checking a dataset's image folder, image files, attribute file, groups and split file against
 * each other, collecting every problem instead of stopping at the first. */
import { alignAttributes, type AttributeMatrix, readAttributes } from "./attributes.ts";
import type { MatchOptions } from "./class_names.ts";
import { DataError, listSome } from "./errors.ts";
import { groupProblems, readGroups } from "./groups.ts";
import { decodeImage } from "./image.ts";
import { type ImageFolder, scanImageFolder } from "./image_folder.ts";
import { mapOrdered } from "./ordered.ts";
import { checkSplit, readSplitFile, type SplitFile } from "./splits.ts";
import { type ImageProblem, validateImages } from "./validate.ts";

/** Options for {@link inspectDataset}. */
export interface InspectOptions extends Pick<MatchOptions, "aliases"> {
  /** The image folder. */
  images: string;
  /** The attribute matrix file. */
  attributes?: string;
  /** Row names for attribute files without them (`.npy`): a one-name-a-line file. */
  attributeClasses?: string;
  /** The split file. */
  splits?: string;
  /** The split whose counts are reported (default: the first in the file). */
  split?: string;
  /** The attribute-groups file. */
  groups?: string;
  /** Check every image file's header, end and size (default true; fast: no decoding): finds
   * empty, truncated and non-image files. */
  headers?: boolean;
  /** Also decode every image to find corrupted files the header check cannot see (slower). */
  decode?: boolean;
  /** Images decoded at once with `decode` (default 8). */
  concurrency?: number;
}

/** Per-split image counts. */
export interface SplitCounts {
  /** The split's name. */
  name: string;
  /** Seen classes. */
  seen: number;
  /** Unseen classes. */
  unseen: number;
  /** Training images. */
  trainval: number;
  /** Test images of seen classes. */
  testSeen: number;
  /** Test images of unseen classes. */
  testUnseen: number;
  /** Images the split names but the folder lacks. */
  missing: number;
}

/** What {@link inspectDataset} found. */
export interface InspectReport {
  /** Class folder names. */
  classes: string[];
  /** Images in each class folder. */
  imagesPerClass: number[];
  /** Attribute names (`a0`, ... when the file has none). */
  attributes: string[];
  /** Smallest and largest attribute value. */
  attributeRange: [number, number] | null;
  /** Attributes per group, when a groups file was given. */
  groups: Record<string, number> | null;
  /** Counts for every split of the file. */
  splits: SplitCounts[];
  /** The split the summary counts are for. */
  split: string | null;
  /** Things that make the dataset unusable as it is. */
  problems: string[];
  /** Things worth knowing that do not stop training. */
  warnings: string[];
  /** The image files that failed the header check or decoding, each with its problem. */
  badImages: ImageProblem[];
  /** Summary counts for the chosen split (the JSON line of `deno task data inspect`). */
  counts: {
    classes: number;
    attributes: number;
    trainval: number;
    testSeen: number;
    testUnseen: number;
  };
}

const msg = (
  e: unknown,
) => (e instanceof DataError ? e.message : e instanceof Error ? e.message : String(e));

/** Inspects a dataset. Never throws for bad data: everything wrong is in `problems`. */
export async function inspectDataset(opts: InspectOptions): Promise<InspectReport> {
  const problems: string[] = [], warnings: string[] = [];
  const report: InspectReport = {
    classes: [],
    imagesPerClass: [],
    attributes: [],
    attributeRange: null,
    groups: null,
    splits: [],
    split: null,
    problems,
    warnings,
    badImages: [],
    counts: { classes: 0, attributes: 0, trainval: 0, testSeen: 0, testUnseen: 0 },
  };
  let folder: ImageFolder | null = null;
  try {
    folder = await scanImageFolder(opts.images, { skipEmpty: true, warn: () => {} });
    if (folder.emptyClasses.length) {
      problems.push(
        `${folder.root}: ${folder.emptyClasses.length} class folder(s) have no images: ${
          listSome(folder.emptyClasses)
        }`,
      );
    }
    report.classes = [...folder.classes];
    report.imagesPerClass = folder.classes.map(() => 0);
    for (const s of folder.samples) report.imagesPerClass[s.label]++;
  } catch (e) {
    problems.push(msg(e));
  }
  if (folder && opts.headers !== false) {
    const bad = await validateImages(folder.samples.map((s) => s.path));
    report.badImages.push(...bad);
    if (bad.length) problems.push(badImagesProblem(bad, "are damaged or not images"));
  }
  if (folder && opts.decode) {
    const known = new Set(report.badImages.map((b) => b.path));
    const samples = folder.samples.filter((s) => !known.has(s.path));
    const bad = await checkDecoding(samples, opts.concurrency ?? 8);
    report.badImages.push(...bad);
    if (bad.length) problems.push(badImagesProblem(bad, "cannot be decoded"));
  }

  let attrs: AttributeMatrix | null = null;
  if (opts.attributes) {
    try {
      attrs = await readAttributes(opts.attributes, { classes: opts.attributeClasses });
      report.attributes = attrs.attributes
        ? [...attrs.attributes]
        : Array.from({ length: attrs.cols }, (_, i) => `a${i}`);
      let lo = Infinity, hi = -Infinity;
      for (const v of attrs.values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      report.attributeRange = [lo, hi];
      if (hi > 1.5) warnings.push(`${opts.attributes}: ${scalingAdvice(hi)}`);
      if (folder) {
        const a = alignAttributes(attrs, folder.classes, {
          aliases: opts.aliases,
          classesLabel: "class folders",
        });
        attributeWarnings(a, warnings);
      }
    } catch (e) {
      problems.push(msg(e));
    }
  } else warnings.push("no attribute file given");

  if (opts.groups) {
    try {
      const cols = attrs?.cols ?? Infinity;
      const g = await readGroups(opts.groups, cols, attrs?.attributes ?? null);
      report.groups = Object.fromEntries(Object.entries(g).map(([k, v]) => [k, v.length]));
      if (attrs) {
        for (const p of groupProblems(g, attrs.cols, attrs.attributes)) {
          warnings.push(`${opts.groups}: ${p}`);
        }
      }
    } catch (e) {
      problems.push(msg(e));
    }
  }

  if (opts.splits) {
    let sf: SplitFile | null = null;
    try {
      sf = await readSplitFile(opts.splits);
    } catch (e) {
      problems.push(msg(e));
    }
    if (sf && folder) {
      const names = Object.keys(sf.splits);
      if (opts.split !== undefined && !names.includes(opts.split)) {
        problems.push(`${sf.file}: has no split "${opts.split}"; it has: ${names.join(", ")}`);
      }
      for (const n of names) {
        const r = checkSplit(folder, sf, n, { aliases: opts.aliases });
        for (const p of r.problems) problems.push(`${sf.file}: ${p}`);
        for (const w of r.warnings) warnings.push(`${sf.file}: ${w}`);
        const s = r.split;
        report.splits.push({
          name: n,
          seen: s.seen.length,
          unseen: s.unseen.length,
          trainval: s.trainval.length,
          testSeen: s.testSeen.length,
          testUnseen: s.testUnseen.length,
          missing: s.missing,
        });
      }
      const chosen = report.splits.find((s) => s.name === (opts.split ?? names[0]));
      if (chosen) {
        report.split = chosen.name;
        Object.assign(report.counts, {
          trainval: chosen.trainval,
          testSeen: chosen.testSeen,
          testUnseen: chosen.testUnseen,
        });
      }
    }
  } else warnings.push("no split file given");
  report.counts.classes = report.classes.length;
  report.counts.attributes = report.attributes.length;
  return report;
}

function attributeWarnings(a: AttributeMatrix, warnings: string[]) {
  const rowKey = (r: number) =>
    Array.from(a.values.subarray(r * a.cols, (r + 1) * a.cols)).join(",");
  const byKey = new Map<string, string[]>();
  for (let r = 0; r < a.rows; r++) {
    byKey.set(rowKey(r), [...(byKey.get(rowKey(r)) ?? []), a.classes![r]]);
  }
  for (const names of byKey.values()) {
    if (names.length > 1) {
      warnings.push(`${a.file}: classes ${names.join(", ")} have identical attribute vectors`);
    }
  }
  const constant: string[] = [];
  for (let c = 0; c < a.cols; c++) {
    let same = true;
    for (let r = 1; r < a.rows && same; r++) same = a.values[r * a.cols + c] === a.values[c];
    if (same && a.rows > 1) constant.push(a.attributes?.[c] ?? `${c}`);
  }
  if (constant.length) {
    warnings.push(
      `${a.file}: ${constant.length} attribute(s) are the same for every class: ${
        listSome(constant)
      }`,
    );
  }
}

/** What training does with attribute values above 1 (its default `attributeScale: "max"`), and
 * how to choose otherwise. */
export function scalingAdvice(max: number): string {
  return `values reach ${max}; training divides them by their maximum (attributeScale: "max", ` +
    `the default) so that they lie within 0–1; set dataset.attributeScale to "l2" ` +
    `(L2-normalised rows) or "none" (as they are) to change that`;
}

function badImagesProblem(bad: readonly ImageProblem[], what: string): string {
  return `${bad.length} image(s) ${what}: ${
    listSome(bad.map((b) => `${b.path}: ${b.problem}`), 10)
  }`;
}

async function checkDecoding(
  samples: readonly { path: string }[],
  concurrency: number,
): Promise<ImageProblem[]> {
  const bad: ImageProblem[] = [];
  const results = mapOrdered(
    samples,
    (s) =>
      decodeImage(s.path).then(
        () => null,
        (e) => ({ path: s.path, problem: e instanceof DataError ? e.problem : msg(e) }),
      ),
    { concurrency, window: concurrency * 2 },
  );
  for await (const r of results) if (r) bad.push(r);
  return bad;
}

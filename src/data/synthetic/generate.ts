/** The built-in synthetic dataset: generated on first use into a cache folder, then reused. */
import { cacheRoot } from "../../../ffi/cache_root.ts";
import { exists } from "../../../ffi/fs.ts";
import { openDatasetFolder, type ZslDataset } from "../dataset.ts";
import { encodePng } from "../image.ts";
import { mapOrdered } from "../ordered.ts";
import { Rng } from "../rng.ts";
import { sceneCaptions } from "./captions.ts";
import { SYNTHETIC_DEFAULTS } from "./defaults.ts";
import { renderScene } from "./scene.ts";
import {
  SCENE_ATTRIBUTES,
  SCENE_CLASSES,
  sceneAttributeMatrix,
  sceneGroups,
} from "./vocabulary.ts";

/** Bumped whenever the pixels or files change, so old caches are not reused. */
export const SYNTHETIC_VERSION = 1;

/** Options for the synthetic dataset; seed, size and split fields left out take `SYNTHETIC_DEFAULTS`. */
export interface SyntheticOptions {
  /** Seed of every image, split and caption. */
  seed?: number;
  /** Images per class. */
  imagesPerClass?: number;
  /** Image side in pixels. */
  size?: number;
  /** Fraction of each seen class used for training; the rest is test_seen. */
  trainFraction?: number;
  /** The cache root (default `$DSVA_TORCH_CACHE`, `$XDG_CACHE_HOME/dsva-torch` or
   * `~/.cache/dsva-torch`). */
  cacheRoot?: string;
  /** Regenerate even when the folder exists. */
  force?: boolean;
  /** PNG encodes running at once (default 4). */
  concurrency?: number;
}

function resolved(o: SyntheticOptions) {
  return {
    seed: o.seed ?? SYNTHETIC_DEFAULTS.seed,
    imagesPerClass: o.imagesPerClass ?? SYNTHETIC_DEFAULTS.imagesPerClass,
    size: o.size ?? SYNTHETIC_DEFAULTS.size,
    trainFraction: o.trainFraction ?? SYNTHETIC_DEFAULTS.trainFraction,
  };
}

/** Where the dataset for these options lives (or will). */
export function syntheticDir(opts: SyntheticOptions = {}): string {
  const r = resolved(opts);
  const frac = r.trainFraction === SYNTHETIC_DEFAULTS.trainFraction ? "" : `-t${r.trainFraction}`;
  return `${
    opts.cacheRoot ?? cacheRoot()
  }/synthetic-v${SYNTHETIC_VERSION}-s${r.seed}-${r.imagesPerClass}x${r.size}${frac}`;
}

/** The name of the default split: `<seen>_<unseen>`. */
export const SYNTHETIC_SPLIT = `${SCENE_CLASSES.filter((c) => !c.unseen).length}_${
  SCENE_CLASSES.filter((c) => c.unseen).length
}`;

/**
 * Makes sure the synthetic dataset exists and returns its folder, generating it (atomically:
 * into a temporary folder, then renamed) when missing. The folder has the layout of
 * `shared/data/aid`: `images/<class>/<class>_<n>.png`, `attributes.csv`, `groups.json`,
 * `splits.json`, plus `captions.json` and `manifest.json`. Same options, same bytes.
 */
export async function ensureSyntheticDataset(
  opts: SyntheticOptions = {},
): Promise<{ dir: string; generated: boolean; seconds: number }> {
  const dir = syntheticDir(opts);
  if (!opts.force && exists(`${dir}/manifest.json`)) return { dir, generated: false, seconds: 0 };
  const t0 = performance.now();
  const tmp = `${dir}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await writeDataset(tmp, opts);
    if (opts.force && exists(dir)) await Deno.remove(dir, { recursive: true });
    try {
      await Deno.rename(tmp, dir);
    } catch (e) {
      if (!exists(`${dir}/manifest.json`)) throw e;
      await Deno.remove(tmp, { recursive: true }); // another process finished first
    }
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  return { dir, generated: true, seconds: (performance.now() - t0) / 1000 };
}

async function writeDataset(out: string, opts: SyntheticOptions) {
  const { seed, imagesPerClass: n, size, trainFraction } = resolved(opts);
  const enc = new TextEncoder();
  const jobs: { c: number; i: number; file: string }[] = [];
  for (const [c, cls] of SCENE_CLASSES.entries()) {
    await Deno.mkdir(`${out}/images/${cls.name}`, { recursive: true });
    for (let i = 0; i < n; i++) {
      jobs.push({ c, i, file: `${cls.name}/${cls.name}_${String(i).padStart(4, "0")}.png` });
    }
  }
  const captions: Record<string, string[]> = {};
  const work = mapOrdered(jobs, async ({ c, i, file }) => {
    const cls = SCENE_CLASSES[c];
    const rng = new Rng(seed, c, i);
    const { image, notes } = renderScene(new Set(cls.attributes), rng, size);
    captions[file] = sceneCaptions(cls, notes, new Rng(seed, c, i, 1));
    await Deno.writeFile(`${out}/images/${file}`, await encodePng(image));
  }, { concurrency: opts.concurrency ?? 4, window: 2 * (opts.concurrency ?? 4) });
  for await (const _ of work) { /* drain */ }

  const names = SCENE_ATTRIBUTES.map((a) => a.name);
  const m = sceneAttributeMatrix();
  const csv =
    [`,${names.join(",")}`, ...SCENE_CLASSES.map((c, i) => `${c.name},${m[i].join(",")}`)].join(
      "\n",
    ) + "\n";
  await Deno.writeFile(`${out}/attributes.csv`, enc.encode(csv));
  await Deno.writeFile(
    `${out}/groups.json`,
    enc.encode(JSON.stringify(sceneGroups(), null, 1) + "\n"),
  );

  const seen = SCENE_CLASSES.filter((c) => !c.unseen).map((c) => c.name);
  const unseen = SCENE_CLASSES.filter((c) => c.unseen).map((c) => c.name);
  const trainval: string[] = [], testSeen: string[] = [], testUnseen: string[] = [];
  for (const [c, cls] of SCENE_CLASSES.entries()) {
    const files = jobs.filter((j) => j.c === c).map((j) => j.file);
    if (cls.unseen) {
      testUnseen.push(...files);
      continue;
    }
    const order = new Rng(seed, c, 0x5917).permutation(files.length);
    const k = Math.round(files.length * trainFraction);
    order.forEach((o, r) => (r < k ? trainval : testSeen).push(files[o]));
  }
  trainval.sort();
  testSeen.sort();
  const splits = {
    classes: SCENE_CLASSES.map((c) => c.name),
    seed,
    splits: {
      [SYNTHETIC_SPLIT]: { seen, unseen, trainval, test_seen: testSeen, test_unseen: testUnseen },
    },
  };
  await Deno.writeFile(`${out}/splits.json`, enc.encode(JSON.stringify(splits, null, 1) + "\n"));
  const ordered = Object.fromEntries(Object.keys(captions).sort().map((k) => [k, captions[k]]));
  await Deno.writeFile(`${out}/captions.json`, enc.encode(JSON.stringify(ordered, null, 1) + "\n"));
  const manifest = {
    name: "dsva-torch synthetic aerial scenes",
    version: SYNTHETIC_VERSION,
    seed,
    imagesPerClass: n,
    size,
    trainFraction,
    classes: SCENE_CLASSES.map((c) => ({
      name: c.name,
      attributes: c.attributes,
      unseen: !!c.unseen,
    })),
    attributes: SCENE_ATTRIBUTES.map((a) => ({ name: a.name, group: a.group })),
  };
  await Deno.writeFile(
    `${out}/manifest.json`,
    enc.encode(JSON.stringify(manifest, null, 1) + "\n"),
  );
}

/** The synthetic dataset with its captions (`captions[file]`, files relative to `root`). */
export interface SyntheticDataset extends ZslDataset {
  /** Captions per image file (relative to `root`). */
  readonly captions: Readonly<Record<string, readonly string[]>>;
  /** The dataset folder. */
  readonly dir: string;
}

/** Generates (first time) and opens the synthetic dataset with its default split. */
export async function openSyntheticDataset(opts: SyntheticOptions = {}): Promise<SyntheticDataset> {
  const { dir } = await ensureSyntheticDataset(opts);
  const ds = await openDatasetFolder(dir, { split: SYNTHETIC_SPLIT });
  const captions = JSON.parse(await Deno.readTextFile(`${dir}/captions.json`));
  return { ...ds, captions, dir };
}

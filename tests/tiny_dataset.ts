/** A tiny real dataset folder for the command-line tests: 5 classes × 6 JPEGs of 40×40 (a
 * colour and a stripe period per class) and `attributes.csv` with 4 attributes named in two
 * prefix groups (`color_*`, `shape_*`); no split file and no groups file (the tests write them). */
import { loadSharp } from "../src/data/npm.ts";

/** The class folders' names. */
export const TINY_CLASSES = ["c0", "c1", "c2", "c3", "c4"];

/** Writes the dataset into `dir`. */
export async function tinyJpegDataset(dir: string): Promise<void> {
  const sharp = await loadSharp();
  for (const [c, name] of TINY_CLASSES.entries()) {
    await Deno.mkdir(`${dir}/images/${name}`, { recursive: true });
    for (let i = 0; i < 6; i++) {
      const px = new Uint8Array(40 * 40 * 3);
      for (let p = 0; p < 40 * 40; p++) {
        const stripe = Math.floor((p % 40) / (2 + c)) % 2;
        px[p * 3] = (c * 50 + stripe * 80 + i * 7) % 256;
        px[p * 3 + 1] = (200 - c * 30 + ((p * 13 + i) % 17)) % 256;
        px[p * 3 + 2] = stripe ? 220 : 30 + c * 20;
      }
      const jpg = await sharp(px, { raw: { width: 40, height: 40, channels: 3 } })
        .jpeg({ quality: 90 }).toBuffer();
      await Deno.writeFile(`${dir}/images/${name}/${i}.jpg`, jpg);
    }
  }
  const rows = TINY_CLASSES.map((n, c) =>
    `${n},${[c % 2, (c >> 1) % 2, c / 4, 1 - c / 4].join(",")}`
  );
  await Deno.writeTextFile(
    `${dir}/attributes.csv`,
    `,color_red,color_green,shape_round,shape_square\n${rows.join("\n")}\n`,
  );
}

/** A JPEG cut short inside its data with its end marker kept: the header check passes it (as a
 * check before training would), decoding fails. */
export function cutShort(jpg: Uint8Array): Uint8Array {
  const keep = Math.floor(jpg.length * 0.6);
  const out = new Uint8Array(keep + 2);
  out.set(jpg.subarray(0, keep));
  out.set([0xff, 0xd9], keep);
  return out;
}

/** Training flags for a 1-layer ViT on 32 px crops: one epoch of two batches on one thread. */
export const TINY_TRAIN = [
  ...["--set", "backbone.hiddenSize=32", "--set", "backbone.numLayers=1"],
  ...["--set", "backbone.numHeads=2", "--set", "backbone.intermediateSize=64"],
  ...["--image-size", "32", "--ways", "2", "--shots", "2", "--threads", "1"],
  ...["--test-batch-size", "200", "--epochs", "1", "--batches", "2", "--pictures", "0"],
];

/** All files under `dir` (relative paths, sorted) with their bytes, `skip`ped folders aside. */
export async function snapshot(
  dir: string,
  skip: readonly string[] = [],
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (skip.includes(p)) continue;
      if (e.isDirectory) await walk(p);
      else out.set(p, await Deno.readFile(`${dir}/${p}`));
    }
  };
  await walk("");
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The fast image-file check, `data inspect`'s image and split problems, seeded split files and
 * starting groups files: real files written here (JPEG and PNG from sharp, then damaged). */
import assert from "node:assert/strict";
import { readAttributes } from "../src/data/attributes.ts";
import { openDatasetFolder } from "../src/data/dataset.ts";
import { DataError } from "../src/data/errors.ts";
import { missingGroupsWarning, readGroups, startingGroups } from "../src/data/groups.ts";
import { decodeImage } from "../src/data/image.ts";
import { scanImageFolder } from "../src/data/image_folder.ts";
import { inspectDataset } from "../src/data/inspect.ts";
import { loadSharp } from "../src/data/npm.ts";
import { drawSplit, writeSplits } from "../src/data/split_writer.ts";
import { readSplitFile, resolveSplit } from "../src/data/splits.ts";
import { checkImageFile, validateImages } from "../src/data/validate.ts";

const sharp = await loadSharp();

/** A 32×32 test picture (a different one per `seed`), encoded. */
async function picture(format: "jpeg" | "png", seed = 0): Promise<Uint8Array> {
  const px = new Uint8Array(32 * 32 * 3).map((_, i) => (i * 37 + seed * 11) % 251);
  const img = sharp(px, { raw: { width: 32, height: 32, channels: 3 } });
  const buf = await (format === "jpeg" ? img.jpeg({ quality: 90 }) : img.png()).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** `jpg` with APP15 segments of `n` × 60,000 bytes after SOI: its frame header lies past the
 * bytes the check reads at first. */
function withBigHeader(jpg: Uint8Array, n: number): Uint8Array {
  const seg = new Uint8Array(60_002);
  seg.set([0xff, 0xef, 60_000 >> 8, 60_000 & 0xff]);
  const out = new Uint8Array(jpg.length + n * seg.length);
  out.set(jpg.subarray(0, 2));
  for (let i = 0; i < n; i++) out.set(seg, 2 + i * seg.length);
  out.set(jpg.subarray(2), 2 + n * seg.length);
  return out;
}

async function tree(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dsva-validate-" });
  for (const [p, content] of Object.entries(files)) {
    const full = `${dir}/${p}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(
      full,
      typeof content === "string" ? new TextEncoder().encode(content) : content,
    );
  }
  return dir;
}

Deno.test("checkImageFile: whole JPEG/PNG pass; empty, text, truncated and headless files are named", async () => {
  const jpg = await picture("jpeg"), png = await picture("png");
  const dir = await tree({
    "ok.jpg": jpg,
    "ok.png": png,
    "big_header.jpg": withBigHeader(jpg, 2),
    "png_named.jpg": png,
    "empty.jpg": new Uint8Array(),
    "text.jpg": "hello, this is not an image\n",
    "truncated.jpg": jpg.subarray(0, Math.floor(jpg.length * 0.6)),
    "head_only.jpg": jpg.subarray(0, 20),
    "truncated.png": png.subarray(0, png.length - 20),
    "no_ihdr.png": png.subarray(0, 8),
  });
  const problem = (f: string) => checkImageFile(`${dir}/${f}`);
  // Files that pass decode (the check is not stricter than the decoder on these).
  for (const f of ["ok.jpg", "ok.png", "big_header.jpg", "png_named.jpg"]) {
    assert.equal(await problem(f), null, f);
    await decodeImage(`${dir}/${f}`);
  }
  assert.equal(await problem("empty.jpg"), "empty file (0 bytes)");
  assert.match((await problem("text.jpg"))!, /not an image .* starts with text "hello, this is n/);
  assert.match((await problem("truncated.jpg"))!, /truncated JPEG: no end-of-image marker/);
  assert.match((await problem("head_only.jpg"))!, /no frame header \(SOF\)/);
  assert.match((await problem("truncated.png"))!, /truncated PNG: no IEND/);
  assert.match((await problem("no_ihdr.png"))!, /no IHDR/);
  assert.equal(await problem("missing.jpg"), "no such file");
  // Every file the check names is one the decoder refuses too.
  for (const f of ["empty.jpg", "text.jpg", "truncated.jpg", "head_only.jpg", "truncated.png"]) {
    await assert.rejects(decodeImage(`${dir}/${f}`), DataError, f);
  }
  // validateImages: in input order, only the bad ones.
  const paths = ["ok.jpg", "empty.jpg", "ok.png", "truncated.jpg"].map((f) => `${dir}/${f}`);
  assert.deepEqual((await validateImages(paths, { concurrency: 2 })).map((p) => p.path), [
    paths[1],
    paths[3],
  ]);
  await Deno.remove(dir, { recursive: true });
});

const SPLITS = {
  splits: {
    "2_1": {
      seen: ["cat", "dog"],
      unseen: ["fox"],
      trainval: ["cat/1.jpg", "dog/1.jpg"],
      test_seen: ["cat/2.jpg", "dog/2.jpg"],
      test_unseen: ["fox/1.jpg", "fox/2.jpg"],
    },
  },
};

async function dataset(
  images: Record<string, Uint8Array | string>,
  splits: unknown = SPLITS,
  csv = ",a,b\ncat,1,0\ndog,0,1\nfox,1,1\n",
): Promise<string> {
  const files: Record<string, Uint8Array | string> = {
    "attributes.csv": csv,
    "splits.json": JSON.stringify(splits),
  };
  for (const [p, b] of Object.entries(images)) files[`images/${p}`] = b;
  return await tree(files);
}

async function goodImages(): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  let seed = 0;
  for (const c of ["cat", "dog", "fox"]) {
    for (const i of [1, 2]) out[`${c}/${i}.jpg`] = await picture("jpeg", seed++);
  }
  return out;
}

Deno.test("inspect without decode: truncated and zero-byte JPEGs are problems, listed by file", async () => {
  const images = await goodImages();
  const clean = await dataset(images);
  const r0 = await inspectDataset({
    images: `${clean}/images`,
    attributes: `${clean}/attributes.csv`,
    splits: `${clean}/splits.json`,
  });
  assert.deepEqual(r0.problems, []);
  assert.deepEqual(r0.badImages, []);

  const jpg = images["fox/1.jpg"];
  const bad = await dataset({
    ...images,
    "fox/1.jpg": jpg.subarray(0, Math.floor(jpg.length / 2)),
    "cat/2.jpg": new Uint8Array(),
  });
  const r = await inspectDataset({
    images: `${bad}/images`,
    attributes: `${bad}/attributes.csv`,
    splits: `${bad}/splits.json`,
  });
  assert.equal(r.problems.length, 1, r.problems.join("\n"));
  assert.match(r.problems[0], /^2 image\(s\) are damaged or not images: .*cat\/2\.jpg: empty file/);
  assert.match(r.problems[0], /fox\/1\.jpg: truncated JPEG/);
  assert.deepEqual(r.badImages.map((b) => b.path), [
    `${bad}/images/cat/2.jpg`,
    `${bad}/images/fox/1.jpg`,
  ]);
  // headers: false is the old scan-only inspection.
  const quick = await inspectDataset({ images: `${bad}/images`, headers: false });
  assert.deepEqual(quick.problems, []);
  // decode adds what the header check cannot see, without naming a file twice.
  const cut = new Uint8Array(Math.floor(jpg.length * 0.6) + 2);
  cut.set(jpg.subarray(0, cut.length - 2));
  cut.set([0xff, 0xd9], cut.length - 2); // scan data cut short, end marker kept
  await Deno.writeFile(`${bad}/images/dog/1.jpg`, cut);
  const full = await inspectDataset({ images: `${bad}/images`, decode: true });
  assert.deepEqual(full.badImages.map((b) => b.path.slice(bad.length)), [
    "/images/cat/2.jpg",
    "/images/fox/1.jpg",
    "/images/dog/1.jpg",
  ]);
  assert.match(full.problems[1], /^1 image\(s\) cannot be decoded: .*dog\/1\.jpg: corrupted/);
  for (const d of [clean, bad]) await Deno.remove(d, { recursive: true });
});

Deno.test("split check: one misspelt class name is the only problem named", async () => {
  const images = await goodImages();
  const split = structuredClone(SPLITS);
  split.splits["2_1"].seen = ["cat", "dgo"];
  const seenTypo = await dataset(images, split);
  const r = await inspectDataset({
    images: `${seenTypo}/images`,
    attributes: `${seenTypo}/attributes.csv`,
    splits: `${seenTypo}/splits.json`,
  });
  assert.equal(r.problems.length, 1, r.problems.join("\n"));
  assert.match(
    r.problems[0],
    /1 of the seen classes of split "2_1" have no match in the class folders: dgo; class folders in neither seen nor unseen: dog; fix the names/,
  );
  const unseenSplit = structuredClone(SPLITS);
  unseenSplit.splits["2_1"].unseen = ["fxo"];
  const unseenTypo = await dataset(images, unseenSplit);
  const folder = await scanImageFolder(`${unseenTypo}/images`);
  const sf = await readSplitFile(`${unseenTypo}/splits.json`);
  assert.throws(() => resolveSplit(folder, sf), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.match(
      e.problem,
      /unseen classes .* no match .*: fxo; class folders in neither .*: fox;/,
    );
    assert.doesNotMatch(e.problem, /not unseen|cat|dog/);
    return true;
  });
  // A real wrong-part image (a seen class's, in test_unseen) is still named next to the
  // misspelling; the misspelt class's own images are not.
  unseenSplit.splits["2_1"].test_unseen = ["fox/1.jpg", "dog/2.jpg"];
  const both = await dataset(images, unseenSplit);
  const r2 = await inspectDataset({ images: `${both}/images`, splits: `${both}/splits.json` });
  assert.equal(r2.problems.length, 2, r2.problems.join("\n"));
  assert.match(r2.problems[0], /unseen classes .* no match .*: fxo/);
  assert.match(r2.problems[1], /test_unseen holds 1 image\(s\) .* not unseen: dog\/2\.jpg$/);
  for (const d of [seenTypo, unseenTypo, both]) await Deno.remove(d, { recursive: true });
});

Deno.test("inspect's scaling advice says what training does by default", async () => {
  const dir = await dataset(await goodImages(), SPLITS, ",a,b\ncat,100,0\ndog,0,50\nfox,25,75\n");
  const r = await inspectDataset({
    images: `${dir}/images`,
    attributes: `${dir}/attributes.csv`,
    splits: `${dir}/splits.json`,
  });
  const w = r.warnings.find((x) => x.includes("values reach"));
  assert.match(
    w!,
    /values reach 100; training divides them by their maximum \(attributeScale: "max", the default\)/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("drawSplit / writeSplits: seeded, in the splits.json format, resolvable, never replacing a file", async () => {
  const files: Record<string, Uint8Array> = {};
  const png = await picture("png");
  for (let c = 0; c < 6; c++) for (let i = 0; i < 10; i++) files[`images/c${c}/${i}.png`] = png;
  files["attributes.csv"] = new TextEncoder().encode(
    ",a,b\n" + Array.from({ length: 6 }, (_, c) => `c${c},${c},${6 - c}`).join("\n") + "\n",
  );
  const dir = await tree(files);
  const folder = await scanImageFolder(`${dir}/images`);
  const a = drawSplit(folder, { seen: 4, seed: 3 });
  assert.deepEqual(a, drawSplit(folder, { seen: 4, seed: 3 }));
  const seeds = [0, 1, 2, 3, 4, 5].map((seed) =>
    drawSplit(folder, { seen: 4, seed }).splits["4_2"].unseen.join()
  );
  assert.ok(new Set(seeds).size > 1, "different seeds draw different unseen classes");
  const s = a.splits["4_2"];
  assert.equal(s.seen.length, 4);
  assert.equal(s.unseen.length, 2);
  assert.equal(s.trainval.length, 32);
  assert.equal(s.test_seen.length, 8);
  assert.equal(s.test_unseen.length, 20);
  assert.deepEqual([...s.seen, ...s.unseen].sort(), folder.classes);

  const { file } = await writeSplits(dir, { seen: 4, seed: 3 });
  assert.equal(file, `${dir}/splits.json`);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), a);
  const ds = await openDatasetFolder(dir, { warn: () => {} });
  assert.equal(ds.split.name, "4_2");
  assert.equal(ds.split.testUnseen.length, 20);
  const before = await Deno.readFile(file);
  await assert.rejects(writeSplits(dir, { seen: 2, seed: 0 }), /splits\.json: exists already/);
  assert.deepEqual(await Deno.readFile(file), before);
  await writeSplits(dir, { seen: 2, seed: 0, overwrite: true });
  assert.ok((await readSplitFile(file)).splits["2_4"]);
  assert.throws(
    () => drawSplit(folder, { seen: 6, seed: 0 }),
    /seen must be an integer from 1 to 5/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("startingGroups: by name prefix, else one group; the file reads back; the warning says what AC does", async () => {
  const byPrefix = startingGroups(["color:red", "color:green", "shape:round", "shape:square"]);
  assert.deepEqual(byPrefix.groups, {
    color: ["color:red", "color:green"],
    shape: ["shape:round", "shape:square"],
  });
  assert.match(byPrefix.rule, /prefix before ":"/);
  // AID's names share `_` but no grouping prefix: one group, as training would use.
  const names = ["circular_shape", "rectangular_shape", "water", "trees", "buildings"];
  const one = startingGroups(names);
  assert.deepEqual(one.groups, { all: names });
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/groups.json`, byPrefix.text);
  await Deno.writeTextFile(
    `${dir}/a.csv`,
    ",color:red,color:green,shape:round,shape:square\nx,1,0,1,0\n",
  );
  const attrs = await readAttributes(`${dir}/a.csv`);
  assert.deepEqual(await readGroups(`${dir}/groups.json`, 4, attrs.attributes), {
    color: [0, 1],
    shape: [2, 3],
  });
  const w = missingGroupsWarning("/data/mine", 26);
  assert.match(w, /^\/data\/mine: no attribute-groups file .* 26 attributes form one group/);
  assert.match(w, /Attention Concentration/);
  assert.match(w, /Write \/data\/mine\/groups\.json/);
  await Deno.remove(dir, { recursive: true });
});

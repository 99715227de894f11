/** Datasets, splits, attribute files and class-name matching; AID from shared/data when there. */
import assert from "node:assert/strict";
import { alignAttributes, readAttributes } from "../src/data/attributes.ts";
import { canonicalName, matchClassNames } from "../src/data/class_names.ts";
import { openDataset, openDatasetFolder, splitSamples } from "../src/data/dataset.ts";
import { DataError } from "../src/data/errors.ts";
import { groupProblems, readGroups } from "../src/data/groups.ts";
import { scanImageFolder } from "../src/data/image_folder.ts";
import { inspectDataset } from "../src/data/inspect.ts";
import { readNpy } from "../src/data/npy.ts";
import { readSplitFile, resolveSplit } from "../src/data/splits.ts";
import { ROOT, runPython } from "./helpers.ts";
import { isDir } from "../ffi/fs.ts";

const AID = `${ROOT}/../shared/data/aid`;
const haveAid = isDir(`${AID}/images`);
const CI = Deno.env.get("CI") === "true";

Deno.test({
  name: "AID: 30 classes, 44 CSV attributes, groups and split 25_5 (6,704 / 1,676 / 1,620)",
  ignore: !haveAid && !CI,
  async fn() {
    assert.ok(haveAid, `CI=true but the AID data is missing at ${AID}`);
    const warnings: string[] = [];
    const ds = await openDatasetFolder(AID, { split: "25_5", warn: (m) => warnings.push(m) });
    assert.equal(ds.classes.length, 30);
    assert.equal(ds.attributes.cols, 44);
    assert.equal(ds.attributes.rows, 30);
    assert.equal(ds.attributeNames[0], "circular_shape");
    assert.equal(ds.samples.length, 10000);
    assert.equal(ds.split.trainval.length, 6704);
    assert.equal(ds.split.testSeen.length, 1676);
    assert.equal(ds.split.testUnseen.length, 1620);
    assert.equal(ds.split.seen.length, 25);
    assert.equal(ds.split.unseen.length, 5);
    assert.deepEqual(Object.keys(ds.groups!), ["functions", "materials", "surface_properties"]);
    assert.deepEqual(warnings, []);
    // Misspelt CSV rows landed on the right folders: compare with the CSV by hand.
    const csv = (await Deno.readTextFile(`${AID}/attributes/AID_Dataset.csv`)).trim().split("\n");
    for (
      const [csvName, folder] of [["farmland", "Farmland"], [
        "denser_residential",
        "DenseResidential",
      ], [
        "storgetanks",
        "StorageTanks",
      ]]
    ) {
      const row = csv.find((l) => l.startsWith(`${csvName},`))!.split(",").slice(1).map(Number);
      const c = ds.classes.indexOf(folder);
      assert.deepEqual(
        Array.from(ds.attributes.values.subarray(c * 44, (c + 1) * 44)),
        row,
        folder,
      );
    }
    const tv = splitSamples(ds, "trainval");
    const seen = new Set(ds.split.seen);
    assert.ok(tv.every((s) => seen.has(s.label)));
    assert.ok(tv[0].path.startsWith(`${AID}/images/`));
    // AID_classes.txt spells FormLand: rows of the .csv matched through a names file too.
    const named = await readAttributes(`${AID}/attributes/AID_Dataset.csv`, {
      classes: `${AID}/attributes/AID_classes.txt`,
    });
    assert.equal(alignAttributes(named, ds.classes).rows, 30);
  },
});

Deno.test({
  name: "AID: inspect reports counts and no problems",
  ignore: !haveAid && !CI,
  async fn() {
    const r = await inspectDataset({
      images: `${AID}/images`,
      attributes: `${AID}/attributes/AID_Dataset.csv`,
      splits: `${AID}/splits.json`,
      groups: `${AID}/attributes/groups.json`,
      split: "25_5",
    });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.counts, {
      classes: 30,
      attributes: 44,
      trainval: 6704,
      testSeen: 1676,
      testUnseen: 1620,
    });
    assert.deepEqual(r.splits.map((s) => s.name), ["25_5", "20_10", "15_15"]);
  },
});

Deno.test("class names: case, _/space and aliases match; every unmatched name is listed", () => {
  assert.equal(canonicalName("Dense_Residential "), "denseresidential");
  const folders = ["Farmland", "DenseResidential", "StorageTanks", "Beach"];
  const given = ["beach", "storgetanks", "FormLand", "denser_residential"];
  assert.deepEqual(matchClassNames(folders, given), [2, 3, 1, 0]);
  assert.deepEqual(matchClassNames(["golf course"], ["Golf_Course"]), [0]);
  assert.deepEqual(matchClassNames(["Harbour"], ["harbor"], { aliases: { harbour: "harbor" } }), [
    0,
  ]);
  assert.throws(
    () => matchClassNames(folders, ["beach", "farm", "storgetanks", "dense"], { file: "a.csv" }),
    (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, "a.csv");
      assert.match(e.problem, /2 of the wanted classes have no match.*Farmland, DenseResidential/);
      assert.match(e.problem, /unmatched given classes: farm, dense/);
      return true;
    },
  );
});

async function tempTree(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dsva-data-" });
  for (const [p, content] of Object.entries(files)) {
    const full = `${dir}/${p}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (p.endsWith("/")) continue;
    await Deno.writeFile(
      full,
      typeof content === "string" ? new TextEncoder().encode(content) : content,
    );
  }
  return dir;
}

const CSV = ",a,b\ncat,1,0\ndog,0,1\nfox_x,0.5,0.5\n";
const SPLITS = JSON.stringify({
  splits: {
    "2_1": {
      seen: ["cat", "dog"],
      unseen: ["Fox X"],
      trainval: ["cat/1.png", "dog/1.png"],
      test_seen: ["cat/2.png", "dog/2.png"],
      test_unseen: ["fox_x/1.png"],
    },
  },
});
// A real 1×1 gray PNG: inspecting checks every image file's header.
const IMG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==",
  ),
  (ch) => ch.charCodeAt(0),
);

function smallDataset(extra: Record<string, string | Uint8Array> = {}) {
  return tempTree({
    "images/cat/1.png": IMG,
    "images/cat/2.png": IMG,
    "images/dog/1.png": IMG,
    "images/dog/2.png": IMG,
    "images/fox_x/1.png": IMG,
    "images/fox_x/notes.txt": "ignored",
    "attributes.csv": CSV,
    "splits.json": SPLITS,
    ...extra,
  });
}

Deno.test("a small dataset folder opens with CSV attributes, JSON groups and splits", async () => {
  const dir = await smallDataset({ "groups.json": '{"g1": [0], "g2": ["b"]}' });
  const ds = await openDatasetFolder(dir);
  assert.deepEqual(ds.classes, ["cat", "dog", "fox_x"]);
  assert.deepEqual(ds.files, ["cat/1.png", "cat/2.png", "dog/1.png", "dog/2.png", "fox_x/1.png"]);
  assert.deepEqual(Array.from(ds.attributes.values), [1, 0, 0, 1, 0.5, 0.5]);
  assert.deepEqual(ds.groups, { g1: [0], g2: [1] });
  assert.deepEqual(ds.split.unseen, [2]);
  assert.deepEqual(ds.split.trainval, [0, 2]);
  assert.deepEqual(ds.split.testUnseen, [4]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad input: empty class folder, attribute rows not matching, missing split images", async () => {
  // Empty class folder: an error naming it, or a warning with skipEmpty.
  const empty = await smallDataset({ "images/owl/": "" });
  await assert.rejects(scanImageFolder(`${empty}/images`), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.file, `${empty}/images/owl`);
    assert.match(e.problem, /no images.*owl.*skipEmpty/);
    return true;
  });
  const warned: string[] = [];
  const f = await scanImageFolder(`${empty}/images`, {
    skipEmpty: true,
    warn: (m) => warned.push(m),
  });
  assert.deepEqual(f.classes, ["cat", "dog", "fox_x"]);
  assert.match(warned[0], /owl/);

  // Attribute rows that do not match the classes.
  const rows = await smallDataset({ "attributes.csv": ",a,b\ncat,1,0\nwolf,0,1\nfox,1,1\n" });
  await assert.rejects(openDatasetFolder(rows), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.file, `${rows}/attributes.csv`);
    assert.match(e.problem, /dog, fox_x/);
    assert.match(e.problem, /unmatched attribute rows: wolf, fox/);
    return true;
  });
  const bad = await smallDataset({ "attributes.csv": ",a,b\ncat,1,0\ndog,0,x\nfox_x,1,1\n" });
  await assert.rejects(
    openDatasetFolder(bad),
    /attributes\.csv: line 3 \(dog\), column 3 \(b\): "x" is not a number/,
  );
  const ragged = await smallDataset({ "attributes.csv": ",a,b\ncat,1,0\ndog,0\nfox_x,1,1\n" });
  await assert.rejects(openDatasetFolder(ragged), /line 3 \(dog\) has 1 values/);

  // A split file naming images that are not there: error, or skip with a warning and a count.
  const split = JSON.parse(SPLITS);
  split.splits["2_1"].trainval.push("cat/9.png", "dog/7.png");
  const missing = await smallDataset({ "splits.json": JSON.stringify(split) });
  await assert.rejects(openDatasetFolder(missing), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.file, `${missing}/splits.json`);
    assert.match(
      e.problem,
      /trainval names 2 image\(s\) not in .*cat\/9\.png, dog\/7\.png.*skipMissing/,
    );
    return true;
  });
  const warns: string[] = [];
  const ds = await openDatasetFolder(missing, { skipMissing: true, warn: (m) => warns.push(m) });
  assert.equal(ds.split.missing, 2);
  assert.equal(ds.split.trainval.length, 2);
  assert.equal(warns.length, 1);
  assert.match(warns[0], /2 image\(s\).*skipped/);

  // Images filed under the wrong part, and a split name that does not exist.
  split.splits["2_1"].trainval = ["cat/1.png", "fox_x/1.png"];
  const wrong = await smallDataset({ "splits.json": JSON.stringify(split) });
  await assert.rejects(
    openDatasetFolder(wrong),
    /trainval holds 1 image\(s\) of classes that are not seen: fox_x\/1\.png/,
  );
  const sf = await readSplitFile(`${wrong}/splits.json`);
  const folder = await scanImageFolder(`${wrong}/images`);
  assert.throws(() => resolveSplit(folder, sf, "9_9"), /has no split "9_9"; it has: 2_1/);

  // inspect collects everything instead of stopping.
  const r = await inspectDataset({
    images: `${empty}/images`,
    attributes: `${rows}/attributes.csv`,
    splits: `${wrong}/splits.json`,
  });
  assert.equal(r.problems.length, 3, r.problems.join("\n"));
  assert.deepEqual(r.counts, {
    classes: 3,
    attributes: 2,
    trainval: 2,
    testSeen: 2,
    testUnseen: 1,
  });
  for (const d of [empty, rows, bad, ragged, missing, wrong]) {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("bad input: malformed split and groups files name the file and field", async () => {
  const dir = await tempTree({
    "s.json": '{"splits": {"a": {"seen": ["x"], "unseen": []}}}',
    "g.json": '{"g": [0, 7]}',
    "n.json": "{not json",
  });
  await assert.rejects(
    readSplitFile(`${dir}/s.json`),
    /s\.json: not a split file.*splits\.a\.trainval: .*expected array/,
  );
  await assert.rejects(
    readGroups(`${dir}/g.json`, 3),
    /g\.json: 1 entries are not attribute columns 0\.\.2: g: 7/,
  );
  await assert.rejects(readSplitFile(`${dir}/n.json`), /n\.json: not valid JSON/);
  await assert.rejects(readSplitFile(`${dir}/none.json`), /none\.json: no such file/);
  assert.deepEqual(groupProblems({ a: [0, 1], b: [1] }, 3, ["x", "y", "z"]), [
    "1 attributes are in no group: 2 (z)",
    "1 attributes are in several groups: 1 (y)",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test(".npy matrices (float64, float32, Fortran, big-endian, ints, bool) and JSON attributes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-npy-" });
  const fx = await runPython<Record<string, string | number[]>>(
    `${ROOT}/tests/oracle/make_npy.py`,
    { dir },
  );
  const want = fx.values as number[];
  for (const n of ["f8.npy", "f8_fortran.npy", "f8_big.npy"]) {
    const a = await readNpy(fx[n] as string);
    assert.deepEqual(a.shape, [4, 3], n);
    assert.deepEqual(Array.from(a.data), want, n);
  }
  assert.deepEqual(Array.from((await readNpy(fx["f4.npy"] as string)).data), fx.f4_values);
  assert.deepEqual(Array.from((await readNpy(fx["i2.npy"] as string)).data), fx.i2_values);
  assert.deepEqual(Array.from((await readNpy(fx["f2.npy"] as string)).data), fx.f2_values);
  assert.deepEqual(Array.from((await readNpy(fx["u1.npy"] as string)).data), [...Array(12).keys()]);
  assert.deepEqual(
    Array.from((await readNpy(fx["b1.npy"] as string)).data),
    want.map((v) => (v > 0 ? 1 : 0)),
  );
  const m = await readAttributes(fx["f8.npy"] as string, { classes: ["a", "b", "c", "d"] });
  assert.equal(m.rows, 4);
  assert.deepEqual(
    Array.from(alignAttributes(m, ["d", "a", "b", "c"]).values.subarray(0, 3)),
    want.slice(9),
  );
  await assert.rejects(
    readAttributes(fx["vec.npy"] as string),
    /vec\.npy: holds an array of shape \(12\)/,
  );
  assert.throws(
    () => alignAttributes({ ...m, classes: null }, ["a", "b", "c"]),
    /has 4 unnamed rows but the dataset has 3 classes/,
  );
  await Deno.writeTextFile(`${dir}/bad.npy`, "\x93NUMPY garbage");
  await assert.rejects(readNpy(`${dir}/bad.npy`), /bad\.npy: not a readable \.npy file/);

  await Deno.writeTextFile(
    `${dir}/a.json`,
    JSON.stringify({ classes: ["x", "y"], attributes: ["p", "q"], values: [[1, 2], [3, 4]] }),
  );
  await Deno.writeTextFile(`${dir}/b.json`, JSON.stringify({ x: [1, 2], y: [3, 4] }));
  await Deno.writeTextFile(`${dir}/c.json`, JSON.stringify({ x: [1, 2], y: [3] }));
  for (const n of ["a.json", "b.json"]) {
    const j = await readAttributes(`${dir}/${n}`);
    assert.deepEqual(j.classes, ["x", "y"]);
    assert.deepEqual(Array.from(j.values), [1, 2, 3, 4]);
  }
  await assert.rejects(readAttributes(`${dir}/c.json`), /c\.json: row 2 has 1 values, row 1 has 2/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "real float64 .npy: RSSDIVCS knowledge-graph vectors (70 × 50) match AID classes by name",
  ignore: !haveAid && !CI,
  async fn() {
    const kg = `${ROOT}/../shared/data/rssdivcs_kg`;
    const m = await readAttributes(`${kg}/sr-rskg.npy`, { classes: `${kg}/classes.txt` });
    assert.equal(m.rows, 70);
    assert.equal(m.cols, 50);
    let norm = 0;
    for (let c = 0; c < 50; c++) norm += m.values[c] ** 2;
    assert.ok(Math.abs(norm - 1) < 1e-9);
  },
});

Deno.test("openDataset takes explicit paths and a split name", async () => {
  const dir = await smallDataset();
  const ds = await openDataset({
    images: `${dir}/images`,
    attributes: `${dir}/attributes.csv`,
    splits: `${dir}/splits.json`,
    split: "2_1",
  });
  assert.equal(ds.split.name, "2_1");
  await Deno.remove(dir, { recursive: true });
});

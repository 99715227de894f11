/**
 * `deno task experiments` / `ablate` / `viz`: the attribute-subset transformation, config
 * validation, the `--quick` grid end to end (with tiny training overrides), and resumability (a
 * grid stopped by SIGINT mid-cell and rerun redoes no finished cell and ends with the same report
 * as an uninterrupted grid).
 */
import assert from "node:assert/strict";
import { readAttributes } from "../src/data/attributes.ts";
import { readGroups } from "../src/data/groups.ts";
import { resolveConfig } from "../src/config/index.ts";
import { loadTrainData } from "../src/train/data.ts";
import {
  type AttributeTable,
  expandAttributeSets,
  randomColumns,
  selectColumns,
  writeAttributeTable,
} from "../src/experiments/attribute_sets.ts";
import { ExperimentConfigError, parseExperimentConfig } from "../src/experiments/config.ts";
import { planGrid } from "../src/experiments/grid.ts";
import { ALL_SPLITS, meanStd, vocabularyCurves } from "../src/experiments/aggregate.ts";
import type { CellResult } from "../src/experiments/runner.ts";
import { alternativeUnseen } from "../src/experiments/synthetic_splits.ts";
import { SCENE_CLASSES } from "../src/data/synthetic/vocabulary.ts";
import { ROOT } from "./helpers.ts";
import { runScript } from "./train_helpers.ts";

/** Tiny training for every cell: small synthetic set, 1-layer ViT, 32 px, 1 thread. */
const TINY = {
  dataset: { kind: "synthetic", imagesPerClass: 10, size: 48 },
  backbone: {
    kind: "vit",
    preset: "cpu-tiny",
    hiddenSize: 32,
    numLayers: 1,
    numHeads: 2,
    intermediateSize: 64,
  },
  imageSize: 32,
  ways: 4,
  shots: 2,
  threads: 1,
  testBatchSize: 200,
  epochs: 1,
  batchesPerEpoch: 3,
};

const table: AttributeTable = {
  classes: ["c0", "c1", "c2"],
  names: ["a0", "a1", "a2", "a3", "a4", "a5"],
  values: Float32Array.from([
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    1.1,
    1.2,
    1.3,
    1.4,
    1.5,
    1.6,
    2.1,
    2.2,
    2.3,
    2.4,
    2.5,
    2.6,
  ]),
  groups: { g1: [0, 1, 2], g2: [3, 4], g3: [5] },
};

Deno.test("attribute subsets: columns of the class × attribute matrix, groups renumbered", async () => {
  const s = selectColumns(table, [5, 1, 3]);
  assert.deepEqual(s.names, ["a1", "a3", "a5"]);
  assert.deepEqual(s.classes, table.classes);
  assert.deepEqual(
    Array.from(s.values),
    Array.from(Float32Array.from([0.2, 0.4, 0.6, 1.2, 1.4, 1.6, 2.2, 2.4, 2.6])),
  );
  assert.deepEqual(s.groups, { g1: [0], g2: [1], g3: [2] });
  // Empty groups are dropped; column order is the matrix's.
  assert.deepEqual(selectColumns(table, [1, 0]).groups, { g1: [0, 1] });
  assert.throws(() => selectColumns(table, [6]), /column 6/);

  // Random subsets: sorted, distinct, the same for the same (seed, size, draw).
  const r = randomColumns(21, 8, 0, 1);
  assert.equal(r.length, 8);
  assert.deepEqual(r, [...new Set(r)].sort((a, b) => a - b));
  assert.deepEqual(randomColumns(21, 8, 0, 1), r);
  assert.notDeepEqual(randomColumns(21, 8, 0, 2), r);

  const sets = expandAttributeSets(
    [
      { kind: "full" },
      { kind: "random", sizes: [2, 4], draws: 2, seed: 0 },
      { kind: "dropGroup" },
      { kind: "columns", name: "pick", attributes: ["a4", 0] },
    ],
    table.names,
    table.groups,
    "test",
  );
  assert.deepEqual(sets.map((x) => x.id), [
    "all",
    "r2d0",
    "r2d1",
    "r4d0",
    "r4d1",
    "no-g1",
    "no-g2",
    "no-g3",
    "cols-pick",
  ]);
  assert.deepEqual(sets.find((x) => x.id === "no-g2")!.columns, [0, 1, 2, 5]);
  assert.deepEqual(sets.find((x) => x.id === "cols-pick")!.columns, [0, 4]);
  assert.equal(sets.find((x) => x.id === "r4d1")!.size, 4);
  assert.throws(
    () =>
      expandAttributeSets(
        [{ kind: "random", sizes: [7], draws: 1, seed: 0 }],
        table.names,
        table.groups,
        "t",
      ),
    /random subset of 7 attributes, but t has 6/,
  );
  assert.throws(
    () =>
      expandAttributeSets(
        [{ kind: "dropGroup", groups: ["nope"] }],
        table.names,
        table.groups,
        "t",
      ),
    /dropGroup "nope".*g1, g2, g3/,
  );
  assert.throws(
    () =>
      expandAttributeSets(
        [{ kind: "columns", name: "x", attributes: ["zz"] }],
        table.names,
        table.groups,
        "t",
      ),
    /"zz" is not an attribute/,
  );

  // Written files read back bit-exact through the data layer.
  const dir = await Deno.makeTempDir();
  try {
    const f = await writeAttributeTable(s, `${dir}/sub`);
    const m = await readAttributes(f.attributes);
    assert.deepEqual(m.attributes, ["a1", "a3", "a5"]);
    assert.deepEqual(Array.from(m.values), Array.from(s.values));
    assert.deepEqual(await readGroups(f.groups, 3, m.attributes), s.groups);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attribute subsets: the trainer's data is the selected columns with their groups", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = parseExperimentConfig({
      name: "t",
      base: TINY,
      datasets: [{ name: "synthetic", dataset: "synthetic", splits: ["12_4", "12_4-alt1"] }],
      seeds: [0],
      attributeSets: [{ kind: "full" }, { kind: "random", sizes: [7], draws: 1 }, {
        kind: "dropGroup",
        groups: ["materials"],
      }],
    }, "test");
    const plan = await planGrid(cfg, dir);
    assert.equal(plan.cells.length, 6);
    const full = await loadTrainData(resolveConfig(plan.cells[0].train));
    assert.equal(plan.cells[0].id, "synthetic-12_4.default.clean.default.all.s0");
    for (const cell of plan.cells.filter((c) => c.axes.split === "12_4")) {
      const data = await loadTrainData(resolveConfig(cell.train));
      const cols = cell.axes.attributes === "all"
        ? Array.from({ length: 21 }, (_, i) => i)
        : cell.axes.attributes === "r7d0"
        ? randomColumns(21, 7, 0, 0)
        : Array.from({ length: 21 }, (_, i) => i).filter((i) => !full.groups.materials.includes(i));
      assert.equal(data.numAttributes, cols.length, cell.id);
      assert.equal(cell.axes.numAttributes, cols.length);
      assert.deepEqual(data.attributeNames, cols.map((i) => full.attributeNames[i]));
      for (let c = 0; c < data.classes.length; c++) {
        for (const [j, i] of cols.entries()) {
          assert.equal(data.attributes[c * cols.length + j], full.attributes[c * 21 + i]);
        }
      }
      const expected = selectColumns(
        {
          classes: full.classes,
          names: full.attributeNames,
          values: full.attributes,
          groups: full.groups,
        },
        cols,
      ).groups;
      assert.deepEqual(data.groups, expected);
      assert.deepEqual(data.train.map((s) => s.path), full.train.map((s) => s.path));
    }
    // Another attribute file for the same classes (e.g. collected attributes): used as given.
    const own = await writeAttributeTable(
      selectColumns(
        {
          classes: full.classes,
          names: full.attributeNames,
          values: full.attributes,
          groups: full.groups,
        },
        [0, 3, 9, 20],
      ),
      `${dir}/own`,
    );
    const filePlan = await planGrid(
      parseExperimentConfig({
        name: "f",
        base: TINY,
        datasets: [{ name: "synthetic", dataset: "synthetic" }],
        seeds: [0],
        attributeSets: [{
          kind: "file",
          name: "own",
          attributes: own.attributes,
          groups: own.groups,
        }],
      }, "test"),
      `${dir}/f`,
    );
    assert.equal(filePlan.cells[0].axes.attributes, "file-own");
    assert.equal(filePlan.cells[0].axes.numAttributes, 4);
    const fromFile = await loadTrainData(resolveConfig(filePlan.cells[0].train));
    assert.deepEqual(fromFile.attributeNames, [0, 3, 9, 20].map((i) => full.attributeNames[i]));

    // The alternative split: other unseen classes, every one of their attributes seen.
    const alt = await loadTrainData(
      resolveConfig(plan.cells.find((c) => c.axes.split === "12_4-alt1")!.train),
    );
    const unseen = alt.unseen.map((c) => alt.classes[c]).sort();
    assert.deepEqual(unseen, [...alternativeUnseen(1)].sort());
    assert.notDeepEqual(unseen, SCENE_CLASSES.filter((c) => c.unseen).map((c) => c.name).sort());
    assert.equal(alt.testUnseen.length, 4 * 10);
    assert.equal(alt.split, "12_4-alt1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vocabulary curves: per split, and pooled over splits, draws and seeds", () => {
  // ZSL = k / 100 + split offset + seed / 1000: every mean and spread is known in advance.
  const cell = (split: string, k: number, draw: number | null, seed: number): CellResult => {
    const zsl = k / 100 + (split === "a" ? 0 : 0.1) + seed / 1000;
    const kind = draw === null ? "full" : "random";
    return {
      cell: {
        id: `${split}.${k}.${draw}.${seed}`,
        axes: {
          dataset: "d",
          split,
          backbone: "vit",
          recipe: "clean",
          variant: "default",
          attributes: draw === null ? "all" : `r${k}d${draw}`,
          attributeKind: kind,
          numAttributes: k,
          fullAttributes: 20,
          draw,
          droppedGroup: null,
          seed,
        },
      } as CellResult["cell"],
      runDir: "",
      eval: {
        zsl,
        chance: split === "a" ? 0.25 : 0.125,
        gzsl: { S: 0.5, U: zsl / 2, H: 0, gamma: 0, gammaRule: "" },
        ausuc: 0,
        epoch: 1,
        selection: "",
      },
      trainSeconds: null,
      status: "ran",
    };
  };
  const results: CellResult[] = [];
  for (const split of ["a", "b"]) {
    for (const seed of [0, 1, 2]) {
      results.push(cell(split, 20, null, seed));
      for (const draw of [0, 1]) results.push(cell(split, 8, draw, seed));
    }
  }
  const curves = vocabularyCurves(results);
  assert.deepEqual(curves.map((c) => c.split), ["a", "b", ALL_SPLITS]);
  const [a, , all] = curves;
  assert.deepEqual(a.points.map((p) => [p.k, p.n, p.draws]), [[8, 6, 2], [20, 3, 1]]);
  assert.ok(Math.abs(a.points[0].metrics.zsl.mean - 0.081) < 1e-12);
  assert.deepEqual(all.points.map((p) => [p.k, p.n]), [[8, 12], [20, 6]]);
  // Pooled: the mean over both splits, the spread over every cell.
  const pooled8 = results.filter((r) => r.cell.axes.numAttributes === 8).map((r) => r.eval.zsl);
  assert.deepEqual(all.points[0].metrics.zsl, meanStd(pooled8));
  assert.ok(Math.abs(all.points[0].metrics.zsl.mean - 0.131) < 1e-12);
  assert.equal(all.chance, 0.1875);
  // One split alone gives no pooled curve.
  const one = vocabularyCurves(results.filter((r) => r.cell.axes.split === "a"));
  assert.deepEqual(one.map((c) => c.split), ["a"]);
});

Deno.test("experiment config: validation errors name the field and the file", async () => {
  const bad = (v: unknown, re: RegExp) =>
    assert.throws(() => parseExperimentConfig(v, "x.json"), (e: Error) => {
      assert.ok(e instanceof ExperimentConfigError, String(e));
      assert.match(e.message, re);
      return true;
    });
  const ok = { name: "g", datasets: [{ name: "s", dataset: "synthetic" }], seeds: [0] };
  parseExperimentConfig(ok, "x.json");
  bad({ ...ok, sedes: [1] }, /unknown field "sedes" \[x\.json\]/);
  bad({ ...ok, seeds: [0.5] }, /seeds\.0: .*integer.*\(got 0\.5\) \[x\.json\]/);
  bad({ ...ok, seeds: [] }, /seeds: /);
  bad({ name: "g", seeds: [0] }, /datasets: missing/);
  bad({ ...ok, base: { epochs: "3" } }, /base\.epochs: expected number/);
  bad({ ...ok, attributeSets: [{ kind: "some" }] }, /attributeSets\.0/);
  bad({ ...ok, attributeSets: [{ kind: "random", sizes: [0] }] }, /attributeSets\.0\.sizes\.0/);
  bad(
    { ...ok, datasets: [{ name: "a", dataset: "../shared/data/aid" }] },
    /datasets\.0\.splits: missing/,
  );
  bad({ ...ok, variants: [{ name: "v" }, { name: "v" }] }, /variants: the name "v" is used twice/);
  bad({ ...ok, name: "a b" }, /name: letters/);

  const dir = await Deno.makeTempDir();
  try {
    const plan = (v: unknown) => planGrid(parseExperimentConfig(v, "x.json"), dir);
    await assert.rejects(
      plan({ ...ok, base: TINY, attributeSets: [{ kind: "random", sizes: [30] }] }),
      /random subset of 30 attributes, but s has 21/,
    );
    await assert.rejects(
      plan({
        ...ok,
        base: TINY,
        datasets: [{ name: "s", dataset: "synthetic", splits: ["25_5"] }],
      }),
      /synthetic scenes have the split 12_4.*not "25_5"/,
    );
    await assert.rejects(
      plan({ ...ok, base: TINY, variants: [{ name: "odd", train: { imageSize: 36 } }] }),
      /cell s-12_4\.default\.clean\.odd\.all\.s0: .*imageSize: 36 is not a multiple of the patch size 8/,
    );
    // The command line: a bad file exits 2 with the error as its last line.
    await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ ...ok, seeds: ["a"] }));
    const r = await runScript("experiments.ts", ["--config", `${dir}/bad.json`]);
    assert.equal(r.code, 2);
    assert.match(String(r.last.error), /seeds\.0: expected number.*bad\.json/);
    const r2 = await runScript("experiments.ts", ["--quick", "--base", '{"epochs":0}']);
    assert.equal(r2.code, 2);
    assert.match(String(r2.last.error), /--base: [\s\S]*epochs: expected a positive integer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(meanStd([1, 3]), { mean: 2, std: Math.SQRT2, n: 2 });
  assert.deepEqual(meanStd([1]), { mean: 1, std: null, n: 1 });
});

Deno.test({
  name: "deno task experiments --quick: two cells, the report, pictures, the JSON line",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const r = await runScript("experiments.ts", [
        "--quick",
        "--out",
        `${dir}/quick`,
        "--base",
        JSON.stringify(TINY),
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.last.cells, 2);
      const report = String(r.last.report);
      assert.equal(report, `${dir}/quick/report.html`);
      const html = await Deno.readTextFile(report);
      assert.match(html, /accuracy vs vocabulary size/);
      assert.match(html, /Attention maps, unseen-class test images/);
      const csv = (await Deno.readTextFile(`${dir}/quick/report/results.csv`)).trim().split("\n");
      assert.equal(csv.length, 3);
      assert.match(csv[1], /^synthetic,12_4,vit,clean,default,on,all,full,21,/);
      assert.match(csv[2], /,r10d0,random,10,/);
      const md = await Deno.readTextFile(`${dir}/quick/report/results.md`);
      assert.match(md, /\| vit \| clean \| default \| on \| all \(21\) \| 1 \|/);
      for (const c of r.last.curves as string[]) assert.ok((await Deno.stat(c)).size > 1000, c);
      const json = JSON.parse(await Deno.readTextFile(`${dir}/quick/report/report.json`));
      assert.equal(json.pictures.length, 1);
      for (const f of json.pictures[0].files) {
        assert.ok((await Deno.stat(`${dir}/quick/${json.pictures[0].dir}/${f}`)).isFile);
      }
      // Every cell is a normal run folder.
      for (const cell of json.cellResults) {
        const ev = JSON.parse(await Deno.readTextFile(`${cell.runDir}/eval.json`));
        assert.equal(ev.zsl, cell.zsl);
        assert.ok((await Deno.stat(`${cell.runDir}/report.html`)).isFile);
      }

      // deno task viz on one of them: chosen images, PNGs and a page.
      const run = json.cellResults[1].runDir;
      const data = await loadTrainData(resolveConfig(TINY as never));
      const seenImage = data.testSeen.find((s) => s.path.includes("/meadow/"))!.path;
      const v = await runScript("viz.ts", [
        "--run",
        run,
        "--image",
        "bridge/bridge_0001.png",
        "--image",
        seenImage.split("/").slice(-2).join("/"),
      ]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.equal((v.last.pictures as string[]).length, 2);
      const viz = JSON.parse(await Deno.readTextFile(`${run}/viz/viz.json`));
      assert.deepEqual(viz.pictures.map((p: { trueClass: string }) => p.trueClass).sort(), [
        "bridge",
        "meadow",
      ]);
      assert.match(await Deno.readTextFile(`${run}/viz/viz.html`), /true class attributes/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "experiments: SIGINT mid-grid, rerun: finished cells are not redone, same report",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const config = {
        name: "resume",
        base: { ...TINY, epochs: 3, batchesPerEpoch: 8, pictures: 0 },
        datasets: [{ name: "synthetic", dataset: "synthetic" }],
        seeds: [0, 1],
        attributeSets: [{ kind: "full" }, { kind: "random", sizes: [8], draws: 1 }],
        report: { pictures: 0, pictureCells: 0 },
      };
      await Deno.writeTextFile(`${dir}/grid.json`, JSON.stringify(config));
      const args = (out: string) => ["--config", `${dir}/grid.json`, "--out", `${dir}/${out}`];

      // The reference: uninterrupted.
      const ref = await runScript("experiments.ts", args("ref"));
      assert.equal(ref.code, 0, ref.stdout + ref.stderr);
      assert.equal(ref.last.cells, 4);

      // Stopped by SIGINT during the second cell's training.
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}/scripts/experiments.ts`, ...args("cut")],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
        env: { NO_PROGRESS: "1" },
      }).spawn();
      let out = "";
      let sent = false;
      const dec = new TextDecoder();
      const errText = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      const drainErr = (async () => {
        while (!(await errText.read()).done) { /* drain */ }
      })();
      for await (const chunk of child.stdout) {
        out += dec.decode(chunk, { stream: true });
        if (!sent && /\.s1: epoch 1\/3: /.test(out)) {
          child.kill("SIGINT");
          sent = true;
        }
      }
      const status = await child.status;
      await drainErr;
      assert.ok(sent, out);
      assert.equal(status.code, 130, out);
      const last = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(last.status, "interrupted");
      assert.equal(last.finished, 1);
      const firstId = "synthetic-12_4.default.clean.default.all.s0";
      const firstEval = `${dir}/cut/cells/${firstId}`;
      const evalFile = [...Deno.readDirSync(firstEval)].find((e) => e.isDirectory)!.name;
      const mtime = (await Deno.stat(`${firstEval}/${evalFile}/eval.json`)).mtime!.getTime();

      // Rerun: the first cell is skipped, the second resumed from its checkpoint.
      const again = await runScript("experiments.ts", args("cut"));
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(
        again.stdout,
        new RegExp(`${firstId.replaceAll(".", "\\.")}: finished before, skipped`),
      );
      assert.match(again.stdout, /default\.all\.s1 \(2\/4\): resuming /);
      assert.equal(again.last.ran, 3);
      assert.equal(again.last.skipped, 1);
      assert.equal((await Deno.stat(`${firstEval}/${evalFile}/eval.json`)).mtime!.getTime(), mtime);

      // The same report as the uninterrupted grid.
      for (const f of ["results.md", "results.csv"]) {
        assert.equal(
          await Deno.readTextFile(`${dir}/cut/report/${f}`),
          await Deno.readTextFile(`${dir}/ref/report/${f}`),
          f,
        );
      }
      // A third run redoes nothing and rewrites the same report.
      const html = await Deno.readTextFile(`${dir}/cut/report.html`);
      const third = await runScript("experiments.ts", args("cut"));
      assert.equal(third.last.ran, 0);
      assert.equal(third.last.skipped, 4);
      assert.equal(await Deno.readTextFile(`${dir}/cut/report.html`), html);

      // The same folder with a changed training config is refused, not silently mixed.
      await Deno.writeTextFile(
        `${dir}/grid.json`,
        JSON.stringify({ ...config, base: { ...config.base, batchesPerEpoch: 9 } }),
      );
      const changed = await runScript("experiments.ts", args("cut"));
      assert.equal(changed.code, 1);
      assert.match(String(changed.last.error), /were started with another training config/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

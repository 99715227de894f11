/** The official code's RSSDIVCS layout as a dataset kind: a tiny `.mat` fixture written with
 * scipy (tests/oracle/make_rssdivcs.py), read as the official `DATA_LOADER` reads it (training
 * list `train_zsl_loc`, seen classes the training list's, `att` as stored), and a whole
 * `deno task train --official-script 11_gzsl_43_11 --dataset <folder>` run on it, then
 * `deno task eval` of that run. */
import assert from "node:assert/strict";
import { resolveConfig } from "../src/config/index.ts";
import { loadTrainData } from "../src/train/data.ts";
import { ROOT, runPython } from "./helpers.ts";
import { runScript, TINY_MODEL } from "./train_helpers.ts";

interface Expect {
  classes: string[];
  seen: number[];
  unseen: number[];
  train_zsl: number[];
  train_gzsl: number[];
  test_seen: number[];
  test_unseen: number[];
  att_classes_by_attributes: number[][];
}

async function fixture(): Promise<{ dir: string; expect: Expect }> {
  const dir = await Deno.makeTempDir({ prefix: "rssdivcs-" });
  const { expect } = await runPython<{ expect: Expect }>(
    `${ROOT}/tests/oracle/make_rssdivcs.py`,
    { dir },
  );
  return { dir, expect };
}

/** The 0-based image number of a sample path (`<class>_<i>.png`, 4 images a class). */
const imageNumber = (classes: string[], path: string) => {
  const m = /\/([a-z]+)_(\d+)\.png$/.exec(path)!;
  return classes.indexOf(m[1]) * 4 + Number(m[2]);
};

Deno.test("rssdivcs: a folder with files/*.mat is read as the official loader reads it", async () => {
  const { dir, expect } = await fixture();
  try {
    const config = resolveConfig({ dataset: dir, recipe: "official" });
    assert.equal(config.dataset.kind, "rssdivcs", "detected from files/");
    if (config.dataset.kind !== "rssdivcs") return;
    assert.equal(config.dataset.trainList, "train_zsl_loc");
    assert.equal(config.dataset.attributeScale, "none");
    const data = await loadTrainData(config);
    assert.deepEqual(data.classes, expect.classes);
    assert.deepEqual(data.seen, expect.seen);
    assert.deepEqual(data.unseen, expect.unseen);
    assert.equal(data.split, "43");
    const numbers = (xs: { path: string }[]) => xs.map((s) => imageNumber(expect.classes, s.path));
    assert.deepEqual(numbers(data.train), expect.train_zsl, "train_zsl_loc, test-seen included");
    assert.deepEqual(numbers(data.testSeen), expect.test_seen);
    assert.deepEqual(numbers(data.testUnseen), expect.test_unseen);
    assert.ok(data.train.every((s) => s.path.startsWith(`${dir}/images/`)), "under the root");
    assert.deepEqual(
      Array.from(data.attributes),
      Array.from(Float32Array.from(expect.att_classes_by_attributes.flat())),
      "att as stored (transposed to classes × attributes, not scaled)",
    );
    assert.deepEqual(Object.keys(data.groups), ["functions", "materials", "surface_properties"]);
    const gz = await loadTrainData(resolveConfig({
      dataset: { kind: "rssdivcs", dir, trainList: "train_gzsl_loc" },
      recipe: "official",
    }));
    assert.deepEqual(numbers(gz.train), expect.train_gzsl);
    assert.deepEqual(gz.seen, expect.seen);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A tiny model, so that the run takes seconds. */
const SMALL = [...TINY_MODEL, "--pictures", "0"];

Deno.test("rssdivcs: train --official-script 11_gzsl_43_11 on the fixture, then eval", async () => {
  const { dir, expect } = await fixture();
  const runs = await Deno.makeTempDir({ prefix: "rssdivcs-runs-" });
  try {
    const r = await runScript("train.ts", [
      "--official-script",
      "11_gzsl_43_11",
      "--dataset",
      dir,
      "--epochs",
      "1",
      "--batches",
      "2",
      "--runs-dir",
      runs,
      ...SMALL,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dataset\.kind = "rssdivcs" \(flag --dataset\)/);
    assert.match(r.stdout, /dataset\.split = "43" \(script 11_gzsl_43_11\)/);
    assert.match(r.stdout, /dataset\.trainList = "train_zsl_loc" \(script 11_gzsl_43_11\)/);
    assert.match(r.stdout, /gamma = 0\.0001 \(script 11_gzsl_43_11\)/);
    assert.match(r.stdout, /selectionMetric = "H" \(script 11_gzsl_43_11\)/);
    assert.ok(
      r.stdout.includes(`${expect.train_zsl.length} train, 0 held-out seen`),
      "trained on train_zsl_loc",
    );
    const runDir = String(r.last.runDir);
    const ev = JSON.parse(await Deno.readTextFile(`${runDir}/eval.json`));
    assert.equal(ev.selection, "test H (official)");
    assert.equal(ev.gzsl.gamma, 1e-4);
    assert.equal(ev.testBest.H.epoch, 1);
    assert.equal(ev.testBest.zsl.epoch, 1);
    assert.equal(ev.testBest.H.H, ev.gzsl.H, "the selected epoch is the best-H one");
    const saved = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`));
    assert.equal(saved.dataset.attributeScale, "none");
    const sources = JSON.parse(await Deno.readTextFile(`${runDir}/config_sources.json`));
    assert.equal(sources.seed, "script 11_gzsl_43_11");
    const e = await runScript("eval.ts", ["--run", runDir, "--out", `${runs}/eval`]);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(e.last.zsl, ev.zsl, "eval of the selected checkpoint gives the same ZSL");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(runs, { recursive: true });
  }
});

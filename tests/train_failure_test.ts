/**
 * Training loses no finished epoch: a damaged unseen test image makes the end-of-epoch
 * monitoring evaluation fail; the run stops with the error naming the image, its
 * `checkpoints/last.safetensors` holds the trained epoch, and once the image is fixed `--resume`
 * runs the owed evaluation and finishes with the weights, results and metrics log of a run that
 * never failed.
 */
import assert from "node:assert/strict";
import { DataError } from "../src/data/errors.ts";
import { loadCheckpoint } from "../src/io/index.ts";
import { loadTrainData } from "../src/train/data.ts";
import { evaluateModel, writeEvaluation } from "../src/train/evaluate.ts";
import { buildModel } from "../src/train/model.ts";
import type { TrainConfig } from "../src/config/types.ts";
import { fromBuffer, noGrad } from "../src/tensor/index.ts";
import { writeSplits } from "../src/data/split_writer.ts";
import { checkImageFile } from "../src/data/validate.ts";
import type { Tensor } from "../src/tensor/index.ts";
import { ROOT } from "./helpers.ts";
import { runScript } from "./train_helpers.ts";
import { cutShort, tinyJpegDataset } from "./tiny_dataset.ts";

/** The tiny dataset (tiny_dataset.ts) with a seeded 3/2 split; returns an unseen test image. */
async function tinyDataset(dir: string): Promise<string> {
  await tinyJpegDataset(dir);
  const { splits } = await writeSplits(dir, { seen: 3, seed: 1 });
  return splits.splits["3_2"].test_unseen[0];
}

async function weights(path: string): Promise<Map<string, Float32Array>> {
  using ck = await loadCheckpoint(path);
  const out = new Map<string, Float32Array>();
  for (const [k, t] of ck.model as Map<string, Tensor>) {
    out.set(k, Float32Array.from(t.toTypedArray() as Float32Array));
  }
  const opt = ck.optimizer as { state: Record<string, Record<string, Tensor>> };
  for (const [i, s] of Object.entries(opt.state)) {
    for (const [k, t] of Object.entries(s)) {
      out.set(`optimizer.${i}.${k}`, Float32Array.from(t.toTypedArray() as Float32Array));
    }
  }
  return out;
}

const records = (dir: string) =>
  Deno.readTextFileSync(`${dir}/metrics.jsonl`).trim().split("\n").map((l) => JSON.parse(l));

Deno.test("train: a bad unseen test image stops the run with its epoch kept; --resume finishes it as if it never failed", async () => {
  const base = await Deno.makeTempDir({ prefix: "dsva_train_failure_" });
  try {
    const data = `${base}/data`;
    const badFile = await tinyDataset(data);
    const ARGS = [
      "--dataset",
      data,
      "--split",
      "3_2",
      ...["--set", "backbone.hiddenSize=32", "--set", "backbone.numLayers=1"],
      ...["--set", "backbone.numHeads=2", "--set", "backbone.intermediateSize=64"],
      ...["--image-size", "32", "--ways", "2", "--shots", "2", "--threads", "1"],
      ...["--test-batch-size", "200", "--epochs", "2", "--batches", "2", "--pictures", "0"],
    ];

    // The reference: the same run on the sound images.
    const a = await runScript("train.ts", [...ARGS, "--runs-dir", `${base}/a`]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.last.steps, 4);
    const dirA = String(a.last.runDir);

    // One unseen test image damaged: epoch 1 trains, its monitoring evaluation fails.
    const badPath = `${data}/images/${badFile}`;
    const good = await Deno.readFile(badPath);
    await Deno.writeFile(badPath, cutShort(good));
    assert.equal(await checkImageFile(badPath), null);
    await Deno.mkdir(`${base}/b`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/scripts/train.ts`, ...ARGS, "--runs-dir", `${base}/b`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_PROGRESS: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0, text);
    assert.ok(text.includes(badPath), text);
    assert.match(text, /DataError|corrupted or truncated image/);
    const dirB = `${base}/b/${[...Deno.readDirSync(`${base}/b`)][0].name}`;
    {
      using ck = await loadCheckpoint(`${dirB}/checkpoints/last.safetensors`);
      assert.equal(ck.epoch, 1);
      assert.equal(ck.step, 2);
      assert.equal((ck.trainer as { pendingEvaluation?: number }).pendingEvaluation, 0);
    }
    assert.deepEqual(records(dirB).filter((r) => r.type === "epoch"), []);

    // Evaluating run A's model with the bad image: a DataError naming it (the default), or
    // with onBadImage "skip" the image left out and listed.
    await badImagePolicies(dirA, badPath);

    // The image fixed: resuming evaluates epoch 1, trains epoch 2 and ends as run A did.
    await Deno.writeFile(badPath, good);
    const r = await runScript("train.ts", ["--resume", dirB, "--threads", "1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.last.status, "finished");
    assert.equal(r.last.steps, 4);
    assert.equal(r.last.zsl, a.last.zsl);
    assert.deepEqual(r.last.gzsl, a.last.gzsl);
    const wa = await weights(`${dirA}/checkpoints/last.safetensors`);
    const wb = await weights(`${dirB}/checkpoints/last.safetensors`);
    assert.deepEqual([...wb.keys()], [...wa.keys()]);
    for (const [k, x] of wa) assert.deepEqual(wb.get(k), x, k);
    const [ra, rb] = [records(dirA), records(dirB)];
    assert.deepEqual(
      rb.map((x) => [x.type, x.step, x.epoch]),
      ra.map((x) => [x.type, x.step, x.epoch]),
    );
    const scores = (rs: typeof ra) =>
      rs.filter((x) => x.type === "epoch").map((x) => [x.heldoutSeenAcc, x.test, x.best]);
    assert.deepEqual(scores(rb), scores(ra));
    using last = await loadCheckpoint(`${dirB}/checkpoints/last.safetensors`);
    assert.equal((last.trainer as { pendingEvaluation?: number }).pendingEvaluation, undefined);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

async function badImagePolicies(runDir: string, badPath: string): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`)) as TrainConfig;
  const data = await loadTrainData(config);
  const model = await buildModel(config, data.numAttributes, data.groups);
  using ck = await loadCheckpoint(`${runDir}/checkpoints/last.safetensors`);
  noGrad(() => model.loadStateDict(ck.model as Map<string, Tensor>, { strict: true }));
  using attrs = fromBuffer(data.attributes, [data.classes.length, data.numAttributes], {
    dtype: "float32",
  });
  await assert.rejects(evaluateModel(model, data, config, attrs), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.file, badPath);
    return true;
  });
  const ev = await evaluateModel(model, data, config, attrs, { onBadImage: "skip" });
  assert.equal(ev.badImages.length, 1);
  assert.equal(ev.badImages[0].path, badPath);
  assert.match(ev.badImages[0].problem, /corrupted or truncated image/);
  assert.equal(ev.images.testUnseen, data.testUnseen.length - 1);
  assert.equal(ev.test.n, data.testSeen.length + data.testUnseen.length - 1);
  assert.ok(ev.zsl >= 0 && ev.zsl <= 1);
  const out = await Deno.makeTempDir({ prefix: "dsva_eval_skip_" });
  const src = { checkpoint: "last", epoch: 1, step: 4, selection: "last epoch" };
  const summary = await writeEvaluation(out, ev, data, config, src);
  const json = JSON.parse(await Deno.readTextFile(`${out}/eval.json`));
  assert.deepEqual(json.badImages, [{ path: badPath, problem: ev.badImages[0].problem }]);
  assert.ok(
    (summary.notes ?? []).some((n) => n.includes(badPath) && n.includes("onBadImage: skip")),
  );
  await Deno.remove(out, { recursive: true });
  model.dispose();
}

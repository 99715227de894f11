/**
 * `deno task train` / `deno task eval` end to end on a tiny synthetic configuration (a 1-layer
 * ViT on 32×32 crops, 2 epochs × 3 batches): the run folder's contents, metrics.jsonl,
 * report.html, the last-line JSON of both commands; a non-finite loss stopping with the step
 * named; a bad flag exiting 2 (config validation itself: config_test.ts).
 */
import assert from "node:assert/strict";
import { runScript, TINY } from "./train_helpers.ts";

Deno.test("train + eval: a tiny synthetic run end to end", async () => {
  const runs = await Deno.makeTempDir({ prefix: "dsva_train_" });
  try {
    const t0 = performance.now();
    const r = await runScript("train.ts", [
      ...TINY,
      "--epochs",
      "2",
      "--batches",
      "3",
      "--pictures",
      "2",
      "--runs-dir",
      runs,
      "--name",
      "tiny",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 60, `took ${seconds} s`);
    // The resolved config is printed.
    assert.match(r.stdout, /resolved config:\n\{/);
    // Last line: at least runDir, zsl, chance, gzsl {S, U, H}.
    const last = r.last as {
      runDir: string;
      zsl: number;
      chance: number;
      gzsl: { S: number; U: number; H: number; gamma: number };
      status: string;
      steps: number;
    };
    assert.equal(last.status, "finished");
    assert.equal(last.steps, 6);
    assert.equal(last.chance, 0.25);
    for (const v of [last.zsl, last.gzsl.S, last.gzsl.U, last.gzsl.H, last.gzsl.gamma]) {
      assert.ok(Number.isFinite(v), JSON.stringify(last));
    }
    const dir = last.runDir;
    assert.ok(dir.startsWith(runs) && /\/\d{8}-\d{6}-tiny$/.test(dir), dir);

    // Run folder contents.
    for (
      const f of [
        "config.json",
        "metrics.jsonl",
        "report.html",
        "eval.json",
        "eval.md",
        "confusion.png",
        "seen_unseen_curve.json",
        "checkpoints/last.safetensors",
        "checkpoints/best.safetensors",
        "pictures/attention_00.png",
        "pictures/attention_01.png",
      ]
    ) {
      assert.ok((await Deno.stat(`${dir}/${f}`)).size > 0, f);
    }
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(config.epochs, 2);
    assert.equal(config.imageSize, 32);
    assert.equal(config.backbone.numLayers, 1);

    // metrics.jsonl: one line per step and per epoch.
    const recs = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const steps = recs.filter((x) => x.type === "step");
    const epochs = recs.filter((x) => x.type === "epoch");
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(epochs.map((e) => e.epoch), [0, 1]);
    for (const s of steps) {
      assert.ok(Number.isFinite(s.loss) && s.imagesPerSecond > 0 && s.lr.length === 2);
      assert.ok("ce" in s.terms && "ceVam" in s.terms && "mseVam" in s.terms);
    }
    for (const e of epochs) {
      assert.ok(Number.isFinite(e.trainLoss) && e.heldoutSeenAcc !== null && e.test !== null);
    }

    // report.html: curves as inline SVG, the table, the pictures.
    const html = await Deno.readTextFile(`${dir}/report.html`);
    assert.ok((html.match(/<svg /g) ?? []).length >= 3, "loss, accuracy and seen-unseen charts");
    assert.match(html, /Training loss/);
    assert.match(html, /Per epoch/);
    assert.match(html, /pictures\/attention_00\.png/);
    assert.match(html, /confusion\.png/);

    // eval.json matches the last line.
    const ev = JSON.parse(await Deno.readTextFile(`${dir}/eval.json`));
    assert.equal(ev.zsl, last.zsl);
    assert.deepEqual(Object.keys(ev.branches), ["vam", "global", "fused"]);

    // deno task eval on the run, with a given γ.
    const e = await runScript("eval.ts", ["--run", dir, "--gamma", "0.01", "--threads", "1"]);
    assert.equal(e.code, 0, e.stderr);
    const el = e.last as {
      zsl: number;
      gzsl: { S: number; U: number; H: number; gamma: number; gammaRule: string };
      ausuc: number;
      branches: Record<string, { zsl: number; H: number }>;
    };
    assert.equal(el.gzsl.gamma, 0.01);
    assert.equal(el.gzsl.gammaRule, "given");
    assert.equal(el.zsl, last.zsl, "same checkpoint, same ZSL");
    assert.ok(el.ausuc >= 0 && el.ausuc <= 1);
    assert.deepEqual(Object.keys(el.branches), ["vam", "global", "fused"]);
    assert.match(
      e.stdout,
      /\| branch \| ZSL \(%\) \| S \(%\) \| U \(%\) \| H \(%\) \| AUSUC \(%\)/,
    );
    // It wrote a new evaluation folder; the training-time eval.json stays as it was.
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(`${dir}/evals/001/eval.json`)).gzsl,
      el.gzsl,
    );
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/eval.json`)), ev);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("train: the official recipe (warm-up phase, Adam per epoch, selection on test)", async () => {
  const runs = await Deno.makeTempDir({ prefix: "dsva_official_" });
  try {
    const r = await runScript("train.ts", [
      ...TINY,
      "--recipe",
      "official",
      "--warmup-epochs",
      "1",
      "--epochs",
      "2",
      "--batches",
      "3",
      "--pictures",
      "0",
      "--runs-dir",
      runs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /epoch 1\/2: warm-up \(prototypes \+ ALE Linear\)/);
    assert.match(r.stdout, /epoch 2\/2: fine-tune \(everything\)/);
    assert.match(String(r.last.selection), /official/);
    const g = r.last.gzsl as { gamma: number; gammaRule: string };
    assert.equal(g.gamma, 1e-4);
    assert.equal(g.gammaRule, "given");
    const md = await Deno.readTextFile(`${r.last.runDir}/eval.md`);
    assert.match(md, /best epoch on the TEST set \(official protocol; optimistic\)/);
    const html = await Deno.readTextFile(`${r.last.runDir}/report.html`);
    assert.match(html, /epoch was chosen on the <b>test set<\/b>/);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("train: a non-finite loss stops with the step named", async () => {
  const runs = await Deno.makeTempDir({ prefix: "dsva_nan_" });
  try {
    const r = await runScript("train.ts", [
      ...TINY,
      "--epochs",
      "1",
      "--batches",
      "6",
      "--lr",
      "1e30",
      "--lr-warmup-steps",
      "0",
      "--no-ac",
      "--runs-dir",
      runs,
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const msg = String(r.last.error);
    assert.match(msg, /the loss is (NaN|-?Infinity) at step \d+ \(epoch 0, batch \d+\)/);
    assert.match(r.stderr, /at step \d+/);
    assert.equal(typeof r.last.step, "number");
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("train CLI: a bad flag exits 2 with the field in the last line", async () => {
  const r = await runScript("train.ts", ["--epochs", "zero"]);
  assert.equal(r.code, 2);
  assert.match(String(r.last.error), /epochs: expected number.*\[--epochs\]/);
});

/**
 * Nothing a user has is replaced silently: `eval --run` writes a new `<run>/evals/NNN/` folder
 * each time and leaves the run's own files (training-time `eval.json`, `report.html`, ...) byte
 * for byte as they were; `eval --out` and `attributes --out` into a folder that is not empty
 * stop with exit 2 unless `--overwrite`. With `--on-bad-image skip` a damaged test image is left
 * out and listed in `eval.json` and `report.html`.
 */
import assert from "node:assert/strict";
import { writeSplits } from "../src/data/split_writer.ts";
import { ROOT } from "./helpers.ts";
import { runScript } from "./train_helpers.ts";
import { cutShort, snapshot, TINY_TRAIN, tinyJpegDataset } from "./tiny_dataset.ts";

async function run(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/${script}`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_PROGRESS: "1", INIT_CWD: ROOT },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, text: d.decode(out.stdout) + d.decode(out.stderr) };
}

Deno.test("eval --run twice and --out / attributes --out into a used folder replace nothing", async () => {
  const base = await Deno.makeTempDir({ prefix: "dsva_eval_folders_" });
  try {
    const data = `${base}/data`;
    await tinyJpegDataset(data);
    const { splits } = await writeSplits(data, { seen: 3, seed: 1 });
    const bad = `${data}/images/${splits.splits["3_2"].test_unseen[0]}`;
    await Deno.writeFile(bad, cutShort(await Deno.readFile(bad)));

    const t = await runScript("train.ts", [
      ...["--dataset", data, "--split", "3_2", ...TINY_TRAIN, "--runs-dir", `${base}/runs`],
      ...["--on-bad-image", "skip"],
    ]);
    assert.equal(t.code, 0, t.stderr);
    const runDir = String(t.last.runDir);
    assert.ok(runDir.startsWith("/"), runDir);
    const trained = JSON.parse(await Deno.readTextFile(`${runDir}/eval.json`));
    assert.deepEqual(trained.badImages.map((b: { path: string }) => b.path), [bad]);
    assert.ok((await Deno.readTextFile(`${runDir}/report.html`)).includes(bad));
    const before = await snapshot(runDir);

    // Twice: two new folders, the run's files untouched.
    for (const n of ["001", "002"]) {
      const e = await runScript("eval.ts", ["--run", runDir, "--gamma", "0.01", "--threads", "1"]);
      assert.equal(e.code, 0, e.stderr);
      assert.match(e.stdout, new RegExp(`evaluation folder: ${runDir}/evals/${n}\\n`));
      const ev: { gzsl: { gamma: number }; badImages: { path: string }[] } = JSON.parse(
        await Deno.readTextFile(`${runDir}/evals/${n}/eval.json`),
      );
      assert.deepEqual(e.last, ev);
      assert.equal(ev.gzsl.gamma, 0.01);
      assert.deepEqual(ev.badImages.map((b) => b.path), [bad]);
    }
    assert.deepEqual(await snapshot(runDir, ["evals"]), before);

    // --out into a folder that is not empty: exit 2, its files as they were.
    const first = `${runDir}/evals/001`;
    const kept = await snapshot(first);
    const refused = await run("eval.ts", ["--run", runDir, "--out", first, "--gamma", "0.5"]);
    assert.equal(refused.code, 2, refused.text);
    assert.match(refused.text, /--out .*evals\/001: not empty; .*--overwrite/);
    assert.deepEqual(await snapshot(first), kept);
    const again = await runScript("eval.ts", [
      ...["--run", runDir, "--out", first, "--overwrite", "--gamma", "0.5", "--threads", "1"],
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(`${first}/eval.json`)).gzsl.gamma, 0.5);
    assert.deepEqual(await snapshot(runDir, ["evals"]), before);

    // The default is to fail on the damaged image: no new folder is left behind.
    const failed = await run("eval.ts", ["--run", runDir, "--on-bad-image", "fail"]);
    assert.notEqual(failed.code, 0, failed.text);
    assert.ok(failed.text.includes(bad), failed.text);
    assert.deepEqual([...Deno.readDirSync(`${runDir}/evals`)].map((e) => e.name).sort(), [
      "001",
      "002",
    ]);

    // attributes --out into a folder that holds an attributes.csv.
    const attrDir = `${base}/attributes`;
    await Deno.mkdir(attrDir);
    await Deno.writeTextFile(`${attrDir}/attributes.csv`, ",a\nx,1\n");
    const a = await run("attributes.ts", [
      ...["--model", `${base}/no-such-model`, "--synthetic", "--out", attrDir],
    ]);
    assert.equal(a.code, 2, a.text);
    assert.match(a.text, /--out .*attributes: not empty; .*--overwrite/);
    assert.equal(await Deno.readTextFile(`${attrDir}/attributes.csv`), ",a\nx,1\n");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

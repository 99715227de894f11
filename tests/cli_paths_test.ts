/**
 * Paths resolve where the user means them: on the command line against the directory the
 * command was typed in (`deno task` passes it in `INIT_CWD`), in a config file against the file's
 * folder; printed paths are absolute. Run through `deno task` itself, from a subfolder of the
 * checkout and from a folder outside it (`deno task --config <checkout>/deno.json`, where a
 * relative path resolved from the project root would name another folder): `data split`,
 * `data inspect` (a truncated and a zero-byte JPEG found by the header check, exit 1),
 * `data groups`, `train --dataset <relative path>` (with the missing-groups warning).
 */
import assert from "node:assert/strict";
import { absolutePath, parentDir, readConfigFile, resolvePathFields } from "../src/config/index.ts";
import { ROOT } from "./helpers.ts";
import { TINY_TRAIN, tinyJpegDataset } from "./tiny_dataset.ts";

Deno.test("config paths: absolute against a base; config files against their folder", async () => {
  assert.equal(absolutePath("/a/b", "c/../d/./e"), "/a/b/d/e");
  assert.equal(absolutePath("/a/b", "../../../x"), "/x");
  assert.equal(absolutePath("/a/b", "/abs//y/"), "/abs/y");
  assert.equal(parentDir("/a/b/c.json"), "/a/b");
  assert.deepEqual(
    resolvePathFields({
      dataset: { kind: "folder", dir: "data", groups: "g.json", split: "3_2" },
      backbone: { kind: "darknet", dir: "/w" },
      runsDir: "runs",
      epochs: 2,
    }, "/base"),
    {
      dataset: { kind: "folder", dir: "/base/data", groups: "/base/g.json", split: "3_2" },
      backbone: { kind: "darknet", dir: "/w" },
      runsDir: "/base/runs",
      epochs: 2,
    },
  );
  assert.deepEqual(resolvePathFields({ dataset: "synthetic" }, "/b"), { dataset: "synthetic" });
  assert.deepEqual(resolvePathFields({ dataset: "../d" }, "/b/c"), { dataset: "/b/d" });
  // Not a string: left for the schema to name.
  assert.deepEqual(resolvePathFields({ runsDir: 3 }, "/b"), { runsDir: 3 });

  const dir = await Deno.makeTempDir({ prefix: "dsva_cfg_paths_" });
  try {
    await Deno.mkdir(`${dir}/configs`);
    await Deno.writeTextFile(
      `${dir}/configs/c.json`,
      JSON.stringify({ dataset: { kind: "folder", dir: "../data" }, backbone: "cpu-tiny" }),
    );
    const p = await readConfigFile(`${dir}/configs/c.json`);
    assert.deepEqual(p.dataset, { kind: "folder", dir: `${dir}/data` });
    assert.equal(p.backbone, "cpu-tiny");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `deno task <args>` run in `cwd` as a user would type it (no `INIT_CWD` inherited from a
 * `deno task test` around this test: `deno task` keeps one that is set). */
async function task(cwd: string, ...args: string[]) {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "--config", `${ROOT}/deno.json`, ...args],
    cwd,
    clearEnv: true,
    env: { ...env, NO_PROGRESS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  const stdout = d.decode(out.stdout), stderr = d.decode(out.stderr);
  const lines = stdout.trim().split("\n");
  let last: Record<string, unknown> = {};
  try {
    last = JSON.parse(lines.at(-1) ?? "");
  } catch { /* named by the caller's assertion */ }
  return { code: out.code, stdout, stderr, text: `${stdout}\n${stderr}`, last };
}

/** `to` relative to the folder `from` (both absolute). */
function relative(from: string, to: string): string {
  const a = from.split("/").filter(Boolean), b = to.split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/") || ".";
}

Deno.test("deno task from a subfolder: data split / inspect / groups and train find a relative dataset", async () => {
  const base = await Deno.makeTempDir({ prefix: "dsva_cli_paths_" });
  try {
    const data = `${base}/data`;
    await tinyJpegDataset(data);
    // From a subfolder of the checkout.
    const fromDocs = await task(`${ROOT}/docs`, "data", "inspect", relative(`${ROOT}/docs`, data));
    assert.match(fromDocs.text, new RegExp(`dataset +${data}\n`));
    // From beside the dataset: "../data" from the project root is another folder.
    const here = `${base}/work`;
    await Deno.mkdir(here);
    const rel = "../data";

    // data split writes splits.json and will not replace it.
    const s = await task(here, "data", "split", "--seen", "3", "--seed", "1", rel);
    assert.equal(s.code, 0, s.text);
    assert.equal(s.last.file, `${data}/splits.json`);
    assert.match(s.stdout, new RegExp(`wrote ${data}/splits.json`));
    const splitsText = await Deno.readTextFile(`${data}/splits.json`);
    assert.deepEqual(Object.keys(JSON.parse(splitsText).splits), ["3_2"]);
    const s2 = await task(here, "data", "split", "--seen", "2", rel);
    assert.equal(s2.code, 1, s2.text);
    assert.match(s2.stderr, /splits\.json: exists already; pass --overwrite/);
    assert.equal(await Deno.readTextFile(`${data}/splits.json`), splitsText);

    // data inspect finds it; a truncated and an empty JPEG are found without --decode.
    const i = await task(here, "data", "inspect", rel);
    assert.equal(i.code, 0, i.text);
    assert.deepEqual(i.last, {
      classes: 5,
      attributes: 4,
      trainval: 15,
      testSeen: 3,
      testUnseen: 12,
    });
    const good = await Deno.readFile(`${data}/images/c0/0.jpg`);
    await Deno.writeFile(`${data}/images/c0/cut.jpg`, good.subarray(0, 300));
    await Deno.writeFile(`${data}/images/c1/empty.jpg`, new Uint8Array());
    const b = await task(here, "data", "inspect", rel);
    assert.equal(b.code, 1, b.text);
    assert.match(b.stdout, /bad images \(2\):/);
    assert.match(b.stdout, new RegExp(`${data}/images/c0/cut\\.jpg: truncated JPEG`));
    assert.match(b.stdout, new RegExp(`${data}/images/c1/empty\\.jpg: empty file \\(0 bytes\\)`));
    await Deno.remove(`${data}/images/c0/cut.jpg`);
    await Deno.remove(`${data}/images/c1/empty.jpg`);

    // train --dataset <relative> --runs-dir <relative>: found, paths saved and printed absolute,
    // and the missing groups file said out loud.
    const t = await task(
      here,
      "train",
      ...["--dataset", rel, "--split", "3_2", ...TINY_TRAIN],
      ...["--runs-dir", relative(here, `${base}/runs`)],
    );
    assert.equal(t.code, 0, t.text);
    const runDir = String(t.last.runDir);
    assert.ok(runDir.startsWith(`${base}/runs/`), runDir);
    assert.match(t.stdout, new RegExp(`run folder: ${runDir}\\n`));
    const saved = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`));
    assert.equal(saved.dataset.dir, data);
    assert.ok(
      t.stderr.includes(`train: warning: ${data}: no attribute-groups file`) &&
        t.stderr.includes(`Write ${data}/groups.json`),
      t.stderr,
    );

    // data groups writes a starting file from the attribute names, once.
    const g = await task(here, "data", "groups", rel);
    assert.equal(g.code, 0, g.text);
    const groups = JSON.parse(await Deno.readTextFile(`${data}/groups.json`));
    assert.deepEqual(groups, {
      color: ["color_red", "color_green"],
      shape: ["shape_round", "shape_square"],
    });
    const g2 = await task(here, "data", "groups", rel);
    assert.equal(g2.code, 1, g2.text);
    assert.match(g2.stderr, /groups\.json: exists already; pass --overwrite/);
    // With it, train reads the groups and says nothing about them.
    const t2 = await task(
      here,
      "train",
      ...["--dataset", rel, "--split", "3_2", ...TINY_TRAIN, "--max-steps", "1"],
      ...["--runs-dir", `${base}/runs`],
    );
    assert.equal(t2.code, 0, t2.text);
    assert.match(t2.stdout, /4 attributes in 2 groups;/);
    assert.doesNotMatch(t2.stderr, /no attribute-groups file/);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

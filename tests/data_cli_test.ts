/** `deno task data inspect`: output, last-line JSON, exit status. */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";
import { isDir } from "../ffi/fs.ts";

async function inspect(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/data.ts`, "inspect", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const lines = text.trim().split("\n");
  return { code: out.code, text, last: JSON.parse(lines[lines.length - 1]) };
}

// A real 1×1 gray PNG: inspecting checks every image file's header.
const IMG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==",
  ),
  (ch) => ch.charCodeAt(0),
);

async function dataset(csv: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dsva-cli-" });
  for (const f of ["a/1.png", "a/2.png", "b/1.png", "b/2.png", "c/1.png"]) {
    await Deno.mkdir(`${dir}/images/${f.split("/")[0]}`, { recursive: true });
    await Deno.writeFile(`${dir}/images/${f}`, IMG);
  }
  await Deno.writeTextFile(`${dir}/attributes.csv`, csv);
  await Deno.writeTextFile(
    `${dir}/splits.json`,
    JSON.stringify({
      splits: {
        "2_1": {
          seen: ["a", "b"],
          unseen: ["c"],
          trainval: ["a/1.png", "b/1.png"],
          test_seen: ["a/2.png", "b/2.png"],
          test_unseen: ["c/1.png", "c/9.png"],
        },
      },
    }),
  );
  return dir;
}

Deno.test("data inspect: counts as the last line; problems listed and exit status 1", async () => {
  const dir = await dataset(",x,y\nA,1,0\nB,0,1\nC,1,1\n");
  const r = await inspect(dir);
  assert.equal(r.code, 1, r.text);
  assert.deepEqual(r.last, { classes: 3, attributes: 2, trainval: 2, testSeen: 2, testUnseen: 1 });
  assert.match(r.text, /problems: \n\s+- .*test_unseen names 1 image\(s\) not in .*c\/9\.png/);
  assert.match(r.text, /\* 2_1 +seen 2, unseen 1: trainval 2, test_seen 2, test_unseen 1/);
  const bad = await dataset(",x,y\nA,1,0\nB,0,1\nD,1,1\n");
  const r2 = await inspect(bad);
  assert.equal(r2.code, 1);
  assert.match(
    r2.text,
    /attributes\.csv: 1 of the class folders have no match in the attribute rows: c; unmatched attribute rows: D/,
  );
  for (const d of [dir, bad]) await Deno.remove(d, { recursive: true });
});

Deno.test({
  name: "data inspect: AID from shared/data",
  ignore: Deno.env.get("CI") !== "true" && !isDir(`${ROOT}/../shared/data/aid/images`),
  async fn() {
    const r = await inspect(`${ROOT}/../shared/data/aid`, "--split", "25_5");
    assert.equal(r.code, 0, r.text);
    assert.deepEqual(r.last, {
      classes: 30,
      attributes: 44,
      trainval: 6704,
      testSeen: 1676,
      testUnseen: 1620,
    });
    assert.match(r.text, /problems: none/);
  },
});

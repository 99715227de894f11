/** The `data` namespace runs on the host: importing it must not load libtorch (no
 * `Deno.dlopen`), so data tools and loaders start without the native library. */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";

/** Imports `module` in a fresh Deno whose `Deno.dlopen` throws; returns how it went. */
async function importWithoutDlopen(module: string) {
  const code = `
Deno.dlopen = () => { throw new Error("dlopen called"); };
try {
  await import(${JSON.stringify(`file://${ROOT}/${module}`)});
  console.log("imported");
} catch (e) {
  console.log(String(e?.message ?? e));
}`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.ok(out.success, dec.decode(out.stderr));
  return dec.decode(out.stdout).trim();
}

Deno.test("importing src/data/index.ts does not call Deno.dlopen", async () => {
  assert.equal(await importWithoutDlopen("src/data/index.ts"), "imported");
});

Deno.test("the stub catches a module that loads libtorch (src/data/tensor.ts)", async () => {
  assert.match(await importWithoutDlopen("src/data/tensor.ts"), /dlopen called/);
});

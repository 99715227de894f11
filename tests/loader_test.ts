/** The loader (ffi/lib.ts, ffi/libtorch.ts): the native source list, how the
 * built library links libtorch, the version it reports, and its errors when
 * the library or libtorch cannot be found. */
import assert from "node:assert/strict";
import { PYTHON, ROOT } from "./helpers.ts";
import { NATIVE_FILES } from "../ffi/native_files.ts";
import { MISSING_LIBTORCH } from "../ffi/libtorch.ts";
import { torch } from "../mod.ts";
import { isDir } from "../ffi/fs.ts";

const dec = new TextDecoder();

/** Runs a command; returns exit status and text output. */
async function sh(cmd: string, args: string[], opts: Deno.CommandOptions = {}) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...opts })
    .output();
  return {
    ok: out.success,
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** The caller's environment without anything that would point the loader at libtorch. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env = Deno.env.toObject();
  for (const k of Object.keys(env)) {
    if (k === "LIBTORCH" || k === "VIRTUAL_ENV" || k.startsWith("DSVA_TORCH_")) delete env[k];
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Runs `deno run` on a one-line script that imports `moduleUrl` and prints the version. */
async function denoImport(moduleUrl: string, env: Record<string, string>, cwd: string) {
  const script = `${cwd}/probe.ts`;
  await Deno.writeTextFile(
    script,
    `const m = await import(${
      JSON.stringify(moduleUrl)
    });\nconsole.log("loaded", m.libraryInfo?.path ?? m.torch?.version());\n`,
  );
  return await sh(Deno.execPath(), ["run", "--no-config", "-A", script], {
    cwd,
    env,
    clearEnv: true,
  });
}

function walk(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const rel = prefix + e.name;
    if (e.isDirectory) out.push(...walk(`${dir}/${e.name}`, `${rel}/`));
    else out.push(rel);
  }
  return out;
}

Deno.test("loader: ffi/native_files.ts lists exactly the files under native/ (build excluded)", () => {
  const onDisk = walk(`${ROOT}/native`).filter((f) => !f.startsWith("build/")).sort();
  assert.deepEqual([...NATIVE_FILES].sort(), onDisk);
  assert.equal(new Set(NATIVE_FILES).size, NATIVE_FILES.length, "duplicate entries");
});

Deno.test("loader: the library NEEDs libtorch_cpu and libc10, and its RPATH is where they resolve", async () => {
  const lib = torch.library().path;
  const dyn = await sh("readelf", ["-d", lib]);
  assert(dyn.ok, dyn.stderr);
  const needed = [...dyn.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) =>
    m[1]
  );
  for (const so of ["libtorch_cpu.so", "libc10.so"]) {
    assert(needed.includes(so), `${so} not NEEDED by ${lib}: ${needed.join(", ")}`);
  }
  const rpaths = [
    ...dyn.stdout.matchAll(/\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]+)\]/g),
  ]
    .flatMap((m) => m[1].split(":"));
  assert(rpaths.length > 0, `no RPATH/RUNPATH in ${lib}:\n${dyn.stdout}`);

  const ldd = await sh("ldd", [lib]);
  assert(ldd.ok, ldd.stderr);
  const resolved = (so: string) =>
    [...ldd.stdout.matchAll(new RegExp(`^\\s*${so.replace(".", "\\.")} => (\\S+)`, "gm"))]
      .map((m) => m[1]);
  const c10 = resolved("libc10.so");
  const cpu = resolved("libtorch_cpu.so");
  assert.equal(c10.length, 1, `libc10.so resolved ${c10.length} times:\n${ldd.stdout}`);
  assert.equal(cpu.length, 1, `libtorch_cpu.so resolved ${cpu.length} times:\n${ldd.stdout}`);
  assert(!ldd.stdout.includes("not found"), ldd.stdout);
  const dirOf = (p: string) => Deno.realPathSync(p.slice(0, p.lastIndexOf("/")));
  assert.equal(dirOf(c10[0]), dirOf(cpu[0]), "libc10 and libtorch_cpu come from different folders");
  const rpathDirs = rpaths.map((d) => {
    try {
      return Deno.realPathSync(d);
    } catch {
      return d;
    }
  });
  assert(
    rpathDirs.includes(dirOf(c10[0])),
    `RPATH ${rpaths.join(":")} does not hold the resolved ${c10[0]}`,
  );
});

Deno.test("loader: torch.version() is the .venv torch package's version", async () => {
  const py = await sh(PYTHON, ["-c", "import importlib.metadata as m; print(m.version('torch'))"]);
  assert(py.ok, py.stderr);
  const expected = py.stdout.trim().replace(/\+.*/, "");
  assert.match(expected, /^\d+\.\d+\.\d+/);
  assert.equal(torch.version(), expected);
});

Deno.test("loader: DSVA_TORCH_LIB naming a missing file is a clear error", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "dsva_loader_" });
  try {
    const missing = `${tmp}/nowhere/libdsva_torch.so`;
    const r = await denoImport(
      `file://${ROOT}/mod.ts`,
      cleanEnv({ DSVA_TORCH_LIB: missing }),
      tmp,
    );
    assert(!r.ok, `loading succeeded:\n${r.stdout}`);
    assert(r.stderr.includes(`DSVA_TORCH_LIB=${missing}`), r.stderr);
    assert(r.stderr.includes("is not a file"), r.stderr);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Whether `python` (with PATH=/usr/bin:/bin) can import torch. */
function hasTorch(python: string): boolean {
  try {
    return new Deno.Command(python, {
      args: ["-c", "import torch"],
      env: { PATH: "/usr/bin:/bin" },
      clearEnv: true,
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false; // no such python
  }
}

const SYSTEM_PY = "/usr/bin/python3";
const systemHasTorch = hasTorch(SYSTEM_PY) ||
  [`/usr/local/libtorch`, `/usr/lib/x86_64-linux-gnu/cmake/Torch`].some(isDir);

/** Every line of MISSING_LIBTORCH, so the message tells what to install. */
function assertMissingMessage(stderr: string) {
  for (const line of MISSING_LIBTORCH.split("\n")) {
    assert(stderr.includes(line.trim()), `missing "${line.trim()}" in:\n${stderr}`);
  }
  assert(stderr.includes("pip install torch"), stderr);
}

Deno.test({
  name: "loader: DSVA_TORCH_PYTHON without torch gives the install instructions (checkout import)",
  ignore: hasTorch(SYSTEM_PY),
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "dsva_loader_" });
    try {
      const r = await denoImport(
        `file://${ROOT}/mod.ts`,
        cleanEnv({ DSVA_TORCH_PYTHON: SYSTEM_PY, DSVA_TORCH_CACHE: `${tmp}/cache` }),
        tmp,
      );
      assert(!r.ok, `loading succeeded:\n${r.stdout}`);
      assertMissingMessage(r.stderr);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "loader: with no libtorch anywhere, a source copy without a build names what to install",
  ignore: systemHasTorch,
  async fn() {
    // A copy of ffi/ and the native sources (no native/build, no .venv beside it),
    // imported by file URL from a folder with no .venv, with a bare environment:
    // every place findLibtorch searches comes up empty.
    const tmp = await Deno.makeTempDir({ prefix: "dsva_loader_" });
    try {
      const copy = `${tmp}/copy`;
      await Deno.mkdir(`${copy}/ffi`, { recursive: true });
      for (const e of Deno.readDirSync(`${ROOT}/ffi`)) {
        if (e.isFile) await Deno.copyFile(`${ROOT}/ffi/${e.name}`, `${copy}/ffi/${e.name}`);
      }
      for (const name of NATIVE_FILES) {
        const to = `${copy}/native/${name}`;
        await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
        await Deno.copyFile(`${ROOT}/native/${name}`, to);
      }
      const cwd = `${tmp}/elsewhere`;
      await Deno.mkdir(cwd);
      const cache = `${tmp}/cache`;
      const r = await denoImport(`file://${copy}/ffi/lib.ts`, {
        PATH: "/usr/bin:/bin",
        HOME: tmp,
        NO_COLOR: "1",
        DENO_DIR: `${tmp}/deno-dir`,
        DSVA_TORCH_CACHE: cache,
      }, cwd);
      assert(!r.ok, `loading succeeded:\n${r.stdout}`);
      assertMissingMessage(r.stderr);
      let cached: string[] = [];
      try {
        cached = [...Deno.readDirSync(cache)].map((e) => e.name);
      } catch { /* never created: fine */ }
      assert.deepEqual(cached, [], "something was built or cached without libtorch");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

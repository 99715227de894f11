/**
 * Every failure a user meets on the command line is one named line, not a stack: each case runs
 * `deno run -A scripts/<task>.ts ...` on a real damaged copy of a tiny dataset (real JPEGs from
 * sharp, a real checkpoint of a one-batch training run) and checks a non-zero exit, exactly one
 * `<task>: error: ...` line that names the file or field at fault, the same message as the last
 * stdout line's `error`, and no `    at ` frame or `Uncaught` on stderr. A bug (an unknown error
 * type) still shows its stack, and `--debug` / `DSVA_DEBUG=1` show it for every error.
 */
import assert from "node:assert/strict";
import { loadSharp } from "../src/data/npm.ts";
import { writeSplits } from "../src/data/split_writer.ts";
import { ROOT } from "./helpers.ts";

const CLASSES = ["c0", "c1", "c2", "c3", "c4"];
const SPLIT = "3_2";

/** The smallest model and run: a 1-layer ViT at 32 px, one epoch of one batch. */
const TINY = [
  ...["--split", SPLIT, "--threads", "1", "--image-size", "32", "--ways", "2", "--shots", "2"],
  ...["--set", "backbone.hiddenSize=32", "--set", "backbone.numLayers=1"],
  ...["--set", "backbone.numHeads=2", "--set", "backbone.intermediateSize=64"],
  ...["--epochs", "1", "--batches", "1", "--test-batch-size", "200", "--pictures", "0"],
];

/** A dataset folder: 5 classes × 4 JPEGs of 32×32, 4 attributes, a seeded 3/2 split. */
async function tinyDataset(dir: string): Promise<void> {
  const sharp = await loadSharp();
  for (const [c, name] of CLASSES.entries()) {
    await Deno.mkdir(`${dir}/images/${name}`, { recursive: true });
    for (let i = 0; i < 4; i++) {
      const px = new Uint8Array(32 * 32 * 3).map((_, p) => (p * (c + 3) + i * 29) % 251);
      const jpg = await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).jpeg()
        .toBuffer();
      await Deno.writeFile(`${dir}/images/${name}/${i}.jpg`, jpg);
    }
  }
  await Deno.writeTextFile(`${dir}/attributes.csv`, csv(CLASSES.map((_, c) => attrs(c))));
  await writeSplits(dir, { seen: 3, seed: 1 });
}

const attrs = (c: number) => [c % 2, (c >> 1) % 2, c / 4, 1 - c / 4].map(String);
const csv = (rows: string[][], header = ",a,b,c,d") =>
  `${header}\n${rows.map((r, c) => `${CLASSES[c]},${r.join(",")}`).join("\n")}\n`;

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(script: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/${script}`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_PROGRESS: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** One failure: the command, the exit status, and what its error line must name. */
interface Case {
  name: string;
  task: string;
  script: string;
  /** Builds the case's inputs in `dir` (a copy of the good dataset) and returns the arguments. */
  setup: (dir: string) => Promise<string[]>;
  code: number;
  /** What the error line names (the file and the field, value or problem). */
  names: (dir: string) => (string | RegExp)[];
}

/** Checks a failed run: the exit status, one `<task>: error:` line naming `names`, the same
 * message as the stdout JSON's `error`, no stack frame, no `Uncaught`. */
function assertNamedError(c: Case, dir: string, r: Ran): void {
  const all = `exit ${r.code}\n--- stderr\n${r.stderr}\n--- stdout tail\n${r.stdout.slice(-1500)}`;
  assert.equal(r.code, c.code, `${c.name}: ${all}`);
  const lines = r.stderr.split("\n").filter((l) => l.startsWith(`${c.task}: error: `));
  assert.equal(lines.length, 1, `${c.name}: one error line expected\n${all}`);
  for (const n of c.names(dir)) {
    if (typeof n === "string") assert.ok(lines[0].includes(n), `${c.name}: no "${n}" in\n${all}`);
    else assert.match(lines[0], n, `${c.name}: ${all}`);
  }
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${c.name}: a stack frame\n${all}`);
  assert.doesNotMatch(r.stderr + r.stdout, /Uncaught/, `${c.name}: ${all}`);
  const last = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.equal(`${c.task}: error: ${last.error}`, lines[0], `${c.name}: ${all}`);
  const hint = r.stderr.split("\n").find((l) => l.startsWith("hint: "));
  console.log(`${c.name}:\n  ${lines[0]}${hint ? `\n  ${hint}` : ""}`);
}

const image = (dir: string, i = 0, cls = "c0") => `${dir}/images/${cls}/${i}.jpg`;
const train = (dir: string, ...more: string[]) => [
  "--dataset",
  dir,
  ...TINY,
  "--runs-dir",
  `${dir}/runs`,
  ...more,
];

/** Whether chmod stops this user writing (not for root). */
async function chmodBlocksWrites(base: string): Promise<boolean> {
  const dir = `${base}/probe`;
  await Deno.mkdir(dir);
  await Deno.chmod(dir, 0o555);
  try {
    await Deno.writeTextFile(`${dir}/x`, "x");
    return false;
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) return true;
    throw e;
  } finally {
    await Deno.chmod(dir, 0o755);
  }
}

const DATA_CASES: Case[] = [
  {
    name: "a truncated JPEG",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      const jpg = await Deno.readFile(image(d));
      await Deno.writeFile(image(d), jpg.subarray(0, Math.floor(jpg.length * 0.6)));
      return train(d);
    },
    code: 1,
    names: (d) => [image(d), /truncated JPEG/],
  },
  {
    name: "a zero-byte JPEG",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      await Deno.writeFile(image(d, 1, "c3"), new Uint8Array());
      return train(d);
    },
    code: 1,
    names: (d) => [image(d, 1, "c3"), /empty file/],
  },
  {
    name: "a text file named .jpg",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      await Deno.writeTextFile(image(d, 2, "c1"), "this is not an image\n");
      return train(d);
    },
    code: 1,
    names: (d) => [image(d, 2, "c1"), /not an image/],
  },
  {
    name: "a CSV missing a class row",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      await Deno.writeTextFile(
        `${d}/attributes.csv`,
        csv(CLASSES.slice(0, 4).map((_, c) => attrs(c))),
      );
      return train(d);
    },
    code: 1,
    names: (d) => [`${d}/attributes.csv`, "c4"],
  },
  {
    name: "a CSV with an extra column",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      const rows = CLASSES.map((_, c) => c === 2 ? [...attrs(c), "0.5"] : attrs(c));
      await Deno.writeTextFile(`${d}/attributes.csv`, csv(rows));
      return train(d);
    },
    code: 1,
    names: (d) => [`${d}/attributes.csv`, /\b5\b/],
  },
  {
    name: "a non-numeric attribute",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      const rows = CLASSES.map((_, c) => c === 1 ? ["0", "high", "0.25", "0.75"] : attrs(c));
      await Deno.writeTextFile(`${d}/attributes.csv`, csv(rows));
      return train(d);
    },
    code: 1,
    names: (d) => [`${d}/attributes.csv`, "high"],
  },
  {
    name: "a NaN attribute",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      const rows = CLASSES.map((_, c) => c === 3 ? ["1", "1", "NaN", "0.25"] : attrs(c));
      await Deno.writeTextFile(`${d}/attributes.csv`, csv(rows));
      return train(d);
    },
    code: 1,
    names: (d) => [`${d}/attributes.csv`, "NaN"],
  },
  {
    name: "a split naming a missing image",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      const f = JSON.parse(await Deno.readTextFile(`${d}/splits.json`));
      f.splits[SPLIT].trainval.push(`${f.splits[SPLIT].seen[0]}/gone.jpg`);
      await Deno.writeTextFile(`${d}/splits.json`, JSON.stringify(f));
      return train(d);
    },
    code: 1,
    names: () => ["gone.jpg", SPLIT],
  },
  {
    name: "an unknown split name",
    task: "train",
    script: "train.ts",
    setup: (d) => Promise.resolve(train(d, "--split", "9_9")),
    code: 1,
    names: (d) => [`${d}/splits.json`, "9_9"],
  },
  {
    name: "a groups column out of range",
    task: "train",
    script: "train.ts",
    setup: async (d) => {
      await Deno.writeTextFile(`${d}/groups.json`, JSON.stringify({ g1: [0, 1], g2: [2, 99] }));
      return train(d, "--groups", `${d}/groups.json`);
    },
    code: 1,
    names: (d) => [`${d}/groups.json`, "99"],
  },
  {
    name: "a dataset folder that does not exist",
    task: "train",
    script: "train.ts",
    setup: (d) => Promise.resolve(["--dataset", `${d}/nowhere`, ...TINY]),
    code: 1,
    names: (d) => [`${d}/nowhere`],
  },
  {
    name: "data inspect --bogus",
    task: "data",
    script: "data.ts",
    setup: (d) => Promise.resolve(["inspect", d, "--bogus"]),
    code: 2,
    names: () => ["--bogus"],
  },
];

Deno.test("cli errors: every bad input is one named line, no stack", async () => {
  const base = await Deno.makeTempDir({ prefix: "dsva_cli_errors_" });
  try {
    const good = `${base}/good`;
    await tinyDataset(good);
    const cases = [...DATA_CASES];

    // A runs folder the run cannot write into.
    if (await chmodBlocksWrites(base)) {
      cases.push({
        name: "a read-only runs folder",
        task: "train",
        script: "train.ts",
        setup: async (d) => {
          await Deno.mkdir(`${d}/runs`);
          await Deno.chmod(`${d}/runs`, 0o555);
          return train(d);
        },
        code: 1,
        names: (d) => [`${d}/runs`, /Permission denied/i],
      });
    } else {
      console.warn(
        "cli errors: running as root, where chmod does not stop writes: the unwritable runs " +
          "folder is a runs path under a file instead of a read-only folder",
      );
      cases.push({
        name: "a runs folder under a file",
        task: "train",
        script: "train.ts",
        setup: async (d) => {
          await Deno.writeTextFile(`${d}/runs_file`, "not a folder");
          return [...train(d), "--runs-dir", `${d}/runs_file/runs`];
        },
        code: 1,
        names: (d) => [`${d}/runs_file/runs`, /Not a directory/i],
      });
    }

    // A real checkpoint (one batch) for the weight-file and evaluation cases.
    const evalData = `${base}/eval_data`;
    await copyTree(good, evalData);
    const trained = run("train.ts", train(evalData));

    // The data cases meanwhile, three at a time (2-core machines).
    const failures: string[] = [];
    const queue = cases.map((c, i) => ({ c, dir: `${base}/case${i}` }));
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        await copyTree(good, job.dir);
        const args = await job.c.setup(job.dir);
        const r = await run(job.c.script, args);
        try {
          assertNamedError(job.c, job.dir, r);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    await Promise.all([worker(), worker()]);

    const t = await trained;
    assert.equal(t.code, 0, t.stderr);
    const runDir = JSON.parse(t.stdout.trim().split("\n").at(-1)!).runDir as string;
    const ck = `${runDir}/checkpoints/last.safetensors`;
    const bytes = await Deno.readFile(ck);
    const evalCases: Case[] = [
      {
        name: "a truncated .safetensors",
        task: "eval",
        script: "eval.ts",
        setup: async (d) => {
          await Deno.writeFile(`${d}/cut.safetensors`, bytes.subarray(0, bytes.length >> 1));
          return ["--checkpoint", `${d}/cut.safetensors`];
        },
        code: 1,
        names: (d) => [`${d}/cut.safetensors`],
      },
      {
        name: "a random-bytes .safetensors",
        task: "eval",
        script: "eval.ts",
        setup: async (d) => {
          const noise = new Uint8Array(4096);
          crypto.getRandomValues(noise);
          await Deno.writeFile(`${d}/noise.safetensors`, noise);
          return ["--checkpoint", `${d}/noise.safetensors`];
        },
        code: 1,
        names: (d) => [`${d}/noise.safetensors`],
      },
      {
        name: "eval of a run whose test image was damaged since",
        task: "eval",
        script: "eval.ts",
        setup: async () => {
          await Deno.writeFile(image(evalData, 3, "c2"), new Uint8Array(10));
          return ["--run", runDir, "--out", `${base}/eval_out`];
        },
        code: 1,
        names: () => [image(evalData, 3, "c2")],
      },
    ];
    queue.push(...evalCases.map((c, i) => ({ c, dir: `${base}/eval_case${i}` })));
    await Promise.all([worker(), worker()]);
    assert.deepEqual(failures, []);

    // --debug and DSVA_DEBUG=1: the same error line, with its stack.
    for (const [args, env] of [[["--debug"], {}], [[], { DSVA_DEBUG: "1" }]] as const) {
      const r = await run(
        "eval.ts",
        ["--checkpoint", `${base}/eval_case1/noise.safetensors`, ...args],
        env,
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^eval: error: .*noise\.safetensors/m);
      assert.match(r.stderr, /^\s+at /m, r.stderr);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

/** Runs `body` (TypeScript, in an async function given `argv`) as a command through
 * `runCommand`, in a fresh process. */
async function command(body: string, argv: string[] = [], env: Record<string, string> = {}) {
  const code = `import { runCommand } from "${ROOT}/src/cli/task_exit.ts";
await runCommand("probe", ${JSON.stringify(argv)}, async (argv) => { ${body} });`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("a split naming a missing image trains with --skip-missing, the image named", async () => {
  const d = await Deno.makeTempDir({ prefix: "dsva_skip_missing_" });
  try {
    await tinyDataset(d);
    const f = JSON.parse(await Deno.readTextFile(`${d}/splits.json`));
    f.splits[SPLIT].trainval.push(`${f.splits[SPLIT].seen[0]}/gone.jpg`);
    await Deno.writeTextFile(`${d}/splits.json`, JSON.stringify(f));
    const r = await run("train.ts", train(d, "--skip-missing"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /gone\.jpg.*\(skipped\)/);
    const config = JSON.parse(
      await Deno.readTextFile(
        JSON.parse(r.stdout.trim().split("\n").at(-1)!).runDir + "/config.json",
      ),
    );
    assert.equal(config.dataset.skipMissing, true);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("cli errors: a bug keeps its stack; a promise nobody awaits ends the same way", async () => {
  // A TypeError is a bug: the line, then the stack and the word that it is a bug.
  const bug = await command("const o: { a?: { b: number } } = {}; console.log(o.a!.b);");
  assert.equal(bug.code, 1, bug.stderr);
  assert.match(bug.stderr, /^probe: error: TypeError: /m);
  assert.match(bug.stderr, /^\s+at /m);
  assert.match(bug.stderr, /hint: this is a bug/);
  // A known error rejected where nobody awaits it: one line, exit 1.
  const lost = await command(
    `const { DataError } = await import("${ROOT}/src/data/errors.ts");
     Promise.reject(new DataError("x.csv", "line 2: bad")); await new Promise((r) => setTimeout(r, 200));`,
  );
  assert.equal(lost.code, 1, lost.stderr);
  assert.match(lost.stderr, /^probe: error: x\.csv: line 2: bad$/m);
  assert.doesNotMatch(lost.stderr, /^\s+at |Uncaught/m);
  // --debug is taken out of the arguments and adds the stack; a usage error exits 2.
  const usage = await command(
    `if (argv.length) throw new Error("argv " + argv.join(" "));
     const { UsageError } = await import("${ROOT}/src/cli/task_exit.ts");
     throw new UsageError("--x: expected a number");`,
    ["--debug"],
  );
  assert.equal(usage.code, 2, usage.stderr);
  assert.match(usage.stderr, /^probe: error: --x: expected a number$/m);
  assert.match(usage.stderr, /^\s+at /m);
  assert.deepEqual(JSON.parse(usage.stdout.trim().split("\n").at(-1)!), {
    error: "--x: expected a number",
  });
});

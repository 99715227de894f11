/**
 * Interrupt + resume: a tiny run stopped by SIGINT mid-epoch, resumed, stopped again by SIGTERM,
 * and resumed to the end finishes with the same weights (≤ 1e-6; in practice identical) and the
 * same optimizer state as an uninterrupted run with the same seed, and its metrics.jsonl holds
 * every step once.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../src/io/index.ts";
import type { Tensor } from "../src/tensor/index.ts";
import { ROOT } from "./helpers.ts";
import { runScript, TINY } from "./train_helpers.ts";

const BASE = [...TINY, "--epochs", "3", "--batches", "8", "--pictures", "0"];
const TOTAL = 24;

function stepLines(path: string): number {
  try {
    return Deno.readTextFileSync(path).split("\n").filter((l) => l.includes('"type":"step"'))
      .length;
  } catch {
    return 0;
  }
}

function runDirIn(runs: string): string | null {
  for (const e of Deno.readDirSync(runs)) if (e.isDirectory) return `${runs}/${e.name}`;
  return null;
}

/** Starts train.ts, waits until `metrics.jsonl` has more than `after` + 2 step lines, sends
 * `signal`, and returns the exit code and last output line. */
async function interrupt(
  args: string[],
  runs: string,
  after: number,
  signal: Deno.Signal,
): Promise<{ code: number; last: Record<string, unknown>; dir: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/train.ts`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_PROGRESS: "1" },
  }).spawn();
  const out = child.output();
  let dir: string | null = null;
  const t0 = performance.now();
  while (performance.now() - t0 < 120_000) {
    dir ??= runDirIn(runs);
    if (dir && stepLines(`${dir}/metrics.jsonl`) >= after + 3) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill(signal);
  const o = await out;
  const stdout = new TextDecoder().decode(o.stdout);
  const last = JSON.parse(stdout.trim().split("\n").at(-1)!);
  return { code: o.code, last, dir: dir! };
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

/** Runs ARGS + `extra` uninterrupted and interrupted (SIGINT, resume, then SIGTERM, resume when
 * `sigterm`), and checks the two end the same. */
async function resumeCase(extra: string[], sigterm: boolean): Promise<void> {
  const ARGS = [...BASE, ...extra];
  const base = await Deno.makeTempDir({ prefix: "dsva_resume_" });
  try {
    // The reference: one uninterrupted run.
    const a = await runScript("train.ts", [...ARGS, "--runs-dir", `${base}/a`]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.last.steps, TOTAL);
    const dirA = String(a.last.runDir);

    // The same run, stopped by SIGINT a few steps in, then resumed.
    await Deno.mkdir(`${base}/b`);
    const i1 = await interrupt([...ARGS, "--runs-dir", `${base}/b`], `${base}/b`, 0, "SIGINT");
    assert.equal(i1.code, 130, JSON.stringify(i1.last));
    assert.equal(i1.last.status, "interrupted");
    assert.equal(i1.last.signal, "SIGINT");
    const s1 = i1.last.step as number;
    assert.ok(s1 > 0 && s1 < TOTAL, `stopped at step ${s1}`);
    const dirB = i1.dir;
    assert.equal(i1.last.runDir, dirB);
    assert.ok(Deno.statSync(`${dirB}/checkpoints/last.safetensors`).size > 0);

    // Resumed, then (with `sigterm`) stopped again by SIGTERM.
    const i2 = sigterm
      ? await interrupt(["--resume", dirB, "--threads", "1"], `${base}/b`, s1, "SIGTERM")
      : await runScript("train.ts", ["--resume", dirB, "--threads", "1"]);
    let finalB: Record<string, unknown>;
    if (i2.code === 0) {
      finalB = i2.last; // it finished before the signal: still a valid resume
    } else {
      assert.equal(i2.code, 143, JSON.stringify(i2.last));
      assert.equal(i2.last.signal, "SIGTERM");
      assert.ok((i2.last.step as number) > s1);
      const r = await runScript("train.ts", ["--resume", dirB, "--threads", "1"]);
      assert.equal(r.code, 0, r.stderr);
      finalB = r.last;
    }
    assert.equal(finalB.status, "finished");
    assert.equal(finalB.steps, TOTAL);
    assert.equal(finalB.runDir, dirB);

    // Same weights and Adam moments as the uninterrupted run.
    const wa = await weights(`${dirA}/checkpoints/last.safetensors`);
    const wb = await weights(`${dirB}/checkpoints/last.safetensors`);
    assert.deepEqual([...wb.keys()], [...wa.keys()]);
    let worst = 0;
    for (const [k, x] of wa) {
      const y = wb.get(k)!;
      assert.equal(y.length, x.length, k);
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    }
    assert.ok(worst <= 1e-6, `max |Δ| = ${worst}`);

    // Same results, and each step logged once.
    assert.equal(finalB.zsl, a.last.zsl);
    assert.deepEqual(finalB.gzsl, a.last.gzsl);
    const recs = Deno.readTextFileSync(`${dirB}/metrics.jsonl`).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(
      recs.filter((r) => r.type === "step").map((r) => r.step),
      Array.from({ length: TOTAL }, (_, i) => i + 1),
    );
    assert.deepEqual(recs.filter((r) => r.type === "epoch").map((r) => r.epoch), [0, 1, 2]);
    const lossA = Deno.readTextFileSync(`${dirA}/metrics.jsonl`).trim().split("\n").map((l) =>
      JSON.parse(l)
    ).filter((r) => r.type === "step").map((r) => r.loss);
    assert.deepEqual(recs.filter((r) => r.type === "step").map((r) => r.loss), lossA);

    // A resumed run may not change what decides its weights.
    const bad = await runScript("train.ts", ["--resume", dirB, "--lr", "0.1"]);
    assert.equal(bad.code, 2);
    assert.match(String(bad.last.error), /lr cannot change when resuming/);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("train: SIGINT + resume + SIGTERM + resume ends with the uninterrupted weights", () =>
  resumeCase([], true));

Deno.test("train: official recipe (Adam re-created each epoch): SIGINT + resume, same weights", () =>
  resumeCase(["--recipe", "official", "--warmup-epochs", "1"], false));

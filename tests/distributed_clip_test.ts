/**
 * Data-parallel `deno task clip:finetune` on Gloo: 2 ranks (`--nproc-per-node 2`, each encoding
 * half of every batch of 4, the contrastive loss over the whole batch from all-gathered
 * embeddings) end a tiny from-scratch run of 24 steps with the weights and AdamW moments of one
 * process with the same config (≤ 1e-6, the attention key biases aside: see NOISE_PARAM), the
 * same logged losses, and only rank 0 writing the run folder; the same through `torchrun
 * --no-python --nproc-per-node 2`, and after a SIGINT of the launcher resumed with 2 ranks.
 */
import assert from "node:assert/strict";
import { data, distributed } from "../mod.ts";
import { loadCheckpoint } from "../src/io/index.ts";
import type { Tensor } from "../src/tensor/index.ts";
import { ROOT } from "./helpers.ts";

const haveGloo = distributed.isBackendAvailable("gloo");
if (!haveGloo) {
  const msg = "the shim was built without Gloo (apt-get install libgloo-dev, deno task build)";
  if (Deno.env.get("CI") === "true") throw new Error(`distributed clip tests: ${msg}`);
  console.warn(`SKIPPING distributed clip tests: ${msg}`);
}

/** As in the DSVA test: the attention key bias gets no gradient in exact arithmetic (softmax
 * ignores a shift common to a query's logits); backward hands back rounding noise that AdamW
 * divides by its own size into steps of about ±lr, so two half-batches move it differently.
 * It and its moments are left out; the test checks its gradient was noise-sized. */
const NOISE_PARAM = /\.self_attn\.k_proj\.bias$/;

/** 3 classes × 4 noisy 16×16 images and a captions CSV (two captions an image). */
async function tinySet(dir: string): Promise<void> {
  const colors: Record<string, [number, number, number]> = {
    lake: [30, 60, 200],
    forest: [20, 140, 30],
    desert: [220, 190, 120],
  };
  const rows = ["image,caption"];
  for (const [cls, rgb] of Object.entries(colors)) {
    await Deno.mkdir(`${dir}/images/${cls}`, { recursive: true });
    for (let i = 0; i < 4; i++) {
      const img = data.rgbImage(16, 16);
      for (let p = 0; p < 256; p++) {
        for (let c = 0; c < 3; c++) {
          img.data[3 * p + c] = Math.max(0, Math.min(255, rgb[c] + ((p * 37 + i * 11) % 41) - 20));
        }
      }
      await data.writePng(`${dir}/images/${cls}/${cls}_${i}.png`, img);
      rows.push(`${cls}/${cls}_${i}.png,"an aerial image of ${cls} number ${i}."`);
      rows.push(`${cls}/${cls}_${i}.png,"a ${cls} seen from above."`);
    }
  }
  await Deno.writeTextFile(`${dir}/captions.csv`, rows.join("\n") + "\n");
}

function args(dir: string, name: string): string[] {
  return [
    "--captions",
    `${dir}/captions.csv`,
    "--images",
    `${dir}/images`,
    ...["--image-size", "16", "--patch-size", "8", "--width", "16", "--heads", "2"],
    ...["--vision-layers", "1", "--text-layers", "1", "--projection-dim", "16"],
    ...["--context-length", "16", "--max-merges", "40"],
    ...["--epochs", "8", "--batch-size", "4", "--lr", "1e-3", "--warmup-steps", "2"],
    ...["--log-every", "3", "--checkpoint-every", "6", "--threads", "1"],
    ...["--runs-dir", `${dir}/runs`, "--name", name],
  ];
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/clip_finetune.ts`, ...argv],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** The run folder named `name` under `dir/runs`. */
function runDirOf(dir: string, name: string): string {
  const found = [...Deno.readDirSync(`${dir}/runs`)].filter((e) => e.name.endsWith(`-${name}`));
  assert.equal(found.length, 1, `one run folder named ${name}`);
  return `${dir}/runs/${found[0].name}`;
}

/** Weights and AdamW moments of the last checkpoint (key biases left out), and the largest
 * gradient RMS (√v) among the left-out key biases. */
async function finalState(runDir: string) {
  using ck = await loadCheckpoint(`${runDir}/checkpoints/last.safetensors`);
  assert.equal(ck.step, 24);
  const values = new Map<string, Float32Array>();
  const model = [...(ck.model as Map<string, Tensor>)];
  for (const [k, t] of model) {
    if (!NOISE_PARAM.test(k)) values.set(k, Float32Array.from(t.toTypedArray() as Float32Array));
  }
  const opt = ck.optimizer as { state: Record<string, Record<string, Tensor>> };
  let noise = 0, noiseCount = 0;
  for (const [i, s] of Object.entries(opt.state)) {
    const rms = Math.sqrt(Math.max(...(s.exp_avg_sq.toTypedArray() as Float32Array)));
    if (rms < 1e-6) {
      noise = Math.max(noise, rms);
      noiseCount++;
      continue;
    }
    for (const [k, t] of Object.entries(s)) {
      if (t.numel > 0 && t.dtype === "float32") {
        values.set(`optimizer.${i}.${k}`, Float32Array.from(t.toTypedArray() as Float32Array));
      }
    }
  }
  assert.equal(
    noiseCount,
    model.filter(([k]) => NOISE_PARAM.test(k)).length,
    "exactly the key biases have noise-sized gradients",
  );
  return { values, noise };
}

function losses(runDir: string): number[] {
  return Deno.readTextFileSync(`${runDir}/log.jsonl`).trim().split("\n").map((l) =>
    JSON.parse(l).loss
  );
}

/** Asserts that the run in `b` ended as the one-process run in `a`: the same logged losses,
 * weights within 1e-6, AdamW moments within 1e-5 of each tensor's largest entry. A log line is
 * the mean of the steps since the previous one in this session, so after a stop at step
 * `stoppedAt` the line whose window it cuts is left out. */
async function expectSame(a: string, b: string, what: string, stoppedAt = 0): Promise<void> {
  const la = losses(a), lb = losses(b);
  assert.equal(la.length, 8);
  assert.deepEqual(lb.length, la.length, `${what}: one log line each 3 steps`);
  for (let i = 0; i < la.length; i++) {
    const end = 3 * (i + 1);
    if (stoppedAt > end - 3 && stoppedAt < end) continue;
    assert.ok(Math.abs(la[i] - lb[i]) < 1e-5, `${what}: loss ${i}: ${la[i]} vs ${lb[i]}`);
  }
  const sa = await finalState(a), sb = await finalState(b);
  assert.ok(sa.noise < 1e-6 && sb.noise < 1e-6);
  assert.deepEqual([...sa.values.keys()].sort(), [...sb.values.keys()].sort());
  // Weights: |Δ| ≤ 1e-6. AdamW's moments are compared relative to each tensor's largest
  // entry (exp_avg_sq holds squared gradients, up to ~10 here: float32's spacing there is
  // ~1e-6, so an absolute bound would test rounding, not the algorithm).
  let worst = 0, where = "", worstMoment = 0, whereMoment = "";
  for (const [k, x] of sa.values) {
    const y = sb.values.get(k)!;
    assert.equal(x.length, y.length, k);
    const moment = k.startsWith("optimizer.");
    const scale = moment ? Math.max(1e-30, ...x.map(Math.abs)) : 1;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]) / scale;
      if (moment && d > worstMoment) [worstMoment, whereMoment] = [d, k];
      if (!moment && d > worst) [worst, where] = [d, k];
    }
  }
  console.log(
    `${what}: weights: max |Δ| ${
      worst.toExponential(2)
    } (${where}); AdamW moments: max |Δ|/max|x| ` +
      `${worstMoment.toExponential(2)} (${whereMoment})`,
  );
  assert.ok(worst <= 1e-6, `weights: max |Δ| ${worst} at ${where}`);
  assert.ok(worstMoment <= 1e-5, `moments: max relative |Δ| ${worstMoment} at ${whereMoment}`);
  await Deno.stat(`${b}/model/model.safetensors`);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "distributed clip:finetune: 2 ranks = one process (24 steps), via --nproc-per-node, " +
    "torchrun, and SIGINT then --resume",
  ignore: !haveGloo,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "dsva-ddp-clip-" });
    try {
      await tinySet(dir);
      const one = await run(args(dir, "one"));
      assert.equal(one.code, 0, one.err);
      const ref = runDirOf(dir, "one");
      assert.ok(losses(ref).at(-1)! < losses(ref)[0], "the reference run learnt");

      await t.step("--nproc-per-node 2", async () => {
        const two = await run([...args(dir, "two"), "--nproc-per-node", "2"]);
        assert.equal(two.code, 0, two.err);
        // Rank 0 alone wrote a run folder; the last line is the run's summary.
        assert.equal([...Deno.readDirSync(`${dir}/runs`)].length, 2);
        const summary = JSON.parse(two.out.trim().split("\n").at(-1)!);
        assert.equal(summary.status, "finished");
        assert.equal(summary.steps, 24);
        await expectSame(ref, runDirOf(dir, "two"), "--nproc-per-node 2");
        // A batch that does not split evenly is refused before anything is written.
        const odd = await run([...args(dir, "odd"), "--batch-size", "3", "--nproc-per-node", "2"]);
        assert.equal(odd.code, 1);
        assert.match(
          odd.err,
          /the batch of 3 image–caption pairs does not split evenly over 2 ranks/,
        );
        assert.ok(![...Deno.readDirSync(`${dir}/runs`)].some((e) => e.name.endsWith("-odd")));
      });

      await t.step("torchrun --no-python --nproc-per-node 2", async () => {
        const out = await new Deno.Command(`${ROOT}/.venv/bin/torchrun`, {
          args: [
            ...["--no-python", "--nproc-per-node", "2", "--master-addr", "127.0.0.1"],
            ...["--master-port", String(freePort()), Deno.execPath(), "run", "-A"],
            `${ROOT}/scripts/clip_finetune.ts`,
            ...args(dir, "torchrun"),
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const dec = new TextDecoder();
        assert.equal(out.code, 0, dec.decode(out.stdout) + dec.decode(out.stderr));
        await expectSame(ref, runDirOf(dir, "torchrun"), "torchrun");
      });

      await t.step("SIGINT of the launcher, then --resume with 2 ranks", async () => {
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            ...["run", "-A", `${ROOT}/scripts/clip_finetune.ts`],
            ...args(dir, "stop"),
            ...["--nproc-per-node", "2"],
          ],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const output = child.output();
        // Stop as soon as rank 0 has logged its first line (step 3 of 24).
        let stopDir: string | null = null;
        for (let i = 0; i < 3000 && stopDir === null; i++) {
          await new Promise((r) => setTimeout(r, 10));
          const found = [...Deno.readDirSync(`${dir}/runs`)].find((e) => e.name.endsWith("-stop"));
          try {
            if (found && Deno.readTextFileSync(`${dir}/runs/${found.name}/log.jsonl`)) {
              stopDir = `${dir}/runs/${found.name}`;
            }
          } catch { /* not yet */ }
        }
        assert.ok(stopDir, "the run logged a line");
        child.kill("SIGINT");
        const o = await output;
        const dec = new TextDecoder();
        assert.equal(o.code, 130, dec.decode(o.stdout) + dec.decode(o.stderr));
        const stopped = JSON.parse(dec.decode(o.stdout).trim().split("\n").at(-1)!);
        assert.equal(stopped.status, "stopped");
        assert.ok(stopped.steps < 24, `stopped at step ${stopped.steps}`);
        const resumed = await run(["--resume", stopDir!, "--nproc-per-node", "2"]);
        assert.equal(resumed.code, 0, resumed.err);
        await expectSame(ref, stopDir!, `SIGINT at step ${stopped.steps} + resume`, stopped.steps);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

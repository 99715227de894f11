/** Shared by the `deno task train` tests: a tiny configuration and running the scripts. */
import { ROOT } from "./helpers.ts";

/** A tiny model and episode: 1-layer ViT, 32 px crops, 4 × 2 episodes, one thread. */
export const TINY_MODEL = [
  "--set",
  "backbone.hiddenSize=32",
  "--set",
  "backbone.numLayers=1",
  "--set",
  "backbone.numHeads=2",
  "--set",
  "backbone.intermediateSize=64",
  "--image-size",
  "32",
  "--ways",
  "4",
  "--shots",
  "2",
  "--threads",
  "1",
  "--test-batch-size",
  "200",
];

/** A tiny run: {@link TINY_MODEL} on a small synthetic set (10 images a class, 48 px). */
export const TINY = [
  "--set",
  "dataset.imagesPerClass=10",
  "--set",
  "dataset.size=48",
  ...TINY_MODEL,
];

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  last: Record<string, unknown>;
}

/** Runs a script (scripts/train.ts or scripts/eval.ts) to the end. */
export async function runScript(script: string, args: string[]): Promise<Ran> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/${script}`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_PROGRESS: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const lines = stdout.trim().split("\n");
  let last: Record<string, unknown> = {};
  try {
    last = JSON.parse(lines.at(-1) ?? "");
  } catch {
    throw new Error(
      `${script}: the last line is not JSON (exit ${out.code}):\n${stdout}\n${stderr}`,
    );
  }
  return { code: out.code, stdout, stderr, last };
}

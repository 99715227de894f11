/** Shared test helpers: the project root, the oracle Python, running it, and the seeded PRNG. */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The Python with the test oracles (torch, transformers, ...): DSVA_TORCH_PYTHON or .venv. */
export const PYTHON = Deno.env.get("DSVA_TORCH_PYTHON") ?? `${ROOT}/.venv/bin/python`;

/** Runs a Python oracle script with JSON on stdin; returns its parsed JSON stdout. */
export async function runPython<T = unknown>(script: string, input: unknown): Promise<T> {
  const child = new Deno.Command(PYTHON, {
    args: [script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(input)));
  await w.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`${script} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as T;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). The tests draw their random inputs from
 * it, so a seed always gives the same cases (and the same values sent to the oracles). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

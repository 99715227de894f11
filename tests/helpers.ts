/** Shared test helpers: the project root, the oracle Python, and running it. */
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

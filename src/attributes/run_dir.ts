/** Run folders of `deno task clip:finetune`, on the convention of `deno task train`
 * (`src/train/types.ts`): `<runsDir>/<timestamp>-<name>/` holding `config.json` (the resolved
 * configuration), `log.jsonl` (one JSON object per logged step), `checkpoints/last.safetensors`
 * (model, optimizer, schedule, sampler: what `--resume` needs) and, at the end, `model/` (a
 * Hugging Face CLIP folder) and `summary.json`. Small and local to this module because no
 * shared run-folder helper existed when it was written.
 * @module
 */

/** `YYYYMMDD-HHMMSS` in UTC. */
export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${
    p(d.getUTCHours())
  }${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** Makes a fresh run folder `<runsDir>/<timestamp>-<name>` (with a numeric suffix if taken). */
export async function makeRunDir(runsDir: string, name: string): Promise<string> {
  const base = `${runsDir.replace(/\/+$/, "")}/${timestamp()}-${name.replace(/[^\w.-]+/g, "_")}`;
  await Deno.mkdir(runsDir, { recursive: true });
  for (let i = 0;; i++) {
    const dir = i === 0 ? base : `${base}-${i}`;
    try {
      await Deno.mkdir(dir);
      await Deno.mkdir(`${dir}/checkpoints`);
      return dir;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
}

/** Appends one JSON line to `<dir>/log.jsonl`. */
export async function appendLog(dir: string, entry: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(`${dir}/log.jsonl`, JSON.stringify(entry) + "\n", { append: true });
}

/** Writes JSON (pretty, newline-terminated) atomically. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

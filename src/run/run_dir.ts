/** Run folders: `<runsDir>/<YYYYMMDD-HHMMSS>-<name>/` with `config.json`, `metrics.jsonl`,
 * `checkpoints/`, `pictures/`, `report.html`, `eval.{json,md}` and `confusion.png`. */

// The commands check run folders with it; its home is ffi/fs.ts.
export { isDir } from "../../ffi/fs.ts";

/** Local time as `YYYYMMDD-HHMMSS`. */
export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${
    p(d.getMinutes())
  }${p(d.getSeconds())}`;
}

/** Creates a new run folder (with `-2`, `-3`, ... when the name is taken) and its
 * `checkpoints/`; returns its path. */
export async function createRunDir(runsDir: string, name: string): Promise<string> {
  await Deno.mkdir(runsDir, { recursive: true });
  const base = `${runsDir.replace(/\/+$/, "")}/${timestamp()}-${name}`;
  for (let i = 1;; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    try {
      await Deno.mkdir(dir);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw e;
    }
    await Deno.mkdir(`${dir}/checkpoints`);
    return dir;
  }
}

/** Writes JSON to `path` atomically (temporary file, then rename). */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

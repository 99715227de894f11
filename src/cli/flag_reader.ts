/** Reading a command's flags through zod schemas (loaded lazily), so that an error names the
 * flag and the value: commander reads every value as text, these check and convert it. */
import type { Command } from "npm:commander@^15";
import type { z } from "npm:zod@^4";
import { loadZod } from "../data/npm.ts";
import { UsageError } from "./task_exit.ts";

/** The flags given on the command line, by their long name without `--` (`--no-hflip` reads
 * as `hflip: false`); flags left at their default are absent. */
export function givenFlags(prog: Command): Record<string, string | string[] | boolean> {
  const opts = prog.opts();
  const out: Record<string, string | string[] | boolean> = {};
  for (const o of prog.options) {
    const key = o.attributeName();
    if (prog.getOptionValueSource(key) !== "cli" || !o.long) continue;
    out[o.long.replace(/^--(no-)?/, "")] = opts[key];
  }
  return out;
}

/** zod's `z`, and a reader of one string flag through a schema (errors name the flag). */
export async function flagReader(values: Record<string, unknown>): Promise<{
  z: typeof z;
  flag: <T>(name: string, schema: z.ZodType<T>, dflt: T) => T;
}> {
  const zz = await loadZod();
  const flag = <T>(name: string, schema: z.ZodType<T>, dflt: T): T => {
    const raw = values[name];
    if (raw === undefined) return dflt;
    const r = schema.safeParse(raw);
    if (!r.success) throw new UsageError(`--${name} ${raw}: ${r.error.issues[0].message}`);
    return r.data;
  };
  return { z: zz, flag };
}

/** Command-line plumbing shared by the attribute commands: a usage error (exit status 2), flag
 * parsing with zod (loaded lazily), and the mapping of known errors to exit status 1. */
import type { z } from "npm:zod@^4";
import { DataError } from "../data/errors.ts";
import { loadZod } from "../data/npm.ts";
import { WeightFileError } from "../io/errors.ts";

/** A bad command line: printed with the usage text, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
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

/** Whether `e` is a problem with what the user gave (a data file, a weight file, a model
 * folder, its config or tokenizer) rather than a bug: commands report it in one line, exit 1. */
export function isInputError(e: unknown): e is Error {
  return e instanceof DataError || e instanceof WeightFileError ||
    (e instanceof Error &&
      /text tower|config\.json|tokenizer|model folder|model\.safetensors|pytorch_model\.bin/
        .test(e.message));
}

/** Runs a command's main: a UsageError prints the message and the usage (exit 2); a data,
 * weight-file or model-folder problem prints its message (exit 1); anything else is thrown. */
export async function runCommand(
  name: string,
  usage: string,
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${name}: ${e.message}\n\n${usage}`);
      Deno.exit(2);
    }
    if (isInputError(e)) {
      console.error(`${name}: ${(e as Error).message}`);
      Deno.exit(1);
    }
    throw e;
  }
}

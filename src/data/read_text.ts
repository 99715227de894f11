/** Reading text and JSON files with errors that name the file. */
import type { z } from "npm:zod@^4";
import { DataError } from "./errors.ts";

/** A file's text, or a {@link DataError} saying it is missing or unreadable. */
export async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new DataError(
      path,
      e instanceof Deno.errors.NotFound ? "no such file" : `cannot read: ${e}`,
    );
  }
}

/** A JSON file parsed and checked against `schema`; every problem names the file and field. */
export async function readJson<T>(path: string, schema: z.ZodType<T>, what: string): Promise<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readText(path));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(path, `not valid JSON: ${(e as Error).message}`);
  }
  return checkJson(raw, schema, what, path);
}

/** Checks parsed JSON against `schema`; a {@link DataError} names the file and each bad field. */
export function checkJson<T>(raw: unknown, schema: z.ZodType<T>, what: string, path: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) =>
      `${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`
    );
    throw new DataError(path, `not ${what}: ${issues.join("; ")}`);
  }
  return r.data;
}

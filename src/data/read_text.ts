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

/** A JSON file parsed, unchecked; a {@link DataError} when missing or not JSON. */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readText(path));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(path, `not valid JSON: ${(e as Error).message}`);
  }
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

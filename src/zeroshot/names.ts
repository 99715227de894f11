/** Class names as CLIP reads them: folder names made into words (`DenseResidential` and
 * `dense_residential` → "dense residential"), or a user's alias for the class. */
import { DataError } from "../data/errors.ts";

/** A class name as words: `_`, `-` and `.` become spaces, a lower-to-upper case change and an
 * acronym's end (`RSImage` → "rs image") split words, everything is lower-cased and spaces
 * collapse. Digits stay where they are (`Tennis2Court` → "tennis2 court"). */
export function readableClassName(name: string): string {
  return name
    .replace(/[_\-.]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

/** Class name → the text put into the prompts. */
export type ClassAliases = Readonly<Record<string, string>>;

/** The text of every class in the prompts: its alias when the map has one (looked up by the
 * class name as it is, then by its readable form), else its readable name. */
export function classTexts(classes: readonly string[], aliases: ClassAliases = {}): string[] {
  return classes.map((c) => aliases[c] ?? aliases[readableClassName(c)] ?? readableClassName(c));
}

/** Reads an alias file: one JSON object of class name → text (`{"DenseResidential": "dense
 * houses"}`). Every value must be a non-empty string; a key that names no class of `classes`
 * (neither as it is nor in readable form) is an error, so that a misspelt alias is not
 * silently ignored. */
export async function readAliases(path: string, classes: readonly string[]): Promise<ClassAliases> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new DataError(path, `cannot read the class aliases: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new DataError(path, 'expected one JSON object of class name → text, e.g. {"A": "a"}');
  }
  const known = new Set([...classes, ...classes.map(readableClassName)]);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) {
    if (typeof v !== "string" || v.trim() === "") {
      throw new DataError(
        path,
        `alias of "${k}" must be a non-empty string, got ${JSON.stringify(v)}`,
      );
    }
    if (!known.has(k)) {
      throw new DataError(path, `"${k}" is not a class of this dataset (${classes.join(", ")})`);
    }
    out[k] = v.trim();
  }
  return out;
}

/** The attribute collection's input files besides the vocabulary: prompt templates (one per
 * line) and true attributes to score the collected ones against. Errors are `DataError`s
 * naming the file.
 * @module
 */
import { readAttributes } from "../data/attributes.ts";
import { DataError } from "../data/errors.ts";

/** True attributes by name: one row of `values` per class, one column per attribute. */
export interface TrueAttributes {
  classes: string[];
  attributes: string[];
  values: number[][];
}

/** The templates of a text file, one per line (blank lines skipped). */
export async function readTemplates(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new DataError(path, `cannot read templates: ${(e as Error).message}`);
  }
  const templates = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== "");
  if (templates.length === 0) throw new DataError(path, "holds no templates");
  return templates;
}

/** True attributes from any file `deno task train --attributes` reads (csv/json/npy/mat), which
 * must name its rows (classes) and columns (attributes). */
export async function readTrueAttributes(path: string): Promise<TrueAttributes> {
  const m = await readAttributes(path);
  if (!m.classes || !m.attributes) {
    throw new DataError(path, "true attributes need named rows (classes) and columns");
  }
  const values = Array.from(
    { length: m.rows },
    (_, r) => Array.from(m.values.subarray(r * m.cols, (r + 1) * m.cols)),
  );
  return { classes: [...m.classes], attributes: [...m.attributes], values };
}

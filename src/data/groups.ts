/** Attribute groups (DSVA's `attri_group_3.json`: group name → 0-based attribute columns). */
import { DataError, listSome } from "./errors.ts";
import { loadZod } from "./npm.ts";
import { checkJson, readJsonFile } from "./read_text.ts";

/** Group name → attribute column indices (0-based), in file order. */
export type AttributeGroups = Readonly<Record<string, readonly number[]>>;

/**
 * Reads a groups file. Entries may be column indices or attribute names (resolved through
 * `attributes`). Every index must be inside the `cols` columns; a name must exist.
 */
export async function readGroups(
  path: string,
  cols: number,
  attributes: readonly string[] | null = null,
): Promise<AttributeGroups> {
  const z = await loadZod();
  const schema = z.record(z.string(), z.array(z.union([z.number().int(), z.string()])));
  const raw = checkJson(
    await readJsonFile(path),
    schema,
    "an attribute-groups file ({group: [column, ...]})",
    path,
  );
  return resolveGroups(raw, cols, attributes, path);
}

/** Checks and resolves groups given in memory (see {@link readGroups}). */
export function resolveGroups(
  raw: Readonly<Record<string, readonly (number | string)[]>>,
  cols: number,
  attributes: readonly string[] | null = null,
  file = "",
): AttributeGroups {
  const out: Record<string, number[]> = {};
  const bad: string[] = [];
  for (const [g, entries] of Object.entries(raw)) {
    out[g] = [];
    for (const e of entries) {
      let i = typeof e === "number" ? e : attributes?.indexOf(e) ?? -1;
      if (typeof e === "string" && !attributes) i = -1;
      if (!(Number.isInteger(i) && i >= 0 && i < cols)) bad.push(`${g}: ${JSON.stringify(e)}`);
      else out[g].push(i);
    }
  }
  if (Object.keys(out).length === 0) throw new DataError(file, "defines no groups");
  if (bad.length > 0) {
    throw new DataError(
      file,
      `${bad.length} entries are not attribute columns 0..${cols - 1}${
        attributes ? " or names" : ""
      }: ${listSome(bad)}`,
    );
  }
  return out;
}

/** Soft problems of a grouping: columns in no group, columns in several, empty groups. */
export function groupProblems(
  groups: AttributeGroups,
  cols: number,
  attributes?: readonly string[] | null,
): string[] {
  const count = new Array(cols).fill(0);
  const problems: string[] = [];
  for (const [g, idx] of Object.entries(groups)) {
    if (idx.length === 0) problems.push(`group "${g}" is empty`);
    for (const i of idx) count[i]++;
  }
  const label = (i: number) => (attributes ? `${i} (${attributes[i]})` : `${i}`);
  const none = count.flatMap((c, i) => (c === 0 ? [label(i)] : []));
  const many = count.flatMap((c, i) => (c > 1 ? [label(i)] : []));
  if (none.length) problems.push(`${none.length} attributes are in no group: ${listSome(none)}`);
  if (many.length) {
    problems.push(`${many.length} attributes are in several groups: ${listSome(many)}`);
  }
  return problems;
}

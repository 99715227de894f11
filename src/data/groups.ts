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

/** A starting groups file made from attribute names: see {@link startingGroups}. */
export interface StartingGroups {
  /** Group name → attribute names (a groups file may name attributes instead of columns). */
  readonly groups: Record<string, string[]>;
  /** How the groups were formed, for the user. */
  readonly rule: string;
  /** The file's content (JSON). */
  readonly text: string;
}

/** Separators tried, in order, between a group prefix and the rest of an attribute name. */
const PREFIX_SEPARATORS = [":", "/", ".", "_", "-", " "] as const;

/**
 * A starting attribute-groups file from the attribute names: one group per name prefix before a
 * separator (`color:red`, `color:green`, `shape:round` → `color`, `shape`) when every name has
 * one and the prefixes group the names (at least 2 groups, on average 2 names a group or more);
 * else one group `all` of every attribute, which is what training uses without a groups file.
 * The user is meant to edit it: DSVA's groups (functions, materials, surface properties on AID)
 * are semantic, which no spelling rule recovers.
 */
export function startingGroups(attributeNames: readonly string[]): StartingGroups {
  if (attributeNames.length === 0) throw new RangeError("startingGroups: no attribute names");
  for (const sep of PREFIX_SEPARATORS) {
    if (!attributeNames.every((n) => n.indexOf(sep) > 0)) continue;
    const groups: Record<string, string[]> = {};
    for (const n of attributeNames) (groups[n.slice(0, n.indexOf(sep))] ??= []).push(n);
    const count = Object.keys(groups).length;
    if (count >= 2 && attributeNames.length >= 2 * count) {
      return made(groups, `one group per name prefix before "${sep}" (${count} groups)`);
    }
  }
  return made(
    { all: [...attributeNames] },
    "one group of every attribute (the names share no prefix that groups them)",
  );
}

function made(groups: Record<string, string[]>, rule: string): StartingGroups {
  return { groups, rule, text: JSON.stringify(groups, null, 2) + "\n" };
}

/** The warning for a dataset without a groups file: what the Attention Concentration does then
 * and how to write one. `dir`: the dataset folder. */
export function missingGroupsWarning(dir: string, numAttributes: number): string {
  return `${dir}: no attribute-groups file (groups.json): the ${numAttributes} attributes form ` +
    `one group, so the Attention Concentration (AC) crops around the attention map of the one ` +
    `strongest attribute instead of averaging one map per group (DSVA's AC is defined over ` +
    `groups: functions, materials, surface properties on AID). Write ${dir}/groups.json as ` +
    `{"group": [attribute names or 0-based columns], ...}, every attribute in one group; ` +
    `startingGroups() (deno task data groups) writes a first one from the attribute names`;
}

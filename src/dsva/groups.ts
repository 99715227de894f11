/**
 * Attribute groups as DSVA uses them: for the Attention Concentration (one map per group) and the
 * attribute-group lasso. The official code reads `attri_group_3.json` (`functions`, `materials`,
 * `surface_properties` → 0-based attribute indices) and iterates the groups in the file's order.
 * @module
 */

/** Groups as a name → indices record (iterated in insertion order, like the official
 * `group_dic.items()`) or as a plain list of index lists. */
export type AttributeGroupsLike =
  | Readonly<Record<string, readonly number[]>>
  | readonly (readonly number[])[];

/** Resolved groups: names and 0-based attribute indices, in order. */
export interface ResolvedGroups {
  /** Group names (`"0"`, `"1"`, ... for a plain list). */
  names: string[];
  /** Attribute indices of each group. */
  indices: number[][];
}

/** Checks `groups` against `numAttributes` attributes and returns them as ordered lists.
 * Every group must be non-empty and hold integer indices in `[0, numAttributes)`. */
export function resolveAttributeGroups(
  groups: AttributeGroupsLike,
  numAttributes: number,
): ResolvedGroups {
  const entries: [string, readonly number[]][] = Array.isArray(groups)
    ? (groups as readonly (readonly number[])[]).map((g, i) => [String(i), g])
    : Object.entries(groups as Readonly<Record<string, readonly number[]>>);
  if (entries.length === 0) throw new RangeError("DSVA: at least one attribute group is needed");
  const names: string[] = [];
  const indices: number[][] = [];
  for (const [name, idx] of entries) {
    if (!Array.isArray(idx) || idx.length === 0) {
      throw new RangeError(`DSVA: attribute group "${name}" is empty`);
    }
    const bad = idx.filter((i) => !(Number.isInteger(i) && i >= 0 && i < numAttributes));
    if (bad.length > 0) {
      throw new RangeError(
        `DSVA: attribute group "${name}" has indices outside 0..${numAttributes - 1}: ${
          bad.slice(0, 5).join(", ")
        }${bad.length > 5 ? ", ..." : ""}`,
      );
    }
    names.push(name);
    indices.push([...idx]);
  }
  return { names, indices };
}

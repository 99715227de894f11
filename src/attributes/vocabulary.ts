/** Attribute vocabulary files: the attribute names, their groups and (optionally) the phrases
 * that describe them in prompts. Three JSON layouts are read:
 *
 * ```jsonc
 * // 1. a list of attributes (group and phrases optional)
 * {"attributes": [{"name": "water", "group": "materials", "phrases": ["open water", "a lake"]},
 *                 {"name": "dense", "group": "surface_properties"}]}
 * // 2. groups of names (DSVA's groups, by name), phrases optional
 * {"groups": {"materials": ["water", "sand"], "functions": ["road"]},
 *  "phrases": {"water": ["open water"]}}
 * // 3. a bare list of names (one group, "attributes")
 * ["water", "sand", "road"]
 * ```
 *
 * An attribute without phrases is described by its name with `_` read as a space. Attributes
 * without a group go to a group `other` (or, when none has one, all to `attributes`). Errors
 * (an empty vocabulary, a duplicate or empty name, an unknown name in `phrases`) are
 * `DataError`s naming the file.
 * @module
 */
import { DataError, listSome } from "../data/errors.ts";
import { loadZod } from "../data/npm.ts";
import { checkJson, readJsonFile } from "../data/read_text.ts";

/** A resolved vocabulary. */
export interface AttributeVocabulary {
  /** Attribute names, in column order. */
  readonly names: readonly string[];
  /** Phrases per attribute (at least one each): what goes into the prompt templates. */
  readonly phrases: readonly (readonly string[])[];
  /** Group name → column indices (every attribute in exactly one group). */
  readonly groups: Readonly<Record<string, readonly number[]>>;
  /** The file it came from ("" when built in memory). */
  readonly file: string;
}

/** One attribute as given. */
export interface AttributeSpec {
  name: string;
  group?: string;
  phrases?: readonly string[];
}

/** The default phrase of a name: `_` read as a space. */
export const phraseOf = (name: string): string => name.replace(/[_]+/g, " ").trim();

/** Builds and checks a vocabulary from attribute specs (in column order). */
export function makeVocabulary(specs: readonly AttributeSpec[], file = ""): AttributeVocabulary {
  if (specs.length === 0) {
    throw new DataError(
      file,
      "the attribute vocabulary is empty: it names no attributes (give at least one name)",
    );
  }
  const bad: string[] = [];
  const seen = new Map<string, number>();
  specs.forEach((s, i) => {
    const name = typeof s.name === "string" ? s.name.trim() : "";
    if (name === "") bad.push(`attribute ${i + 1} has an empty name`);
    else if (seen.has(name)) {
      bad.push(`"${name}" appears twice (attributes ${seen.get(name)! + 1} and ${i + 1})`);
    } else seen.set(name, i);
    if (s.phrases && s.phrases.some((p) => p.trim() === "")) {
      bad.push(`"${name}" has an empty phrase`);
    }
    if (s.phrases && s.phrases.length === 0) bad.push(`"${name}" has an empty phrase list`);
  });
  if (bad.length) throw new DataError(file, `bad attribute vocabulary: ${listSome(bad, 5)}`);
  const names = specs.map((s) => s.name.trim());
  const phrases = specs.map((
    s,
  ) => (s.phrases ? s.phrases.map((p) => p.trim()) : [phraseOf(s.name)]));
  const anyGroup = specs.some((s) => s.group !== undefined && s.group !== "");
  const groups: Record<string, number[]> = {};
  specs.forEach((s, i) => {
    const g = s.group && s.group !== "" ? s.group : anyGroup ? "other" : "attributes";
    (groups[g] ??= []).push(i);
  });
  return { names, phrases, groups, file };
}

/** Reads a vocabulary file (see the module doc for the layouts). */
export async function readVocabulary(path: string): Promise<AttributeVocabulary> {
  const raw = await readJsonFile(path);
  const z = await loadZod();
  const what = 'an attribute vocabulary ({"attributes": [{"name", "group"?, "phrases"?}]}, ' +
    '{"groups": {group: [name, ...]}} or ["name", ...])';
  if (Array.isArray(raw)) {
    if (raw.every((x) => typeof x === "string")) {
      return makeVocabulary(raw.map((name) => ({ name })), path);
    }
  }
  const Spec = z.strictObject({
    name: z.string(),
    group: z.string().optional(),
    phrases: z.array(z.string()).optional(),
  });
  if (Array.isArray(raw)) return makeVocabulary(checkJson(raw, z.array(Spec), what, path), path);
  if (raw !== null && typeof raw === "object" && "groups" in raw) {
    const j = checkJson(
      raw,
      z.strictObject({
        groups: z.record(z.string(), z.array(z.string())),
        phrases: z.record(z.string(), z.array(z.string())).optional(),
      }),
      what,
      path,
    );
    const specs: AttributeSpec[] = [];
    for (const [g, names] of Object.entries(j.groups)) {
      for (const name of names) specs.push({ name, group: g, phrases: j.phrases?.[name] });
    }
    const unknown = Object.keys(j.phrases ?? {}).filter((n) => !specs.some((s) => s.name === n));
    if (unknown.length) {
      throw new DataError(path, `"phrases" names attributes in no group: ${listSome(unknown)}`);
    }
    return makeVocabulary(specs, path);
  }
  const j = checkJson(raw, z.strictObject({ attributes: z.array(Spec) }), what, path);
  return makeVocabulary(j.attributes, path);
}

/** The vocabulary as a file of layout 1 (what `readVocabulary` reads back). */
export function vocabularyJson(v: AttributeVocabulary): { attributes: AttributeSpec[] } {
  const groupOf = new Map<number, string>();
  for (const [g, idx] of Object.entries(v.groups)) for (const i of idx) groupOf.set(i, g);
  return {
    attributes: v.names.map((name, i) => ({
      name,
      group: groupOf.get(i),
      phrases: [...v.phrases[i]],
    })),
  };
}

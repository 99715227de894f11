/** Matching class names across folders, attribute files and split files. */
import { DataError, listSome } from "./errors.ts";

/** Known misspellings in public attribute files, by canonical name (see {@link canonicalName}).
 * From ZS-ViDAT's AID release: `FormLand`, `denser_residential`, `storgetanks`. */
export const CLASS_ALIASES: Readonly<Record<string, string>> = {
  formland: "farmland",
  denserresidential: "denseresidential",
  storgetanks: "storagetanks",
};

/** The form names are compared in: lower case, without spaces, `_`, `-` or `.`. */
export function canonicalName(name: string): string {
  return name.normalize("NFKC").toLowerCase().replace(/[\s_\-.]+/g, "");
}

/** Options for {@link matchClassNames}. */
export interface MatchOptions {
  /** Extra aliases, `misspelling → name` (either side in any spelling); merged over the known
   * ones. */
  aliases?: Readonly<Record<string, string>>;
  /** Names the two lists in the error, e.g. "image folders" and "AID_Dataset.csv rows". */
  wantedLabel?: string;
  /** Names the second list in the error. */
  givenLabel?: string;
  /** The file blamed in the error. */
  file?: string;
}

/** How each wanted name matched (see {@link findClassNames}). */
export interface ClassNameMatch {
  /** For each wanted name, the index of its class in `given`, or -1 (no match or ambiguous). */
  readonly indices: readonly number[];
  /** Wanted names with no match. */
  readonly missing: readonly string[];
  /** Wanted names matching several given names, or a given name matched already. */
  readonly ambiguous: readonly string[];
  /** Given names no wanted name matched, as indices into `given`. */
  readonly unused: readonly number[];
}

/** For each name in `wanted`, the index of the same class in `given`, tolerating case, spaces,
 * `_`/`-` and the aliases; names that do not match are listed instead of failing. */
export function findClassNames(
  wanted: readonly string[],
  given: readonly string[],
  opts: Pick<MatchOptions, "aliases"> = {},
): ClassNameMatch {
  const aliases = new Map<string, string>(Object.entries(CLASS_ALIASES));
  for (const [k, v] of Object.entries(opts.aliases ?? {})) {
    aliases.set(canonicalName(k), canonicalName(v));
  }
  const key = (n: string) => {
    const c = canonicalName(n);
    return aliases.get(c) ?? c;
  };
  const index = new Map<string, number[]>();
  given.forEach((n, i) => {
    const k = key(n);
    index.set(k, [...(index.get(k) ?? []), i]);
  });
  const indices: number[] = [];
  const missing: string[] = [];
  const used = new Set<number>();
  const ambiguous: string[] = [];
  for (const w of wanted) {
    const hits = index.get(key(w)) ?? [];
    let found = -1;
    if (hits.length === 0) missing.push(w);
    else if (hits.length > 1) ambiguous.push(`${w} (${hits.map((i) => given[i]).join(" / ")})`);
    else if (used.has(hits[0])) ambiguous.push(`${w} (${given[hits[0]]} matched twice)`);
    else {
      used.add(hits[0]);
      found = hits[0];
    }
    indices.push(found);
  }
  const unused = given.flatMap((_, i) => (used.has(i) ? [] : [i]));
  return { indices, missing, ambiguous, unused };
}

/** The advice that ends every class-name mismatch message. */
export const FIX_CLASS_NAMES = "fix the names or pass an alias map (misspelling → class name)";

/**
 * For each name in `wanted`, the index of the same class in `given`, tolerating case, spaces,
 * `_`/`-` and the aliases. Throws one {@link DataError} listing every wanted name not found and
 * every given name left over (or matched twice) otherwise.
 */
export function matchClassNames(
  wanted: readonly string[],
  given: readonly string[],
  opts: MatchOptions = {},
): number[] {
  const { indices, missing, ambiguous, unused } = findClassNames(wanted, given, opts);
  if (missing.length || ambiguous.length) {
    const wl = opts.wantedLabel ?? "wanted classes", gl = opts.givenLabel ?? "given classes";
    const parts = [];
    if (missing.length) {
      parts.push(
        `${missing.length} of the ${wl} have no match in the ${gl}: ${listSome(missing, 50)}`,
      );
    }
    if (ambiguous.length) parts.push(`ambiguous: ${listSome(ambiguous, 50)}`);
    if (unused.length) parts.push(`unmatched ${gl}: ${listSome(unused.map((i) => given[i]), 50)}`);
    parts.push(FIX_CLASS_NAMES);
    throw new DataError(opts.file ?? "", parts.join("; "));
  }
  return [...indices];
}

/**
 * Attribute subsets for the vocabulary analysis. A subset is a choice of columns of the class ×
 * attribute matrix; the groups follow (each group keeps its chosen columns, renumbered, and a
 * group left empty is dropped). The trainer sees a subset as an ordinary dataset: the selected
 * columns of the matrix it would have used (already scaled) are written as an attribute CSV with
 * a matching groups file, and the cell's `dataset` points at them with `attributeScale: "none"`.
 * @module
 */
import { Rng } from "../data/rng.ts";
import type { AttributeSetSpec } from "./config.ts";
import { ExperimentConfigError } from "./config.ts";

/** A class × attribute matrix with its names and groups. */
export interface AttributeTable {
  /** Class names (row order). */
  classes: readonly string[];
  /** Attribute names (column order). */
  names: readonly string[];
  /** Row-major `[classes, names]`. */
  values: Float32Array;
  /** Group name → columns, in order. */
  groups: Record<string, number[]>;
}

/** One attribute set of a grid, expanded from an {@link AttributeSetSpec}. */
export interface AttributeSubset {
  /** Used in cell ids: `all`, `r<k>d<draw>`, `no-<group>`, `cols-<name>`, `file-<name>`. */
  id: string;
  kind: AttributeSetSpec["kind"];
  /** Attributes kept (for `file`: null until the file is read). */
  size: number | null;
  /** The draw, for random subsets. */
  draw: number | null;
  /** The group removed, for `dropGroup`. */
  group: string | null;
  /** Columns kept (sorted), or null for the full matrix / another file. */
  columns: number[] | null;
  /** For `file`: the attribute and groups files. */
  file: { attributes: string; groups: string | null } | null;
}

/** The columns of a random subset: `size` of `k` columns, drawn from (seed, size, draw) — the
 * same columns for every training seed, dataset split and backbone. */
export function randomColumns(k: number, size: number, seed: number, draw: number): number[] {
  if (size > k) throw new RangeError(`a random subset of ${size} of ${k} attributes`);
  return new Rng(seed, 0xa77, size, draw).permutation(k).slice(0, size).sort((a, b) => a - b);
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

/** Expands the attribute-set rules against a dataset's attribute names and groups. `where`
 * names the dataset in errors. */
export function expandAttributeSets(
  specs: readonly AttributeSetSpec[],
  names: readonly string[],
  groups: Readonly<Record<string, readonly number[]>>,
  where: string,
): AttributeSubset[] {
  const k = names.length;
  const out: AttributeSubset[] = [];
  for (const s of specs) {
    if (s.kind === "full") {
      out.push({
        id: "all",
        kind: "full",
        size: k,
        draw: null,
        group: null,
        columns: null,
        file: null,
      });
    } else if (s.kind === "random") {
      for (const size of s.sizes) {
        if (size > k) {
          throw new ExperimentConfigError(
            `attributeSets: a random subset of ${size} attributes, but ${where} has ${k}`,
          );
        }
        for (let d = 0; d < s.draws; d++) {
          out.push({
            id: `r${size}d${d}`,
            kind: "random",
            size,
            draw: d,
            group: null,
            columns: randomColumns(k, size, s.seed, d),
            file: null,
          });
        }
      }
    } else if (s.kind === "dropGroup") {
      const all = Object.keys(groups);
      const chosen = s.groups ?? all;
      for (const g of chosen) {
        if (!(g in groups)) {
          throw new ExperimentConfigError(
            `attributeSets: dropGroup "${g}": ${where} has the groups ${all.join(", ")}`,
          );
        }
        const drop = new Set(groups[g]);
        const columns = Array.from({ length: k }, (_, i) => i).filter((i) => !drop.has(i));
        if (columns.length === 0) {
          throw new ExperimentConfigError(
            `attributeSets: removing the group "${g}" of ${where} leaves no attribute`,
          );
        }
        out.push({
          id: `no-${safe(g)}`,
          kind: "dropGroup",
          size: columns.length,
          draw: null,
          group: g,
          columns,
          file: null,
        });
      }
    } else if (s.kind === "columns") {
      const cols = s.attributes.map((a) => {
        const i = typeof a === "number" ? a : names.indexOf(a);
        if (!(i >= 0 && i < k)) {
          throw new ExperimentConfigError(
            `attributeSets: "${s.name}": ${JSON.stringify(a)} is not an attribute of ${where}`,
          );
        }
        return i;
      });
      const columns = [...new Set(cols)].sort((a, b) => a - b);
      out.push({
        id: `cols-${s.name}`,
        kind: "columns",
        size: columns.length,
        draw: null,
        group: null,
        columns,
        file: null,
      });
    } else {
      out.push({
        id: `file-${s.name}`,
        kind: "file",
        size: null,
        draw: null,
        group: null,
        columns: null,
        file: { attributes: s.attributes, groups: s.groups ?? null },
      });
    }
  }
  const ids = new Set<string>();
  for (const a of out) {
    if (ids.has(a.id)) {
      throw new ExperimentConfigError(`attributeSets: the set ${a.id} appears twice`);
    }
    ids.add(a.id);
  }
  return out;
}

/** The table restricted to `columns` (in ascending order): values and names of those columns,
 * each group keeping its selected columns renumbered into the new order, empty groups dropped. */
export function selectColumns(t: AttributeTable, columns: readonly number[]): AttributeTable {
  const k = t.names.length, c = t.classes.length;
  const cols = [...new Set(columns)].sort((a, b) => a - b);
  for (const i of cols) {
    if (!(Number.isInteger(i) && i >= 0 && i < k)) {
      throw new RangeError(`column ${i} is not in 0..${k - 1}`);
    }
  }
  const pos = new Map(cols.map((col, j) => [col, j]));
  const values = new Float32Array(c * cols.length);
  for (let r = 0; r < c; r++) {
    for (const [j, col] of cols.entries()) values[r * cols.length + j] = t.values[r * k + col];
  }
  const groups: Record<string, number[]> = {};
  for (const [g, members] of Object.entries(t.groups)) {
    const kept = members.filter((m) => pos.has(m)).map((m) => pos.get(m)!);
    if (kept.length > 0) groups[g] = kept;
  }
  return { classes: t.classes, names: cols.map((i) => t.names[i]), values, groups };
}

/** The table as an attribute CSV (header `,name,...`; one row per class; float32 values written
 * so that they read back bit-exact). */
export function tableToCsv(t: AttributeTable): string {
  const k = t.names.length;
  const cell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [`,${t.names.map(cell).join(",")}`];
  for (const [r, name] of t.classes.entries()) {
    const row = Array.from(t.values.subarray(r * k, (r + 1) * k), (v) => String(v));
    lines.push(`${cell(name)},${row.join(",")}`);
  }
  return lines.join("\n") + "\n";
}

/** Writes the table as `<base>.csv` and `<base>.groups.json` (atomically, only when the content
 * changed); returns the two paths. */
export async function writeAttributeTable(
  t: AttributeTable,
  base: string,
): Promise<{ attributes: string; groups: string }> {
  const dir = base.replace(/\/[^/]*$/, "");
  await Deno.mkdir(dir, { recursive: true });
  const attributes = `${base}.csv`, groups = `${base}.groups.json`;
  await writeIfChanged(attributes, tableToCsv(t));
  await writeIfChanged(groups, JSON.stringify(t.groups) + "\n");
  return { attributes, groups };
}

/** Writes `text` to `path` atomically unless the file already holds exactly it. */
export async function writeIfChanged(path: string, text: string): Promise<void> {
  try {
    if ((await Deno.readTextFile(path)) === text) return;
  } catch { /* absent */ }
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

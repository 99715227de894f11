/** Class × attribute matrices from CSV (ZS-ViDAT layout), `.npy` and JSON files. */
import { matchClassNames, type MatchOptions } from "./class_names.ts";
import { DataError } from "./errors.ts";
import { matStrings, matToRows, readMat } from "./mat.ts";
import { readNpy } from "./npy.ts";
import { loadCsvParse, loadZod } from "./npm.ts";
import { checkJson, readJsonFile, readText } from "./read_text.ts";

/** A class × attribute matrix. */
export interface AttributeMatrix {
  /** Row names, when the file has them. */
  readonly classes: readonly string[] | null;
  /** Column names, when the file has them. */
  readonly attributes: readonly string[] | null;
  /** Number of classes (rows). */
  readonly rows: number;
  /** Number of attributes (columns). */
  readonly cols: number;
  /** Row-major values, `rows × cols`. */
  readonly values: Float64Array;
  /** The file it came from ("" when built in memory). */
  readonly file: string;
}

/** Options for {@link readAttributes}. */
export interface ReadAttributesOptions {
  /** Row names for files without them (`.npy`, bare JSON arrays): a list or a text file with
   * one name a line. */
  classes?: readonly string[] | string;
  /** Column names, likewise. */
  attributes?: readonly string[] | string;
  /** For `.mat` files: the variable (default `att`, xlsa17's attributes × classes matrix,
   * transposed to classes × attributes; any other variable is taken as classes × attributes). */
  matVariable?: string;
}

/** Reads an attribute matrix, choosing the format by extension: `.csv` (header row =
 * attribute names, first column = class names), `.npy` (2-D, any numeric dtype), `.json`
 * (`{classes?, attributes?, values: number[][]}`, `{class: number[]}` or `number[][]`) or
 * `.mat` (v5 or v7.3; xlsa17's `att`, class names from `allclasses_names`). */
export async function readAttributes(
  path: string,
  opts: ReadAttributesOptions = {},
): Promise<AttributeMatrix> {
  const ext = path.slice(path.lastIndexOf(".")).toLowerCase();
  let m: AttributeMatrix;
  if (ext === ".csv" || ext === ".tsv") m = await parseAttributeCsv(await readText(path), path);
  else if (ext === ".npy") {
    const a = await readNpy(path);
    if (a.shape.length !== 2) {
      throw new DataError(
        path,
        `holds an array of shape (${a.shape}); a class × attribute matrix is 2-D`,
      );
    }
    m = {
      classes: null,
      attributes: null,
      rows: a.shape[0],
      cols: a.shape[1],
      values: a.data,
      file: path,
    };
  } else if (ext === ".json") m = await readAttributeJson(path);
  else if (ext === ".mat") m = await readAttributeMat(path, opts.matVariable);
  else {throw new DataError(
      path,
      `unknown attribute file type "${ext}" (use .csv, .npy, .json or .mat)`,
    );}
  const classes = opts.classes ? await names(opts.classes) : m.classes;
  const attributes = opts.attributes ? await names(opts.attributes) : m.attributes;
  if (classes && classes.length !== m.rows) {
    throw new DataError(path, `has ${m.rows} rows but ${classes.length} class names were given`);
  }
  if (attributes && attributes.length !== m.cols) {
    throw new DataError(
      path,
      `has ${m.cols} columns but ${attributes.length} attribute names were given`,
    );
  }
  checkFinite(m);
  return { ...m, classes, attributes };
}

async function names(x: readonly string[] | string): Promise<string[]> {
  if (typeof x !== "string") return [...x];
  return (await readText(x)).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
}

function checkFinite(m: AttributeMatrix) {
  for (let i = 0; i < m.values.length; i++) {
    if (!Number.isFinite(m.values[i])) {
      const r = Math.floor(i / m.cols), c = i % m.cols;
      throw new DataError(
        m.file,
        `value at row ${r + 1}${m.classes ? ` (${m.classes[r]})` : ""}, column ${c + 1}` +
          `${m.attributes ? ` (${m.attributes[c]})` : ""} is ${m.values[i]}, not a finite number`,
      );
    }
  }
}

async function readAttributeMat(path: string, variable = "att"): Promise<AttributeMatrix> {
  const vars = await readMat(path);
  const m = matToRows(vars, variable, path);
  const transpose = variable === "att" || variable === "original_att";
  const classes = "allclasses_names" in vars ? matStrings(vars, "allclasses_names", path) : null;
  if (!transpose) {
    return { classes, attributes: null, rows: m.rows, cols: m.cols, values: m.values, file: path };
  }
  const values = new Float64Array(m.values.length);
  for (let a = 0; a < m.rows; a++) {
    for (let c = 0; c < m.cols; c++) values[c * m.rows + a] = m.values[a * m.cols + c];
  }
  return { classes, attributes: null, rows: m.cols, cols: m.rows, values, file: path };
}

/** Parses the ZS-ViDAT CSV layout: header row = attribute names (its first cell is ignored),
 * then one row per class, class name first. */
export async function parseAttributeCsv(text: string, file = "<csv>"): Promise<AttributeMatrix> {
  const parseCsv = await loadCsvParse();
  let rows: string[][];
  try {
    rows = parseCsv(text, {
      delimiter: file.toLowerCase().endsWith(".tsv") ? "\t" : ",",
      skip_empty_lines: true,
      trim: true,
      bom: true,
      relax_column_count: true,
    });
  } catch (e) {
    throw new DataError(file, `not valid CSV: ${(e as Error).message}`);
  }
  if (rows.length < 2) throw new DataError(file, "needs a header row and at least one class row");
  const attributes = rows[0].slice(1);
  const classes: string[] = [];
  const values = new Float64Array((rows.length - 1) * attributes.length);
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (row.length !== attributes.length + 1) {
      throw new DataError(
        file,
        `line ${r + 1} (${row[0]}) has ${
          row.length - 1
        } values, the header names ${attributes.length} attributes`,
      );
    }
    classes.push(row[0]);
    for (let c = 0; c < attributes.length; c++) {
      const v = row[c + 1] === "" ? NaN : Number(row[c + 1]);
      if (!Number.isFinite(v)) {
        throw new DataError(
          file,
          `line ${r + 1} (${row[0]}), column ${c + 2} (${attributes[c]}): "${
            row[c + 1]
          }" is not a number`,
        );
      }
      values[(r - 1) * attributes.length + c] = v;
    }
  }
  return { classes, attributes, rows: classes.length, cols: attributes.length, values, file };
}

async function readAttributeJson(path: string): Promise<AttributeMatrix> {
  const raw = await readJsonFile(path);
  const z = await loadZod();
  const Named = z.object({
    classes: z.array(z.string()).optional(),
    attributes: z.array(z.string()).optional(),
    values: z.array(z.array(z.number())),
  });
  const Bare = z.array(z.array(z.number()));
  const ByClass = z.record(z.string(), z.array(z.number()));
  const what = "an attribute matrix ({classes, attributes, values}, {class: [...]} or [[...]])";
  if (Array.isArray(raw)) return fromRows(checkJson(raw, Bare, what, path), { file: path });
  if (raw !== null && typeof raw === "object" && "values" in raw) {
    const j = checkJson(raw, Named, what, path);
    return fromRows(j.values, { classes: j.classes, attributes: j.attributes, file: path });
  }
  const j = checkJson(raw, ByClass, what, path);
  return fromRows(Object.values(j), { classes: Object.keys(j), file: path });
}

/** Builds a matrix from nested rows, checking they all have one length. */
export function fromRows(
  rows: readonly (readonly number[])[],
  opts: {
    classes?: readonly string[] | null;
    attributes?: readonly string[] | null;
    file?: string;
  } = {},
): AttributeMatrix {
  const file = opts.file ?? "";
  const cols = rows[0]?.length ?? 0;
  const values = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) {
      throw new DataError(file, `row ${i + 1} has ${r.length} values, row 1 has ${cols}`);
    }
    values.set(r, i * cols);
  });
  const m = {
    classes: opts.classes ?? null,
    attributes: opts.attributes ?? null,
    rows: rows.length,
    cols,
    values,
    file,
  };
  if (m.classes && m.classes.length !== m.rows) {
    throw new DataError(file, `${m.classes.length} class names for ${m.rows} rows`);
  }
  if (m.attributes && m.attributes.length !== cols) {
    throw new DataError(file, `${m.attributes.length} attribute names for ${cols} columns`);
  }
  return m;
}

/**
 * Reorders the rows of `m` to follow `classes` (a dataset's class order). Named rows are
 * matched by name ({@link matchClassNames}: case, `_`/space and known misspellings tolerated);
 * unnamed rows must number exactly as many as the classes and are taken in order. Rows for
 * classes not in `classes` are dropped. Fails with a {@link DataError} naming the file and every
 * unmatched name.
 */
export function alignAttributes(
  m: AttributeMatrix,
  classes: readonly string[],
  opts: Pick<MatchOptions, "aliases"> & { classesLabel?: string } = {},
): AttributeMatrix {
  let order: number[];
  if (m.classes) {
    order = matchClassNames(classes, m.classes, {
      aliases: opts.aliases,
      file: m.file,
      wantedLabel: opts.classesLabel ?? "dataset classes",
      givenLabel: "attribute rows",
    });
  } else {
    if (m.rows !== classes.length) {
      throw new DataError(
        m.file,
        `has ${m.rows} unnamed rows but the dataset has ${classes.length} classes; ` +
          "give the row names (a classes file) so rows can be matched by name",
      );
    }
    order = classes.map((_, i) => i);
  }
  const values = new Float64Array(classes.length * m.cols);
  order.forEach((src, dst) =>
    values.set(m.values.subarray(src * m.cols, (src + 1) * m.cols), dst * m.cols)
  );
  return {
    classes: [...classes],
    attributes: m.attributes,
    rows: classes.length,
    cols: m.cols,
    values,
    file: m.file,
  };
}

/** Row `i` of a matrix as an array. */
export function attributeRow(m: AttributeMatrix, i: number): number[] {
  return Array.from(m.values.subarray(i * m.cols, (i + 1) * m.cols));
}

/** A copy with values divided by `divisor` (e.g. 100 for AID's 0–100 CSV). */
export function scaleAttributes(m: AttributeMatrix, divisor: number): AttributeMatrix {
  const values = m.values.slice();
  divideAll(values, divisor);
  return { ...m, values };
}

/** A copy with every row scaled to unit L2 norm (xlsa17's `att`); zero rows stay zero. */
export function l2NormalizeRows(m: AttributeMatrix): AttributeMatrix {
  const values = m.values.slice();
  normalizeRows(values, m.rows, m.cols);
  return { ...m, values };
}

/** How a class × attribute matrix is scaled for training: `max` divides every value by the
 * largest absolute value (when above 1), `l2` scales each row to unit norm, `none` keeps it. */
export type AttributeScale = "none" | "max" | "l2";

/** The matrix's values as float32, scaled `how` (see {@link AttributeScale}), with a note for the
 * log saying what was done. The scaling runs on the float32 copy, so the trainer's numbers are
 * those of float32 arithmetic on the rounded values. */
export function scaleAttributeMatrix(
  m: Pick<AttributeMatrix, "values" | "rows" | "cols">,
  how: AttributeScale,
): { values: Float32Array; note: string } {
  const values = Float32Array.from(m.values);
  if (how === "max") {
    let max = 0;
    for (const v of values) max = Math.max(max, Math.abs(v));
    if (max > 1) {
      divideAll(values, max);
      return { values, note: `divided by the maximum ${max}` };
    }
    return { values, note: "unscaled (values already within [-1, 1])" };
  }
  if (how === "l2") {
    normalizeRows(values, m.rows, m.cols);
    return { values, note: "rows L2-normalised" };
  }
  return { values, note: "unscaled" };
}

function divideAll(values: Float32Array | Float64Array, divisor: number) {
  for (let i = 0; i < values.length; i++) values[i] /= divisor;
}

/** Row-major `[rows, cols]` in place; rows of norm 0 (or NaN) are left as they are. */
function normalizeRows(values: Float32Array | Float64Array, rows: number, cols: number) {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += values[r * cols + c] ** 2;
    const n = Math.sqrt(s);
    if (n > 0) { for (let c = 0; c < cols; c++) values[r * cols + c] /= n; }
  }
}

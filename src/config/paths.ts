/**
 * Paths in a training config made absolute against a base folder: the caller's directory for
 * flags (`src/cli/paths.ts`), the config file's folder for a config file (`file.ts`). The
 * fields that hold paths are listed once here ({@link PATH_FIELDS}).
 * @module
 */

/** The dotted config fields that hold file or folder paths (`dataset` itself when it is given as
 * a folder path). */
export const PATH_FIELDS: readonly string[] = [
  "dataset.dir",
  "dataset.images",
  "dataset.attributes",
  "dataset.splits",
  "dataset.groups",
  "backbone.dir",
  "runsDir",
];

/** `p` made absolute against the absolute folder `base` (`.` and `..` resolved; an absolute `p`
 * is only tidied). */
export function absolutePath(base: string, p: string): string {
  const joined = p.startsWith("/") ? p : `${base.replace(/\/+$/, "")}/${p}`;
  const parts: string[] = [];
  for (const s of joined.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") parts.pop();
    else parts.push(s);
  }
  return `/${parts.join("/")}`;
}

/** The folder holding file `path` (absolute when `path` is). */
export function parentDir(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** A copy of the raw (not yet validated) partial config `fields` with every string in a
 * {@link PATH_FIELDS} field, and a `dataset` given as a folder path, absolute against `base`.
 * Values of other types are left for the schema to name. */
export function resolvePathFields(fields: unknown, base: string): unknown {
  if (!isObj(fields)) return fields;
  const out: Obj = { ...fields };
  const abs = (v: unknown) => (typeof v === "string" && v !== "" ? absolutePath(base, v) : v);
  if (typeof out.dataset === "string" && out.dataset !== "synthetic") {
    out.dataset = abs(out.dataset);
  }
  for (const path of PATH_FIELDS) {
    const [top, leaf] = path.split(".");
    if (leaf === undefined) out[top] = abs(out[top]);
    else if (isObj(out[top]) && (out[top] as Obj)[leaf] !== undefined) {
      out[top] = { ...(out[top] as Obj), [leaf]: abs((out[top] as Obj)[leaf]) };
    }
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

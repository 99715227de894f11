/** Commander options built from the config flag table (`src/config/flags.ts`), and the flags a
 * command line gave read back into a partial config object with the flag each field came from. */
import type { Command } from "npm:commander@^15";
import { type ConfigFlag, flagName } from "../config/flags.ts";

/** Adds `flags` to `cmd` as commander options. */
export function addConfigFlags(cmd: Command, flags: readonly ConfigFlag[]): Command {
  for (const f of flags) cmd.option(f.flag, f.help);
  return cmd;
}

/** Commander's attribute name of a flag (`--lr-heads` → `lrHeads`, `--no-ac` → `ac`). */
export function optionKey(f: ConfigFlag): string {
  return flagName(f).replace(/^--(no-)?/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

/** The fields the given flags set (not yet validated), and where each came from. */
export interface FlagFields {
  /** A partial config object (shorthands expanded: `--dataset DIR` → `{kind: "folder", dir}`). */
  fields: Record<string, unknown>;
  /** Config path → the flag that set it (`--set path` included by the caller). */
  sources: Map<string, string>;
}

/** Reads the flags of `flags` given on `cmd`'s parsed command line (defaults are not given). */
export function readConfigFlags(cmd: Command, flags: readonly ConfigFlag[]): FlagFields {
  const o = cmd.opts() as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const f of flags) {
    const key = optionKey(f);
    if (cmd.getOptionValueSource(key) !== "cli") continue;
    const raw = String(o[key]);
    let value = convert(raw, f);
    if (f.path === "dataset") {
      value = raw === "synthetic" ? { kind: "synthetic" } : { kind: "folder", dir: raw };
    } else if (f.path === "backbone") {
      value = raw === "clip" || raw === "darknet" ? { kind: raw } : { kind: "vit", preset: raw };
    } else if (f.path === "lr") {
      value = typeof value === "number" ? { heads: value, backbone: value } : value;
    }
    if (isPlain(value) && isPlain(fields[f.path])) {
      Object.assign(fields[f.path] as object, value);
    } else if (isPlain(value)) {
      for (const [k, v] of Object.entries(value)) setPath(fields, `${f.path}.${k}`, v);
    } else setPath(fields, f.path, value);
    sources.set(f.path, flagName(f));
  }
  return { fields, sources };
}

/** Where a config path's value came from: the flag that set the longest related path. */
export function flagSource(sources: ReadonlyMap<string, string>): (path: string) => string {
  return (path) => {
    let best = "command line";
    let len = -1;
    for (const [p, flag] of sources) {
      if ((path === p || path.startsWith(`${p}.`) || p.startsWith(`${path}.`)) && p.length > len) {
        best = flag;
        len = p.length;
      }
    }
    return best;
  };
}

/** Sets a dotted path in `obj`, creating (or replacing non-object) parents. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    const cur = o[k];
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys.at(-1)!] = value;
}

function convert(raw: string, f: ConfigFlag): unknown {
  if (f.parse === "negate") return false;
  if (f.parse === "switch") return true;
  if (f.parse === "string") return raw;
  if (f.parse === "numberOr" && raw === f.word) return raw;
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) ? n : raw; // zod names the bad value
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

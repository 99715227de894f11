/**
 * Resolution of layered partial configs (a run's saved config, a config file, the flags) with
 * where every resolved field came from: `flag --epochs`, `file configs/x.json`, `script
 * 12_gzsl_52_9` (the `--official-script` preset, under the file and the flags), or `default`
 * (the defaults, the recipe's or the backbone's).
 * @module
 */
import { officialScriptPreset } from "./official_script.ts";
import { datasetKind, mergePartial, resolveConfig } from "./resolve.ts";
import type { PartialConfig } from "./schema.ts";
import type { TrainConfig } from "./types.ts";

/** One layer: its fields and how to name the source of a field it sets. */
export interface ConfigLayer {
  partial: PartialConfig;
  /** The source of dotted `path` (e.g. `flag --epochs`, `file x.json`). */
  source: (path: string) => string;
}

/** A resolved config and, per leaf field (dotted path), where its value came from. */
export interface SourcedConfig {
  config: TrainConfig;
  sources: Record<string, string>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** Leaf paths of an object (arrays are leaves). */
function leaves(o: Obj, prefix = ""): [string, unknown][] {
  return Object.entries(o).flatMap(([k, v]) =>
    isObj(v) ? leaves(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]]
  );
}

/** Whether a layer gives `path`: the path itself, or a shorthand above it (`lr: 1e-3` sets
 * `lr.heads`; `ac: false` sets `ac.enabled`; `dataset: "dir"` sets `dataset.kind` and `.dir`). */
function gives(partial: PartialConfig, path: string): boolean {
  const norm = mergePartial({}, partial) as Obj; // shorthands as objects
  let v: unknown = norm;
  for (const k of path.split(".")) {
    if (!isObj(v)) return false;
    v = v[k];
    if (v === undefined) return false;
  }
  return true;
}

/** Merges `layers` (later ones win), resolves, and names each field's source. */
export function resolveConfigLayers(layers: readonly ConfigLayer[]): SourcedConfig {
  const merged = layers.reduce<PartialConfig>((acc, l) => mergePartial(acc, l.partial), {});
  const config = resolveConfig(merged);
  const all: ConfigLayer[] = [...layers];
  if (merged.officialScript != null) {
    const preset = officialScriptPreset(
      merged.officialScript,
      merged,
      datasetKind(merged.dataset),
    );
    all.unshift({ partial: preset, source: () => `script ${merged.officialScript}` });
  }
  const sources: Record<string, string> = {};
  for (const [path] of leaves(config as unknown as Obj)) {
    const from = all.findLast((l) => gives(l.partial, path));
    sources[path] = from ? from.source(path) : "default";
  }
  return { config, sources };
}

/** The resolved config as `field = value (source)` lines, one per leaf field. */
export function formatSources({ config, sources }: SourcedConfig): string {
  return leaves(config as unknown as Obj)
    .map(([path, v]) => `  ${path} = ${JSON.stringify(v)} (${sources[path] ?? "default"})`)
    .join("\n");
}

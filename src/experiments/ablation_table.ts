/** The ablation table of `deno task ablate`: one row per step of the ablation — (1)
 * compatibility loss only, (2) + regression, (3) + AC with the ViT, then (3) with the CNN — mean ±
 * std over seeds, with the change each step brings. */
import {
  formatMeanStd,
  type MeanStd,
  type Metric,
  METRIC_TITLES,
  METRICS,
  summarize,
} from "./aggregate.ts";
import { ABLATION_VARIANTS } from "./presets.ts";
import type { CellResult } from "./runner.ts";

/** One row of the table. */
export interface AblationRow {
  step: string;
  description: string;
  backbone: string;
  dataset: string;
  split: string;
  seeds: number[];
  metrics: Record<Metric, MeanStd>;
  /** Change of the mean against the row before it (percentage points), null for the first. */
  delta: Record<Metric, number> | null;
}

/** The table's rows, from the ablation grid's results. */
export function ablationRows(results: readonly CellResult[]): AblationRow[] {
  const rows = summarize(results);
  const out: AblationRow[] = [];
  const order = [
    ...ABLATION_VARIANTS.map((v) => ["vit", v.name, v.description] as const),
    [
      "cnn",
      ABLATION_VARIANTS[2].name,
      `${ABLATION_VARIANTS[2].description}, CNN backbone`,
    ] as const,
  ];
  for (const [backbone, variant, description] of order) {
    for (const r of rows.filter((x) => x.backbone === backbone && x.variant === variant)) {
      const prev = out.at(-1);
      out.push({
        step: backbone === "cnn" ? `${variant} (CNN)` : variant,
        description,
        backbone,
        dataset: r.dataset,
        split: r.split,
        seeds: r.seeds,
        metrics: r.metrics,
        delta: prev
          ? Object.fromEntries(
            METRICS.map((m) => [m, (r.metrics[m].mean - prev.metrics[m].mean) * 100]),
          ) as Record<Metric, number>
          : null,
      });
    }
  }
  return out;
}

/** The table as Markdown. */
export function ablationMarkdown(rows: readonly AblationRow[], title: string): string {
  const sign = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
  const lines = [
    `## ${title}`,
    "",
    `| step | backbone | seeds | ${
      METRICS.map((m) => `${METRIC_TITLES[m]} %`).join(" | ")
    } | Δ ZSL | Δ H |`,
    `| --- | --- | ---: | ${METRICS.map(() => "---:").join(" | ")} | ---: | ---: |`,
    ...rows.map((r) =>
      `| ${r.description} | ${r.backbone} | ${r.seeds.length} | ${
        METRICS.map((m) => formatMeanStd(r.metrics[m])).join(" | ")
      } | ${r.delta ? sign(r.delta.zsl) : ""} | ${r.delta ? sign(r.delta.H) : ""} |`
    ),
    "",
    `Dataset ${rows[0]?.dataset ?? "–"}, split ${rows[0]?.split ?? "–"}. Mean ± std over seeds, ` +
    "in %, VAM branch; Δ: change of the mean against the row above (percentage points).",
    "",
  ];
  return lines.join("\n");
}

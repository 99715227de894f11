/**
 * Grid results summarised: mean ± standard deviation over seeds of ZSL, S, U, H and AUSUC (the
 * headline VAM branch) per dataset split and configuration, the accuracy-versus-vocabulary-size
 * curve (random subsets pooled over draws and seeds), and side-by-side comparisons along one axis
 * (backbone, variant). Pure functions of the cells' results, in plan order: the same results give
 * the same tables byte for byte.
 * @module
 */
import type { CellAxes } from "./grid.ts";
import type { CellEval, CellResult } from "./runner.ts";

/** The reported metrics. */
export const METRICS = ["zsl", "S", "U", "H", "ausuc"] as const;
/** One reported metric. */
export type Metric = typeof METRICS[number];
/** Their column titles. */
export const METRIC_TITLES: Record<Metric, string> = {
  zsl: "ZSL",
  S: "S",
  U: "U",
  H: "H",
  ausuc: "AUSUC",
};

/** Mean and sample standard deviation (n − 1; null for a single value). */
export interface MeanStd {
  mean: number;
  std: number | null;
  n: number;
}

/** Mean and sample standard deviation of `xs`. */
export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: null, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: null, n };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(v), n };
}

/** A cell's headline metrics (fractions). */
export function metricsOf(ev: CellEval): Record<Metric, number> {
  return { zsl: ev.zsl, S: ev.gzsl.S, U: ev.gzsl.U, H: ev.gzsl.H, ausuc: ev.ausuc };
}

/** `75.6 ± 2.1` (percent), `75.6` for one seed. */
export function formatMeanStd(m: MeanStd, digits = 1): string {
  if (!Number.isFinite(m.mean)) return "–";
  const mean = (m.mean * 100).toFixed(digits);
  return m.std === null ? mean : `${mean} ± ${(m.std * 100).toFixed(digits)}`;
}

/** One configuration of one dataset split, over its seeds. */
export interface SummaryRow {
  dataset: string;
  split: string;
  backbone: string;
  recipe: string;
  variant: string;
  attributes: string;
  attributeKind: CellAxes["attributeKind"];
  numAttributes: number;
  fullAttributes: number;
  draw: number | null;
  droppedGroup: string | null;
  /** AC on in training. */
  ac: boolean;
  seeds: number[];
  chance: number;
  metrics: Record<Metric, MeanStd>;
}

const configKey = (a: CellAxes) =>
  [a.dataset, a.split, a.backbone, a.recipe, a.variant, a.attributes].join("\u0000");

/** The cells grouped by `key`, groups in the order of their first cell. */
function groupBy(results: readonly CellResult[], key: (r: CellResult) => string) {
  const out = new Map<string, CellResult[]>();
  for (const r of results) {
    const k = key(r);
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(r);
  }
  return [...out.values()];
}

/** Mean ± std of each metric over `cells`. */
function poolMetrics(cells: readonly CellResult[]): Record<Metric, MeanStd> {
  const ms = cells.map((r) => metricsOf(r.eval));
  return Object.fromEntries(METRICS.map((m) => [m, meanStd(ms.map((x) => x[m]))])) as Record<
    Metric,
    MeanStd
  >;
}

/** Groups the cells over seeds (rows in the order of their first cell). */
export function summarize(results: readonly CellResult[]): SummaryRow[] {
  return groupBy(results, (r) => configKey(r.cell.axes)).map((rs) => {
    const a = rs[0].cell.axes;
    return {
      dataset: a.dataset,
      split: a.split,
      backbone: a.backbone,
      recipe: a.recipe,
      variant: a.variant,
      attributes: a.attributes,
      attributeKind: a.attributeKind,
      numAttributes: a.numAttributes,
      fullAttributes: a.fullAttributes,
      draw: a.draw,
      droppedGroup: a.droppedGroup,
      ac: rs[0].cell.ac,
      seeds: rs.map((r) => r.cell.axes.seed),
      chance: rs[0].eval.chance,
      metrics: poolMetrics(rs),
    };
  });
}

/** The dataset splits of the rows, in order (`dataset/split` keys). */
export function splitsOf(rows: readonly { dataset: string; split: string }[]): string[] {
  return [...new Set(rows.map((r) => `${r.dataset}/${r.split}`))];
}

/** A description of an attribute set for tables. */
export function attributeLabel(
  r: Pick<SummaryRow, "attributes" | "attributeKind" | "numAttributes" | "droppedGroup" | "draw">,
): string {
  switch (r.attributeKind) {
    case "full":
      return `all (${r.numAttributes})`;
    case "random":
      return `random ${r.numAttributes} (draw ${r.draw})`;
    case "dropGroup":
      return `without ${r.droppedGroup} (${r.numAttributes})`;
    default:
      return `${r.attributes} (${r.numAttributes})`;
  }
}

/** Markdown: one table per dataset split. */
export function summaryMarkdown(rows: readonly SummaryRow[]): string {
  const out: string[] = [];
  for (const key of splitsOf(rows)) {
    const rs = rows.filter((r) => `${r.dataset}/${r.split}` === key);
    out.push(
      `### ${rs[0].dataset} — split ${rs[0].split} (ZSL chance ${
        (rs[0].chance * 100).toFixed(1)
      }%)`,
      "",
      `| backbone | recipe | variant | AC | attributes | seeds | ${
        METRICS.map((m) => `${METRIC_TITLES[m]} %`).join(" | ")
      } |`,
      `| --- | --- | --- | --- | --- | --- | ${METRICS.map(() => "---:").join(" | ")} |`,
    );
    for (const r of rs) {
      out.push(
        `| ${r.backbone} | ${r.recipe} | ${r.variant} | ${r.ac ? "on" : "off"} | ${
          attributeLabel(r)
        } | ${r.seeds.length} | ${METRICS.map((m) => formatMeanStd(r.metrics[m])).join(" | ")} |`,
      );
    }
    out.push("");
  }
  out.push(
    "Mean ± sample standard deviation over seeds, in %; VAM branch (the official headline). " +
      "ZSL: mean per-class top-1 over unseen classes; S, U: GZSL per-class accuracy on seen and " +
      "unseen test images with calibrated stacking; H = 2SU/(S+U); AUSUC: area under the " +
      "seen–unseen curve.",
    "",
  );
  return out.join("\n");
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const num = (x: number | null) => (x === null || !Number.isFinite(x) ? "" : x.toFixed(6));

/** CSV: one line per row, metrics as fractions (mean and std columns). */
export function summaryCsv(rows: readonly SummaryRow[]): string {
  const head = [
    "dataset",
    "split",
    "backbone",
    "recipe",
    "variant",
    "ac",
    "attributes",
    "attribute_kind",
    "num_attributes",
    "dropped_group",
    "draw",
    "seeds",
    "chance",
    ...METRICS.flatMap((m) => [`${m}_mean`, `${m}_std`]),
  ];
  const lines = [head.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.dataset,
        r.split,
        r.backbone,
        r.recipe,
        r.variant,
        r.ac ? "on" : "off",
        r.attributes,
        r.attributeKind,
        r.numAttributes,
        r.droppedGroup ?? "",
        r.draw ?? "",
        r.seeds.join(" "),
        num(r.chance),
        ...METRICS.flatMap((m) => [num(r.metrics[m].mean), num(r.metrics[m].std)]),
      ].map(csvCell).join(","),
    );
  }
  return lines.join("\n") + "\n";
}

/** One point of the vocabulary curve: `k` attributes, pooled over draws and seeds. */
export interface CurvePoint {
  k: number;
  /** Cells pooled. */
  n: number;
  draws: number;
  metrics: Record<Metric, MeanStd>;
}

/** The accuracy-versus-vocabulary-size curve of one configuration of one split. */
export interface VocabularyCurve {
  dataset: string;
  split: string;
  backbone: string;
  recipe: string;
  variant: string;
  /** The full vocabulary's size. */
  fullAttributes: number;
  /** Full vocabulary and random subsets, by size. */
  points: CurvePoint[];
  /** Each group removed. */
  droppedGroups: { group: string; k: number; metrics: Record<Metric, MeanStd> }[];
  chance: number;
}

/** The split name of a curve that pools every split of a dataset. */
export const ALL_SPLITS = "all";

/** The curves (configurations with at least two vocabulary sizes, or a group removed), and for
 * a configuration whose curve was run on several splits of a dataset, one more pooling them all
 * (split {@link ALL_SPLITS}; its points' spread is over splits, draws and seeds together). */
export function vocabularyCurves(results: readonly CellResult[]): VocabularyCurve[] {
  const out: VocabularyCurve[] = [];
  for (const rs of groupBy(results, curveKey)) {
    const curves = groupBy(rs, (r) => r.cell.axes.split).map(curveOf)
      .filter((c) => c !== null);
    out.push(...curves);
    const sized = curves.filter((c) => c.points.length >= 2);
    if (sized.length < 2) continue;
    const splits = new Set(sized.map((c) => c.split));
    const pooled = curveOf(
      rs.filter((r) => splits.has(r.cell.axes.split) && r.cell.axes.attributeKind !== "dropGroup"),
    );
    const chance = meanStd(sized.map((c) => c.chance)).mean;
    if (pooled) out.push({ ...pooled, split: ALL_SPLITS, chance });
  }
  return out;
}

/** What a vocabulary curve holds fixed: everything but the split, attributes and seed. */
const curveKey = (r: CellResult) => {
  const a = r.cell.axes;
  return [a.dataset, a.backbone, a.recipe, a.variant].join("\u0000");
};

function curveOf(rs: CellResult[]): VocabularyCurve | null {
  const a = rs[0].cell.axes;
  const sized = rs.filter((r) =>
    r.cell.axes.attributeKind === "full" || r.cell.axes.attributeKind === "random"
  );
  const ks = [...new Set(sized.map((r) => r.cell.axes.numAttributes))].sort((x, y) => x - y);
  const dropped = rs.filter((r) => r.cell.axes.attributeKind === "dropGroup");
  if (ks.length < 2 && dropped.length === 0) return null;
  const groups = [...new Set(dropped.map((r) => r.cell.axes.droppedGroup!))];
  return {
    dataset: a.dataset,
    split: a.split,
    backbone: a.backbone,
    recipe: a.recipe,
    variant: a.variant,
    fullAttributes: a.fullAttributes,
    points: ks.map((k) => {
      const at = sized.filter((r) => r.cell.axes.numAttributes === k);
      return {
        k,
        n: at.length,
        draws: new Set(at.map((r) => `${r.cell.axes.attributes}`)).size,
        metrics: poolMetrics(at),
      };
    }),
    droppedGroups: groups.map((g) => {
      const at = dropped.filter((r) => r.cell.axes.droppedGroup === g);
      return { group: g, k: at[0].cell.axes.numAttributes, metrics: poolMetrics(at) };
    }),
    chance: rs[0].eval.chance,
  };
}

/** Markdown of a curve's points. */
export function curveMarkdown(c: VocabularyCurve): string {
  const lines = [
    `| attributes | cells (draws × ${c.split === ALL_SPLITS ? "splits·seeds" : "seeds"}) | ${
      METRICS.map((m) => `${METRIC_TITLES[m]} %`).join(" | ")
    } |`,
    `| ---: | ---: | ${METRICS.map(() => "---:").join(" | ")} |`,
    ...c.points.map((p) =>
      `| ${p.k}${p.k === c.fullAttributes ? " (all)" : ""} | ${p.n} (${p.draws} × ${
        p.n / Math.max(1, p.draws)
      }) | ${METRICS.map((m) => formatMeanStd(p.metrics[m])).join(" | ")} |`
    ),
    ...c.droppedGroups.map((g) =>
      `| ${g.k} (without ${g.group}) | ${g.metrics.zsl.n} | ${
        METRICS.map((m) => formatMeanStd(g.metrics[m])).join(" | ")
      } |`
    ),
  ];
  return lines.join("\n") + "\n";
}

/** Rows that differ only along `axis`, side by side. */
export interface Comparison {
  axis: "backbone" | "variant" | "recipe";
  dataset: string;
  split: string;
  /** The other axes' values, e.g. `clean · default · all (21)`. */
  context: string;
  rows: SummaryRow[];
}

/** Every set of at least two rows that differ only along `axis`. */
export function compareAlong(
  rows: readonly SummaryRow[],
  axis: Comparison["axis"],
): Comparison[] {
  const others = (["backbone", "recipe", "variant"] as const).filter((x) => x !== axis);
  const groups = new Map<string, SummaryRow[]>();
  for (const r of rows) {
    const k = [r.dataset, r.split, ...others.map((o) => r[o]), r.attributes].join("\u0000");
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.values()].filter((g) => g.length >= 2).map((g) => ({
    axis,
    dataset: g[0].dataset,
    split: g[0].split,
    context: [...others.map((o) => `${o} ${g[0][o]}`), attributeLabel(g[0])].join(" · "),
    rows: g,
  }));
}

/** Markdown of comparisons (one table per comparison, Δ against its first row). */
export function comparisonMarkdown(cs: readonly Comparison[]): string {
  const out: string[] = [];
  for (const c of cs) {
    out.push(
      `**${c.dataset} ${c.split}** — ${c.context}`,
      "",
      `| ${c.axis} | AC | seeds | ${
        METRICS.map((m) => `${METRIC_TITLES[m]} %`).join(" | ")
      } | Δ ZSL | Δ H |`,
      `| --- | --- | ---: | ${METRICS.map(() => "---:").join(" | ")} | ---: | ---: |`,
    );
    const base = c.rows[0].metrics;
    for (const r of c.rows) {
      const d = (m: Metric) => {
        const x = (r.metrics[m].mean - base[m].mean) * 100;
        return r === c.rows[0] ? "" : `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
      };
      out.push(
        `| ${r[c.axis]} | ${r.ac ? "on" : "off"} | ${r.seeds.length} | ${
          METRICS.map((m) => formatMeanStd(r.metrics[m])).join(" | ")
        } | ${d("zsl")} | ${d("H")} |`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}

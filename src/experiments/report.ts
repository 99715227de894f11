/**
 * The grid's report: `report.html` in the grid folder, with `report/results.md` (every table),
 * `report/results.csv` (one line per configuration), `report/report.json`, the vocabulary curves
 * as SVG and PNG, attention-map pictures of a few unseen-class test images, and
 * `report/timing.json`. Everything but `timing.json` is a function of the finished cells, so a
 * grid interrupted and rerun ends with the same report.
 * @module
 */
import { loadSharp } from "../data/npm.ts";
import { lineChart, type Series } from "../train/svg_chart.ts";
import {
  ALL_SPLITS,
  compareAlong,
  type Comparison,
  comparisonMarkdown,
  curveMarkdown,
  METRICS,
  splitsOf,
  summarize,
  summaryCsv,
  summaryMarkdown,
  type SummaryRow,
  type VocabularyCurve,
  vocabularyCurves,
} from "./aggregate.ts";
import type { GridPlan } from "./grid.ts";
import type { CellResult, GridOutcome } from "./runner.ts";
import { pictureCaption, type VizPicture } from "./viz.ts";
import { escapeMarkup as esc } from "../io/markup.ts";

/** Pictures of one cell, made by `deno task viz` into the report folder. */
export interface CellPictures {
  cellId: string;
  /** The viz output folder relative to the grid folder. */
  dir: string;
  pictures: VizPicture[];
}

/** Makes (or reuses) the pictures of a cell's run into `outDir`; null when that failed. */
export type PictureMaker = (
  runDir: string,
  outDir: string,
  images: number,
) => Promise<{ pictures: VizPicture[] } | null>;

/** The files written. */
export interface GridReport {
  html: string;
  markdown: string;
  csv: string;
  json: string;
  timing: string;
  curves: { svg: string; png: string | null }[];
  rows: SummaryRow[];
  curvesData: VocabularyCurve[];
  comparisons: Comparison[];
}

/** Markdown (the subset this module writes: `###` headings, `**bold**`, tables, paragraphs) as
 * HTML. */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const lines = md.split("\n");
  const inline = (s: string) =>
    esc(s).replace(/\*\*(.+?)\*\*/g, "<b>$1</b>").replace(/`([^`]+)`/g, "<code>$1</code>");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith("|")) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i].startsWith("|")) {
        rows.push(lines[i].slice(1, -1).split("|").map((c) => c.trim()));
        i++;
      }
      i--;
      const [head, , ...body] = rows;
      out.push(
        `<table><tr>${head.map((h) => `<th>${inline(h)}</th>`).join("")}</tr>${
          body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")
        }</table>`,
      );
    } else if (l.startsWith("### ")) out.push(`<h3>${inline(l.slice(4))}</h3>`);
    else if (l.trim()) out.push(`<p>${inline(l)}</p>`);
  }
  return out.join("\n");
}

const splitName = (s: string) => (s === ALL_SPLITS ? "all splits" : s);

/** The vocabulary curve as an SVG chart. */
export function curveSvg(c: VocabularyCurve): string {
  const xs = c.points.map((p) => p.k);
  const clip = (v: number) => Math.max(0, Math.min(100, v));
  const line = (m: "zsl" | "H", color: string, name: string): Series[] => {
    const mean = c.points.map((p) => p.metrics[m].mean * 100);
    const sd = c.points.map((p) => (p.metrics[m].std ?? NaN) * 100);
    const s: Series[] = [{ name, xs, ys: mean, color, dots: true }];
    if (sd.some(Number.isFinite)) {
      s.push(
        {
          name: `${name} ± 1 sd`,
          xs,
          ys: mean.map((v, i) => clip(v + sd[i])),
          color,
          dashed: true,
        },
        { name: "", xs, ys: mean.map((v, i) => clip(v - sd[i])), color, dashed: true },
      );
    }
    return s;
  };
  const series: Series[] = [...line("zsl", "#c0392b", "ZSL"), ...line("H", "#8e44ad", "H")];
  // One series per removed group: single points, no line between them.
  c.droppedGroups.forEach((g, i) =>
    series.push({
      name: i === 0 ? "ZSL, − a group" : "",
      xs: [g.k],
      ys: [g.metrics.zsl.mean * 100],
      color: "#e67e22",
      dots: true,
    })
  );
  const allK = [...xs, ...c.droppedGroups.map((g) => g.k)];
  const lo = Math.min(...allK), hi = Math.max(...allK);
  series.push({
    name: "ZSL chance",
    xs: [lo, hi],
    ys: [c.chance * 100, c.chance * 100],
    color: "#999",
    dashed: true,
  });
  return lineChart(series, {
    title: `${c.dataset} ${
      splitName(c.split)
    }: accuracy vs vocabulary size (${c.backbone}, ${c.variant})`,
    xLabel: "attributes kept",
    yLabel: "%",
    yMin: 0,
    yMax: 100,
    xMin: Math.max(0, lo - 1),
    xMax: hi + 1,
    width: 700,
    height: 340,
    legendRight: true,
  });
}

/** Renders an SVG to PNG with sharp (librsvg); null when that is unavailable. */
export async function svgToPng(svg: string, path: string): Promise<string | null> {
  try {
    const sharp = await loadSharp();
    await sharp(new TextEncoder().encode(svg), { density: 144 }).png().toFile(path);
    return path;
  } catch {
    return null;
  }
}

async function writeText(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** The cells that get pictures: per dataset split, first-seed full-vocabulary cells, one per
 * backbone first, at most `count`. */
export function pictureCells(results: readonly CellResult[], count: number): CellResult[] {
  if (count <= 0) return [];
  const out: CellResult[] = [];
  for (const key of splitsOf(results.map((r) => r.cell.axes))) {
    const rs = results.filter((r) =>
      `${r.cell.axes.dataset}/${r.cell.axes.split}` === key && r.cell.axes.attributeKind === "full"
    );
    if (rs.length === 0) continue;
    const seed = Math.min(...rs.map((r) => r.cell.axes.seed));
    const first = rs.filter((r) => r.cell.axes.seed === seed);
    const byBackbone = [...new Map(first.map((r) => [r.cell.axes.backbone, r])).values()];
    const rest = first.filter((r) => !byBackbone.includes(r));
    out.push(...[...byBackbone, ...rest].slice(0, count));
  }
  return out;
}

/** Writes the report of the finished cells (see the module note). */
export async function writeGridReport(
  plan: GridPlan,
  outcome: Pick<GridOutcome, "results" | "failed" | "seconds" | "status">,
  makePictures: PictureMaker | null,
): Promise<GridReport> {
  const dir = plan.dir;
  const rdir = `${dir}/report`;
  await Deno.mkdir(rdir, { recursive: true });
  const results = outcome.results;
  const rows = summarize(results);
  const curves = vocabularyCurves(results);
  const comparisons = [
    ...compareAlong(rows, "backbone"),
    ...compareAlong(rows, "variant"),
    ...compareAlong(rows, "recipe"),
  ];

  // Curves.
  const curveFiles: GridReport["curves"] = [];
  const curveSvgs: string[] = [];
  for (const c of curves) {
    const base = `vocabulary_${c.dataset}-${c.split}_${c.backbone}_${c.recipe}_${c.variant}`;
    const svg = curveSvg(c);
    curveSvgs.push(svg);
    await writeText(`${rdir}/${base}.svg`, svg + "\n");
    curveFiles.push({
      svg: `${rdir}/${base}.svg`,
      png: await svgToPng(svg, `${rdir}/${base}.png`),
    });
  }

  // Pictures.
  const pictures: (CellPictures & { result: CellResult })[] = [];
  if (makePictures) {
    for (const r of pictureCells(results, plan.config.report.pictureCells)) {
      const rel = `report/pictures/${r.cell.id}`;
      const made = await makePictures(r.runDir, `${dir}/${rel}`, plan.config.report.pictures);
      if (made) pictures.push({ cellId: r.cell.id, dir: rel, pictures: made.pictures, result: r });
    }
  }

  // Markdown.
  const md: string[] = [
    `# Experiment grid ${plan.config.name}`,
    "",
    ...(plan.config.description ? [plan.config.description, ""] : []),
    `${results.length} of ${plan.cells.length} cells finished` +
    (outcome.failed.length ? `, ${outcome.failed.length} failed` : "") + ".",
    "",
    "## Results (mean ± std over seeds)",
    "",
    summaryMarkdown(rows),
  ];
  if (curves.length > 0) {
    md.push("## Accuracy vs vocabulary size", "");
    for (const c of curves) {
      const title = `${c.dataset} — ${
        c.split === ALL_SPLITS ? "all splits pooled" : `split ${c.split}`
      }`;
      md.push(`### ${title} (${c.backbone}, ${c.recipe}, ${c.variant})`, "");
      md.push(curveMarkdown(c));
    }
  }
  const byAxis = (a: Comparison["axis"]) => comparisons.filter((c) => c.axis === a);
  if (byAxis("backbone").length) {
    md.push("## Backbones (CNN vs ViT)", "", comparisonMarkdown(byAxis("backbone")));
  }
  if (byAxis("variant").length) {
    md.push("## Loss and AC switches", "", comparisonMarkdown(byAxis("variant")));
  }
  if (byAxis("recipe").length) {
    md.push("## Recipes", "", comparisonMarkdown(byAxis("recipe")));
  }
  const markdown = md.join("\n");

  await writeText(`${rdir}/results.md`, markdown);
  await writeText(`${rdir}/results.csv`, summaryCsv(rows));
  const json = {
    name: plan.config.name,
    cells: plan.cells.length,
    finished: results.length,
    failed: outcome.failed.map((f) => ({ id: f.cell.id, message: f.message, log: f.log })),
    rows,
    curves,
    comparisons: comparisons.map((c) => ({ ...c, rows: c.rows.map((r) => r.attributes) })),
    cellResults: results.map((r) => ({
      id: r.cell.id,
      axes: r.cell.axes,
      runDir: r.runDir,
      zsl: r.eval.zsl,
      gzsl: r.eval.gzsl,
      ausuc: r.eval.ausuc,
      epoch: r.eval.epoch,
      selection: r.eval.selection,
    })),
    pictures: pictures.map((p) => ({
      cell: p.cellId,
      dir: p.dir,
      files: p.pictures.map((x) => x.file),
    })),
  };
  await writeText(`${rdir}/report.json`, JSON.stringify(json, null, 1) + "\n");
  const timing = {
    gridSeconds: Math.round(outcome.seconds),
    trainSeconds: Math.round(results.reduce((a, r) => a + (r.trainSeconds ?? 0), 0) * 10) / 10,
    cells: results.map((r) => ({ id: r.cell.id, status: r.status, trainSeconds: r.trainSeconds })),
    note: "gridSeconds: this invocation's wall time; trainSeconds: the cells' training time as " +
      "recorded when they ran (null when unknown).",
  };
  await writeText(`${rdir}/timing.json`, JSON.stringify(timing, null, 1) + "\n");

  // HTML.
  const h: string[] = [
    `<!doctype html><html><head><meta charset="utf-8"><title>Experiments ${
      esc(plan.config.name)
    }</title><style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:30px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}figure{margin:10px 0}
figcaption{font-size:12px;color:#333}.warn{background:#fff3cd;padding:6px 10px;border:1px solid #e0c96b}
</style></head><body>`,
    `<h1>Experiment grid <code>${esc(plan.config.name)}</code></h1>`,
  ];
  if (plan.config.description) h.push(`<p>${esc(plan.config.description)}</p>`);
  if (plan.config.budget) h.push(`<p>Stated CPU budget: ${esc(plan.config.budget)}</p>`);
  h.push(
    `<p>${results.length} of ${plan.cells.length} cells finished${
      outcome.failed.length ? `, <b>${outcome.failed.length} failed</b>` : ""
    }. Files: <a href="report/results.md">results.md</a>, <a href="report/results.csv">results.csv</a>, ` +
      `<a href="report/report.json">report.json</a>, <a href="report/timing.json">timing.json</a> ` +
      `(CPU time).</p>`,
  );
  if (outcome.failed.length) {
    h.push(
      `<p class="warn">Failed cells: ${
        outcome.failed.map((f) => `${esc(f.cell.id)} (${esc(f.message)})`).join("; ")
      }</p>`,
    );
  }
  const curveHtml = (i: number): string[] => {
    const c = curves[i], f = curveFiles[i];
    const file = (path: string) => esc(path.split("/").pop()!);
    return [
      `<h3>Accuracy vs vocabulary size (${esc(c.backbone)}, ${esc(c.recipe)}, ${
        esc(c.variant)
      })</h3>`,
      curveSvgs[i],
      `<p>${f.png ? `<a href="report/${file(f.png)}">PNG</a> · ` : ""}<a href="report/${
        file(f.svg)
      }">SVG</a>. Random subsets pooled over draws and ${
        c.split === ALL_SPLITS ? "splits and seeds" : "seeds"
      }; dashed: ± one standard deviation.</p>`,
      markdownToHtml(curveMarkdown(c)),
    ];
  };
  for (const key of splitsOf(rows)) {
    const rs = rows.filter((r) => `${r.dataset}/${r.split}` === key);
    h.push(`<h2>${esc(rs[0].dataset)} — split ${esc(rs[0].split)}</h2>`);
    h.push(markdownToHtml(summaryMarkdown(rs).split("\n").slice(2).join("\n")));
    for (const [i, c] of curves.entries()) {
      if (`${c.dataset}/${c.split}` === key) h.push(...curveHtml(i));
    }
    const cs = comparisons.filter((c) => `${c.dataset}/${c.split}` === key);
    for (const axis of ["backbone", "variant", "recipe"] as const) {
      const these = cs.filter((c) => c.axis === axis);
      if (these.length === 0) continue;
      h.push(
        `<h3>${
          axis === "backbone"
            ? "CNN vs ViT (backbones)"
            : axis === "variant"
            ? "Loss and AC switches (AC on / off)"
            : "Recipes"
        }</h3>`,
        markdownToHtml(comparisonMarkdown(these)),
      );
    }
    for (
      const p of pictures.filter((p) =>
        `${p.result.cell.axes.dataset}/${p.result.cell.axes.split}` === key
      )
    ) {
      h.push(
        `<h3>Attention maps, unseen-class test images — <code>${esc(p.cellId)}</code></h3>`,
        `<p><a href="${esc(p.dir)}/viz.html">all pictures of this cell</a></p>`,
      );
      for (const pic of p.pictures) {
        h.push(
          `<figure><img src="${esc(`${p.dir}/${pic.file}`)}" alt="${esc(pic.trueClass)}">` +
            `<figcaption>${pictureCaption(pic)}</figcaption></figure>`,
        );
      }
    }
  }
  for (const [i, c] of curves.entries()) {
    if (c.split !== ALL_SPLITS) continue;
    h.push(`<h2>${esc(c.dataset)} — all splits pooled</h2>`, ...curveHtml(i));
  }
  h.push(
    `<h2>Cells</h2><table><tr><th>cell</th><th>ZSL %</th><th>S %</th><th>U %</th><th>H %</th>` +
      `<th>AUSUC %</th><th>run</th></tr>`,
  );
  const rel = (p: string) => (p.startsWith(`${dir}/`) ? p.slice(dir.length + 1) : p);
  for (const r of results) {
    const m = r.eval;
    h.push(
      `<tr><td>${esc(r.cell.id)}</td>${
        [m.zsl, m.gzsl.S, m.gzsl.U, m.gzsl.H, m.ausuc].map((x) =>
          `<td>${(x * 100).toFixed(1)}</td>`
        )
          .join("")
      }<td><a href="${esc(rel(r.runDir))}/report.html">report</a></td></tr>`,
    );
  }
  h.push(`</table><p>Metric columns: ${METRICS.join(", ")} of the VAM branch.</p></body></html>`);
  const html = `${dir}/report.html`;
  await writeText(html, h.join("\n") + "\n");
  return {
    html,
    markdown: `${rdir}/results.md`,
    csv: `${rdir}/results.csv`,
    json: `${rdir}/report.json`,
    timing: `${rdir}/timing.json`,
    curves: curveFiles,
    rows,
    curvesData: curves,
    comparisons,
  };
}

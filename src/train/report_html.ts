/** `report.html`: a run at a glance — results, loss and accuracy curves (inline SVG), the
 * seen–unseen curve, a per-epoch table, attention-map pictures and the confusion matrix. */
import type { EpochRecord, MetricsRecord, StepRecord } from "./records.ts";
import type { AttentionPicture } from "./pictures.ts";
import { lineChart } from "./svg_chart.ts";
import type { TrainConfig } from "../config/types.ts";
import { escapeMarkup as esc } from "../io/markup.ts";

/** The evaluation part the report shows (`writeEvaluation`'s summary). */
export interface ReportEval {
  zsl: number;
  chance: number;
  gzsl: { S: number; U: number; H: number; gamma: number; gammaRule: string };
  ausuc: number;
  epoch: number;
  selection: string;
  branches: Record<
    string,
    {
      zsl: number;
      S: number;
      U: number;
      H: number;
      ausuc: number;
      gamma: number;
      gammaRule: string;
      oracleH: { H: number; S: number; U: number };
    }
  >;
  curve?: { S: number[]; U: number[] };
  /** Baseline rows on the same split (a CLIP backbone's own zero-shot numbers). */
  baselines?: {
    clipZeroShot?: {
      branch: string;
      zsl: number;
      S: number;
      U: number;
      H: number;
      ausuc: number;
      gamma: number;
    };
  };
  /** Images left out of every metric as unreadable (`onBadImage: skip`). */
  badImages?: readonly { path: string; problem: string }[];
  /** The best test epochs by ZSL accuracy and by H (1-based), when training recorded them. */
  testBest?: {
    zsl: { epoch: number; zsl: number; S: number; U: number; H: number } | null;
    H: { epoch: number; zsl: number; S: number; U: number; H: number } | null;
  } | null;
}

/** Everything the report needs. */
export interface ReportInput {
  runDir: string;
  config: TrainConfig;
  records: readonly MetricsRecord[];
  evaluation: ReportEval | null;
  pictures: readonly AttentionPicture[];
  status: string;
  seconds: number;
  dataDescription: string;
  /** The confusion-matrix PNG, relative to the run folder. */
  confusion: string | null;
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : (x * 100).toFixed(1);

/** A moving average over `w` points. */
function smooth(ys: readonly number[], w: number): number[] {
  const out: number[] = [];
  let sum = 0;
  const q: number[] = [];
  for (const y of ys) {
    q.push(y);
    sum += y;
    if (q.length > w) sum -= q.shift()!;
    out.push(sum / q.length);
  }
  return out;
}

/** The report as an HTML string. */
export function reportHtml(r: ReportInput): string {
  const steps = r.records.filter((x): x is StepRecord => x.type === "step");
  const epochs = r.records.filter((x): x is EpochRecord => x.type === "epoch");
  const cfg = r.config;
  const ev = r.evaluation;
  const parts: string[] = [];
  const official = ev?.selection.includes("official") ?? cfg.selection === "official";
  parts.push(
    `<!doctype html><html><head><meta charset="utf-8"><title>DSVA run ${
      esc(r.runDir.split("/").pop()!)
    }</title><style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1180px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.big{font-size:20px;font-weight:600}.warn{background:#fff3cd;padding:6px 10px;border:1px solid #e0c96b}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:8px 0}figcaption{font-size:12px;color:#444}
.yes{color:#0a7a2a}.no{color:#b00}pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto}
</style></head><body>`,
    `<h1>DSVA run <code>${esc(r.runDir)}</code></h1>`,
    `<p>${esc(r.dataDescription)}</p>`,
    `<p>Recipe <b>${cfg.recipe}</b>, backbone <b>${
      cfg.backbone.kind === "vit"
        ? `${esc(cfg.backbone.preset)} ViT from scratch`
        : esc(cfg.backbone.kind)
    }</b>, ${cfg.epochs} epochs × ${cfg.batchesPerEpoch} batches of ${cfg.ways}×${cfg.shots}, ` +
      `${cfg.imageSize}×${cfg.imageSize} px, AC ${cfg.ac.enabled ? "on" : "off"}, device ${
        esc(cfg.device)
      }, ${cfg.threads} threads. Status: <b>${esc(r.status)}</b> after ${
        r.seconds.toFixed(0)
      } s of training.</p>`,
  );
  if (ev) {
    parts.push(
      `<p class="big">ZSL ${pct(ev.zsl)}% (chance ${pct(ev.chance)}%, ×${
        (ev.zsl / ev.chance).toFixed(2)
      }) · GZSL S ${pct(ev.gzsl.S)} U ${pct(ev.gzsl.U)} H ${pct(ev.gzsl.H)} · AUSUC ${
        pct(ev.ausuc)
      }</p>`,
      `<p>Epoch ${ev.epoch}, chosen by <b>${esc(ev.selection)}</b>; γ = ${
        Number(ev.gzsl.gamma.toPrecision(4))
      } (${esc(ev.gzsl.gammaRule)}). Headline branch: VAM.</p>`,
    );
    if (ev.testBest) {
      const one = (e: NonNullable<ReportEval["testBest"]>["zsl"]) =>
        e
          ? `epoch ${e.epoch} (ZSL ${pct(e.zsl)}, S ${pct(e.S)}, U ${pct(e.U)}, H ${pct(e.H)})`
          : "none";
      parts.push(
        `<p>Best test epochs during training (VAM branch): by ZSL accuracy ${
          one(ev.testBest.zsl)
        }; by H ${one(ev.testBest.H)}.</p>`,
      );
    }
    if (ev.badImages?.length) {
      parts.push(
        `<p class="warn">${ev.badImages.length} unreadable image(s) left out of every metric ` +
          `(onBadImage: skip):</p><ul>${
            ev.badImages.map((b) => `<li><code>${esc(b.path)}</code>: ${esc(b.problem)}</li>`)
              .join("")
          }</ul>`,
      );
    }
    if (official) {
      parts.push(
        `<p class="warn">Official protocol: the epoch was chosen on the <b>test set</b>, as the ` +
          `official code does. These numbers are optimistic; use <code>--selection heldout</code> ` +
          `for an honest estimate.</p>`,
      );
    }
    parts.push(
      `<h2>Results per branch</h2><table><tr><th>branch</th><th>ZSL %</th><th>S %</th><th>U %</th>` +
        `<th>H %</th><th>AUSUC %</th><th>γ</th><th>best H on the curve (upper bound)</th></tr>`,
    );
    for (const [name, b] of Object.entries(ev.branches)) {
      parts.push(
        `<tr><td>${esc(name)}</td><td>${pct(b.zsl)}</td><td>${pct(b.S)}</td><td>${pct(b.U)}</td>` +
          `<td>${pct(b.H)}</td><td>${pct(b.ausuc)}</td><td>${Number(b.gamma.toPrecision(4))}</td>` +
          `<td>${pct(b.oracleH.H)} (S ${pct(b.oracleH.S)}, U ${pct(b.oracleH.U)})</td></tr>`,
      );
    }
    const zs = ev.baselines?.clipZeroShot;
    if (zs) {
      parts.push(
        `<tr><td>${esc(zs.branch)}</td><td>${pct(zs.zsl)}</td><td>${pct(zs.S)}</td>` +
          `<td>${pct(zs.U)}</td><td>${pct(zs.H)}</td><td>${pct(zs.ausuc)}</td>` +
          `<td>${Number(zs.gamma.toPrecision(4))}</td><td>–</td></tr>`,
      );
    }
    parts.push(
      `</table><p>Details: <a href="eval.md">eval.md</a>, <a href="eval.json">eval.json</a>, ` +
        `<a href="metrics.jsonl">metrics.jsonl</a>, <a href="config.json">config.json</a>.</p>`,
    );
  }

  parts.push(`<h2>Curves</h2><div class="charts">`);
  if (steps.length > 0) {
    const xs = steps.map((s) => s.step), ys = steps.map((s) => s.loss);
    const w = Math.max(1, Math.round(steps.length / 40));
    parts.push(lineChart([
      { name: "loss", xs, ys, color: "#9ec5e8" },
      { name: `mean of ${w}`, xs, ys: smooth(ys, w), color: "#1f5fa8" },
      ...(epochs.length > 0
        ? [{
          name: "epoch mean",
          xs: epochs.map((e) => e.step),
          ys: epochs.map((e) => e.trainLoss),
          color: "#d2691e",
          dots: true,
        }]
        : []),
    ], { title: "Training loss", xLabel: "step", yLabel: "loss", logY: ys.every((y) => y > 0) }));
  }
  if (epochs.length > 0) {
    const ex = epochs.map((e) => e.epoch + 1);
    const t = (f: (x: NonNullable<EpochRecord["test"]>) => number) =>
      epochs.map((e) => (e.test ? f(e.test) * 100 : NaN));
    parts.push(lineChart([
      {
        name: "held-out seen",
        xs: ex,
        ys: epochs.map((e) => (e.heldoutSeenAcc ?? NaN) * 100),
        color: "#444",
        dots: true,
        dashed: true,
      },
      { name: "test ZSL", xs: ex, ys: t((x) => x.zsl), color: "#c0392b", dots: true },
      { name: "test S", xs: ex, ys: t((x) => x.S), color: "#2874a6", dots: true },
      { name: "test U", xs: ex, ys: t((x) => x.U), color: "#27ae60", dots: true },
      { name: "test H", xs: ex, ys: t((x) => x.H), color: "#8e44ad", dots: true },
    ], {
      title: "Accuracy per epoch (VAM)",
      xLabel: "epoch",
      yLabel: "%",
      yMin: 0,
      yMax: 100,
    }));
  }
  if (ev?.curve && ev.curve.S.length > 0) {
    parts.push(lineChart([
      {
        name: `VAM, AUSUC ${pct(ev.ausuc)}`,
        xs: ev.curve.U.map((u) => u * 100),
        ys: ev.curve.S.map((s) => s * 100),
        color: "#1f5fa8",
      },
      {
        name: `at γ (H ${pct(ev.gzsl.H)})`,
        xs: [ev.gzsl.U * 100],
        ys: [ev.gzsl.S * 100],
        color: "#c0392b",
        dots: true,
      },
    ], {
      title: "Seen–unseen curve (calibrated stacking, all γ)",
      xLabel: "U (unseen accuracy, %)",
      yLabel: "S (seen accuracy, %)",
      xMin: 0,
      xMax: 100,
      yMin: 0,
      yMax: 100,
    }));
  }
  parts.push(`</div>`);

  if (epochs.length > 0) {
    parts.push(
      `<h2>Per epoch</h2><table><tr><th>epoch</th><th>step</th><th>train loss</th>` +
        `<th>held-out seen %</th><th>test ZSL %</th><th>S %</th><th>U %</th><th>H %</th>` +
        `<th>AUSUC %</th><th>γ</th><th>selected</th><th>time (s)</th></tr>`,
    );
    for (const e of epochs) {
      parts.push(
        `<tr><td>${e.epoch + 1}</td><td>${e.step}</td><td>${e.trainLoss.toFixed(4)}</td>` +
          `<td>${pct(e.heldoutSeenAcc)}</td><td>${pct(e.test?.zsl)}</td><td>${
            pct(e.test?.S)
          }</td>` +
          `<td>${pct(e.test?.U)}</td><td>${pct(e.test?.H)}</td><td>${pct(e.test?.ausuc)}</td>` +
          `<td>${e.test ? Number(e.test.gamma.toPrecision(3)) : "–"}</td><td>${
            e.best ? "best so far" : ""
          }</td><td>${e.time.toFixed(0)}</td></tr>`,
      );
    }
    parts.push(
      `</table><p>Test columns are monitoring only${
        official ? " — except that the official selection picks the epoch by them" : ""
      }.</p>`,
    );
  }

  if (r.pictures.length > 0) {
    parts.push(
      `<h2>Attention maps</h2><p>Panels: the test image with the Attention Concentration box ` +
        `(green), the AC's group-averaged map with the box, then the VAM attention maps of the ` +
        `image's ${r.pictures[0].attributes.length} strongest attributes (heat: black → red → ` +
        `yellow). ✓ = the attribute belongs to the true class.</p>`,
    );
    for (const p of r.pictures) {
      const ok = p.predictedGzsl === p.trueClass;
      parts.push(
        `<figure><img src="${esc(p.file)}" alt="${esc(p.trueClass)}"><figcaption>` +
          `<b>${esc(p.trueClass)}</b>${
            p.unseen ? " (unseen)" : " (seen)"
          } · GZSL prediction (at γ) ` +
          `<span class="${ok ? "yes" : "no"}">${esc(p.predictedGzsl)}</span>` +
          (p.predictedZsl !== null
            ? ` · ZSL prediction <span class="${p.predictedZsl === p.trueClass ? "yes" : "no"}">${
              esc(p.predictedZsl)
            }</span>`
            : "") +
          ` · top attributes: ${
            p.attributes.map((a) => `${esc(a.name)} ${a.value.toFixed(2)}${a.inClass ? " ✓" : ""}`)
              .join(", ")
          }${
            p.box ? ` · AC box rows ${p.box.y0}–${p.box.y1}, cols ${p.box.x0}–${p.box.x1}` : ""
          }<br><small>${esc(p.image)}</small></figcaption></figure>`,
      );
    }
  }
  if (r.confusion) {
    parts.push(
      `<h2>GZSL confusion matrix (VAM)</h2><img src="${esc(r.confusion)}" alt="confusion matrix" ` +
        `style="max-width:100%"><p>Rows: true class; columns: ` +
        `predicted; seen classes first, then unseen (red line). The order is in ` +
        `<a href="eval.md">eval.md</a>.</p>`,
    );
  }
  parts.push(
    `<h2>Configuration</h2><pre>${esc(JSON.stringify(cfg, null, 2))}</pre></body></html>`,
  );
  return parts.join("\n");
}

/** Writes `<runDir>/report.html` atomically. */
export async function writeReportHtml(r: ReportInput): Promise<string> {
  const path = `${r.runDir}/report.html`;
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, reportHtml(r));
  await Deno.rename(tmp, path);
  return path;
}

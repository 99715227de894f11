/** Small inline-SVG line charts for the HTML report (no dependencies). */
import { escapeMarkup as esc } from "../io/markup.ts";

/** One line of a chart. */
export interface Series {
  name: string;
  xs: readonly number[];
  ys: readonly number[];
  color: string;
  /** Draw the points as dots too. */
  dots?: boolean;
  dashed?: boolean;
}

/** Chart options. */
export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fixed y range (default: the data's). */
  yMin?: number;
  yMax?: number;
  /** Fixed x range (default: the data's). */
  xMin?: number;
  xMax?: number;
  /** Logarithmic y axis (positive values only). */
  logY?: boolean;
  /** Legend to the right of the plot instead of over its top-right corner. */
  legendRight?: boolean;
}

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

/** Ticks of a log axis, as log10 values within [lo, hi]: decades, or 1-2-5 steps when the range
 * spans less than three decades. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const mult = hi - lo < 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of mult) {
      const t = e + Math.log10(m);
      if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push(t);
    }
  }
  return out;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

/** A line chart as an `<svg>` string. Non-finite points are skipped. */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const W = o.width ?? 520, H = o.height ?? 300;
  const m = { l: 58, r: o.legendRight ? 150 : 14, t: 30, b: 44 };
  const pts = series.flatMap((s) =>
    s.xs.map((x, i) => [x, s.ys[i]] as const).filter(([x, y]) =>
      Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0)
    )
  );
  const tf = (y: number) => (o.logY ? Math.log10(y) : y);
  let x0 = o.xMin ?? Math.min(...pts.map((p) => p[0]));
  let x1 = o.xMax ?? Math.max(...pts.map((p) => p[0]));
  let y0 = o.yMin ?? Math.min(...pts.map((p) => tf(p[1])));
  let y1 = o.yMax ?? Math.max(...pts.map((p) => tf(p[1])));
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) [x0, x1] = [0, 1];
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 0.5, x1 + 0.5];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.t + ph - ((tf(y) - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${
      esc(o.title)
    }</text>`,
  );
  const yt = o.logY ? logTicks(y0, y1) : ticks(y0, y1);
  for (const t of yt) {
    const y = m.t + ph - ((t - y0) / (y1 - y0)) * ph;
    parts.push(
      `<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`,
      `<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${fmt(o.logY ? 10 ** t : t)}</text>`,
    );
  }
  for (const t of ticks(x0, x1)) {
    const x = sx(t);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${m.t}" y2="${m.t + ph}" stroke="#f0f0f0"/>`,
      `<text x="${x}" y="${m.t + ph + 16}" text-anchor="middle">${fmt(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text x="14" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${
      m.t + ph / 2
    })">${esc(o.yLabel)}</text>`,
  );
  let ly = m.t + 6;
  for (const s of series) {
    const p = s.xs.map((x, i) => [x, s.ys[i]] as const).filter(([x, y]) =>
      Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0)
    );
    if (p.length === 0) continue;
    const d = p.map(([x, y], i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join("");
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${
        s.dashed ? ' stroke-dasharray="5,3"' : ""
      }/>`,
    );
    if (s.dots || p.length === 1) {
      for (const [x, y] of p) {
        parts.push(
          `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.6" fill="${s.color}"/>`,
        );
      }
    }
    if (!s.name) continue; // a series without a name gets no legend entry
    const lx = o.legendRight ? m.l + pw + 12 : m.l + pw - 120;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly + 4}" y2="${ly + 4}" ` +
        `stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ""}/>`,
      `<text x="${lx + 22}" y="${ly + 8}">${esc(s.name)}</text>`,
    );
    ly += 15;
  }
  parts.push("</svg>");
  return parts.join("\n");
}

/** The HTML page of `deno task attributes`: per attribute, the classes it scores highest and
 * lowest (with bars), its group and phrases, and, when true attributes are known, which
 * classes truly have it and the attribute's AUROC. Self-contained (no scripts, inline CSS). */
import type { CollectedAttributes } from "./collect.ts";
import { escapeMarkup as esc } from "../io/markup.ts";

/** The page for a collected matrix (`truth` rows/columns in the matrix's order). */
export function attributeReportHtml(
  r: CollectedAttributes,
  opts: { truth?: number[][]; auroc?: (number | null)[]; title?: string; k?: number } = {},
): string {
  const names = r.vocabulary.names, C = r.classes.length;
  const k = Math.min(opts.k ?? 5, Math.max(1, Math.floor(C / 2)));
  const groupOf = new Map<number, string>();
  for (const [g, idx] of Object.entries(r.vocabulary.groups)) {
    for (const i of idx) groupOf.set(i, g);
  }
  const all = r.values.flat();
  const lo = Math.min(...all), hi = Math.max(...all);
  const width = (v: number) => (hi > lo ? ((v - lo) / (hi - lo)) * 100 : 0);
  const defined = (opts.auroc ?? []).filter((x): x is number => x !== null);
  const mean = defined.length ? defined.reduce((s, x) => s + x, 0) / defined.length : null;

  const row = (a: number, c: number) => {
    const v = r.values[c][a];
    const truth = opts.truth ? opts.truth[c][a] : undefined;
    const mark = truth === undefined
      ? ""
      : truth > 0.5
      ? `<span class="yes" title="has it">✓</span>`
      : `<span class="no" title="lacks it">✗</span>`;
    return `<tr><td class="cls">${esc(r.classes[c])}</td><td class="bar"><div style="width:${
      width(v).toFixed(1)
    }%"></div></td><td class="num">${v.toFixed(3)}</td><td>${mark}</td></tr>`;
  };
  const cards = names.map((name, a) => {
    const order = r.classes.map((_, c) => c).sort((x, y) => r.values[y][a] - r.values[x][a]);
    const top = order.slice(0, k), bottom = order.slice(-k).reverse();
    const au = opts.auroc?.[a];
    return `<section class="card" id="a${a}">
<h2>${esc(name)} <small>${esc(groupOf.get(a) ?? "")}</small>${
      au === undefined || au === null ? "" : ` <span class="auc">AUROC ${au.toFixed(3)}</span>`
    }</h2>
<p class="phr">${r.vocabulary.phrases[a].map((p) => `“${esc(p)}”`).join(" · ")}</p>
<div class="cols"><div><h3>highest</h3><table>${top.map((c) => row(a, c)).join("")}</table></div>
<div><h3>lowest</h3><table>${bottom.map((c) => row(a, c)).join("")}</table></div></div>
</section>`;
  });
  const s = r.settings;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${esc(opts.title ?? "CLIP attributes")}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px} .meta{color:#555} .card{background:#fff;border:1px solid #ddd;border-radius:6px;
padding:10px 14px;margin:10px 0;display:inline-block;vertical-align:top;width:560px;margin-right:10px}
h2{font-size:16px;margin:0 0 4px} h2 small{color:#888;font-weight:normal} h3{font-size:12px;
color:#666;margin:4px 0;text-transform:uppercase} .auc{font-size:12px;background:#eef;padding:1px 6px;
border-radius:4px;font-weight:normal} .phr{color:#666;margin:0 0 6px;font-size:12px}
.cols{display:flex;gap:16px} table{border-collapse:collapse} td{padding:1px 4px}
td.cls{width:130px;white-space:nowrap;overflow:hidden} td.bar{width:100px} td.bar div{height:10px;
background:#5a8dd6} td.num{font-variant-numeric:tabular-nums;color:#444} .yes{color:#1a7f37}
.no{color:#c62828}
</style></head><body>
<h1>${esc(opts.title ?? "CLIP attributes")}</h1>
<p class="meta">${C} classes × ${names.length} attributes · ${
    r.imagesPerClass.reduce((x, y) => x + y, 0)
  } images · templates ${
    s.templates.map((t) => `“${esc(t)}”`).join(", ")
  } · similarity ${s.similarity} ·
aggregation ${s.aggregation}${
    s.aggregation === "trimmed-mean" ? ` (${s.trim})` : ""
  } · normalization ${s.normalization}${
    mean === null ? "" : ` · <b>mean AUROC ${mean.toFixed(3)}</b>`
  }${opts.truth ? " · ✓/✗: the class truly has / lacks the attribute" : ""}</p>
${cards.join("\n")}
</body></html>
`;
}

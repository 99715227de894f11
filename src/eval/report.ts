/** Writing evaluation results as JSON and as a Markdown table. */

/** One row of results: a prediction branch (DSVA: `vam`, `global`, `fused`) under one protocol.
 * Accuracies are fractions in [0, 1]. */
export interface ResultRow {
  /** Branch or method name. */
  branch: string;
  /** ZSL: mean per-class top-1 over unseen classes, unseen candidates only. */
  zsl?: number;
  /** GZSL seen accuracy. */
  S?: number;
  /** GZSL unseen accuracy. */
  U?: number;
  /** GZSL harmonic mean. */
  H?: number;
  /** Area under the seen–unseen curve. */
  ausuc?: number;
  /** Calibrated-stacking γ used for S/U/H. */
  gamma?: number;
  /** How γ was set: `given`, `seen-retention 0.95`, `max-h (validation)`, `best on test`. */
  gammaRule?: string;
}

/** A whole evaluation: what was evaluated, and one row per branch. */
export interface EvalReport {
  /** Heading of the Markdown file. */
  title?: string;
  /** Free-form facts (checkpoint, dataset, split, chance level, image counts, ...), copied to JSON
   * as they are and listed above the Markdown table. */
  meta?: Record<string, unknown>;
  /** The result rows. */
  rows: ResultRow[];
  /** Lines printed under the table (protocol notes). */
  notes?: string[];
}

/** The report as JSON (non-finite numbers become `null`), one object, pretty-printed. */
export function reportToJson(report: EvalReport): string {
  return JSON.stringify(
    report,
    (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
    2,
  );
}

/** Options of {@link reportToMarkdown}. */
export interface MarkdownOptions {
  /** Decimals of the percentages (default 1, as DSVA's logs and README print them). */
  digits?: number;
}

const COLUMNS: [keyof ResultRow, string][] = [
  ["zsl", "ZSL"],
  ["S", "S"],
  ["U", "U"],
  ["H", "H"],
  ["ausuc", "AUSUC"],
];

/** The report as Markdown: title, meta list, a table `branch | ZSL | S | U | H | AUSUC | γ | γ rule`
 * with accuracies in percent, then the notes. Columns no row has are left out; a row without a
 * value shows `–`. */
export function reportToMarkdown(report: EvalReport, opts: MarkdownOptions = {}): string {
  const digits = opts.digits ?? 1;
  const lines: string[] = [];
  if (report.title) lines.push(`# ${report.title}`, "");
  const meta = Object.entries(report.meta ?? {});
  if (meta.length > 0) {
    for (const [k, v] of meta) lines.push(`- **${esc(k)}**: ${esc(formatValue(v))}`);
    lines.push("");
  }
  const has = (k: keyof ResultRow) => report.rows.some((r) => r[k] !== undefined);
  const cols = COLUMNS.filter(([k]) => has(k));
  const header = ["branch", ...cols.map(([, h]) => `${h} (%)`)];
  if (has("gamma")) header.push("γ");
  if (has("gammaRule")) header.push("γ rule");
  lines.push(
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i ? "---:" : "---")).join("|")}|`,
  );
  for (const r of report.rows) {
    const cells = [esc(r.branch)];
    for (const [k] of cols) {
      const v = r[k] as number | undefined;
      cells.push(v === undefined || !Number.isFinite(v) ? "–" : (v * 100).toFixed(digits));
    }
    if (has("gamma")) cells.push(r.gamma === undefined ? "–" : formatGamma(r.gamma));
    if (has("gammaRule")) cells.push(r.gammaRule === undefined ? "–" : esc(r.gammaRule));
    lines.push(`| ${cells.join(" | ")} |`);
  }
  if (report.notes?.length) {
    lines.push("");
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  return lines.join("\n") + "\n";
}

/** Writes `<dir>/<name>.json` and `<dir>/<name>.md` (each to a temporary file, then renamed, so a
 * reader never sees half a file), creating `dir`. Returns the two paths. */
export async function writeReport(
  report: EvalReport,
  dir: string,
  opts: MarkdownOptions & { name?: string } = {},
): Promise<{ json: string; markdown: string }> {
  const name = opts.name ?? "eval";
  await Deno.mkdir(dir, { recursive: true });
  const json = `${dir}/${name}.json`;
  const markdown = `${dir}/${name}.md`;
  await writeAtomic(json, reportToJson(report) + "\n");
  await writeAtomic(markdown, reportToMarkdown(report, opts));
  return { json, markdown };
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

function formatGamma(g: number): string {
  return Number.isFinite(g) ? String(Number(g.toPrecision(4))) : String(g);
}

function formatValue(v: unknown): string {
  if (typeof v === "number") {
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  }
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

function esc(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Planning, running and reporting an experiment grid in one call: what `deno task experiments`
 * and `deno task ablate` do once their command line is read.
 * @module
 */
import { type ExperimentConfig, ExperimentConfigError } from "./config.ts";
import { planGrid } from "./grid.ts";
import { vizSubprocess } from "./picture_maker.ts";
import { type GridReport, writeGridReport } from "./report.ts";
import { type GridOutcome, type GridStop, runGrid } from "./runner.ts";

/** Options shared by the experiment commands. */
export interface GridRunOptions {
  /** Delete the grid folder first. */
  fresh?: boolean;
  /** Make attention pictures for the report. */
  pictures?: boolean;
  /** Only rebuild the report from the finished cells. */
  reportOnly?: boolean;
  /** The command's stop request (SIGINT / SIGTERM), passed on to the running cell. */
  stop?: GridStop;
  log?: (line: string) => void;
}

/** What a grid run produced. */
export interface GridRun {
  outcome: GridOutcome;
  report: GridReport | null;
  cells: number;
  dir: string;
}

/** Plans, runs and reports a grid. */
export async function runExperimentGrid(
  config: ExperimentConfig,
  o: GridRunOptions = {},
): Promise<GridRun> {
  const log = o.log ?? ((l: string) => console.log(l));
  const dir = config.out.replace(/\/+$/, "");
  if (o.fresh) {
    // Only a grid folder (or an empty one) is deleted: a mistyped --out must not cost a tree.
    let entries: string[] = [];
    try {
      entries = [...Deno.readDirSync(dir)].map((e) => e.name);
    } catch { /* absent */ }
    if (entries.length > 0 && !entries.includes("experiment.json")) {
      throw new ExperimentConfigError(
        `--fresh: ${dir} is not a grid folder (no experiment.json); not deleting it`,
      );
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  await Deno.mkdir(dir, { recursive: true });
  const plan = await planGrid(config, dir);
  const steps = plan.cells.reduce((a, c) => a + c.steps, 0);
  log(
    `grid ${config.name}: ${plan.cells.length} cells, ${steps} training steps, folder ${dir}` +
      (config.budget ? ` (stated budget: ${config.budget})` : ""),
  );
  await Deno.writeTextFile(
    `${dir}/experiment.json`,
    JSON.stringify({ ...config, cells: plan.cells.map((c) => c.id) }, null, 1) + "\n",
  );
  let outcome: GridOutcome;
  if (o.reportOnly) {
    const { checkCellSpecs, readCellResult } = await import("./runner.ts");
    checkCellSpecs(plan);
    const results = plan.cells.map((c) => readCellResult(dir, c)).filter((r) => r !== null)
      .map((r) => ({ ...r!, status: "skipped" as const }));
    outcome = {
      status: "finished",
      results,
      failed: [],
      ran: 0,
      skipped: results.length,
      seconds: 0,
    };
  } else {
    outcome = await runGrid(plan, { log, stop: o.stop });
  }
  if (outcome.status === "interrupted") {
    return { outcome, report: null, cells: plan.cells.length, dir };
  }
  const report = await writeGridReport(
    plan,
    outcome,
    o.pictures === false ? null : vizSubprocess(log),
  );
  return { outcome, report, cells: plan.cells.length, dir };
}

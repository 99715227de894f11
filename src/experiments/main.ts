/**
 * `deno task experiments --config <file>` (or `--quick`): plan the grid, run its unfinished cells
 * with progress over the whole grid, and write the report. The last output line is a JSON object
 * with at least `cells` and `report` (the HTML report's path).
 *
 * Exit status: 0 every cell finished; 1 some cells failed (the report shows the others); 2 a bad
 * configuration; 130 / 143 stopped by SIGINT / SIGTERM (rerun the same command to resume).
 * @module
 */
import { Command, CommanderError } from "npm:commander@^15";
import { mergePartial } from "../config/index.ts";
import { formatDuration } from "../run/progress.ts";
import {
  type ExperimentConfig,
  ExperimentConfigError,
  parseTrainOverride,
  readExperimentConfig,
} from "./config.ts";
import { planGrid } from "./grid.ts";
import { vizSubprocess } from "./picture_maker.ts";
import { quickConfig } from "./presets.ts";
import { type GridReport, writeGridReport } from "./report.ts";
import { type GridOutcome, runGrid } from "./runner.ts";

/** Options shared by the experiment commands. */
export interface GridRunOptions {
  /** Delete the grid folder first. */
  fresh?: boolean;
  /** Make attention pictures for the report. */
  pictures?: boolean;
  /** Only rebuild the report from the finished cells. */
  reportOnly?: boolean;
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
    outcome = await runGrid(plan, { log });
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

function program(): Command {
  return new Command("deno task experiments")
    .description(
      "Run a grid of DSVA training + evaluation runs from a config (datasets × splits, seeds, " +
        "backbones, recipes, loss/AC variants, attribute sets) and write one report. Resumable: " +
        "rerun the same command after an interruption.",
    )
    .option("--config <file>", "experiment config (JSON), e.g. configs/experiments/synthetic.json")
    .option("--quick", "the built-in tiny grid (two cells on the synthetic scenes)")
    .option("--out <dir>", "grid folder (default: the config's out, runs/experiments/<name>)")
    .option("--base <json>", "training fields merged into the config's base, e.g. '{\"epochs\":2}'")
    .option("--fresh", "delete the grid folder first (redo every cell)")
    .option("--report-only", "only rebuild the report from the finished cells")
    .option("--no-pictures", "no attention-map pictures in the report")
    .option("--list", "print the cells and exit")
    .allowExcessArguments(false)
    .exitOverride();
}

function finish(code: number, last: unknown): never {
  console.log(JSON.stringify(last));
  Deno.exit(code);
}

/** Reads the command line into a config (the shared part of `experiments` and `ablate`). */
export function applyOverrides(
  config: ExperimentConfig,
  o: { out?: string; base?: string },
): ExperimentConfig {
  let c = config;
  if (o.base) c = { ...c, base: mergePartial(c.base, parseTrainOverride(o.base, "--base")) };
  if (o.out) c = { ...c, out: o.out };
  return c;
}

/** Prints the outcome and exits (the last line: the JSON summary). */
export function reportAndExit(run: GridRun, extra: Record<string, unknown> = {}): never {
  const { outcome, report } = run;
  if (outcome.status === "interrupted" || !report) {
    finish(outcome.signal === "SIGTERM" ? 143 : 130, {
      status: "interrupted",
      signal: outcome.signal,
      cells: run.cells,
      finished: outcome.results.length,
      dir: run.dir,
      resume: "rerun the same command",
    });
  }
  console.log(Deno.readTextFileSync(report.markdown));
  console.log(
    `report: ${report.html} · ${outcome.results.length}/${run.cells} cells (${outcome.ran} ran, ` +
      `${outcome.skipped} finished before${
        outcome.failed.length ? `, ${outcome.failed.length} failed` : ""
      }) · ${formatDuration(outcome.seconds)}`,
  );
  finish(outcome.failed.length > 0 ? 1 : 0, {
    cells: run.cells,
    report: report.html,
    finished: outcome.results.length,
    ran: outcome.ran,
    skipped: outcome.skipped,
    failed: outcome.failed.map((f) => f.cell.id),
    markdown: report.markdown,
    csv: report.csv,
    curves: report.curves.map((c) => c.png ?? c.svg),
    seconds: Math.round(outcome.seconds * 10) / 10,
    ...extra,
  });
}

/** Runs `deno task experiments` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  const prog = program();
  let config: ExperimentConfig;
  let o: Record<string, string | boolean | undefined>;
  try {
    prog.parse([...argv], { from: "user" });
    o = prog.opts();
    if (!o.config === !o.quick) {
      throw new ExperimentConfigError("give exactly one of --config <file> or --quick");
    }
    config = o.quick ? quickConfig() : await readExperimentConfig(String(o.config));
    config = applyOverrides(config, {
      out: o.out as string | undefined,
      base: o.base as string | undefined,
    });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") Deno.exit(0);
      console.error(prog.helpInformation());
      console.error(`experiments: ${e.message}`);
      finish(2, { error: e.message });
    }
    if (e instanceof ExperimentConfigError) {
      console.error(`experiments: ${e.message}`);
      finish(2, { error: e.message });
    }
    throw e;
  }
  let run: GridRun;
  try {
    if (o.list) {
      const { planGrid } = await import("./grid.ts");
      const plan = await planGrid(config, config.out);
      for (const c of plan.cells) console.log(`${c.id}  (${c.steps} steps)`);
      finish(0, { cells: plan.cells.length, dir: plan.dir });
    }
    run = await runExperimentGrid(config, {
      fresh: o.fresh === true,
      pictures: o.pictures !== false,
      reportOnly: o.reportOnly === true,
    });
  } catch (e) {
    const code = e instanceof ExperimentConfigError ? 2 : 1;
    console.error(`experiments: ${(e as Error).message}`);
    finish(code, { error: (e as Error).message });
  }
  reportAndExit(run);
}

/**
 * `deno task experiments --config <file>` (or `--quick`): plan the grid, run its unfinished cells
 * with progress over the whole grid, and write the report. The last output line is a JSON object
 * with at least `cells` and `report` (the HTML report's path).
 *
 * Exit status: 0 every cell finished; 1 some cells failed (the report shows the others); 2 a bad
 * configuration; 130 / 143 stopped by SIGINT / SIGTERM (rerun the same command to resume).
 * @module
 */
import { Command } from "npm:commander@^15";
import { mergePartial } from "../config/index.ts";
import { formatDuration } from "../run/progress.ts";
import {
  type ExperimentConfig,
  ExperimentConfigError,
  parseTrainOverride,
  readExperimentConfig,
} from "../experiments/config.ts";
import { planGrid } from "../experiments/grid.ts";
import { quickConfig } from "../experiments/presets.ts";
import { type GridRun, runExperimentGrid } from "../experiments/run_grid.ts";
import { stopOnSignals, type StopToken } from "./stop.ts";
import { parseOrExit, runCommand } from "./task_exit.ts";
import { userPath } from "./paths.ts";

function program(): Command {
  return new Command("deno task experiments")
    .description(
      "Run a grid of DSVA training + evaluation runs from a config (datasets × splits, seeds, " +
        "backbones, recipes, loss/AC variants, attribute sets) and write one report. Resumable: " +
        "rerun the same command after an interruption.",
    )
    .option(
      "--config <file>",
      "experiment config (JSON), e.g. configs/experiments/synthetic.json",
      userPath,
    )
    .option("--quick", "the built-in tiny grid (two cells on the synthetic scenes)")
    .option(
      "--out <dir>",
      "grid folder (default: the config's out, runs/experiments/<name>)",
      userPath,
    )
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

/** The grid commands' SIGINT / SIGTERM token: the first signal reaches the running cell, which
 * saves a checkpoint, and the grid stops; a second one is passed on too (the cell exits at once),
 * or ends the grid at once when no cell is running. */
export function gridStopToken(): StopToken {
  return stopOnSignals({
    firstMessage: "the running cell saves a checkpoint and the grid stops (rerun to resume)",
    secondMessage: "stopping the running cell at once",
  });
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
  await runCommand("experiments", argv, experiments, () => program().helpInformation());
}

async function experiments(argv: readonly string[]): Promise<void> {
  const o = parseOrExit("experiments", program(), argv) as Record<
    string,
    string | boolean | undefined
  >;
  if (!o.config === !o.quick) {
    throw new ExperimentConfigError("give exactly one of --config <file> or --quick");
  }
  let config = o.quick ? quickConfig() : await readExperimentConfig(String(o.config));
  config = applyOverrides(config, {
    out: o.out as string | undefined,
    base: o.base as string | undefined,
  });
  if (o.list) {
    const plan = await planGrid(config, config.out);
    for (const c of plan.cells) console.log(`${c.id}  (${c.steps} steps)`);
    finish(0, { cells: plan.cells.length, dir: plan.dir });
  }
  let run: GridRun;
  {
    using stop = gridStopToken();
    run = await runExperimentGrid(config, {
      fresh: o.fresh === true,
      pictures: o.pictures !== false,
      reportOnly: o.reportOnly === true,
      stop,
    });
  }
  reportAndExit(run);
}

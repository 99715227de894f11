/**
 * `deno task ablate [--quick]`: the seed document's first experiments as one command — (1)
 * compatibility loss only, no AC; (2) + attribute regression; (3) + Attention Concentration; and
 * (3) with the ViT and with the Darknet-tiny CNN — run as a small fixed grid through the
 * experiment runner (resumable like any grid), ending with one table: `ablation.md` and
 * `ablation.json` in the grid folder, next to the grid's report. The last output line is a JSON
 * object with `cells`, `table`, `json` and `report`.
 * @module
 */
import { Command } from "npm:commander@^15";
import { ablationMarkdown, ablationRows } from "../experiments/ablation_table.ts";
import { ExperimentConfigError } from "../experiments/config.ts";
import { ablationConfig } from "../experiments/presets.ts";
import { type GridRun, runExperimentGrid } from "../experiments/run_grid.ts";
import { configFlag } from "../config/index.ts";
import { addConfigFlags } from "./config_flags.ts";
import { applyOverrides, gridStopToken, reportAndExit } from "./experiments.ts";
import { parseOrExit, runCommand } from "./task_exit.ts";
import { userPath } from "./paths.ts";

/** The training config flags ablate takes (from the one flag table). */
const ABLATE_FLAGS = [configFlag("dataset"), configFlag("dataset.split")];

function program(): Command {
  const p = new Command("deno task ablate")
    .description(
      "Ablation: (1) compatibility loss only, no AC; (2) + regression; (3) + AC; ViT vs CNN.",
    )
    .option("--quick", "one seed, two short epochs per cell (a smoke test)")
    .option("--seeds <list>", "comma-separated seeds (default 0,1,2; --quick: 0)")
    .option(
      "--darknet <dir>",
      "Darknet-tiny TF.js folder",
      "../shared/data/weights/darknet-tiny-tfjs",
    )
    .option("--no-cnn", "no CNN row")
    .option("--out <dir>", "grid folder (default runs/experiments/ablate[-quick])", userPath)
    .option("--base <json>", "training fields for every cell, e.g. '{\"epochs\":4}'")
    .option("--fresh", "delete the grid folder first")
    .option("--no-pictures", "no attention-map pictures in the report")
    .allowExcessArguments(false)
    .exitOverride();
  return addConfigFlags(p, ABLATE_FLAGS);
}

/** Runs `deno task ablate` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand("ablate", argv, ablate, () => program().helpInformation());
}

async function ablate(argv: readonly string[]): Promise<void> {
  const o = parseOrExit("ablate", program(), argv) as Record<string, string | boolean | undefined>;
  const seeds = o.seeds === undefined ? undefined : String(o.seeds).split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 0) {
      throw new ExperimentConfigError(`--seeds: "${s}" is not a non-negative integer`);
    }
    return n;
  });
  if (o.dataset && o.dataset !== "synthetic" && !o.split) {
    throw new ExperimentConfigError("--split: a dataset folder needs its split, e.g. 25_5");
  }
  let darknet: string | null = o.cnn === false ? null : String(o.darknet);
  if (darknet) {
    try {
      Deno.statSync(`${darknet}/model.json`);
    } catch {
      console.error(`ablate: no Darknet weights at ${darknet} (model.json); no CNN row`);
      darknet = null;
    }
  }
  const config = applyOverrides(
    ablationConfig({
      quick: o.quick === true,
      seeds,
      dataset: o.dataset as string | undefined,
      split: o.split as string | undefined,
      darknet,
    }),
    { out: o.out as string | undefined, base: o.base as string | undefined },
  );
  let run: GridRun;
  {
    using stop = gridStopToken();
    run = await runExperimentGrid(config, {
      fresh: o.fresh === true,
      pictures: o.pictures !== false,
      stop,
    });
  }
  if (run.report) {
    const rows = ablationRows(run.outcome.results);
    const md = ablationMarkdown(
      rows,
      `Ablation${o.quick ? " (quick: one seed, 2 short epochs — a smoke test)" : ""}`,
    );
    await Deno.writeTextFile(`${run.dir}/ablation.md`, md);
    await Deno.writeTextFile(`${run.dir}/ablation.json`, JSON.stringify({ rows }, null, 1) + "\n");
    console.log(md);
    reportAndExit(run, { table: `${run.dir}/ablation.md`, json: `${run.dir}/ablation.json` });
  }
  reportAndExit(run);
}

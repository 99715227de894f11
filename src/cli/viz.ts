/**
 * `deno task viz --run <runDir> [--images N]`: attention-map pictures of a trained run (see
 * src/experiments/viz.ts). The last output line is a JSON object with `html`, `json` and the picture files.
 * @module
 */
import { Command } from "npm:commander@^15";
import { vizRun } from "../experiments/viz.ts";
import { failTask, parseOrExit, runCommand } from "./task_exit.ts";
import { userPath } from "./paths.ts";

function program(): Command {
  return new Command("deno task viz")
    .description(
      "Attention maps of a trained run's test images: each top attribute's map over the image, " +
        "the AC crop box, predicted vs true class and attributes (PNG + HTML).",
    )
    .requiredOption("--run <runDir>", "the run folder", userPath)
    .option("--images <n>", "number of test images", "6")
    .option("--unseen-only", "only images of unseen classes")
    .option(
      "--image <path>",
      "a particular test image (its path or ending, e.g. bridge/bridge_0003.png); repeatable",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--which <best|last>", "checkpoint", "best")
    .option("--out <dir>", "output folder (default <runDir>/viz)", userPath)
    .allowExcessArguments(false)
    .exitOverride();
}

function fail(code: number, msg: string): never {
  return failTask("viz", code, msg);
}

/** Runs `deno task viz` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand("viz", argv, viz, () => program().helpInformation());
}

async function viz(argv: readonly string[]): Promise<void> {
  const o = parseOrExit("viz", program(), argv);
  const images = Number(o.images);
  if (!Number.isInteger(images) || images < 0) {
    fail(2, `--images: expected a non-negative integer, got ${JSON.stringify(o.images)}`);
  }
  if (o.which !== "best" && o.which !== "last") fail(2, `--which: expected best or last`);
  const runDir = String(o.run).replace(/\/+$/, "");
  try {
    Deno.statSync(`${runDir}/config.json`);
  } catch {
    fail(2, `--run ${runDir}: not a run folder (no config.json)`);
  }
  const r = await vizRun(runDir, {
    images,
    unseenOnly: o.unseenOnly === true,
    files: o.image as string[],
    which: o.which as "best" | "last",
    out: o.out as string | undefined,
  });
  for (const p of r.pictures) {
    console.log(
      `${r.out}/${p.file}: ${p.trueClass}${p.unseen ? " (unseen)" : ""} → ${p.predictedGzsl}` +
        ` · ${
          p.attributes.map((a) => `${a.name} ${a.value.toFixed(2)}${a.inClass ? " ✓" : ""}`).join(
            ", ",
          )
        }`,
    );
  }
  console.log(`pictures: ${r.html}`);
  console.log(JSON.stringify({
    runDir: r.runDir,
    html: r.html,
    json: r.json,
    checkpoint: r.checkpoint,
    pictures: r.pictures.map((p) => `${r.out}/${p.file}`),
  }));
  Deno.exit(0);
}

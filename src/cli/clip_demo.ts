/**
 * `deno task clip:demo`: the built-in attribute-collection run, from nothing, on the synthetic
 * scenes:
 *
 * 1. `clip:finetune` with its defaults: a small CLIP trained from scratch on the captions of the
 *    seen classes' training images (the CLIP never sees an unseen class);
 * 2. `attributes --synthetic` with that model: every image of every class scored on the 21
 *    synthetic attributes; the mean per-attribute AUROC against the true attributes;
 * 3. `deno task train` twice with the same budget and seed, on the same images and split: DSVA
 *    on the true attributes, and DSVA on the collected ones (`--attributes`, `--groups`);
 *    both ZSL accuracies (unseen classes) and their gap are printed, next to the CLIP's own
 *    prompt zero-shot ZSL on the same split (`deno task zeroshot`'s computation; the classes as
 *    their names, and described by their attributes' words, since this CLIP has never read an
 *    unseen class's name).
 *
 * Options: --runs-dir DIR (runs), --epochs N (CLIP epochs), --dsva-epochs N, --dsva-batches N
 * (DSVA budget; default `deno task train`'s), --skip-dsva, --threads N. The last line is a JSON
 * object: `auroc`, `zslCollected`, `zslTrue`, `gap` (points), `clipZeroShot` (`{names,
 * descriptions}`, each `{zsl, gzsl, allClasses}`) and the run folders.
 * @module
 */
import { Command } from "npm:commander@^15";
import { ensureSyntheticDataset } from "../data/synthetic/generate.ts";
import { FINETUNE_DEFAULTS } from "../clip/finetune_config.ts";
import { finetuneClip } from "../clip/finetune.ts";
import { runAttributes } from "./attributes.ts";
import { flagReader, givenFlags } from "./flag_reader.ts";
import { parseOrExit, runCommand } from "./task_exit.ts";
import { resolveConfig } from "../config/index.ts";
import { loadTrainData } from "../train/data.ts";
import { runZeroShot } from "../zeroshot/run.ts";
import { syntheticDescriptions } from "../zeroshot/synthetic.ts";
import { userPath } from "./paths.ts";

const TASK = "clip:demo";

/** The command's flags (values checked afterwards, so that an error names the flag). */
function program(): Command {
  return new Command("deno task clip:demo")
    .description(
      "Train a small CLIP on the synthetic scenes' captions, collect attributes with it, and " +
        "train DSVA on them and on the true attributes with the same budget.",
    )
    .option("--runs-dir <dir>", "where the run folders go (runs)", userPath)
    .option("--epochs <n>", `CLIP training epochs (${FINETUNE_DEFAULTS.epochs})`)
    .option("--dsva-epochs <n>", "DSVA epochs of both training runs (deno task train's default)")
    .option(
      "--dsva-batches <n>",
      "DSVA batches per epoch of both runs (deno task train's default)",
    )
    .option("--skip-dsva", "stop after collecting the attributes")
    .option("--threads <n>", "libtorch threads")
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride();
}

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Runs `deno task train` with `args` in a child process, echoing its output; returns its last
 * JSON line. */
async function train(args: string[]): Promise<Record<string, unknown>> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/train.ts`, ...args],
    stdout: "piped",
    stderr: "inherit",
    // The child resolves relative paths where this process does, not where the user typed.
    env: { NO_PROGRESS: "1", INIT_CWD: Deno.cwd() },
  }).spawn();
  let last = "", buf = "";
  const dec = new TextDecoder();
  for await (const chunk of child.stdout) {
    buf += dec.decode(chunk, { stream: true });
    const lines = buf.split("\n");
    buf = lines.pop()!;
    for (const l of lines) {
      console.log(`    │ ${l}`);
      if (l.trim() !== "") last = l;
    }
  }
  if (buf.trim() !== "") last = buf;
  const status = await child.status;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(last);
  } catch {
    throw new Error(`deno task train ${args.join(" ")} ended without a JSON summary`);
  }
  if (!status.success || typeof json.zsl !== "number") {
    throw new Error(`deno task train ${args.join(" ")} failed (exit ${status.code})`);
  }
  return json;
}

/** Runs `deno task clip:demo` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand(TASK, argv, clipDemo, () => program().helpInformation());
}

async function clipDemo(argv: readonly string[]): Promise<void> {
  const prog = program();
  parseOrExit(TASK, prog, argv);
  const v = givenFlags(prog);
  const { z, flag } = await flagReader(v);
  const posInt = z.coerce.number().int().positive();
  const runsDir = flag("runs-dir", z.string().min(1), "runs");
  const threads = flag("threads", posInt, FINETUNE_DEFAULTS.threads);
  const t0 = performance.now();

  console.log("== 1/3 clip:finetune: a small CLIP from scratch on the seen classes' captions");
  const ft = await finetuneClip({
    ...FINETUNE_DEFAULTS,
    name: "clip-demo",
    runsDir,
    threads,
    epochs: flag("epochs", posInt, FINETUNE_DEFAULTS.epochs),
  });
  if (ft.status !== "finished") throw new Error(`clip:finetune stopped early: ${ft.runDir}`);
  const clipSeconds = ft.seconds;

  console.log("\n== 2/3 attributes: every class of the synthetic scenes, 21 attributes");
  const at = await runAttributes([
    "--model",
    ft.runDir,
    "--synthetic",
    "--out",
    `${ft.runDir}/attributes`,
    "--threads",
    String(threads),
  ]);

  console.log("\n   CLIP zero-shot on the same split (prompts alone, deno task zeroshot) ...");
  const split = await loadTrainData(resolveConfig({}));
  const zs = async (aliases: Record<string, string>) => {
    const z = await runZeroShot({ model: ft.runDir, data: split, aliases });
    return {
      zsl: z.split.zsl,
      gzsl: z.split.gzsl,
      ausuc: z.split.ausuc,
      allClasses: z.allClasses,
    };
  };
  const zsNames = await zs({}), zsDesc = await zs(syntheticDescriptions());
  const clipZeroShot = {
    names: {
      ...zsNames,
      allClasses: {
        top1: zsNames.allClasses.top1,
        meanPerClass: zsNames.allClasses.meanPerClass,
      },
    },
    descriptions: {
      ...zsDesc,
      allClasses: { top1: zsDesc.allClasses.top1, meanPerClass: zsDesc.allClasses.meanPerClass },
    },
  };
  const pctz = (x: number) => `${(100 * x).toFixed(1)}%`;
  const zsLines = `  CLIP zero-shot, class names:           ${pctz(zsNames.zsl)}\n` +
    `  CLIP zero-shot, class descriptions:    ${pctz(zsDesc.zsl)}`;

  const result: Record<string, unknown> = {
    auroc: at.auroc,
    clipZeroShot,
    clipRun: ft.runDir,
    attributes: at.csv,
    groups: at.groups,
    html: at.html,
    clipSeconds: Math.round(clipSeconds),
  };
  if (!v["skip-dsva"]) {
    const { dir } = await ensureSyntheticDataset({});
    const budget = ["--seed", "0", "--threads", String(threads), "--runs-dir", runsDir];
    if (v["dsva-epochs"]) budget.push("--epochs", String(flag("dsva-epochs", posInt, 1)));
    if (v["dsva-batches"]) budget.push("--batches", String(flag("dsva-batches", posInt, 1)));
    console.log("\n== 3/3 deno task train, same budget: DSVA on the true attributes ...");
    const truth = await train(["--dataset", dir, "--name", "dsva-true-attributes", ...budget]);
    console.log("   ... and DSVA on the CLIP-collected attributes");
    const coll = await train([
      "--dataset",
      dir,
      "--attributes",
      at.csv,
      "--groups",
      at.groups,
      "--name",
      "dsva-clip-attributes",
      ...budget,
    ]);
    const zt = truth.zsl as number, zc = coll.zsl as number;
    Object.assign(result, {
      zslTrue: zt,
      zslCollected: zc,
      gap: Math.round((zt - zc) * 1000) / 10,
      chance: truth.chance,
      dsvaTrueRun: truth.runDir,
      dsvaCollectedRun: coll.runDir,
    });
    console.log(
      `\nZSL accuracy on the unseen classes (same budget, seed 0):\n` +
        `  DSVA on the true attributes:           ${(100 * zt).toFixed(1)}%\n` +
        `  DSVA on the CLIP-collected attributes: ${(100 * zc).toFixed(1)}%\n` +
        `  gap ${(100 * (zt - zc)).toFixed(1)} points (chance ${
          (100 * (truth.chance as number)).toFixed(1)
        }%); collected attributes: mean AUROC ${at.auroc?.toFixed(3)}\n${zsLines}`,
    );
  } else console.log(`\nZSL accuracy on the unseen classes:\n${zsLines}`);
  result.seconds = Math.round((performance.now() - t0) / 1000);
  console.log(JSON.stringify(result));
}

/**
 * `deno task data <command>`: look at datasets.
 *
 *   inspect [DIR] [--images DIR --attributes FILE --splits FILE] [--split NAME] [--groups FILE]
 *           [--attribute-classes FILE] [--decode] [--synthetic]
 *       Checks an image folder, an attribute file, attribute groups and a split file against
 *       each other; prints classes, attributes, images per split and every problem found. DIR is
 *       a dataset folder (images/, attributes, splits.json) or an image folder. With no dataset
 *       named, the built-in synthetic set (generated on first use). Every image's header is
 *       checked (a truncated, empty or non-image file is a problem); --decode decodes each one
 *       fully. The last line is a JSON object {classes, attributes, trainval, testSeen,
 *       testUnseen}; exit status 1 when problems were found.
 *   split --seen N [--seed S] [--out FILE] [--overwrite] DIR
 *       Draws a seeded seen/unseen split of DIR's classes (DIR/images, or DIR itself) and writes
 *       it as DIR/splits.json (20% of each seen class's images test-seen).
 *   groups [--attributes FILE] [--out FILE] [--overwrite] DIR
 *       Writes a starting attribute-groups file DIR/groups.json from the attribute names.
 *   synthetic [--seed N] [--images-per-class N] [--size N] [--force]
 *       Generates (or finds) the synthetic dataset and prints its folder and timing.
 *   sheet [--out FILE] [--per-class N] [--seed N]
 *       Writes a contact sheet of the synthetic dataset (default docs/synthetic_contact_sheet.png).
 *
 * Paths on the command line are relative to where the command was typed (`paths.ts`).
 */
import { Command, InvalidArgumentError } from "npm:commander@^15";
// The data modules one by one, not src/data/index.ts: that one also brings the tensor
// conversions, which load libtorch, and looking at a dataset does not need it.
import { readAttributes } from "../data/attributes.ts";
import { findAttributeFile, findDatasetLayout } from "../data/dataset.ts";
import { DataError } from "../data/errors.ts";
import { startingGroups } from "../data/groups.ts";
import { decodeImage } from "../data/image.ts";
import { inspectDataset, type InspectOptions, type InspectReport } from "../data/inspect.ts";
import { contactSheet } from "../data/synthetic/contact_sheet.ts";
import { ensureSyntheticDataset, SYNTHETIC_SPLIT } from "../data/synthetic/generate.ts";
import { writeSplits } from "../data/split_writer.ts";
import { SCENE_CLASSES } from "../data/synthetic/vocabulary.ts";
import { failTask, parseOrExit, runCommand } from "./task_exit.ts";
import { userPath } from "./paths.ts";

const TASK = "data";

const isDir = (p: string) => {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
};

/** A flag's value as a non-negative integer (the seeds, counts and sizes). */
function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be an integer");
  return n;
}

/** The command and its subcommands; `run` receives the chosen one's work. */
function program(run: (action: () => Promise<void>) => void): Command {
  const prog = new Command("deno task data")
    .description("Look at datasets.")
    .helpOption("-h, --help", "show this help")
    .exitOverride();
  const sub = (name: string, description: string) =>
    prog.command(name).description(description).helpOption("-h, --help", "show this help")
      .allowExcessArguments(false).exitOverride();
  sub(
    "inspect",
    "Check an image folder, an attribute file, attribute groups and a split file against each " +
      "other; print classes, attributes, images per split and every problem found. With no " +
      "dataset named, the built-in synthetic set. The last line is a JSON object {classes, " +
      "attributes, trainval, testSeen, testUnseen}; exit status 1 when problems were found.",
  )
    .argument(
      "[dir]",
      "a dataset folder (images/, attributes, splits.json) or an image folder",
      userPath,
    )
    .option("--images <dir>", "the image folder (one sub-folder per class)", userPath)
    .option("--attributes <file>", "the class × attribute file", userPath)
    .option("--attribute-classes <file>", "the attribute rows' class names", userPath)
    .option("--splits <file>", "the split file", userPath)
    .option("--split <name>", "the split to count, e.g. 25_5")
    .option("--groups <file>", "attribute groups", userPath)
    .option("--decode", "decode every image fully (the headers are always checked)", false)
    .option("--synthetic", "the built-in synthetic set", false)
    .option("--seed <n>", "seed of the synthetic set (0)", count)
    .action((dir: string | undefined, o: InspectFlags) => run(() => inspect(dir, o)));
  sub(
    "split",
    "Draw a seeded seen/unseen split of a dataset folder's classes and write it as " +
      "<dir>/splits.json: --seen classes drawn at random, the others unseen; 20% of each seen " +
      "class's images test-seen, the rest trainval; every unseen image test-unseen.",
  )
    .argument("<dir>", "a dataset folder (its images/ sub-folder) or an image folder", userPath)
    .requiredOption("--seen <n>", "seen classes (the others are unseen)", count)
    .option("--seed <n>", "seed of the draw", count, 0)
    .option("--out <file>", "the file to write (default <dir>/splits.json)", userPath)
    .option("--overwrite", "replace an existing file", false)
    .action((dir: string, o: SplitFlags) => run(() => split(dir, o)));
  sub(
    "groups",
    "Write a starting attribute-groups file <dir>/groups.json from the attribute names: one " +
      "group per name prefix (color:red, color:green → color) when the names have one, else one " +
      "group of every attribute. Edit it: DSVA's groups are semantic.",
  )
    .argument("<dir>", "a dataset folder (its attribute file is found as train finds it)", userPath)
    .option("--attributes <file>", "the class × attribute file (default: the folder's)", userPath)
    .option("--out <file>", "the file to write (default <dir>/groups.json)", userPath)
    .option("--overwrite", "replace an existing file", false)
    .action((dir: string, o: GroupsFlags) => run(() => groups(dir, o)));
  sub("synthetic", "Generate (or find) the synthetic dataset and print its folder and timing.")
    .option("--seed <n>", "seed", count, 0)
    .option("--images-per-class <n>", "images per class", count, 40)
    .option("--size <n>", "image side in pixels", count, 96)
    .option("--force", "regenerate even when the folder exists", false)
    .action((o: SyntheticFlags) => run(() => synthetic(o)));
  sub("sheet", "Write a contact sheet of the synthetic dataset.")
    .option("--out <file>", "the PNG", userPath, "docs/synthetic_contact_sheet.png")
    .option("--per-class <n>", "images per class", count, 6)
    .option("--seed <n>", "seed", count, 0)
    .action((o: SheetFlags) => run(() => sheet(o)));
  return prog;
}

interface InspectFlags {
  images?: string;
  attributes?: string;
  attributeClasses?: string;
  splits?: string;
  split?: string;
  groups?: string;
  decode: boolean;
  synthetic: boolean;
  seed?: number;
}

async function inspect(dir: string | undefined, values: InspectFlags) {
  const opts: InspectOptions = { images: "", decode: values.decode, split: values.split };
  let label: string;
  if (values.synthetic || (!dir && !values.images)) {
    const seed = values.seed ?? 0;
    const t0 = performance.now();
    const r = await ensureSyntheticDataset({ seed });
    label = `synthetic aerial scenes (seed ${seed}) in ${r.dir}` +
      (r.generated ? ` — generated in ${((performance.now() - t0) / 1000).toFixed(1)} s` : "");
    Object.assign(opts, findDatasetLayout(r.dir));
    opts.split ??= SYNTHETIC_SPLIT;
  } else if (dir && isDir(`${dir}/images`)) {
    try {
      Object.assign(opts, findDatasetLayout(dir));
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      // No split file yet (data split writes one): the images, attributes and groups still.
      opts.images = `${dir}/images`;
      try {
        opts.attributes = findAttributeFile(dir);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
      }
      opts.groups = [`${dir}/groups.json`, `${dir}/attributes/groups.json`].find(exists);
    }
    label = dir;
  } else {
    opts.images = values.images ?? dir!;
    label = opts.images;
  }
  if (values.attributes) opts.attributes = values.attributes;
  if (values.attributeClasses) opts.attributeClasses = values.attributeClasses;
  if (values.splits) opts.splits = values.splits;
  if (values.groups) opts.groups = values.groups;
  const report = await inspectDataset(opts);
  print(label, opts, report);
  Deno.exitCode = report.problems.length > 0 ? 1 : 0;
}

function print(label: string, opts: InspectOptions, r: InspectReport) {
  const total = r.imagesPerClass.reduce((a, b) => a + b, 0);
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(11)} ${v}`);
  row("dataset", label);
  row("images", `${opts.images} (${r.classes.length} classes, ${total} images)`);
  row(
    "attributes",
    opts.attributes
      ? `${opts.attributes} (${r.attributes.length} attributes${
        r.attributeRange ? `, values ${r.attributeRange[0]}–${r.attributeRange[1]}` : ""
      })`
      : "none",
  );
  row(
    "groups",
    r.groups
      ? `${opts.groups}: ${Object.entries(r.groups).map(([g, n]) => `${g} ${n}`).join(", ")}`
      : "none",
  );
  row("splits", opts.splits ?? "none");
  lines.push("", `classes (${r.classes.length}, images each):`);
  lines.push(wrap(r.classes.map((c, i) => `${c} ${r.imagesPerClass[i]}`)));
  lines.push("", `attributes (${r.attributes.length}):`, wrap(r.attributes));
  if (r.splits.length) {
    lines.push("", "splits:");
    for (const s of r.splits) {
      lines.push(
        `  ${s.name === r.split ? "*" : " "} ${
          s.name.padEnd(8)
        } seen ${s.seen}, unseen ${s.unseen}: ` +
          `trainval ${s.trainval}, test_seen ${s.testSeen}, test_unseen ${s.testUnseen}` +
          (s.missing ? ` (${s.missing} missing images skipped)` : ""),
      );
    }
  }
  if (r.badImages.length) {
    lines.push("", `bad images (${r.badImages.length}):`);
    for (const b of r.badImages) lines.push(`  ${b.path}: ${b.problem}`);
  }
  lines.push("", `problems: ${r.problems.length === 0 ? "none" : ""}`);
  for (const p of r.problems) lines.push(`  - ${p}`);
  if (r.warnings.length) {
    lines.push(`warnings:`);
    for (const w of r.warnings) lines.push(`  - ${w}`);
  }
  console.log(lines.join("\n"));
  console.log(JSON.stringify(r.counts));
}

function wrap(items: string[], width = 96): string {
  const out: string[] = [];
  let line = " ";
  for (const it of items) {
    if (line.length + it.length + 2 > width) {
      out.push(line);
      line = " ";
    }
    line += ` ${it},`;
  }
  out.push(line.replace(/,$/, ""));
  return out.join("\n");
}

interface SplitFlags {
  seen: number;
  seed: number;
  out?: string;
  overwrite: boolean;
}

async function split(dir: string, o: SplitFlags) {
  const target = o.out ?? `${dir.replace(/\/+$/, "")}/splits.json`;
  if (!o.overwrite && exists(target)) {
    throw new DataError(target, "exists already; pass --overwrite to replace it");
  }
  const { file, splits } = await writeSplits(dir, { ...o, out: target });
  const [name, def] = Object.entries(splits.splits)[0];
  console.log(
    `split ${name} (seed ${o.seed}): seen ${def.seen.join(", ")}\n` +
      `  unseen ${def.unseen.join(", ")}\n` +
      `  trainval ${def.trainval.length}, test_seen ${def.test_seen.length}, ` +
      `test_unseen ${def.test_unseen.length} images\nwrote ${file}`,
  );
  console.log(JSON.stringify({
    file,
    split: name,
    seed: o.seed,
    seen: def.seen.length,
    unseen: def.unseen.length,
    trainval: def.trainval.length,
    testSeen: def.test_seen.length,
    testUnseen: def.test_unseen.length,
  }));
}

interface GroupsFlags {
  attributes?: string;
  out?: string;
  overwrite: boolean;
}

async function groups(dir: string, o: GroupsFlags) {
  const file = o.attributes ?? findAttributeFile(dir);
  const m = await readAttributes(file);
  if (!m.attributes) {
    throw new DataError(file, "names no attributes (a .csv header row does); cannot group them");
  }
  const out = o.out ?? `${dir.replace(/\/+$/, "")}/groups.json`;
  if (!o.overwrite && exists(out)) {
    throw new DataError(out, "exists already; pass --overwrite to replace it");
  }
  const g = startingGroups(m.attributes);
  const tmp = `${out}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, g.text);
  await Deno.rename(tmp, out);
  console.log(
    `${m.attributes.length} attributes of ${file}: ${g.rule}\n` +
      Object.entries(g.groups).map(([k, v]) => `  ${k} (${v.length}): ${v.join(", ")}`).join(
        "\n",
      ) +
      `\nwrote ${out} — edit it: DSVA's Attention Concentration averages one attention map per ` +
      `group, and good groups are semantic (e.g. functions, materials, surface properties)`,
  );
  console.log(JSON.stringify({ file: out, rule: g.rule, groups: Object.keys(g.groups) }));
}

function exists(p: string): boolean {
  try {
    Deno.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

interface SyntheticFlags {
  seed: number;
  imagesPerClass: number;
  size: number;
  force: boolean;
}

async function synthetic(opts: SyntheticFlags) {
  const r = await ensureSyntheticDataset(opts);
  console.log(r.generated ? `generated in ${r.seconds.toFixed(1)} s: ${r.dir}` : `found ${r.dir}`);
  console.log(JSON.stringify({ dir: r.dir, generated: r.generated, seconds: r.seconds }));
}

interface SheetFlags {
  out: string;
  perClass: number;
  seed: number;
}

async function sheet(values: SheetFlags) {
  const { dir } = await ensureSyntheticDataset({ seed: values.seed });
  const k = values.perClass;
  const rows = [];
  for (const c of SCENE_CLASSES) {
    const images = [];
    for (let i = 0; i < k; i++) {
      images.push(
        await decodeImage(`${dir}/images/${c.name}/${c.name}_${String(i).padStart(4, "0")}.png`),
      );
    }
    rows.push({ label: `${c.name}${c.unseen ? " (unseen)" : ""}`, images });
  }
  await Deno.writeFile(values.out, await contactSheet(rows));
  console.log(`wrote ${values.out}`);
}

/** Runs `deno task data` with `argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand(TASK, argv, data);
}

async function data(argv: readonly string[]): Promise<void> {
  const chosen: { action?: () => Promise<void> } = {};
  const prog = program((a) => chosen.action = a);
  if (argv.length === 0) {
    console.error(prog.helpInformation());
    failTask(TASK, 2, "no command");
  }
  parseOrExit(TASK, prog, argv);
  if (!chosen.action) failTask(TASK, 2, `unknown command "${argv[0]}"`);
  await chosen.action();
}

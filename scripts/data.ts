/**
 * `deno task data <command>`: look at datasets.
 *
 *   inspect [DIR] [--images DIR --attributes FILE --splits FILE] [--split NAME] [--groups FILE]
 *           [--attribute-classes FILE] [--decode] [--synthetic]
 *       Checks an image folder, an attribute file, attribute groups and a split file against
 *       each other; prints classes, attributes, images per split and every problem found. DIR is
 *       a dataset folder (images/, attributes, splits.json) or an image folder. With no dataset
 *       named, the built-in synthetic set (generated on first use). The last line is a JSON
 *       object {classes, attributes, trainval, testSeen, testUnseen}; exit status 1 when
 *       problems were found.
 *   synthetic [--seed N] [--images-per-class N] [--size N] [--force]
 *       Generates (or finds) the synthetic dataset and prints its folder and timing.
 *   sheet [--out FILE] [--per-class N] [--seed N]
 *       Writes a contact sheet of the synthetic dataset (default docs/synthetic_contact_sheet.png).
 */
import { parseArgs } from "node:util";
// The data modules one by one, not src/data/index.ts: that one also brings the tensor
// conversions, which load libtorch, and looking at a dataset does not need it.
import { findDatasetLayout } from "../src/data/dataset.ts";
import { DataError } from "../src/data/errors.ts";
import { decodeImage } from "../src/data/image.ts";
import { inspectDataset, type InspectOptions, type InspectReport } from "../src/data/inspect.ts";
import { contactSheet } from "../src/data/synthetic/contact_sheet.ts";
import { ensureSyntheticDataset, SYNTHETIC_SPLIT } from "../src/data/synthetic/generate.ts";
import { SCENE_CLASSES } from "../src/data/synthetic/vocabulary.ts";

const USAGE =
  `usage: deno task data inspect [DIR] [--images DIR] [--attributes FILE] [--splits FILE]
                              [--split NAME] [--groups FILE] [--decode] [--synthetic]
       deno task data synthetic [--seed N] [--images-per-class N] [--size N] [--force]
       deno task data sheet [--out FILE] [--per-class N] [--seed N]`;

const isDir = (p: string) => {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
};

function fail(msg: string): never {
  console.error(`data: ${msg}\n${USAGE}`);
  Deno.exit(2);
}

async function inspect(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      images: { type: "string" },
      attributes: { type: "string" },
      "attribute-classes": { type: "string" },
      splits: { type: "string" },
      split: { type: "string" },
      groups: { type: "string" },
      decode: { type: "boolean", default: false },
      synthetic: { type: "boolean", default: false },
      seed: { type: "string" },
    },
  });
  if (positionals.length > 1) fail(`one dataset folder at most, got ${positionals.join(" ")}`);
  const opts: InspectOptions = { images: "", decode: values.decode, split: values.split };
  let label: string;
  const dir = positionals[0];
  if (values.synthetic || (!dir && !values.images)) {
    const seed = values.seed ? Number(values.seed) : 0;
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
      Object.assign(opts, { images: `${dir}/images` });
    }
    label = dir;
  } else {
    opts.images = values.images ?? dir!;
    label = opts.images;
  }
  if (values.attributes) opts.attributes = values.attributes;
  if (values["attribute-classes"]) opts.attributeClasses = values["attribute-classes"];
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

async function synthetic(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      seed: { type: "string", default: "0" },
      "images-per-class": { type: "string", default: "40" },
      size: { type: "string", default: "96" },
      force: { type: "boolean", default: false },
    },
  });
  const opts = {
    seed: Number(values.seed),
    imagesPerClass: Number(values["images-per-class"]),
    size: Number(values.size),
    force: values.force,
  };
  for (const [k, v] of Object.entries(opts)) {
    if (typeof v === "number" && !(Number.isInteger(v) && v >= 0)) {
      fail(`--${k} must be an integer`);
    }
  }
  const r = await ensureSyntheticDataset(opts);
  console.log(r.generated ? `generated in ${r.seconds.toFixed(1)} s: ${r.dir}` : `found ${r.dir}`);
  console.log(JSON.stringify({ dir: r.dir, generated: r.generated, seconds: r.seconds }));
}

async function sheet(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string", default: "docs/synthetic_contact_sheet.png" },
      "per-class": { type: "string", default: "6" },
      seed: { type: "string", default: "0" },
    },
  });
  const { dir } = await ensureSyntheticDataset({ seed: Number(values.seed) });
  const k = Number(values["per-class"]);
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

const [cmd, ...rest] = Deno.args;
try {
  if (cmd === "inspect") await inspect(rest);
  else if (cmd === "synthetic") await synthetic(rest);
  else if (cmd === "sheet") await sheet(rest);
  else fail(cmd ? `unknown command "${cmd}"` : "no command");
} catch (e) {
  if (e instanceof DataError) {
    console.error(`data: ${e.message}`);
    Deno.exit(1);
  }
  throw e;
}

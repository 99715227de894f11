/** CLIP attribute collection commands (`clip:finetune`, `attributes`) on a tiny generated image
 * set: bad input gives clear errors naming the problem (missing images, caption files with bad
 * rows, an empty vocabulary, a checkpoint without a text tower); the run-time BPE tokenizer is a
 * valid CLIP tokenizer.json (Python `tokenizers` agrees); fine-tuning stops and resumes to the
 * same weights as an uninterrupted run; the files `attributes` writes are read back by
 * `src/data` exactly as `deno task train` reads them; AUROC. Small and fast: 16-pixel images, a
 * one-layer CLIP, a few steps. */
import assert from "node:assert/strict";
import { data, io, models, torch } from "../mod.ts";
import { readCaptions } from "../src/clip/captions.ts";
import { makeVocabulary, readVocabulary } from "../src/attributes/vocabulary.ts";
import { bpeTokenizerFiles, trainBpe } from "../src/clip/bpe.ts";
import { attributeAuroc, auroc } from "../src/attributes/auroc.ts";
import { imageAttributeScores } from "../src/attributes/scoring.ts";
import { clipConfigToHf } from "../src/models/clip.ts";
import { tinyClipConfig } from "../src/clip/tiny.ts";
import { FINETUNE_DEFAULTS, type FinetuneConfig } from "../src/clip/finetune_config.ts";
import { finetuneClip } from "../src/clip/finetune.ts";
import { DataError } from "../src/data/errors.ts";
import { ROOT, runPython } from "./helpers.ts";

const COLORS: Record<string, [number, number, number]> = {
  lake: [30, 60, 200],
  forest: [20, 140, 30],
  desert: [220, 190, 120],
};
const CAPTION: Record<string, string[]> = {
  lake: ["an aerial image of blue water.", "a calm lake seen from above."],
  forest: ["an aerial image of green trees.", "a dense forest seen from above."],
  desert: ["an aerial image of pale sand.", "a dry desert seen from above."],
};

/** 3 classes × 4 noisy 16×16 images, a captions CSV, a vocabulary and true attributes. */
async function tinySet(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dsva-attr-" });
  const rows = ["image,caption"];
  for (const [cls, rgb] of Object.entries(COLORS)) {
    await Deno.mkdir(`${dir}/images/${cls}`, { recursive: true });
    for (let i = 0; i < 4; i++) {
      const img = data.rgbImage(16, 16);
      for (let p = 0; p < 256; p++) {
        for (let c = 0; c < 3; c++) {
          img.data[3 * p + c] = Math.max(
            0,
            Math.min(255, rgb[c] + ((p * 37 + i * 11 + c) % 41) - 20),
          );
        }
      }
      await data.writePng(`${dir}/images/${cls}/${cls}_${i}.png`, img);
      for (const cap of CAPTION[cls]) rows.push(`${cls}/${cls}_${i}.png,"${cap}"`);
    }
  }
  await Deno.writeTextFile(`${dir}/captions.csv`, rows.join("\n") + "\n");
  await Deno.writeTextFile(
    `${dir}/vocabulary.json`,
    JSON.stringify({
      attributes: [
        { name: "water", group: "materials", phrases: ["blue water", "a calm lake"] },
        { name: "trees", group: "materials", phrases: ["green trees"] },
        { name: "sand", group: "materials" },
        { name: "dense", group: "surface_properties" },
      ],
    }),
  );
  await Deno.writeTextFile(
    `${dir}/truth.csv`,
    ",water,trees,sand,dense\nlake,1,0,0,0\nforest,0,1,0,1\ndesert,0,0,1,0\n",
  );
  return dir;
}

const TINY: Partial<FinetuneConfig> = {
  epochs: 2,
  batchSize: 4,
  lr: 1e-3,
  warmupSteps: 1,
  threads: 1,
  checkpointEvery: 2,
  logEvery: 2,
  loaderConcurrency: 2,
};
const tinyModel = (): FinetuneConfig["model"] => ({
  kind: "scratch",
  imageSize: 16,
  patchSize: 8,
  width: 16,
  visionLayers: 1,
  textLayers: 1,
  heads: 2,
  projectionDim: 8,
  contextLength: 16,
  maxMerges: 200,
});

async function cli(script: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/${script}`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_PROGRESS: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout),
    stderr = new TextDecoder().decode(out.stderr);
  const lines = stdout.trim().split("\n");
  let last: Record<string, unknown> | null = null;
  try {
    last = JSON.parse(lines[lines.length - 1]);
  } catch { /* no JSON */ }
  return { code: out.code, stdout, stderr, last };
}

const rejectsWith = async (p: Promise<unknown>, re: RegExp) => {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
};

Deno.test("caption files: bad rows, missing images and bad JSON entries are named", async () => {
  const dir = await tinySet();
  // CSV: a row with three columns, an empty sentence, an empty path (lines 3, 4, 5).
  await Deno.writeTextFile(
    `${dir}/bad.csv`,
    'image,caption\nlake/lake_0.png,"fine"\nlake/lake_1.png,a,b\nlake/lake_2.png,\n,"no image"\n',
  );
  await rejectsWith(
    readCaptions(`${dir}/bad.csv`, { images: `${dir}/images` }),
    /3 bad rows.*line 3: 3 columns.*line 4: empty sentence for lake\/lake_2\.png.*line 5: empty image path/,
  );
  // Missing images: listed with the count.
  await Deno.writeTextFile(
    `${dir}/missing.csv`,
    "lake/lake_0.png,ok\nlake/nope_1.png,gone\nriver/nope_2.png,gone too\n",
  );
  await rejectsWith(
    readCaptions(`${dir}/missing.csv`, { images: `${dir}/images` }),
    /2 of 3 images do not exist: .*images\/lake\/nope_1\.png, .*images\/river\/nope_2\.png/,
  );
  // RSICD/UCM JSON: reads; a missing "sentences" and an empty sentence are named.
  const ok = {
    images: [
      { filename: "lake_0.png", filepath: "lake", split: "train", sentences: [{ raw: "water" }] },
      {
        filename: "forest_0.png",
        filepath: "forest",
        split: "test",
        sentences: [{ raw: "trees" }],
      },
    ],
  };
  await Deno.writeTextFile(`${dir}/rsicd.json`, JSON.stringify(ok));
  const pairs = await readCaptions(`${dir}/rsicd.json`, {
    images: `${dir}/images`,
    splits: ["train"],
  });
  assert.deepEqual(pairs.map((p) => [p.path.slice(dir.length), p.captions]), [
    ["/images/lake/lake_0.png", ["water"]],
  ]);
  await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ images: [{ filename: "x.png" }] }));
  await rejectsWith(
    readCaptions(`${dir}/bad.json`),
    /not an RSICD\/UCM caption file.*images\.0\.sentences/,
  );
  await Deno.writeTextFile(
    `${dir}/empty.json`,
    JSON.stringify({ images: [{ filename: "lake/lake_0.png", sentences: [{ raw: " " }] }] }),
  );
  await rejectsWith(
    readCaptions(`${dir}/empty.json`, { images: `${dir}/images` }),
    /empty captions: images\.0/,
  );
  await rejectsWith(readCaptions(`${dir}/captions.txt`), /unknown caption file type "\.txt"/);

  // The command: exit status 1 and the message, no stack trace.
  const r = await cli(
    "clip_finetune.ts",
    "--captions",
    `${dir}/missing.csv`,
    "--images",
    `${dir}/images`,
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^clip:finetune: .*missing\.csv: 2 of 3 images do not exist/);
  assert.doesNotMatch(r.stderr, /\bat \w+ \(/);
  const u = await cli("clip_finetune.ts", "--epochs", "zero");
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--epochs zero: .*number/i);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vocabulary: layouts, groups, and an empty vocabulary named as such", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-voc-" });
  const write = (x: unknown) => Deno.writeTextFile(`${dir}/v.json`, JSON.stringify(x));
  await write({
    groups: { functions: ["road"], materials: ["water", "bare_soil"] },
    phrases: { water: ["a lake"] },
  });
  const v = await readVocabulary(`${dir}/v.json`);
  assert.deepEqual(v.names, ["road", "water", "bare_soil"]);
  assert.deepEqual(v.phrases, [["road"], ["a lake"], ["bare soil"]]);
  assert.deepEqual(v.groups, { functions: [0], materials: [1, 2] });
  await write(["a", "b"]);
  assert.deepEqual((await readVocabulary(`${dir}/v.json`)).groups, { attributes: [0, 1] });
  for (const empty of [[], { attributes: [] }, { groups: {} }, { groups: { g: [] } }]) {
    await write(empty);
    await rejectsWith(readVocabulary(`${dir}/v.json`), /attribute vocabulary is empty/);
  }
  await write({ attributes: [{ name: "a" }, { name: "a" }, { name: " " }] });
  await rejectsWith(
    readVocabulary(`${dir}/v.json`),
    /"a" appears twice.*attribute 3 has an empty name/,
  );
  await write({ attributes: [{ name: "a", colour: "red" }] });
  await rejectsWith(readVocabulary(`${dir}/v.json`), /not an attribute vocabulary.*colour/);
  assert.throws(() => makeVocabulary([]), /vocabulary is empty/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("BPE trained at run time is a CLIP tokenizer.json that Python tokenizers reads alike", async () => {
  const texts = Object.values(CAPTION).flat().concat(["Dense FOREST, near 3 lakes!", "naïve café"]);
  const bpe = trainBpe(texts, { maxMerges: 300 });
  assert.equal(
    Object.keys(bpe.vocab).length,
    512 + new Set(bpe.merges.map((m) => m.replace(" ", ""))).size + 2,
  );
  const files = bpeTokenizerFiles(bpe, 16);
  const tok = await models.CLIPTokenizer.fromJSON(files.tokenizer, files.config);
  assert.equal(tok.contextLength, 16);
  const ids = tok.encodeOne("an aerial image of blue water.");
  assert.equal(ids[0], tok.vocabSize - 2); // <|startoftext|>
  assert.equal(ids[ids.length - 1], tok.vocabSize - 1); // <|endoftext|>
  assert.equal(tok.tokenIds("an aerial image of").length, 4); // words seen ≥ 2 times: one token
  assert.equal(tok.tokenIds("quokka").length, 6); // unseen: byte by byte
  assert.equal(tok.decode(ids).trim(), "an aerial image of blue water.");
  const dir = await Deno.makeTempDir({ prefix: "dsva-bpe-" });
  await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(files.tokenizer));
  const probe = [...texts, "unseen words: quokka 42 ÆØÅ", "  spaced\tout  "];
  const ref = await runPython<number[][]>(`${ROOT}/tests/oracle/bpe_tokenizer.py`, {
    tokenizer: `${dir}/tokenizer.json`,
    texts: probe,
  });
  assert.deepEqual(probe.map((t) => tok.encodeOne(t, { maxLength: 1000 })), ref);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("AUROC over classes; centered similarity", () => {
  assert.equal(auroc([0.9, 0.2, 0.5], [true, false, false]), 1);
  assert.equal(auroc([0.1, 0.2, 0.5], [true, false, false]), 0);
  assert.equal(auroc([0.5, 0.5], [true, false]), 0.5);
  assert.equal(auroc([1, 2], [true, true]), null);
  torch.scope(() => {
    const img = torch.randn([5, 8]), txt = torch.randn([3, 8]);
    const c = imageAttributeScores(img, txt, { similarity: "centered" });
    assert.ok((c.sum(1).abs().max().item() as number) < 1e-6); // each image's mean removed
    const cos = imageAttributeScores(img, txt, { similarity: "cosine" });
    assert.ok((c.sub(cos.sub(cos.mean(1, { keepdim: true }))).abs().max().item() as number) < 1e-7);
  });
  const r = attributeAuroc([[0.9, 0.1], [0.2, 0.3], [0.1, 0.2]], [[1, 0], [0, 1], [0, 1]]);
  assert.deepEqual(r.perAttribute, [1, 1]);
  assert.equal(r.mean, 1);
});

Deno.test("fine-tune, stop and resume = uninterrupted; attributes files read back as train reads them", async () => {
  const dir = await tinySet();
  const base: FinetuneConfig = {
    ...FINETUNE_DEFAULTS,
    ...TINY,
    name: "t",
    runsDir: `${dir}/runs`,
    data: { kind: "file", file: `${dir}/captions.csv`, images: `${dir}/images`, splits: null },
    model: tinyModel(),
  } as FinetuneConfig;
  const quiet = { log: () => {}, progress: false };
  const straight = await finetuneClip(base, quiet);
  assert.equal(straight.status, "finished");
  assert.equal(straight.steps, 6); // 12 images / batch 4 = 3 steps per epoch, 2 epochs
  const part = await finetuneClip(base, { ...quiet, stopAfterSteps: 4 });
  assert.equal(part.status, "stopped");
  assert.equal(part.modelDir, null);
  const resumed = await finetuneClip(base, { ...quiet, resumeDir: part.runDir });
  assert.equal(resumed.status, "finished");
  assert.equal(resumed.steps, 6);
  using a = await io.loadSafetensors(`${straight.modelDir}/model.safetensors`);
  using b = await io.loadSafetensors(`${resumed.modelDir}/model.safetensors`);
  for (const [k, t] of a) {
    assert.ok(torch.scope(() => t.sub(b.get(k)!).abs().max().item()) <= 1e-6, k);
  }
  const logLines = (await Deno.readTextFile(`${resumed.runDir}/log.jsonl`)).trim().split("\n");
  assert.deepEqual(logLines.map((l) => JSON.parse(l).step), [2, 4, 6]);
  // The finished model is a Hugging Face CLIP folder that fine-tunes again (--model DIR).
  const again = await finetuneClip(
    { ...base, model: { kind: "pretrained", dir: straight.modelDir! }, epochs: 1 },
    quiet,
  );
  assert.equal(again.status, "finished");
  assert.equal(again.steps, 3);

  // attributes on the model (given as its run folder), with true attributes for AUROC.
  const out = `${dir}/attrs`;
  const r = await cli(
    "attributes.ts",
    ...[
      "--model",
      straight.runDir,
      "--images",
      `${dir}/images`,
      "--vocabulary",
      `${dir}/vocabulary.json`,
    ],
    ...[
      "--truth",
      `${dir}/truth.csv`,
      "--out",
      out,
      "--template",
      "an aerial image of {}.",
      "--threads",
      "1",
    ],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.last && typeof r.last.auroc === "number" && r.last.auroc >= 0 && r.last.auroc <= 1);
  assert.equal(r.last!.csv, `${out}/attributes.csv`);
  for (const k of ["csv", "json", "groups", "html", "vocabulary"]) {
    assert.ok((await Deno.stat(r.last![k] as string)).isFile, k);
  }
  // The files as deno task train reads them (src/data): CSV and JSON agree, groups resolve, and
  // the dataset opens with them.
  const csv = await data.readAttributes(`${out}/attributes.csv`);
  const json = await data.readAttributes(`${out}/attributes.json`);
  assert.deepEqual(csv.classes, ["desert", "forest", "lake"]);
  assert.deepEqual(csv.attributes, ["water", "trees", "sand", "dense"]);
  for (let i = 0; i < csv.values.length; i++) {
    assert.ok(Math.abs(csv.values[i] - json.values[i]) < 1e-5);
    assert.ok(csv.values[i] >= 0 && csv.values[i] <= 1); // min-max per attribute
  }
  assert.deepEqual(await data.readGroups(`${out}/groups.json`, 4, csv.attributes), {
    materials: [0, 1, 2],
    surface_properties: [3],
  });
  await Deno.writeTextFile(
    `${dir}/splits.json`,
    JSON.stringify({
      splits: {
        "2_1": {
          seen: ["lake", "forest"],
          unseen: ["desert"],
          trainval: ["lake/lake_0.png", "forest/forest_0.png"],
          test_seen: ["lake/lake_1.png"],
          test_unseen: ["desert/desert_0.png"],
        },
      },
    }),
  );
  const ds = await data.openDataset({
    images: `${dir}/images`,
    attributes: `${out}/attributes.csv`,
    groups: `${out}/groups.json`,
    splits: `${dir}/splits.json`,
  });
  assert.equal(ds.attributes.cols, 4);
  const html = await Deno.readTextFile(`${out}/attributes.html`);
  assert.match(html, /<h2>water <small>materials<\/small>/);
  assert.match(html, /highest/);

  // An empty vocabulary, a missing image folder: exit 1 naming the problem.
  await Deno.writeTextFile(`${dir}/empty.json`, "[]");
  const e1 = await cli(
    "attributes.ts",
    ...[
      "--model",
      straight.runDir,
      "--images",
      `${dir}/images`,
      "--vocabulary",
      `${dir}/empty.json`,
    ],
  );
  assert.equal(e1.code, 1, e1.stderr);
  assert.match(e1.stderr, /^attributes: .*empty\.json: the attribute vocabulary is empty/);
  const e2 = await cli(
    "attributes.ts",
    ...[
      "--model",
      straight.runDir,
      "--images",
      `${dir}/nowhere`,
      "--vocabulary",
      `${dir}/vocabulary.json`,
    ],
  );
  assert.equal(e2.code, 1, e2.stderr);
  assert.match(e2.stderr, /nowhere: no such folder/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("attributes: a checkpoint without a text tower is named as such", async () => {
  const dir = await tinySet();
  const cfg = tinyClipConfig(600, {
    imageSize: 16,
    patchSize: 8,
    width: 16,
    visionLayers: 1,
    textLayers: 1,
    heads: 2,
    projectionDim: 8,
    contextLength: 16,
  });
  // 1. A CLIPVisionModel folder: config without text_config, vision weights only.
  const vdir = `${dir}/vision_only`;
  await Deno.mkdir(vdir);
  const hf = clipConfigToHf(cfg);
  await Deno.writeTextFile(
    `${vdir}/config.json`,
    JSON.stringify({ ...(hf.vision_config as object), model_type: "clip_vision_model" }),
  );
  const vit = new models.VisionTransformer(cfg.vision);
  await io.saveSafetensors(`${vdir}/model.safetensors`, vit.stateDict({ prefix: "vision_model." }));
  vit.dispose();
  const args = ["--images", `${dir}/images`, "--vocabulary", `${dir}/vocabulary.json`];
  const r1 = await cli("attributes.ts", "--model", vdir, ...args);
  assert.equal(r1.code, 1, r1.stderr);
  assert.match(r1.stderr, /vision_only\/config\.json: no "text_config".*it has no text tower/);
  // 2. A full CLIP config whose weights lack text_model.*.
  const fdir = `${dir}/no_text_weights`;
  await Deno.mkdir(fdir);
  await Deno.writeTextFile(`${fdir}/config.json`, JSON.stringify(hf));
  const clip = new models.CLIPModel(cfg);
  const state = new Map([...clip.stateDict()].filter(([k]) => !k.startsWith("text_model.")));
  await io.saveSafetensors(`${fdir}/model.safetensors`, state);
  clip.dispose();
  const r2 = await cli("attributes.ts", "--model", fdir, ...args);
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /model\.safetensors: no CLIP text tower: no "text_model\.\*" weights/);
  // The same folder given to clip:finetune.
  const r3 = await cli(
    "clip_finetune.ts",
    ...["--model", fdir, "--captions", `${dir}/captions.csv`, "--images", `${dir}/images`],
  );
  assert.equal(r3.code, 1, r3.stderr);
  assert.match(r3.stderr, /no_text_weights\/model\.safetensors: no CLIP text tower/);
  await Deno.remove(dir, { recursive: true });
});

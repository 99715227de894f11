/** `deno task zeroshot`: CLIP's prompt zero-shot classification. On the synthetic scenes with the
 * CLIP `clip:finetune` trains by default (fewer epochs), both protocols report numbers above
 * chance; the second run reads every embedding from the cache (same numbers, nothing encoded);
 * the readable-name rule; prompt ensembling equals a hand computation; an empty prompt file and
 * an existing output folder are clear errors. On ../shared/data/aid split 25_5 a random Hugging
 * Face CLIP runs end to end (skipped loudly without ../shared, failing under CI=true). bf16
 * autocast (libtorch's CPU autocast) stays close to float32 in its own cache entries, and a
 * full cache hit on a weights file loads no model. */
import assert from "node:assert/strict";
import { torch } from "../mod.ts";
import { FINETUNE_DEFAULTS } from "../src/clip/finetune_config.ts";
import { finetuneClip } from "../src/clip/finetune.ts";
import { bpeTokenizerFiles, trainBpe } from "../src/clip/bpe.ts";
import { initClipWeights, tinyClipConfig } from "../src/clip/tiny.ts";
import { saveHfClip } from "../src/clip/save.ts";
import { CLIPModel, l2Normalize } from "../src/models/clip.ts";
import { classTexts, readableClassName } from "../src/zeroshot/names.ts";
import { zeroShotEmbeddings } from "../src/zeroshot/embed.ts";
import { loadClip } from "../src/zeroshot/load.ts";
import { syntheticDescriptions } from "../src/zeroshot/synthetic.ts";
import { isDir, isFile } from "../ffi/fs.ts";
import { ensureSyntheticDataset } from "../src/data/synthetic/generate.ts";
import { scanImageFolder } from "../src/data/image_folder.ts";
import { geometryPath } from "../src/zeroshot/cache.ts";
import { clipWeightsHash } from "../src/zeroshot/load.ts";
import { saveSafetensors } from "../src/io/index.ts";
import { full, ones, randn, type Tensor, zeros } from "../src/tensor/index.ts";
import { ROOT } from "./helpers.ts";

const CI = Deno.env.get("CI") === "true";
const AID = `${ROOT}/../shared/data/aid`;

async function zeroshot(env: Record<string, string>, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/zeroshot.ts`, "--threads", "2", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_PROGRESS: "1", ...env },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const lines = stdout.trim().split("\n");
  // deno-lint-ignore no-explicit-any
  let last: Record<string, any> | null = null;
  try {
    last = JSON.parse(lines[lines.length - 1]);
  } catch { /* no JSON */ }
  return { code: out.code, stdout, stderr, last };
}

Deno.test("readable class names and aliases", () => {
  assert.equal(readableClassName("DenseResidential"), "dense residential");
  assert.equal(readableClassName("dense_residential"), "dense residential");
  assert.equal(readableClassName("Dense-Residential"), "dense residential");
  assert.equal(readableClassName("RSImageArea"), "rs image area");
  assert.equal(readableClassName("baseball_diamond"), "baseball diamond");
  assert.equal(readableClassName("  Storage__Tanks "), "storage tanks");
  assert.deepEqual(
    classTexts(["DenseResidential", "Pond", "center_pivot"], {
      Pond: "a small lake",
      "center pivot": "round crop fields",
    }),
    ["dense residential", "a small lake", "round crop fields"],
  );
});

/** The default CLIP of clip:finetune (synthetic scenes, seen classes' captions, its model),
 * trained once for all cases and briefly: 3 epochs of batch 32 (36 steps, 8 of warm-up) instead
 * of 60 of 64, about 50 s on 2 cores; its numbers stay far above chance (measured ZSL 0.56,
 * all-class top-1 0.27, S 0.67, AUSUC 0.27 against the bounds below). */
let trained: Promise<string> | null = null;
function defaultClip(): Promise<string> {
  trained ??= (async () => {
    const runsDir = await Deno.makeTempDir({ prefix: "dsva-zs-" });
    const r = await finetuneClip(
      {
        ...FINETUNE_DEFAULTS,
        epochs: 3,
        batchSize: 32,
        warmupSteps: 8,
        threads: 2,
        runsDir,
        name: "zs",
      },
      { log: () => {}, progress: false },
    );
    assert.equal(r.status, "finished");
    return r.runDir;
  })();
  return trained;
}

Deno.test("zeroshot on the synthetic scenes: both protocols above chance; the cache is hit the second time", async () => {
  const clip = await defaultClip();
  const tmp = await Deno.makeTempDir({ prefix: "dsva-zs-run-" });
  // A fresh cache root, so that the first run cannot find entries of an earlier test run.
  const env = { DSVA_TORCH_CACHE: `${tmp}/cache` };
  // The default CLIP never read an unseen class's name (it trains on the seen classes'
  // captions), so the classes are described by their attributes' words.
  await Deno.writeTextFile(`${tmp}/desc.json`, JSON.stringify(syntheticDescriptions()));
  const args = ["--model", clip, "--aliases", `${tmp}/desc.json`];
  const first = await zeroshot(env, ...args, "--out", `${tmp}/a`);
  assert.equal(first.code, 0, first.stderr);
  const a = first.last!;
  assert.deepEqual(a.cache, { images: "miss", text: "miss" });
  assert.ok(a.encoded.images > 0 && a.encoded.texts > 0);
  // ZSL among 4 unseen classes (chance 25%); all classes among 16 (chance 6.25%).
  assert.equal(a.chance, 0.25);
  assert.ok(a.zsl > 0.4, `ZSL ${a.zsl}`);
  assert.ok(a.allClasses.top1 > 2 / 16, `all-class top-1 ${a.allClasses.top1}`);
  assert.ok(a.allClasses.meanPerClass > 2 / 16, `mean per-class ${a.allClasses.meanPerClass}`);
  assert.ok(a.gzsl.S > 2 / 16, `S ${a.gzsl.S}`);
  assert.equal(a.gzsl.gamma, 0);
  // A random scorer's AUSUC is about ½ · (1/12) · (1/4) ≈ 0.01.
  assert.ok(a.ausuc > 0.1, `AUSUC ${a.ausuc}`);
  assert.ok(a.oracleH.H >= a.gzsl.H);
  for (const f of ["eval.json", "eval.md", "confusion.png", "seen_unseen_curve.json"]) {
    assert.ok((await Deno.stat(`${tmp}/a/${f}`)).size > 0, f);
  }
  const md = await Deno.readTextFile(`${tmp}/a/eval.md`);
  assert.match(md, /\| CLIP zero-shot \(prompts\) \|/);
  assert.match(md, /all classes top-1/);
  const json = JSON.parse(await Deno.readTextFile(`${tmp}/a/eval.json`));
  assert.equal(json.zsl, a.zsl);
  assert.equal(json.classTexts.length, 16);

  const second = await zeroshot(env, ...args, "--out", `${tmp}/b`);
  assert.equal(second.code, 0, second.stderr);
  const b = second.last!;
  assert.deepEqual(b.cache, { images: "hit", text: "hit" });
  assert.deepEqual(b.encoded, { images: 0, texts: 0 });
  assert.doesNotMatch(second.stdout, /encoding/);
  for (const k of ["zsl", "gzsl", "ausuc", "allClasses", "oracleH"]) {
    assert.deepEqual(b[k], a[k], k);
  }

  // Another prompt set is another text entry: images hit, text encoded.
  const third = await zeroshot(
    env,
    "--model",
    clip,
    "--template",
    "an aerial image of {}.",
    "--out",
    `${tmp}/c`,
  );
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(third.last!.cache, { images: "hit", text: "miss" });

  // An output folder that holds an evaluation is not overwritten without --overwrite.
  const again = await zeroshot(env, ...args, "--out", `${tmp}/a`);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already holds eval\.json.*--overwrite/);
  const forced = await zeroshot(env, ...args, "--out", `${tmp}/a`, "--overwrite");
  assert.equal(forced.code, 0, forced.stderr);

  // An empty prompt file: exit 1 naming the file, nothing written.
  await Deno.writeTextFile(`${tmp}/empty.txt`, "\n# only a comment\n\n");
  const empty = await zeroshot(
    env,
    "--model",
    clip,
    "--prompts",
    `${tmp}/empty.txt`,
    "--out",
    `${tmp}/d`,
  );
  assert.equal(empty.code, 1, empty.stderr);
  assert.match(empty.stderr, /empty\.txt: holds no prompt templates/);
  assert.equal(isDir(`${tmp}/d`), false);
  await Deno.writeTextFile(`${tmp}/bad.txt`, "a satellite image of {}.\nno placeholder\n");
  const bad = await zeroshot(env, "--model", clip, "--prompts", `${tmp}/bad.txt`);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /bad\.txt: line 2 "no placeholder" has no "\{\}"/);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("prompt ensembling = the mean of the normalised prompt embeddings, normalised", async () => {
  const clip = await defaultClip();
  const templates = ["an aerial image of {}.", "a satellite view of {}.", "{} seen from above."];
  const names = ["a beach", "storage tanks"];
  const e = await zeroShotEmbeddings({
    model: clip,
    weightsHash: "test",
    samples: [],
    classTexts: names,
    templates,
    useCache: false,
  });
  const { model, tokenizer } = await loadClip(clip);
  try {
    for (let c = 0; c < names.length; c++) {
      const rows = templates.map((t) => {
        const enc = tokenizer.encode([t.replace("{}", names[c])]);
        return torch.scope(() => {
          const f = model.encodeText(enc.inputIds, { attentionMask: enc.attentionMask });
          return Array.from(l2Normalize(f).toTypedArray() as Float32Array);
        });
      });
      const mean = rows[0].map((_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
      const norm = Math.hypot(...mean);
      const got = Array.from(e.text.select(0, c).toTypedArray() as Float32Array);
      got.forEach((g, j) => assert.ok(Math.abs(g - mean[j] / norm) < 1e-6, `class ${c} dim ${j}`));
    }
  } finally {
    model.dispose();
    e.images.dispose();
    e.text.dispose();
  }
});

Deno.test({
  name: "zeroshot on ../shared/data/aid split 25_5 with a random Hugging Face CLIP, end to end",
  ignore: !isDir(`${AID}/images`) && !CI,
  async fn() {
    assert.ok(isDir(`${AID}/images`), `CI=true but the AID data is missing at ${AID}`);
    const tmp = await Deno.makeTempDir({ prefix: "dsva-zs-aid-" });
    const bpe = trainBpe(["a satellite image of an airport.", "an aerial photograph of a beach."], {
      maxMerges: 100,
      minFrequency: 1,
    });
    const tok = bpeTokenizerFiles(bpe, 32);
    const vocab = Object.keys(bpe.vocab).length;
    torch.manualSeed(0);
    const model = new CLIPModel(
      tinyClipConfig(vocab, {
        imageSize: 32,
        patchSize: 8,
        width: 32,
        visionLayers: 1,
        textLayers: 1,
        heads: 2,
        projectionDim: 16,
        contextLength: 32,
      }),
    );
    initClipWeights(model);
    await saveHfClip(`${tmp}/clip`, model, tok);
    model.dispose();
    const r = await zeroshot(
      { DSVA_TORCH_CACHE: `${tmp}/cache` },
      "--model",
      `${tmp}/clip`,
      "--dataset",
      AID,
      "--split",
      "25_5",
      "--limit",
      "2",
      "--out",
      `${tmp}/out`,
    );
    assert.equal(r.code, 0, r.stderr);
    const z = r.last!;
    assert.equal(z.split, "25_5");
    assert.equal(z.chance, 0.2);
    for (const x of [z.zsl, z.gzsl.S, z.gzsl.U, z.gzsl.H, z.ausuc, z.allClasses.top1]) {
      assert.ok(x >= 0 && x <= 1, String(x));
    }
    const json = JSON.parse(await Deno.readTextFile(`${tmp}/out/eval.json`));
    assert.deepEqual(json.images, { testSeen: 50, testUnseen: 10, allClass: 60 });
    assert.ok(json.classTexts.includes("baseball field"), json.classTexts.join(", "));
    assert.ok((await Deno.stat(`${tmp}/out/confusion.png`)).size > 0);
    await Deno.remove(tmp, { recursive: true });
  },
});

const BPE = `${ROOT}/.venv/lib/python3.11/site-packages/open_clip/bpe_simple_vocab_16e6.txt.gz`;

/** A random open_clip-layout ViT CLIP (the names and shapes `open_clip`'s `state_dict()` has;
 * width 64, one block per tower, 16-px patches on 32 px, open_clip's 49408-token vocabulary)
 * saved as `<dir>/open_clip_model.safetensors`, with open_clip's BPE file beside it. */
async function randomOpenClipFile(dir: string): Promise<string> {
  torch.manualSeed(3);
  const W = 64, E = 32, V = 49408, L = 77;
  const t: [string, Tensor][] = [];
  const r = (name: string, shape: number[], std = 0.02) =>
    t.push([name, torch.scope(() => randn(shape).mul(std))]);
  const block = (p: string) => {
    for (const ln of ["ln_1", "ln_2"]) {
      t.push([`${p}.${ln}.weight`, ones([W])], [`${p}.${ln}.bias`, zeros([W])]);
    }
    r(`${p}.attn.in_proj_weight`, [3 * W, W]);
    r(`${p}.attn.in_proj_bias`, [3 * W]);
    r(`${p}.attn.out_proj.weight`, [W, W]);
    r(`${p}.attn.out_proj.bias`, [W]);
    r(`${p}.mlp.c_fc.weight`, [4 * W, W]);
    r(`${p}.mlp.c_fc.bias`, [4 * W]);
    r(`${p}.mlp.c_proj.weight`, [W, 4 * W]);
    r(`${p}.mlp.c_proj.bias`, [W]);
  };
  r("visual.conv1.weight", [W, 3, 16, 16]);
  r("visual.class_embedding", [W]);
  r("visual.positional_embedding", [5, W]);
  for (const ln of ["visual.ln_pre", "visual.ln_post", "ln_final"]) {
    t.push([`${ln}.weight`, ones([W])], [`${ln}.bias`, zeros([W])]);
  }
  block("visual.transformer.resblocks.0");
  r("visual.proj", [W, E], 0.125);
  r("token_embedding.weight", [V, W]);
  r("positional_embedding", [L, W], 0.01);
  block("transformer.resblocks.0");
  r("text_projection", [W, E], 0.125);
  t.push(["logit_scale", full([], Math.log(1 / 0.07))]);
  const path = `${dir}/open_clip_model.safetensors`;
  await saveSafetensors(path, new Map(t));
  for (const [, x] of t) x.dispose();
  await Deno.copyFile(BPE, `${dir}/bpe_simple_vocab_16e6.txt.gz`);
  return path;
}

Deno.test("bf16 autocast (CPU): close to float32, its own cache entries; a full hit on a weights file loads no model", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "dsva-zs-bf16-" });
  const path = await randomOpenClipFile(tmp);
  const folder = await scanImageFolder(`${(await ensureSyntheticDataset({})).dir}/images`);
  const samples = folder.samples.filter((_, i) => i % 40 === 0); // 16 images, one per class
  const names = ["dense residential", "a beach", "storage tanks"];
  const templates = ["a satellite image of {}.", "an aerial view of {}."];
  const before = Deno.env.get("DSVA_TORCH_CACHE");
  Deno.env.set("DSVA_TORCH_CACHE", `${tmp}/cache`);
  const got: Record<string, Awaited<ReturnType<typeof zeroShotEmbeddings>>> = {};
  try {
    const weightsHash = await clipWeightsHash(path);
    const embed = (autocast: "none" | "bf16") =>
      zeroShotEmbeddings({
        model: path,
        weightsHash,
        samples,
        classTexts: names,
        templates,
        autocast,
      });
    got.f32 = await embed("none");
    got.bf16 = await embed("bf16");
    // Each mode its own entries: the bf16 run encoded again rather than read float32's.
    assert.deepEqual(got.f32.cache, { images: "miss", text: "miss" });
    assert.deepEqual(got.bf16.cache, { images: "miss", text: "miss" });
    assert.equal(got.bf16.images.dtype, "float32");
    // bfloat16 keeps 8 significant bits (relative rounding 2^-9 ≈ 0.002 per matmul input);
    // the towers' layer norms and the float32 cast before the norm keep that from growing, so
    // unit embeddings move by about that much (measured: max 0.0020 images, 0.0018 text;
    // cosine with float32's ≥ 0.99999). Bounds at 5× that: 0.01 per component, cosine 0.999.
    // They must move at all: equal numbers would mean autocast never ran.
    for (const k of ["images", "text"] as const) {
      const a = got.f32[k], b = got.bf16[k];
      const d = torch.noGrad(() => a.sub(b).abs().max().item() as number);
      const cos = torch.noGrad(() => a.mul(b).sum(-1).min().item() as number);
      assert.ok(d > 0 && d < 0.01, `${k}: max |bf16 - f32| = ${d}`);
      assert.ok(cos > 0.999, `${k}: min cosine ${cos}`);
    }
    got.bf16b = await embed("bf16");
    assert.deepEqual(got.bf16b.cache, { images: "hit", text: "hit" });
    assert.deepEqual(got.bf16b.encoded, { images: 0, texts: 0 });
    assert.deepEqual(
      Array.from(got.bf16b.images.toTypedArray() as Float32Array),
      Array.from(got.bf16.images.toTypedArray() as Float32Array),
    );
    // The weights file's input side was kept, so a full hit need not read the weights.
    assert.deepEqual(JSON.parse(await Deno.readTextFile(geometryPath(weightsHash))), {
      imageSize: 32,
    });
  } finally {
    for (const e of Object.values(got)) {
      e.images.dispose();
      e.text.dispose();
    }
    if (before === undefined) Deno.env.delete("DSVA_TORCH_CACHE");
    else Deno.env.set("DSVA_TORCH_CACHE", before);
  }

  // The task: the first run loads the CLIP (its load line on stderr), the second reads every
  // embedding and the geometry from the cache and loads nothing.
  const env = { DSVA_TORCH_CACHE: `${tmp}/cache2` };
  const args = ["--model", path, "--limit", "1", "--autocast", "bf16"];
  const first = await zeroshot(env, ...args, "--out", `${tmp}/a`);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /zeroshot: .*; cpu, bf16 autocast/);
  assert.match(first.stderr, /^CLIP .*open_clip_model\.safetensors: format open_clip/m);
  assert.deepEqual(first.last!.cache, { images: "miss", text: "miss" });
  assert.equal(first.last!.autocast, "bf16");
  const second = await zeroshot(env, ...args, "--out", `${tmp}/b`);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(second.last!.cache, { images: "hit", text: "hit" });
  assert.doesNotMatch(second.stderr, /^CLIP /m);
  assert.deepEqual(second.last!.allClasses, first.last!.allClasses);
  // The geometry is part of the cache: without it (a cache from before), the CLIP is loaded.
  await Deno.remove(`${tmp}/cache2/geometry`, { recursive: true });
  const third = await zeroshot(env, ...args, "--out", `${tmp}/c`);
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(third.last!.cache, { images: "hit", text: "hit" });
  assert.match(third.stderr, /^CLIP .*open_clip_model\.safetensors/m);
  assert.ok(isFile(`${tmp}/cache2/geometry/${await clipWeightsHash(path)}.json`));
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("zeroshot and attributes --device cuda without CUDA, --autocast of another value: one-line errors", async () => {
  if (torch.cuda.isAvailable()) return; // the message is for machines without CUDA
  const clip = `${ROOT}/no-such-clip`;
  const r = await zeroshot({}, "--model", clip, "--device", "cuda");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^zeroshot: error: --device cuda: CUDA is not available/m);
  const a = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}/scripts/attributes.ts`,
      "--synthetic",
      "--model",
      clip,
      "--device",
      "cuda",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(a.stderr);
  assert.equal(a.code, 2, stderr);
  assert.match(stderr, /^attributes: error: --device cuda: CUDA is not available/m);
  const b = await zeroshot({}, "--model", clip, "--autocast", "fp16");
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--autocast/);
});

/** The one CLIP loader against the real open_clip 3.3.0 (tests/oracle/open_clip_ref.py): random
 * weights saved as an OpenAI TorchScript archive, a plain open_clip state dict, a
 * `{state_dict, module.}` checkpoint and a .safetensors file; image / text embeddings and logits
 * against open_clip's encode_image / encode_text; the BPE tokenizer against open_clip.tokenize;
 * bad input; and a DSVA training run and `attributes` taking each source. */
import assert from "node:assert/strict";
import { ROOT, runPython } from "./helpers.ts";
import { runScript } from "./train_helpers.ts";
import { data, io, models } from "../mod.ts";
import { noGrad, type Tensor, zeros } from "../src/tensor/index.ts";
import { isDir } from "../ffi/fs.ts";
import { resolveConfig } from "../src/config/index.ts";
import { parseTrainArgs } from "../src/cli/train_args.ts";
import { finetuneClip } from "../src/clip/finetune.ts";
import { FINETUNE_DEFAULTS } from "../src/clip/finetune_config.ts";

const CI = Deno.env.get("CI") === "true";
const AID = `${ROOT}/../shared/data/aid`;

const ORACLE = `${ROOT}/tests/oracle/open_clip_ref.py`;
const BPE = `${ROOT}/.venv/lib/python3.11/site-packages/open_clip/bpe_simple_vocab_16e6.txt.gz`;
const SMALL = {
  embed_dim: 64,
  vision_cfg: { image_size: 64, layers: 2, width: 128, patch_size: 16 },
  text_cfg: { context_length: 77, vocab_size: 49408, width: 128, heads: 2, layers: 2 },
};
const TEXTS = [
  "a satellite image of a dense residential area.",
  "runway",
  "Two ships in a harbor!",
];

type Fmt = "state" | "wrapped" | "safetensors" | "jit";
const EXT: Record<Fmt, string> = {
  state: "pt",
  wrapped: "pt",
  safetensors: "safetensors",
  jit: "pt",
};

async function make(
  dir: string,
  format: Fmt,
  model: "ViT-B-32" | typeof SMALL,
  quickGelu: boolean,
): Promise<{ path: string; ref: Map<string, Tensor> }> {
  const tag = `${format}-${model === "ViT-B-32" ? "b32" : "small"}-${quickGelu ? "q" : "g"}`;
  const path = `${dir}/${tag}.${EXT[format]}`, out = `${dir}/${tag}.ref.safetensors`;
  await runPython(ORACLE, {
    mode: "make",
    path,
    format,
    model,
    quick_gelu: quickGelu,
    seed: 7,
    texts: TEXTS,
    batch: 2,
    out,
  });
  return { path, ref: await io.loadSafetensors(out) };
}

const maxDiff = (a: Tensor, b: Tensor) => noGrad(() => a.sub(b).abs().max().item() as number);

/** Loads `path` and checks embeddings and logits against open_clip's to `tol`; returns the
 * load summary line. */
async function checkParity(
  path: string,
  ref: Map<string, Tensor>,
  opts: models.CLIPLoadOptions,
  tol = 1e-5,
): Promise<string> {
  const lines: string[] = [];
  const m = await models.CLIPModel.fromPretrained(path, { ...opts, log: (l) => lines.push(l) });
  try {
    noGrad(() => {
      const pixels = ref.get("pixels")!, ids = ref.get("ids")!;
      const img = m.encodeImage(pixels), txt = m.encodeText(ids);
      const out = m.forward({ pixels, inputIds: ids });
      const d = [
        maxDiff(img, ref.get("image_features")!),
        maxDiff(txt, ref.get("text_features")!),
        maxDiff(out.logitsPerImage, ref.get("logits")!),
      ];
      assert.ok(d.every((x) => x <= tol), `${path}: max |diff| image/text/logits ${d}`);
    });
  } finally {
    m.dispose();
    for (const t of ref.values()) t.dispose();
  }
  assert.equal(lines.length, 1);
  return lines[0];
}

Deno.test("open_clip parity: a small ViT CLIP in every format, QuickGELU and GELU", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-openclip-" });
  try {
    // OpenAI archive (fp16 weights inside): QuickGELU by default, read by torch::jit::load.
    let r = await make(dir, "jit", SMALL, true);
    let line = await checkParity(r.path, r.ref, {});
    assert.match(line, /format openai; image ViT 64px patch 16, width 128, 2 layers, 2 heads/);
    assert.match(line, /activation quick_gelu \(OpenAI's own\); 7\.24M parameters/);
    // Plain state dict of an OpenAI-initialised fine-tune: QuickGELU must be asked for.
    r = await make(dir, "state", SMALL, true);
    line = await checkParity(r.path, r.ref, { activation: "quick_gelu" });
    assert.match(
      line,
      /format open_clip;.*activation quick_gelu \(override; the open_clip default/,
    );
    // {state_dict, module.} (SkyCLIP's layout) and .safetensors, GELU: open_clip's default.
    r = await make(dir, "wrapped", SMALL, false);
    line = await checkParity(r.path, r.ref, {});
    assert.match(line, /activation gelu \(open_clip default; pass activation "quick_gelu"/);
    r = await make(dir, "safetensors", SMALL, false);
    await checkParity(r.path, r.ref, { format: "open_clip" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("open_clip parity: ViT-B-32 as an OpenAI archive (QuickGELU) and a state dict (GELU)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-openclip-b32-" });
  try {
    let r = await make(dir, "jit", "ViT-B-32", true);
    let line = await checkParity(r.path, r.ref, {});
    assert.match(
      line,
      /format openai; image ViT 224px patch 32, width 768, 12 layers, 12 heads; text width 512, 12 layers, 8 heads, context 77, vocab 49408; embed 512; activation quick_gelu/,
    );
    assert.match(line, /151\.28M parameters/);
    await Deno.remove(r.path);
    r = await make(dir, "state", "ViT-B-32", false);
    line = await checkParity(r.path, r.ref, {});
    assert.match(line, /format open_clip;.*activation gelu/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** 200 varied sentences: remote-sensing captions, case, punctuation, digits, contractions,
 * accents, curly quotes, ligatures, full-width forms, HTML entities, long texts (truncation). */
function sentences(): string[] {
  const scenes = [
    "dense residential",
    "runway",
    "harbor",
    "center pivot",
    "storage tanks",
    "Bridge",
    "FOREST",
    "beach",
    "parking lot",
    "river",
    "railway station",
    "golf course",
  ];
  const frames = [
    (s: string) => `a satellite image of a ${s}.`,
    (s: string) => `An aerial photo showing the ${s}!`,
    (s: string) => `there's a ${s} next to 3 roads, isn't it?`,
    (s: string) => `“${s}” seen from 500m — don’t you think?`,
    (s: string) => `the ﬁeld and the ${s} &amp; a café near São Paulo`,
    (s: string) => `ＧＯＯＤ ${s}：naïve résumé über straße`,
    (s: string) => `${s}   with\ttabs\nand   spaces   `,
    (s: string) => `&lt;b&gt;${s}&lt;/b&gt; &#39;quoted&#39; &#x41;BC`,
    (s: string) => `${s} 12,345 km² (±0.5%) @ 10:30 #tag $100`,
    (s: string) => `I'm sure we'll see they've ${s}s; you'd agree`,
    (s: string) => `Ελληνικά ΣΟΦΙΑ and 日本語 ${s} emoji 🚀🌊`,
    (s: string) => Array.from({ length: 30 }, (_, i) => `${s} ${i}`).join(" "),
  ];
  const out: string[] = [];
  for (let i = 0; out.length < 200; i++) {
    out.push(frames[i % frames.length](scenes[(i * 5 + Math.floor(i / 12)) % scenes.length]));
  }
  return out;
}

Deno.test("BPE tokenizer (bpe_simple_vocab_16e6.txt.gz) gives open_clip.tokenize's ids", async () => {
  const texts = sentences();
  const want = await runPython<{ ids: number[][] }>(ORACLE, { mode: "tokenize", texts });
  const tok = await models.CLIPTokenizer.fromPretrained(BPE);
  assert.equal(tok.contextLength, 77);
  const got = tok.encode(texts, { padding: "max_length" });
  const ids = got.inputIds.toArray() as number[][];
  got.inputIds.dispose();
  got.attentionMask.dispose();
  let bad = 0;
  texts.forEach((t, i) => {
    if (JSON.stringify(ids[i]) !== JSON.stringify(want.ids[i])) {
      if (bad++ < 3) {
        console.error(`${JSON.stringify(t)}\n ours ${ids[i]}\n open_clip ${want.ids[i]}`);
      }
    }
  });
  assert.equal(bad, 0, `${bad} of ${texts.length} sentences differ`);
});

Deno.test("bad CLIP sources: truncated archive, ResNet tower, unknown layout, wrong activation", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-openclip-bad-" });
  try {
    const { path, ref } = await make(dir, "jit", SMALL, true);
    for (const t of ref.values()) t.dispose();
    // Cut short: the zip's central directory is gone.
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(`${dir}/cut.pt`, bytes.subarray(0, bytes.length >> 1));
    await assert.rejects(
      models.CLIPModel.fromPretrained(`${dir}/cut.pt`, { log: null }),
      /cut\.pt: truncated or damaged archive \(no end-of-central-directory record\)/,
    );
    // A wrong activation on an OpenAI archive loads, with a warning naming its own.
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => warned.push(m);
    try {
      (await models.CLIPModel.fromPretrained(path, { activation: "gelu", log: null })).dispose();
    } finally {
      console.warn = warn;
    }
    assert.equal(warned.length, 1);
    assert.match(warned[0], /activation gelu overrides the OpenAI archive's own quick_gelu/);
    // A ResNet image tower (RN50's keys).
    const t = () => zeros([4, 4]);
    const rn = new Map([
      ["visual.conv1.weight", t()],
      ["visual.layer1.0.conv1.weight", t()],
      ["visual.attnpool.positional_embedding", t()],
      ["token_embedding.weight", t()],
    ]);
    await io.saveSafetensors(`${dir}/rn50.safetensors`, rn);
    await assert.rejects(
      models.CLIPModel.fromPretrained(`${dir}/rn50.safetensors`, { log: null }),
      /rn50\.safetensors: a ResNet image tower \(ModifiedResNet, as RN50.*not supported/,
    );
    // Some other model's weights.
    const other = new Map([["encoder.block.0.weight", t()], ["head.bias", t()]]);
    await io.saveSafetensors(`${dir}/other.safetensors`, other);
    await assert.rejects(
      models.CLIPModel.fromPretrained(`${dir}/other.safetensors`, { log: null }),
      /other\.safetensors: unknown checkpoint layout: no "visual\.conv1\.weight".*"encoder\.block\.0\.weight"/,
    );
    for (const m of [rn, other]) for (const x of m.values()) x.dispose();
    await Deno.writeTextFile(`${dir}/notes.txt`, "not weights");
    await assert.rejects(
      models.CLIPModel.fromPretrained(`${dir}/notes.txt`, { log: null }),
      /notes\.txt: not a CLIP weights file/,
    );
    // clip:finetune starts from a Hugging Face folder: a weights file is refused, naming it.
    await assert.rejects(
      finetuneClip(
        { ...FINETUNE_DEFAULTS, model: { kind: "pretrained", dir: path }, runsDir: `${dir}/ft` },
        { log: () => {}, progress: false },
      ),
      /jit-small-q\.pt: is a weights file \(an OpenAI archive or open_clip checkpoint\); clip:finetune starts from a Hugging Face CLIP folder/,
    );
    assert.equal(isDir(`${dir}/ft`), false);
    // A weights file with no tokenizer beside it.
    await assert.rejects(
      models.CLIPTokenizer.fromPretrained(path),
      /no tokenizer beside these weights; put the model's tokenizer\.json, or OpenAI/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a DSVA training run and attributes take an OpenAI archive and open_clip checkpoints", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-openclip-use-" });
  try {
    await Deno.copyFile(BPE, `${dir}/bpe_simple_vocab_16e6.txt.gz`);
    await Deno.mkdir(`${dir}/images/lake`, { recursive: true });
    await Deno.mkdir(`${dir}/images/forest`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/vocabulary.json`,
      JSON.stringify({
        attributes: [
          { name: "water", group: "materials", phrases: ["blue water"] },
          { name: "trees", group: "materials" },
        ],
      }),
    );
    for (const [cls, rgb] of [["lake", [40, 80, 200]], ["forest", [30, 140, 40]]] as const) {
      for (let i = 0; i < 2; i++) {
        const img = data.rgbImage(16, 16);
        for (let p = 0; p < 256; p++) for (let c = 0; c < 3; c++) img.data[3 * p + c] = rgb[c] + i;
        await data.writePng(`${dir}/images/${cls}/${cls}_${i}.png`, img);
      }
    }
    for (const format of ["jit", "wrapped", "safetensors"] as const) {
      const { path, ref } = await make(dir, format, SMALL, format === "jit");
      for (const t of ref.values()) t.dispose();
      const run = await runScript("train.ts", [
        ...["--backbone", "clip", "--weights", path, "--name", `oc-${format}`],
        ...["--set", "dataset.imagesPerClass=6", "--set", "dataset.size=48"],
        ...["--image-size", "64", "--ways", "4", "--shots", "1", "--threads", "1"],
        ...["--epochs", "1", "--batches", "2", "--warmup-epochs", "0"],
        ...["--runs-dir", `${dir}/runs`],
        // The config's backbone.activation: an OpenAI-initialised open_clip fine-tune's.
        ...(format === "wrapped" ? ["--clip-activation", "quick_gelu"] : []),
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.last.status, "finished");
      assert.match(run.stderr, new RegExp(`CLIP ${path}: format (openai|open_clip)`));
      if (format === "wrapped") {
        assert.match(run.stderr, /activation quick_gelu \(override; the open_clip default is gelu/);
      }
      // Both towers and a tokenizer beside: the run's report has the CLIP zero-shot baseline.
      assert.match(run.stdout, /CLIP zero-shot baseline: .* on the same split/);
      const attr = await runScript("attributes.ts", [
        ...(format === "wrapped" ? ["--activation", "quick_gelu"] : []),
        ...["--model", path, "--images", `${dir}/images`],
        ...["--vocabulary", `${dir}/vocabulary.json`, "--out", `${dir}/attr-${format}`],
      ]);
      assert.equal(attr.code, 0, attr.stderr);
      if (format === "jit") {
        // Again: the image embeddings come from the cache zeroshot shares; the same matrix.
        const again = await runScript("attributes.ts", [
          ...["--model", path, "--images", `${dir}/images`],
          ...["--vocabulary", `${dir}/vocabulary.json`, "--out", `${dir}/attr-again`],
        ]);
        assert.equal(again.code, 0, again.stderr);
        assert.match(attr.stdout, /image embeddings: cache miss/);
        assert.match(again.stdout, /image embeddings: cache hit/);
        assert.equal(
          await Deno.readTextFile(`${dir}/attr-again/attributes.csv`),
          await Deno.readTextFile(`${dir}/attr-jit/attributes.csv`),
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `deno task zeroshot` with `args` (a cache of its own under `cache`); the last line's object,
 * or null when it is not JSON. */
async function zeroshot(cache: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/scripts/zeroshot.ts`, "--threads", "2", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_PROGRESS: "1", DSVA_TORCH_CACHE: cache },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  // deno-lint-ignore no-explicit-any
  let last: Record<string, any> | null = null;
  try {
    last = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
  } catch { /* no JSON */ }
  return { code: out.code, stdout, stderr, last };
}

const exists = async (p: string) => {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
};

Deno.test("zeroshot takes an OpenAI archive and a {state_dict, module.} checkpoint, tokenizer beside or given", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-openclip-zs-" });
  const cache = `${dir}/cache`;
  try {
    await Deno.copyFile(BPE, `${dir}/bpe_simple_vocab_16e6.txt.gz`);
    const jit = await make(dir, "jit", SMALL, true);
    const wrapped = await make(dir, "wrapped", SMALL, false);
    for (const r of [jit, wrapped]) for (const t of r.ref.values()) t.dispose();
    const lim = ["--limit", "2"];

    const a = await zeroshot(cache, "--model", jit.path, ...lim, "--out", `${dir}/zs-jit`);
    assert.equal(a.code, 0, a.stderr);
    assert.match(
      a.stdout,
      /zeroshot: .*jit-small-q\.pt \(format detected, activation the source's/,
    );
    assert.match(
      a.stderr,
      /jit-small-q\.pt: format openai;.*activation quick_gelu \(OpenAI's own\)/,
    );
    for (const x of [a.last!.zsl, a.last!.gzsl.H, a.last!.allClasses.top1]) {
      assert.ok(x >= 0 && x <= 1, String(x));
    }
    assert.deepEqual(a.last!.cache, { images: "miss", text: "miss" });
    const json = JSON.parse(await Deno.readTextFile(`${dir}/zs-jit/eval.json`));
    assert.equal(json.zsl, a.last!.zsl);

    const b = await zeroshot(cache, "--model", wrapped.path, ...lim, "--out", `${dir}/zs-w`);
    assert.equal(b.code, 0, b.stderr);
    assert.match(
      b.stderr,
      /wrapped-small-g\.pt: format open_clip;.*activation gelu \(open_clip default/,
    );
    // Another activation is another model: nothing read from the cache, and other numbers.
    const c = await zeroshot(
      cache,
      ...["--model", wrapped.path, "--activation", "quick_gelu", "--format", "open_clip"],
      ...lim,
      "--out",
      `${dir}/zs-wq`,
    );
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /\(format open_clip, activation quick_gelu\)/);
    assert.match(c.stderr, /activation quick_gelu \(override; the open_clip default is gelu\)/);
    assert.deepEqual(c.last!.cache, { images: "miss", text: "miss" });
    assert.notDeepEqual([c.last!.ausuc, c.last!.oracleH], [b.last!.ausuc, b.last!.oracleH]);

    // A weights file alone: its tokenizer given with --tokenizer, else a one-line error.
    await Deno.mkdir(`${dir}/alone`);
    // The cache key hashes the files' names and bytes: the same name, elsewhere.
    await Deno.rename(wrapped.path, `${dir}/alone/wrapped-small-g.pt`);
    const none = await zeroshot(
      cache,
      "--model",
      `${dir}/alone/wrapped-small-g.pt`,
      "--out",
      `${dir}/x`,
    );
    assert.equal(none.code, 1, none.stderr);
    assert.match(
      none.stderr,
      /^zeroshot: error: .*wrapped-small-g\.pt: an OpenAI \/ open_clip weights file has no tokenizer of its own: pass --tokenizer/m,
    );
    assert.equal(await exists(`${dir}/x`), false);
    const given = await zeroshot(
      cache,
      ...["--model", `${dir}/alone/wrapped-small-g.pt`, "--tokenizer", BPE],
      ...lim,
      "--out",
      `${dir}/zs-given`,
    );
    assert.equal(given.code, 0, given.stderr);
    // The same bytes, the same tokenizer's bytes: the embeddings come from the cache.
    assert.deepEqual(given.last!.cache, { images: "hit", text: "hit" });
    assert.deepEqual(given.last!.allClasses, b.last!.allClasses);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("zeroshot bad input: truncated archive, ResNet tower, unknown layout, wrong activation, empty prompts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-openclip-zs-bad-" });
  const cache = `${dir}/cache`;
  try {
    await Deno.copyFile(BPE, `${dir}/bpe_simple_vocab_16e6.txt.gz`);
    const { path, ref } = await make(dir, "jit", SMALL, true);
    for (const t of ref.values()) t.dispose();
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(`${dir}/cut.pt`, bytes.subarray(0, bytes.length >> 1));
    const t = () => zeros([4, 4]);
    const rn = new Map([
      ["visual.conv1.weight", t()],
      ["visual.layer1.0.conv1.weight", t()],
      ["visual.attnpool.positional_embedding", t()],
      ["token_embedding.weight", t()],
    ]);
    await io.saveSafetensors(`${dir}/rn50.safetensors`, rn);
    const other = new Map([["encoder.block.0.weight", t()], ["head.bias", t()]]);
    await io.saveSafetensors(`${dir}/other.safetensors`, other);
    for (const m of [rn, other]) for (const x of m.values()) x.dispose();
    await Deno.writeTextFile(`${dir}/empty.txt`, "\n# only a comment\n");

    const cases: [string[], RegExp][] = [
      [["--model", `${dir}/cut.pt`], /cut\.pt: truncated or damaged archive/],
      [["--model", `${dir}/rn50.safetensors`], /rn50\.safetensors: a ResNet image tower/],
      [["--model", `${dir}/other.safetensors`], /other\.safetensors: unknown checkpoint layout/],
      [["--model", path, "--prompts", `${dir}/empty.txt`], /empty\.txt: holds no prompt templates/],
    ];
    for (const [i, [args, want]] of cases.entries()) {
      const out = `${dir}/out${i}`;
      const r = await zeroshot(cache, ...args, "--limit", "1", "--out", out);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n").filter((l) => !/^(CLIP |hint: )/.test(l));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], new RegExp(`^zeroshot: error: .*${want.source}`));
      assert.doesNotMatch(r.stderr, /^\s+at /m);
      assert.equal(await exists(out), false, `${out} was written`);
    }
    assert.equal(await exists(`${cache}/embeddings`), false);

    // A wrong activation on an OpenAI archive runs, with a warning naming the archive's own.
    const w = await zeroshot(
      cache,
      ...["--model", path, "--activation", "gelu", "--limit", "1", "--out", `${dir}/w`],
    );
    assert.equal(w.code, 0, w.stderr);
    assert.match(
      w.stderr,
      /warning: .*jit-small-q\.pt: activation gelu overrides the OpenAI archive's own quick_gelu/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "zeroshot on ../shared/data/aid split 25_5 with a random open_clip checkpoint, end to end",
  ignore: !isDir(`${AID}/images`) && !CI,
  async fn() {
    assert.ok(isDir(`${AID}/images`), `CI=true but the AID data is missing at ${AID}`);
    const dir = await Deno.makeTempDir({ prefix: "dsva-openclip-aid-" });
    try {
      await Deno.copyFile(BPE, `${dir}/bpe_simple_vocab_16e6.txt.gz`);
      const { path, ref } = await make(dir, "state", SMALL, true);
      for (const t of ref.values()) t.dispose();
      const r = await zeroshot(
        `${dir}/cache`,
        ...["--model", path, "--activation", "quick_gelu", "--dataset", AID, "--split", "25_5"],
        ...["--limit", "2", "--out", `${dir}/out`],
      );
      assert.equal(r.code, 0, r.stderr);
      const z = r.last!;
      assert.equal(z.split, "25_5");
      assert.equal(z.chance, 0.2);
      for (const x of [z.zsl, z.gzsl.S, z.gzsl.U, z.gzsl.H, z.ausuc, z.allClasses.top1]) {
        assert.ok(x >= 0 && x <= 1, String(x));
      }
      const json = JSON.parse(await Deno.readTextFile(`${dir}/out/eval.json`));
      assert.deepEqual(json.images, { testSeen: 50, testUnseen: 10, allClass: 60 });
      for (const f of ["eval.md", "confusion.png", "seen_unseen_curve.json"]) {
        assert.ok((await Deno.stat(`${dir}/out/${f}`)).size > 0, f);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("config: backbone.format / backbone.activation (--clip-format, --clip-activation)", () => {
  const cfg = (...a: string[]) => resolveConfig(parseTrainArgs(a).partial);
  const b = cfg(
    "--backbone",
    "clip",
    "--weights",
    "/w/RemoteCLIP-ViT-B-32.pt",
    "--clip-activation",
    "quick_gelu",
    "--clip-format",
    "open_clip",
  ).backbone;
  assert.deepEqual(b, {
    kind: "clip",
    dir: "/w/RemoteCLIP-ViT-B-32.pt",
    format: "open_clip",
    activation: "quick_gelu",
  });
  // Absent when not given: a config without them resolves as before.
  assert.deepEqual(cfg("--backbone", "clip", "--weights", "/w/clip").backbone, {
    kind: "clip",
    dir: "/w/clip",
  });
  assert.throws(
    () => cfg("--clip-activation", "gelu"),
    /backbone\.activation: only a clip backbone/,
  );
  assert.throws(
    () => cfg("--backbone", "darknet", "--weights", "/w/dk", "--clip-format", "openai"),
    /backbone\.format: only a clip backbone/,
  );
  assert.throws(
    () => cfg("--backbone", "clip", "--weights", "/w/c.pt", "--clip-activation", "relu"),
    /--clip-activation/,
  );
});

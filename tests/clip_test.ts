/** CLIP parity against Hugging Face: tokenization (our CLIPTokenizer over
 * npm:@huggingface/tokenizers vs Python `tokenizers` and transformers' CLIPTokenizer,
 * same tokenizer.json), and a transformers CLIPModel with random weights vs our
 * CLIPModel (embeddings and logits within 1e-5 in fp32); checkpoints without a text
 * tower give clear errors. The tokenizer.json is a tiny byte-level BPE trained by
 * the oracle and laid out exactly as OpenAI CLIP's (no network needed). */
import assert from "node:assert/strict";
import { models, torch } from "../mod.ts";
import { loadSafetensors } from "../src/io/index.ts";
import { mulberry32, ROOT, runPython } from "./helpers.ts";

const ORACLE = `${ROOT}/tests/oracle/clip_model.py`;

// ---- deterministic text ----

const WORDS = ("an aerial photograph of a dense residential area with many buildings and green " +
  "trees near the river some cars are parked beside the road airport runways planes bridge " +
  "harbor ships storage tanks baseball field tennis court farmland forest desert beach " +
  "industrial park meadow mountain parking lot railway station stadium square viaduct " +
  "church commercial intersection pond overpass center playground resort school sparse " +
  "medium bare land circular farmland cloud freeway golf course ground track field lake " +
  "mobile home park palace rectangular river roundabout sea ice snowberg terrace thermal " +
  "power station wetland white gray red blue large small several two three four").split(" ");

/** Sentences to train the tiny BPE on (the test sentences reuse these words). */
function corpus(): string[] {
  const r = mulberry32(1);
  return Array.from({ length: 400 }, () => {
    const n = 6 + Math.floor(r() * 14);
    return Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ");
  });
}

const FIXED = [
  "",
  " ",
  "\n\t  \n",
  "An aerial photograph of 3 planes!",
  "Many   buildings\tand\ngreen trees.",
  "  leading and trailing spaces  ",
  "it's DON'T we'll they're I'd you've I'm she'S",
  "Café naïve Zürich façade jalapeño",
  "東京タワー and 北京 near 서울",
  "Москва, Київ; Ελλάδα — عربي · हिन्दी",
  "ΟΔΟΣ ΣΟΦΟΣ σοφος",
  "e\u0301te\u0301 vs été (NFC)",
  "ﬁeld ﬂow ＡＢＣ１２３ full-width",
  "rockets 🚀🛰️ and flags 🇫🇷 👩‍👩‍👧",
  "numbers: 1,024 m² 12.5% $3.50 #42 2023-07-01 3.14159 007",
  "C++ & C# ~~~ @@@ a/b\\c x_y (a) [b] {c} <d>",
  "https://example.com/a?b=c&d=e#frag a@b.io",
  "quotes \"double\" 'single' `back` «guillemets» „low“",
  "ellipsis... dashes -- and --- hyphen-ated words!?!",
  "<|endoftext|>",
  "<|startoftext|> a photo of a lake <|endoftext|> more",
  "a\u00a0non-breaking\u3000ideographic space",
  "ALL CAPS SENTENCE ABOUT A STADIUM",
  "mixedCase camelCase snake_case kebab-case",
  "tab\tseparated\tvalues\t1\t2",
  "İstanbul İzmir ı I",
  "straße STRASSE ß",
  "0123456789",
  "!!!???...,,,;;;:::",
  "a" + " b".repeat(200),
];

/** 200 varied sentences: the fixed edge cases, then generated ones (captions with
 * punctuation, numbers, capitals, unicode, odd spacing; long ones needing truncation). */
function sentences(): string[] {
  const r = mulberry32(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const punct = [",", ".", "!", "?", ";", ":", "...", " -", "'s", "'", '"', "(", ")"];
  const extra = ["Ölfeld", "glacier", "señal", "日本", "🌊", "3", "42", "1.5km", "x2", "ÆØÅ", "ŝ"];
  const spaces = [" ", " ", " ", "  ", "\t", "\n", " \u00a0"];
  const out = [...FIXED];
  while (out.length < 200) {
    const long = r() < 0.15;
    const n = long ? 60 + Math.floor(r() * 80) : 1 + Math.floor(r() * 25);
    let s = "";
    for (let i = 0; i < n; i++) {
      let w = r() < 0.1 ? pick(extra) : pick(WORDS);
      if (r() < 0.15) w = w[0].toUpperCase() + w.slice(1);
      if (r() < 0.03) w = w.toUpperCase();
      if (r() < 0.12) w += pick(punct);
      if (r() < 0.05) w = String(Math.floor(r() * 100000));
      s += (i === 0 ? "" : pick(spaces)) + w;
    }
    out.push(s);
  }
  return out;
}

// ---- fixtures ----

interface TokInfo {
  vocab_size: number;
  bos: number;
  eos: number;
  pad: number;
}

let shared: Promise<{ dir: string; info: TokInfo }> | null = null;

/** Trains the tiny CLIP BPE once per run (the oracle takes seconds) and copies its
 * tokenizer.json and tokenizer_config.json into `dir`. */
async function makeTokenizer(dir: string): Promise<TokInfo> {
  shared ??= (async () => {
    const src = await Deno.makeTempDir({ prefix: "dsva-cliptok-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(src, { recursive: true }));
    const info = await runPython<TokInfo>(ORACLE, {
      mode: "tokenizer",
      dir: src,
      corpus: corpus(),
      merges: 600,
    });
    return { dir: src, info };
  })();
  const { dir: src, info } = await shared;
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(`${src}/${f}`, `${dir}/${f}`);
  }
  return info;
}

interface Ids {
  ids: number[][];
  mask: number[][];
}

const rows = (t: torch.Tensor) => t.toArray() as number[][];

// ---- tests ----

Deno.test("CLIPTokenizer = Python tokenizers and transformers on 200 sentences", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-cliptok-" });
  try {
    const info = await makeTokenizer(dir);
    const texts = sentences();
    assert.equal(texts.length, 200);
    const tok = await models.CLIPTokenizer.fromFile(`${dir}/tokenizer.json`);
    assert.equal(tok.contextLength, 77);
    assert.deepEqual(tok.prefixIds, [info.bos]);
    assert.deepEqual(tok.suffixIds, [info.eos]);
    assert.equal(tok.padTokenId, info.pad);
    assert.equal(tok.vocabSize, info.vocab_size);

    for (const padding of ["longest", "max_length"] as const) {
      await t.step(`padding ${padding}`, async () => {
        const ref = await runPython<{ tokenizers: Ids; transformers: Ids }>(ORACLE, {
          mode: "tokenize",
          tokenizer: `${dir}/tokenizer.json`,
          texts,
          max_length: 77,
          padding,
          pad_id: info.pad,
          pad_token: "<|endoftext|>",
        });
        // The two Python references agree with each other ...
        assert.deepEqual(ref.tokenizers, ref.transformers);
        // ... and with us, text by text (the first difference is named).
        const enc = tok.encode(texts, { padding });
        assert.equal(enc.inputIds.dtype, "int64");
        const ids = rows(enc.inputIds), mask = rows(enc.attentionMask);
        for (let i = 0; i < texts.length; i++) {
          assert.deepEqual(
            ids[i],
            ref.tokenizers.ids[i],
            `ids of text ${i}: ${JSON.stringify(texts[i])}`,
          );
          assert.deepEqual(mask[i], ref.tokenizers.mask[i], `mask of text ${i}`);
        }
        enc.inputIds.dispose();
        enc.attentionMask.dispose();
        const truncated = ref.tokenizers.mask.filter((m) =>
          m.every((x) => x === 1) && m.length === 77
        );
        assert.ok(truncated.length >= 10, "the sentences include texts cut at 77 tokens");
      });
    }

    await t.step("truncation keeps end-of-text; options", () => {
      const long = texts.find((s) => tok.tokenIds(s).length > 100)!;
      const ids = tok.encodeOne(long);
      assert.equal(ids.length, 77);
      assert.equal(ids[0], info.bos);
      assert.equal(ids[76], info.eos);
      assert.deepEqual(ids.slice(1, 76), tok.tokenIds(long).slice(0, 75));
      assert.throws(() => tok.encodeOne(long, { truncation: false }), /exceeds maxLength 77/);
      assert.deepEqual(tok.encodeOne("", { maxLength: 2 }), [info.bos, info.eos]);
      assert.throws(() => tok.encodeOne("a", { maxLength: 1 }), /shorter than the 2 special/);
      assert.throws(() => tok.encode([]), /no texts/);
      assert.equal(tok.decode(tok.encodeOne("A photo of the river")), "a photo of the river");
    });

    await t.step("vocab.json + merges.txt and string merges give the same ids", async () => {
      const json = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`));
      const old = await Deno.makeTempDir({ prefix: "dsva-cliptok-old-" });
      try {
        await Deno.writeTextFile(`${old}/vocab.json`, JSON.stringify(json.model.vocab));
        const merges = (json.model.merges as string[][]).map((m) => m.join(" "));
        await Deno.writeTextFile(`${old}/merges.txt`, `#version: 0.2\n${merges.join("\n")}\n`);
        const fromPair = await models.CLIPTokenizer.fromPretrained(old);
        json.model.merges = merges;
        await Deno.writeTextFile(`${old}/tokenizer.json`, JSON.stringify(json));
        const fromStrings = await models.CLIPTokenizer.fromFile(`${old}/tokenizer.json`);
        for (const s of texts) {
          const want = tok.encodeOne(s);
          assert.deepEqual(fromPair.encodeOne(s), want, JSON.stringify(s));
          assert.deepEqual(fromStrings.encodeOne(s), want, JSON.stringify(s));
        }
      } finally {
        await Deno.remove(old, { recursive: true });
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const TEXTS = [
  "an aerial photograph of a dense residential area",
  "",
  "Many planes, parked near two runways!",
  "a stadium",
  WORDS.join(" "), // longer than the context length: truncated
  "Café 東京 🚀 it's 12.5% <|endoftext|> after",
];

const smallText = (info: TokInfo) => ({
  vocab_size: info.vocab_size,
  hidden_size: 64,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  max_position_embeddings: 24,
  hidden_act: "quick_gelu",
  bos_token_id: info.bos,
  eos_token_id: info.eos,
  pad_token_id: info.pad,
});

const smallVision = {
  hidden_size: 48,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  image_size: 32,
  patch_size: 8,
  hidden_act: "quick_gelu",
};

async function clipParity(opts: {
  text: Record<string, unknown>;
  vision: Record<string, unknown>;
  format: "safetensors" | "bin";
}) {
  const dir = await Deno.makeTempDir({ prefix: "dsva-clip-" });
  try {
    const info = await makeTokenizer(dir);
    const text = { ...smallText(info), ...opts.text };
    const maxLength = text.max_position_embeddings as number;
    await runPython(ORACLE, {
      mode: "model",
      dir,
      text_config: text,
      vision_config: opts.vision,
      projection_dim: 24,
      format: opts.format,
      texts: TEXTS,
      batch: 3,
      max_length: maxLength,
    });
    const model = await models.CLIPModel.fromPretrained(dir);
    const tok = await models.CLIPTokenizer.fromPretrained(dir, { contextLength: maxLength });
    const ref = await loadSafetensors(`${dir}/ref.safetensors`);
    const r = (k: string) => ref.get(k)!;
    try {
      return torch.scope(() =>
        torch.noGrad(() => {
          const enc = tok.encode(TEXTS);
          assert.deepEqual(rows(enc.inputIds), rows(r("input_ids")), "input ids");
          assert.deepEqual(rows(enc.attentionMask), rows(r("attention_mask")), "attention mask");
          const out = model.forward({ pixels: r("pixels"), ...enc });
          const text = model.textModel.forward(enc.inputIds, { attentionMask: enc.attentionMask });
          const d = (a: torch.Tensor, b: torch.Tensor) => {
            assert.deepEqual(a.shape, b.shape);
            return a.sub(b).abs().max().item();
          };
          return {
            imageEmbeds: d(out.imageEmbeds, r("image_embeds")),
            textEmbeds: d(out.textEmbeds, r("text_embeds")),
            logitsPerImage: d(out.logitsPerImage, r("logits_per_image")),
            logitsPerText: d(out.logitsPerText, r("logits_per_text")),
            textLastHidden: d(text.lastHiddenState, r("text_last_hidden_state")),
            textPooled: d(text.pooledOutput, r("text_pooled")),
            imageFeatures: d(model.encodeImage(r("pixels")), r("image_features")),
            textFeatures: d(model.encodeText(enc.inputIds), r("text_features")),
          };
        })
      );
    } finally {
      model.dispose();
      ref.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertClose(diffs: Record<string, number>, tol = 1e-5) {
  for (const [k, v] of Object.entries(diffs)) {
    assert.ok(Number.isFinite(v) && v <= tol, `${k} differs by ${v}`);
  }
}

Deno.test("CLIPModel = transformers CLIPModel (safetensors, eos_token_id rule)", async () => {
  const d = await clipParity({ text: {}, vision: smallVision, format: "safetensors" });
  console.log("CLIP max abs diff", d);
  assertClose(d);
});

Deno.test("CLIPModel = transformers CLIPModel (pytorch_model.bin, legacy eos 2, gelu)", async () => {
  const d = await clipParity({
    text: { eos_token_id: 2, hidden_act: "gelu" },
    vision: { ...smallVision, hidden_act: "gelu" },
    format: "bin",
  });
  console.log("CLIP (legacy eos, bin) max abs diff", d);
  assertClose(d);
});

Deno.test("pooling: legacy rule takes the largest id, the new rule the first eos", () => {
  const cfg = { ...models.CLIP_TEXT_B32, vocabSize: 10, hiddenSize: 8, intermediateSize: 8 };
  const ids = torch.tensor([[5, 9, 3, 7, 9], [5, 2, 2, 0, 0]], { dtype: "int64" });
  const legacy = new models.CLIPTextTransformer({
    ...cfg,
    numLayers: 0,
    numHeads: 2,
    eosTokenId: 2,
  });
  const modern = new models.CLIPTextTransformer({
    ...cfg,
    numLayers: 0,
    numHeads: 2,
    eosTokenId: 7,
  });
  try {
    torch.scope(() => {
      assert.deepEqual(legacy.eotPositions(ids).toArray(), [1, 0]);
      assert.deepEqual(modern.eotPositions(ids).toArray(), [3, 0]);
    });
  } finally {
    ids.dispose();
    legacy.dispose();
    modern.dispose();
  }
});

Deno.test("a checkpoint without a text tower gives a clear error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-clip-notext-" });
  try {
    const info = await makeTokenizer(dir);
    await runPython(ORACLE, {
      mode: "model",
      dir,
      text_config: smallText(info),
      vision_config: smallVision,
      projection_dim: 24,
      format: "safetensors",
      texts: ["a lake"],
      batch: 1,
      max_length: 24,
      text_tower: false,
    });
    await assert.rejects(
      () => models.CLIPModel.fromPretrained(dir),
      (e: Error) => {
        assert.match(e.message, /model\.safetensors: no CLIP text tower/);
        assert.match(e.message, /"text_model\.\*"/);
        assert.match(e.message, /vision_model\.embeddings/);
        return true;
      },
    );
    // The same weights still load as a vision model.
    const vision = await models.CLIPVisionModel.fromPretrained(dir);
    vision.dispose();

    // A CLIPVisionModel folder: its config has no text_config.
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ ...cfg.vision_config, model_type: "clip_vision_model" }),
    );
    await assert.rejects(
      () => models.CLIPModel.fromPretrained(dir),
      /config\.json: no "text_config" \(model_type "clip_vision_model"\).*no text tower/,
    );
    // Missing text projection only: the strict load names the key and the file.
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(cfg));
    const state = await loadSafetensors(`${dir}/model.safetensors`);
    try {
      const { saveSafetensors } = await import("../src/io/index.ts");
      const fake = new Map(state);
      const p = fake.get("visual_projection.weight")!;
      fake.set("text_model.final_layer_norm.weight", p);
      await saveSafetensors(`${dir}/model.safetensors`, fake);
    } finally {
      state.dispose();
    }
    await assert.rejects(
      () => models.CLIPModel.fromPretrained(dir),
      /model\.safetensors: loadStateDict[\s\S]*text_model\.embeddings\.token_embedding\.weight[\s\S]*text_projection\.weight/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

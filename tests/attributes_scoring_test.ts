/** The attribute-scoring core: prompts, ensembled text embeddings, similarity,
 * per-class aggregation and normalization, each against plain-JS reference code;
 * and recovery of planted attributes from synthetic embeddings. */
import assert from "node:assert/strict";
import { models, torch } from "../mod.ts";
import {
  aggregateByClass,
  attributePrompts,
  encodeAttributes,
  imageAttributeScores,
  normalizeAttributes,
  scoreAttributes,
} from "../src/attributes/index.ts";
import { mulberry32 } from "./helpers.ts";

const rowsOf = (t: torch.Tensor) => t.toArray() as number[][];

function close(a: number[][], b: number[][], tol = 1e-5, what = "") {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i].length, b[i].length, what);
    for (let j = 0; j < a[i].length; j++) {
      assert.ok(
        Math.abs(a[i][j] - b[i][j]) <= tol,
        `${what} [${i}][${j}]: ${a[i][j]} vs ${b[i][j]}`,
      );
    }
  }
}

Deno.test("attributePrompts: templates × names, clear errors", () => {
  assert.deepEqual(attributePrompts(["trees", "water"], ["a photo of {}.", "{} from above"]), [
    ["a photo of trees.", "a photo of water."],
    ["trees from above", "water from above"],
  ]);
  assert.deepEqual(attributePrompts(["roads"]), [["an aerial photograph of roads."]]);
  assert.throws(() => attributePrompts([]), /vocabulary is empty/);
  assert.throws(() => attributePrompts(["a", " "]), /attribute 1 has an empty name/);
  assert.throws(() => attributePrompts(["a"], ["no slot"]), /"no slot" has no "\{\}"/);
  assert.throws(() => attributePrompts(["a"], []), /no prompt templates/);
});

Deno.test("imageAttributeScores: cosine and softmax", () => {
  const r = mulberry32(3);
  const img = Array.from({ length: 5 }, () => Array.from({ length: 4 }, () => r() - 0.5));
  const att = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => r() - 0.5));
  const norm = (v: number[]) => Math.hypot(...v);
  const cos = img.map((a) =>
    att.map((b) => a.reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b)))
  );
  torch.scope(() => {
    const I = torch.tensor(img), A = torch.tensor(att);
    close(rowsOf(imageAttributeScores(I, A)), cos, 1e-6, "cosine");
    const sm = rowsOf(imageAttributeScores(I, A, { similarity: "softmax", logitScale: 10 }));
    const want = cos.map((row) => {
      const e = row.map((x) => Math.exp(10 * x));
      const z = e.reduce((s, x) => s + x, 0);
      return e.map((x) => x / z);
    });
    close(sm, want, 1e-6, "softmax");
    assert.throws(
      () => imageAttributeScores(I, torch.zeros([3, 5])),
      /width 4 ≠ attribute width 5/,
    );
  });
});

Deno.test("aggregateByClass: mean, median, max, trimmed mean; errors name the class", () => {
  const r = mulberry32(5);
  const sizes = [1, 2, 5, 10];
  const labels: number[] = [];
  sizes.forEach((s, c) => labels.push(...Array(s).fill(c)));
  // shuffle the labels so class members are not contiguous
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
  const k = 3;
  const scores = labels.map(() => Array.from({ length: k }, () => r()));
  const col = (c: number, j: number) => labels.flatMap((l, i) => (l === c ? [scores[i][j]] : []));
  const ref = (f: (xs: number[]) => number) =>
    sizes.map((_, c) => Array.from({ length: k }, (_, j) => f(col(c, j))));
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const trimmed = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b), cut = Math.floor(s.length * 0.2);
    return mean(s.slice(cut, s.length - cut));
  };
  torch.scope(() => {
    const S = torch.tensor(scores, { dtype: "float64" });
    close(rowsOf(aggregateByClass(S, labels, 4)), ref(mean), 1e-12, "mean");
    close(
      rowsOf(aggregateByClass(S, labels, 4, { method: "median" })),
      ref(median),
      1e-12,
      "median",
    );
    close(
      rowsOf(aggregateByClass(S, labels, 4, { method: "max" })),
      ref((xs) => Math.max(...xs)),
      0,
    );
    close(
      rowsOf(aggregateByClass(S, labels, 4, { method: "trimmed-mean", trim: 0.2 })),
      ref(trimmed),
      1e-12,
      "trimmed",
    );
    assert.throws(
      () => aggregateByClass(S, labels, 6, { classNames: ["a", "b", "c", "d", "lake", "sea"] }),
      /no images for classes lake, sea/,
    );
    assert.throws(
      () => aggregateByClass(S, labels.map((l) => l + 1), 4),
      /label 4, outside \[0, 4\)/,
    );
    assert.throws(() => aggregateByClass(S, labels.slice(1), 4), /17 labels for 18 score rows/);
  });
});

Deno.test("normalizeAttributes: minmax per attribute, zscore, l2 per class", () => {
  const m = [[0.2, 0.5, 0.3], [0.25, 0.5, 0.1], [0.3, 0.5, 0.2]];
  torch.scope(() => {
    const M = torch.tensor(m, { dtype: "float64" });
    close(rowsOf(normalizeAttributes(M)), [[0, 0, 1], [0.5, 0, 0], [1, 0, 0.5]], 1e-12, "minmax");
    const z = rowsOf(normalizeAttributes(M, "zscore"));
    const col0 = [0.2, 0.25, 0.3], mu = 0.25;
    const sd = Math.sqrt(col0.reduce((s, x) => s + (x - mu) ** 2, 0) / 3);
    close(z.map((r) => [r[0]]), col0.map((x) => [(x - mu) / sd]), 1e-12, "zscore");
    const l2 = rowsOf(normalizeAttributes(M, "l2"));
    for (const row of l2) assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-12);
    close(rowsOf(normalizeAttributes(M, "none")), m, 0);
  });
});

/** A tokenizer with no merges (every character its own token), built in memory. */
async function tinyTokenizer() {
  const bs = [
    ...Array.from({ length: 94 }, (_, i) => 33 + i),
    ...Array.from({ length: 12 }, (_, i) => 161 + i),
    ...Array.from({ length: 82 }, (_, i) => 174 + i),
  ];
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const base = cs.map((c) => String.fromCodePoint(c));
  const list = [...base, ...base.map((c) => c + "</w>"), "<|startoftext|>", "<|endoftext|>"];
  const vocab = Object.fromEntries(list.map((t, i) => [t, i]));
  return await models.CLIPTokenizer.fromJSON(models.clipTokenizerJson(vocab, ""), {}, {
    contextLength: 32,
  });
}

Deno.test("encodeAttributes: normalized prompt ensemble, batched = unbatched", async () => {
  const tok = await tinyTokenizer();
  torch.manualSeed(0);
  const model = new models.CLIPModel({
    vision: models.vitConfig("cpu-tiny", {
      imageSize: 16,
      patchSize: 8,
      hiddenSize: 32,
      numLayers: 1,
      numHeads: 2,
      intermediateSize: 32,
    }),
    text: {
      ...models.CLIP_TEXT_B32,
      vocabSize: tok.vocabSize,
      hiddenSize: 32,
      intermediateSize: 32,
      numLayers: 1,
      numHeads: 2,
      maxPositionEmbeddings: 32,
      eosTokenId: tok.suffixIds[0],
    },
    projectionDim: 16,
    logitScaleInit: 2.6592,
  }).eval();
  try {
    const names = ["trees", "water", "bare soil", "red roofs", "roads"];
    const templates = ["an aerial photograph of {}.", "a satellite image of {}."];
    torch.scope(() => {
      const one = encodeAttributes(model, tok, names);
      assert.deepEqual(one.shape, [5, 16]);
      const enc = tok.encode(names.map((n) => `an aerial photograph of ${n}.`));
      const direct = model.encodeText(enc.inputIds, {
        attentionMask: enc.attentionMask,
        normalize: true,
      });
      close(rowsOf(one), rowsOf(direct), 1e-6, "single template");

      const ens = encodeAttributes(model, tok, names, { templates });
      const per = templates.map((t) => {
        const e = tok.encode(names.map((n) => t.replace("{}", n)));
        return model.encodeText(e.inputIds, { attentionMask: e.attentionMask, normalize: true });
      });
      const want = models.l2Normalize(per[0].add(per[1]).div(2));
      close(rowsOf(ens), rowsOf(want), 1e-6, "ensemble");
      const batched = encodeAttributes(model, tok, names, { templates, batchSize: 2 });
      close(rowsOf(batched), rowsOf(ens), 1e-6, "batched");
      assert.throws(() => encodeAttributes(model, tok, []), /vocabulary is empty/);
    });
  } finally {
    model.dispose();
  }
});

Deno.test("scoreAttributes recovers planted attributes from synthetic embeddings", () => {
  const r = mulberry32(11);
  const C = 8, K = 6, P = 32, perClass = 20;
  const truth = Array.from({ length: C }, () => Array.from({ length: K }, () => r() < 0.5 ? 1 : 0));
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const attr = Array.from({ length: K }, () => Array.from({ length: P }, gauss));
  const labels: number[] = [];
  const imgs: number[][] = [];
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < perClass; i++) {
      labels.push(c);
      imgs.push(
        Array.from(
          { length: P },
          (_, p) => truth[c].reduce((s: number, t, k) => s + t * attr[k][p], 0) + 1.5 * gauss(),
        ),
      );
    }
  }
  const { matrix, raw } = torch.scope(() =>
    scoreAttributes(torch.tensor(imgs), labels, C, torch.tensor(attr))
  );
  const m = rowsOf(matrix);
  assert.deepEqual(raw.shape, [C, K]);
  raw.dispose();
  matrix.dispose();
  // Per-attribute AUROC of the scores against the planted 0/1 truth over classes.
  const aurocs: number[] = [];
  for (let k = 0; k < K; k++) {
    const pos = m.flatMap((row, c) => (truth[c][k] ? [row[k]] : []));
    const neg = m.flatMap((row, c) => (truth[c][k] ? [] : [row[k]]));
    if (!pos.length || !neg.length) continue;
    let wins = 0;
    for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
    aurocs.push(wins / (pos.length * neg.length));
  }
  const mean = aurocs.reduce((s, x) => s + x, 0) / aurocs.length;
  assert.ok(mean >= 0.95, `mean AUROC ${mean}`);
  for (const row of m) for (const x of row) assert.ok(x >= 0 && x <= 1);
});

/**
 * DSVA (src/dsva/) against a Python reimplementation written from reference/dsva.md
 * (tests/oracle/dsva_ref.py: plain-torch HF CLIP ViT, official conv1d VAM, skimage labelling,
 * official `Loss_fn` terms), with the same weights (our state dict via safetensors) and the same
 * input and attribute matrix: VAM attributes/logits/attention maps, ALE output, AC maps, boxes
 * and crop logits, fused output, every loss term (relative above 1) and the gradients of the total,
 * all within 1e-5.
 * Plus model-only checks: state-dict names, official checkpoint names, AC iterations, a CNN
 * backbone, recipes, no leaked tensors.
 */
import assert from "node:assert/strict";
import { dsva, models, nn, torch } from "../mod.ts";
import { loadSafetensors, saveSafetensors } from "../src/io/index.ts";
import { ROOT, runPython } from "./helpers.ts";

type Tensor = torch.Tensor;
const ORACLE = `${ROOT}/tests/oracle/dsva_ref.py`;

const VIT = models.vitConfig("cpu-tiny", {
  imageSize: 48,
  patchSize: 8,
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 64,
  act: "quick_gelu",
});
const K = 12, C = 6, B = 4;
const GROUPS = {
  functions: [0, 1, 2, 3, 4],
  materials: [5, 6, 7, 8],
  surface_properties: [9, 10, 11],
};
const GRADS = [
  "prototypes",
  "ale.0.weight",
  "ale.1.weight",
  "ale.1.bias",
  "backbone.embeddings.patch_embedding.weight",
  "backbone.encoder.layers.0.self_attn.q_proj.weight",
  "backbone.encoder.layers.1.mlp.fc2.weight",
];
/** Our loss-term names → the official `Loss_fn` names the oracle uses. */
const TERMS: Record<dsva.DsvaLossTerm, string> = {
  ce: "xe",
  mseGlobal: "attri",
  ceCrop: "xe_pro",
  ceVam: "l_xe",
  mseVam: "l_attri",
  cpt: "cpt",
  glassoPrototypes: "l_regular",
  glassoAle: "regular",
};

/** A tiny DSVA with non-default weights everywhere (so every branch and the AC matter). */
function makeModel(seed: number, opts: { zeroPrototypes?: boolean } = {}): dsva.DSVA {
  torch.manualSeed(seed);
  const model = new dsva.DSVA(new models.VisionTransformer(VIT), {
    numAttributes: K,
    groups: GROUPS,
  });
  torch.noGrad(() =>
    torch.scope(() => {
      model.prototypes.copy_(
        opts.zeroPrototypes
          ? torch.zeros([K, VIT.hiddenSize])
          : torch.randn([K, VIT.hiddenSize]).mul(0.3),
      );
      for (const [name, p] of model.namedParameters()) {
        if (/layer_?norm|layrnorm|^ale\.0\./.test(name)) {
          p.copy_(torch.randnLike(p).mul(0.1).add(name.endsWith(".weight") ? 1 : 0));
        }
      }
    })
  );
  return model;
}

interface Case {
  name: string;
  seed: number;
  useAC: boolean;
  thr: number;
  proWeight: number;
  ceOnProbabilities: boolean;
  zeroPrototypes?: boolean;
}

const WEIGHTS: dsva.DsvaLossWeights = {
  ce: 1,
  mseGlobal: 0.5,
  ceCrop: 0.3,
  ceVam: 1,
  mseVam: 0.08,
  cpt: 1e-3,
  glassoPrototypes: 5e-3,
  glassoAle: 7e-3,
};

const CASES: Case[] = [
  {
    name: "official (AC, CE on probabilities)",
    seed: 1,
    useAC: true,
    thr: 1,
    proWeight: 1,
    ceOnProbabilities: true,
  },
  {
    name: "clean (no AC, CE on logits)",
    seed: 2,
    useAC: false,
    thr: 1,
    proWeight: 1,
    ceOnProbabilities: false,
  },
  {
    name: "AC thr 1.6, crop weight 0.5, CE on logits",
    seed: 3,
    useAC: true,
    thr: 1.6,
    proWeight: 0.5,
    ceOnProbabilities: false,
  },
  {
    name: "constant maps (zero prototypes) → whole-image boxes",
    seed: 4,
    useAC: true,
    thr: 1,
    proWeight: 1,
    ceOnProbabilities: true,
    zeroPrototypes: true,
  },
];

/** |a − b| / max(1, |b|): absolute below 1, relative above. A float32 sum such as the CPT term
 * (≈ 2e3 here: B·K·h·w sigmoids times squared distances) carries ≈ 1e-7 relative rounding, which
 * no absolute 1e-5 bound can hold. */
function scaledDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return torch.scope(() => {
    assert.deepEqual(a.shape, b.shape, "shapes differ");
    return a.sub(b).abs().max().item();
  });
}

Deno.test("DSVA forward, AC, losses and gradients = Python reference from dsva.md", async () => {
  const root = await Deno.makeTempDir({ prefix: "dsva-ref-" });
  const prepared: { c: Case; dir: string; model: dsva.DSVA; inputs: Map<string, Tensor> }[] = [];
  try {
    for (const c of CASES) {
      const dir = `${root}/${prepared.length}`;
      await Deno.mkdir(dir);
      const model = makeModel(c.seed, { zeroPrototypes: c.zeroPrototypes });
      const inputs = torch.scope(() => {
        // Pixels with some structure: a bright blob per image on noise.
        const pixels = torch.randn([B, 3, VIT.imageSize, VIT.imageSize]).mul(0.5);
        for (let i = 0; i < B; i++) {
          pixels.narrow(0, i, 1).narrow(2, 6 * i, 14 + 2 * i).narrow(3, 20 - 5 * i, 12).add_(1.5);
        }
        return new Map<string, Tensor>([
          ["pixels", torch.keep(pixels)],
          ["att", torch.keep(torch.rand([C, K]))],
          ["labels", torch.keep(torch.tensor(BigInt64Array.from([0, 3, 5, 3], BigInt)))],
        ]);
      });
      await saveSafetensors(`${dir}/weights.safetensors`, model.stateDict());
      await saveSafetensors(`${dir}/inputs.safetensors`, inputs);
      prepared.push({ c, dir, model, inputs });
    }
    await runPython(ORACLE, {
      cases: prepared.map(({ c, dir }) => ({
        dir,
        vit: {
          patch_size: VIT.patchSize,
          num_heads: VIT.numHeads,
          act: VIT.act,
          eps: VIT.layerNormEps,
        },
        groups: Object.values(GROUPS),
        thr: c.thr,
        pro_weight: c.proWeight,
        use_ac: c.useAC,
        weights: Object.fromEntries(
          Object.entries(TERMS).map((
            [ours, theirs],
          ) => [theirs, WEIGHTS[ours as dsva.DsvaLossTerm]]),
        ),
        ce_on_probabilities: c.ceOnProbabilities,
        grads: GRADS,
      })),
    });

    for (const { c, dir, model, inputs } of prepared) {
      const ref = await loadSafetensors(`${dir}/ref.safetensors`);
      const report: Record<string, number> = {};
      let boxes: dsva.Box[] | undefined;
      let details: string[] = [];
      torch.scope(() => {
        model.zeroGrad();
        const pixels = inputs.get("pixels")!, att = inputs.get("att")!;
        const out = model.forward(pixels, att, {
          useAC: c.useAC,
          ac: { thr: c.thr, proWeight: c.proWeight },
          keepAcMaps: true,
        });
        const loss = dsva.dsvaLoss(model, out, inputs.get("labels")!, att, {
          weights: WEIGHTS,
          ceOnProbabilities: c.ceOnProbabilities,
        });
        loss.total.backward();
        const pairs: [string, Tensor | undefined, string][] = [
          ["vamLogits", out.vamLogits, "vam_logits"],
          ["globalLogits", out.globalLogits, "global_logits"],
          ["fusedLogits", out.fusedLogits, "fused_logits"],
          ["attributes", out.attributes, "attributes"],
          ["globalAttributes", out.globalAttributes, "global_attributes"],
          ["attentionMaps", out.attentionMaps, "attention"],
        ];
        if (c.useAC) {
          pairs.push(
            ["cropLogits", out.cropLogits, "crop_logits"],
            ["cropAttributes", out.cropAttributes, "crop_attributes"],
            ["acMap", out.acRounds?.[0].map, "ac_map"],
          );
        }
        for (const [ours, t, theirs] of pairs) {
          assert.ok(t, `${c.name}: ${ours} missing`);
          const r = ref.get(theirs);
          assert.ok(r, `${c.name}: reference lacks ${theirs}`);
          report[ours] = c.zeroPrototypes && ours === "acMap"
            ? (t.isnan().all().item() && r.isnan().all().item() ? 0 : Infinity)
            : maxAbsDiff(t, r);
        }
        for (const [term, theirs] of Object.entries(TERMS)) {
          if (!c.useAC && term === "ceCrop") {
            assert.equal(loss.terms.ceCrop, undefined);
            continue;
          }
          const t = loss.terms[term as dsva.DsvaLossTerm];
          assert.ok(t, `${c.name}: term ${term} missing`);
          report[`loss.${term}`] = scaledDiff(t.item(), ref.get(`loss.${theirs}`)!.item());
        }
        report["loss.total"] = scaledDiff(loss.total.item(), ref.get("loss.total")!.item());
        const params = model.stateDict();
        for (const name of GRADS) {
          const g = params.get(name)!.grad;
          assert.ok(g, `${c.name}: no gradient on ${name}`);
          report[`grad.${name}`] = maxAbsDiff(g, ref.get(`grad.${name}`)!);
        }
        boxes = out.boxes;
        details = out.acRounds?.[0].details.map((d) =>
          `${d.empty} ${d.threshold} ${d.maskPixels} ${d.components}`
        ) ?? [];
      });
      if (c.useAC) {
        const refBoxes = ref.get("boxes")!.toArray() as number[][];
        const ours = boxes!.map((b) => [b.y0, b.x0, b.y1, b.x1]);
        assert.deepEqual(ours, refBoxes, `${c.name}: AC boxes differ`);
        if (c.zeroPrototypes) {
          assert.ok(ours.every((b) => b.join() === `0,0,${VIT.imageSize},${VIT.imageSize}`));
        }
        console.log(`${c.name}: boxes ${JSON.stringify(ours)}`, details);
      }
      const worst = Math.max(...Object.values(report));
      console.log(`${c.name}: max abs diff ${worst.toExponential(2)}`, report);
      for (const [k, v] of Object.entries(report)) {
        assert.ok(v <= 1e-5, `${c.name}: ${k} differs by ${v}`);
      }
      for (const t of ref.values()) t.dispose();
    }
  } finally {
    for (const p of prepared) {
      p.model.dispose();
      for (const t of p.inputs.values()) t.dispose();
    }
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("DSVA: state-dict names, official checkpoint names, no leaked tensors", () => {
  const model = makeModel(5);
  try {
    const names = [...model.stateDict().keys()];
    for (
      const n of [
        "backbone.embeddings.class_embedding",
        "backbone.encoder.layers.1.self_attn.q_proj.weight",
        "backbone.post_layernorm.bias",
        "prototypes",
        "ale.0.weight",
        "ale.0.bias",
        "ale.1.weight",
        "ale.1.bias",
      ]
    ) assert.ok(names.includes(n), `missing ${n}`);
    assert.deepEqual(names.filter((n) => !n.startsWith("backbone.")), [
      "prototypes",
      "ale.0.weight",
      "ale.0.bias",
      "ale.1.weight",
      "ale.1.bias",
    ]);
    assert.deepEqual(model.prototypes.shape, [K, VIT.hiddenSize]);

    // An official CLIP_proto state dict loads through officialStateDict.
    const other = makeModel(6);
    torch.scope(() => {
      const official = new Map<string, Tensor>();
      for (const [n, t] of other.stateDict()) {
        if (n.startsWith("backbone.")) official.set(`embedding_module.${n.slice(9)}`, t);
        else if (n === "prototypes") official.set("prototype_vectors.layer4", t.unsqueeze(2));
        else official.set(n.replace(/^ale\./, "ALE_vector."), t);
      }
      official.set("embedding_module.embeddings.position_ids", torch.arange(0, 17).unsqueeze(0));
      const { state, unexpected } = dsva.officialStateDict(official);
      assert.deepEqual(unexpected, []);
      model.loadStateDict(state);
      for (const [n, t] of model.stateDict()) {
        assert.equal(maxAbsDiff(t, other.stateDict().get(n)!), 0, n);
      }
    });
    other.dispose();

    // One training step's worth of work leaves no tensor behind.
    const x = torch.keep(torch.randn([2, 3, VIT.imageSize, VIT.imageSize]));
    const att = torch.keep(torch.rand([C, K]));
    const step = () =>
      torch.scope(() => {
        const out = model.forward(x, att);
        dsva.dsvaLoss(model, out, [1, 2], att).total.backward();
      });
    step();
    model.zeroGrad();
    const before = torch.memory().liveTensors;
    step();
    model.zeroGrad();
    assert.equal(torch.memory().liveTensors, before);
    x.dispose();
    att.dispose();
  } finally {
    model.dispose();
  }
});

Deno.test("DSVA: AC iterations, test-time use, proWeight", () => {
  const model = makeModel(7);
  try {
    torch.scope(() =>
      torch.noGrad(() => {
        const x = torch.randn([3, 3, VIT.imageSize, VIT.imageSize]), att = torch.rand([C, K]);
        const one = model.forward(x, att);
        const two = model.forward(x, att, { ac: { iterations: 2 } });
        const off = model.forward(x, att, { useAC: false });
        assert.equal(two.acRounds!.length, 2);
        assert.deepEqual(two.boxes, one.boxes);
        assert.deepEqual(two.acRounds![0].boxes, one.boxes);
        const sum = two.acRounds![0].logits.add(two.acRounds![1].logits);
        assert.equal(maxAbsDiff(two.cropLogits!, sum), 0);
        assert.equal(maxAbsDiff(two.fusedLogits, two.globalLogits.add(sum)), 0);
        assert.equal(maxAbsDiff(one.vamLogits, off.vamLogits), 0);
        assert.equal(off.cropLogits, undefined);
        assert.equal(off.boxes, undefined);
        assert.equal(maxAbsDiff(off.fusedLogits, off.globalLogits), 0);
        const half = model.forward(x, att, { ac: { proWeight: 0.5 } });
        assert.ok(
          maxAbsDiff(half.fusedLogits, one.globalLogits.add(one.cropLogits!.mul(0.5))) < 1e-6,
        );
        for (const r of two.acRounds!) {
          assert.equal(r.selected.length, 3);
          r.selected.forEach((s) =>
            s.forEach((k, g) => assert.ok(Object.values(GROUPS)[g].includes(k)))
          );
        }
      })
    );
    assert.throws(() => dsva.resolveAcOptions({ iterations: 0 }), RangeError);
    assert.throws(
      () =>
        new dsva.DSVA(new models.VisionTransformer(VIT), { numAttributes: 4, groups: [[0, 4]] }),
      /outside/,
    );
  } finally {
    model.dispose();
  }
});

Deno.test("DSVA: a CNN feature map as backbone", () => {
  torch.manualSeed(8);
  const body = new nn.Conv2d(3, 16, 4, { stride: 4 });
  const model = new dsva.DSVA(new dsva.FeatureMapBackbone(body, 16), {
    numAttributes: K,
    groups: Object.values(GROUPS),
  });
  try {
    assert.ok(model.stateDict().has("backbone.body.weight"));
    torch.scope(() => {
      const x = torch.randn([2, 3, 32, 24]), att = torch.rand([C, K]);
      const out = model.forward(x, att);
      assert.deepEqual(out.attentionMaps.shape, [2, K, 8, 6]);
      assert.deepEqual(out.fusedLogits.shape, [2, C]);
      // The mean "CLS" token is neutral: a = max over the grid positions.
      const gridMax = out.attentionMaps.flatten(2).amax(2);
      assert.ok(maxAbsDiff(out.attributes, gridMax) < 1e-6);
      dsva.dsvaLoss(model, out, [0, 1], att, dsva.CLEAN_LOSS).total.backward();
      assert.ok(body.weight.grad, "the CNN gets a gradient");
    });
  } finally {
    model.dispose();
  }
});

Deno.test("DSVA recipes: official and clean schedules", () => {
  const { OFFICIAL_RECIPE: off, CLEAN_RECIPE: clean } = dsva;
  for (const r of [off, clean]) {
    let next = 0;
    for (const p of r.phases) {
      assert.equal(p.fromEpoch, next);
      next = p.toEpoch + 1;
    }
    assert.equal(next, r.epochs);
    assert.equal(r.sampler.ways * r.sampler.shots, 24);
  }
  assert.deepEqual(dsva.recipePhase(off, 4).groups[0].sets, ["prototypes", "aleLinear"]);
  assert.deepEqual(dsva.groupLearningRates(off, 0, 0), [1e-4]);
  assert.deepEqual(dsva.groupLearningRates(off, 5, 0), [1e-6]);
  assert.ok(Math.abs(dsva.groupLearningRates(off, 10, 7)[0] - 9e-7) < 1e-18);
  assert.ok(Math.abs(dsva.groupLearningRates(off, 29, 299)[0] - 8.1e-7) < 1e-18);
  assert.equal(dsva.recipeLoss(off, 4).weights.cpt, 0);
  assert.equal(dsva.recipeLoss(off, 5).weights.cpt, 1e-9);
  assert.equal(off.loss.ceOnProbabilities, true);
  assert.equal(clean.loss.ceOnProbabilities, false);
  assert.equal(off.optimizer.lifetime, "epoch");
  assert.equal(clean.optimizer.lifetime, "run");
  assert.deepEqual(dsva.groupLearningRates(clean, 0, 0), [0, 0]);
  const peak = dsva.groupLearningRates(clean, 1, 0);
  assert.ok(Math.abs(peak[0] - 1e-4) < 1e-9 && Math.abs(peak[1] - 1e-6) < 1e-11);
  assert.ok(dsva.groupLearningRates(clean, 29, 299)[0] < 1e-8);
  assert.equal(dsva.recipePhase(clean, 0).groups[1].frozen, true);
  assert.equal(dsva.recipePhase(clean, 5).groups[1].frozen, false);
  assert.equal(off.ac.fromEpoch, 0); // the AC trains from the first epoch
  assert.equal(
    dsva.OFFICIAL_SCRIPTS.find((s) => s.split === "60/10" && s.setting === "zsl")?.ac,
    false,
  );
  const small = dsva.scaleRecipe(off, { epochs: 3, batchesPerEpoch: 10, warmupEpochs: 1 });
  assert.deepEqual(small.phases.map((p) => [p.fromEpoch, p.toEpoch]), [[0, 0], [1, 2]]);
  assert.ok(Object.isFrozen(off.phases[0].groups[0]));
});

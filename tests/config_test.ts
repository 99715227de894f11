/**
 * The training configuration (src/config/): validation errors that name the field and where it
 * came from, file + flags merging, the checks on combinations, and the defaults of every recipe ×
 * backbone compared field by field with the README's rules written out below.
 */
import assert from "node:assert/strict";
import {
  CONFIG_FLAGS,
  ConfigError,
  mergePartial,
  type PartialConfig,
  PartialConfigSchema,
  readConfigFile,
  resolveConfig,
  RESUMABLE_FIELDS,
  type TrainConfig,
} from "../src/config/index.ts";
import { parseTrainArgs } from "../src/cli/train_args.ts";

Deno.test("train config: wrong types and unknown fields name the field and its source", async () => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return (e as Error).message;
    }
    assert.fail("no error");
  };
  let m = err(() => parseTrainArgs(["--epochs", "abc"]));
  assert.match(m, /epochs: expected number, received string \(got "abc"\) \[--epochs\]/);
  m = err(() => parseTrainArgs(["--epochs", "2.5"]));
  assert.match(m, /epochs: .*integer.*\[--epochs\]/);
  m = err(() => parseTrainArgs(["--recipe", "fancy"]));
  assert.match(m, /recipe: .*"official"\|"clean".*\[--recipe\]/);
  m = err(() => parseTrainArgs(["--threads", "many"]));
  assert.match(m, /threads: expected a positive integer or "auto" .*\[--threads\]/);
  m = err(() => parseTrainArgs(["--set", "loss.weights.mseVam=abc"]));
  assert.match(m, /loss\.weights\.mseVam: expected number.*\[--set loss\.weights\.mseVam\]/);
  m = err(() => parseTrainArgs(["--set", "loss.weights.mseVamm=1"]));
  assert.match(m, /loss\.weights\.mseVamm: unknown field/);
  m = err(() => parseTrainArgs(["--lr-heads", "-1"]));
  assert.match(m, /lr\.heads: .*>0.*\[--lr-heads\]/);

  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/c.json`;
    await Deno.writeTextFile(file, JSON.stringify({ epochs: "3", lr: { heads: "x" }, epoch: 1 }));
    const e = await readConfigFile(file).then(() => null, (x) => x as Error);
    assert.ok(e instanceof ConfigError);
    assert.match(
      e.message,
      new RegExp(`epochs: expected number, received string \\(got "3"\\) \\[${file}\\]`),
    );
    assert.match(e.message, /lr: expected a positive number or \{heads, backbone, warmupSteps\}/);
    assert.match(e.message, /epoch: unknown field "epoch"/);

    // CLI overrides the file; the rest of the file stays.
    await Deno.writeTextFile(file, JSON.stringify({ epochs: 3, seed: 7, lr: { heads: 0.01 } }));
    const cfg = resolveConfig(
      mergePartial(await readConfigFile(file), parseTrainArgs(["--epochs", "5"]).partial),
    );
    assert.equal(cfg.epochs, 5);
    assert.equal(cfg.seed, 7);
    assert.equal(cfg.lr.heads, 0.01);
    assert.equal(cfg.lr.backbone, 1e-3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  // Combinations are checked when resolving.
  m = err(() => resolveConfig(parseTrainArgs(["--heldout-fraction", "0"]).partial));
  assert.match(m, /selection: heldout needs heldoutFraction > 0/);
  m = err(() => resolveConfig(parseTrainArgs(["--autocast", "bf16"]).partial));
  assert.match(m, /autocast: "bf16" runs on CUDA only/);
  m = err(() => resolveConfig(parseTrainArgs(["--image-size", "60"]).partial));
  assert.match(m, /imageSize: 60 is not a multiple of the patch size 8/);

  // Recipe-dependent defaults.
  const off = resolveConfig(parseTrainArgs(["--recipe", "official"]).partial);
  assert.equal(off.selection, "official");
  assert.equal(off.gamma, 1e-4);
  assert.equal(off.loss.ceOnProbabilities, true);
  const clip = resolveConfig(parseTrainArgs(["--backbone", "clip", "--weights", "/x"]).partial);
  assert.equal(clip.imageSize, 224);
  assert.equal(clip.lr.backbone, 1e-6);
  assert.equal(clip.warmupEpochs, 5);
});

// The README's documented defaults, written out: what every run gets with no input but its
// recipe and backbone.
const OFFICIAL_WEIGHTS = {
  ce: 1,
  mseGlobal: 1e-2,
  ceCrop: 0,
  ceVam: 1,
  mseVam: 8e-2,
  cpt: 1e-9,
  glassoPrototypes: 0,
  glassoAle: 0,
};
const COMMON = {
  dataset: { kind: "synthetic", seed: 0, imagesPerClass: 40, size: 96 },
  officialScript: null,
  epochs: 8,
  batchesPerEpoch: 40,
  ways: 8,
  shots: 3,
  betas: [0.5, 0.999],
  ac: { enabled: true, fromEpoch: 0, atTest: true, thr: 1, iterations: 1, proWeight: 1 },
  seed: 0,
  device: "cpu",
  autocast: "none",
  threads: Math.max(1, Math.min(16, navigator.hardwareConcurrency ?? 1)),
  selectionMetric: "zsl",
  gammaRetain: 0.8,
  evalEvery: 1,
  monitorTest: true,
  testBatchSize: 64,
  loaderConcurrency: 4,
  workers: 0,
  onBadImage: "fail",
  runsDir: "runs",
  pictures: 6,
  maxSteps: 0,
};
/** clean: selection and γ on 10% held-out seen images, CE on logits; official: the best test
 * epoch, no held-out images, fixed γ = 1e-4, CE on probabilities. */
const BY_RECIPE = {
  clean: { selection: "heldout", heldoutFraction: 0.1, gamma: "heldout", ceOnProbabilities: false },
  official: { selection: "official", heldoutFraction: 0, gamma: 1e-4, ceOnProbabilities: true },
} as const;
const vit = (preset: string) => ({
  kind: "vit",
  preset,
  patchSize: null,
  hiddenSize: null,
  numLayers: null,
  numHeads: null,
  intermediateSize: null,
});
/** A ViT from scratch: both lrs 1e-3, no frozen warm-up, its preset's size; pretrained: the
 * recipe's 1e-4 / 1e-6 and 5 frozen epochs at 224 px (Darknet on [0, 1] pixels). Resize is
 * size × 256/224; the lr warm-up is one epoch of steps. */
const BY_BACKBONE: {
  input: PartialConfig["backbone"];
  backbone: unknown;
  tag: string;
  imageSize: number;
  resize: number;
  normalization: string;
  lr: [number, number];
  warmupEpochs: number;
}[] = [
  ...(
    [["cpu-tiny", 64, 73], ["vit-tiny-16", 224, 256], ["vit-small-16", 224, 256], [
      "clip-b16",
      224,
      256,
    ], ["clip-b32", 224, 256]] as const
  ).map(([preset, imageSize, resize]) => ({
    input: preset,
    backbone: vit(preset),
    tag: preset,
    imageSize,
    resize,
    normalization: "imagenet",
    lr: [1e-3, 1e-3] as [number, number],
    warmupEpochs: 0,
  })),
  {
    input: { kind: "clip", dir: "/w/clip" },
    backbone: { kind: "clip", dir: "/w/clip" },
    tag: "clip",
    imageSize: 224,
    resize: 256,
    normalization: "imagenet",
    lr: [1e-4, 1e-6],
    warmupEpochs: 5,
  },
  {
    input: { kind: "darknet", dir: "/w/dk" },
    backbone: { kind: "darknet", dir: "/w/dk" },
    tag: "darknet",
    imageSize: 224,
    resize: 256,
    normalization: "unit",
    lr: [1e-4, 1e-6],
    warmupEpochs: 5,
  },
];

Deno.test("config: every recipe × backbone resolves to the README's defaults, field by field", () => {
  for (const recipe of [undefined, "clean", "official"] as const) {
    for (const b of BY_BACKBONE) {
      const r = BY_RECIPE[recipe ?? "clean"];
      const partial: PartialConfig = recipe ? { recipe, backbone: b.input } : { backbone: b.input };
      const got = resolveConfig(partial);
      const expected: TrainConfig = {
        ...COMMON,
        name: recipe === undefined && b.tag !== "clip" && b.tag !== "darknet"
          ? "default"
          : `synthetic-${b.tag}-${recipe ?? "clean"}`,
        backbone: b.backbone,
        recipe: recipe ?? "clean",
        warmupEpochs: b.warmupEpochs,
        imageSize: b.imageSize,
        resize: b.resize,
        normalization: b.normalization,
        lr: { heads: b.lr[0], backbone: b.lr[1], warmupSteps: 40 },
        loss: { ceOnProbabilities: r.ceOnProbabilities, weights: OFFICIAL_WEIGHTS },
        selection: r.selection,
        heldoutFraction: r.heldoutFraction,
        gamma: r.gamma,
      } as TrainConfig;
      const where = `${recipe ?? "(no recipe)"} × ${b.tag}`;
      for (const k of Object.keys(expected) as (keyof TrainConfig)[]) {
        assert.deepEqual(got[k], expected[k], `${where}: ${k}`);
      }
      assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort(), where);
    }
  }
  // No input at all is the default run.
  assert.deepEqual(resolveConfig({}), resolveConfig({ backbone: "cpu-tiny" }));
});

Deno.test("config: the flag table sets valid paths, and resuming may change only run settings", () => {
  const names = CONFIG_FLAGS.map((f) => f.flag.split(" ")[0]);
  assert.equal(new Set(names).size, names.length, "a flag listed twice");
  for (const f of CONFIG_FLAGS) {
    assert.ok(f.path.split(".")[0] in PartialConfigSchema.shape, `${f.flag}: no field ${f.path}`);
  }
  assert.deepEqual([...RESUMABLE_FIELDS].sort(), [
    "autocast",
    "device",
    "epochs",
    "evalEvery",
    "loaderConcurrency",
    "maxSteps",
    "monitorTest",
    "onBadImage",
    "pictures",
    "runsDir",
    "testBatchSize",
    "threads",
    "workers",
  ]);
  assert.deepEqual(
    CONFIG_FLAGS.filter((f) => f.evalOverride).map((f) => f.path).sort(),
    ["autocast", "device", "gamma", "gammaRetain", "onBadImage", "threads"],
  );
  // Every flag reaches its field.
  const cfg = resolveConfig(
    parseTrainArgs(["--no-ac", "--loader-concurrency", "2", "--no-monitor-test"]).partial,
  );
  assert.equal(cfg.ac.enabled, false);
  assert.equal(cfg.ac.atTest, false);
  assert.equal(cfg.loaderConcurrency, 2);
  assert.equal(cfg.monitorTest, false);
  // --skip-missing: present only when given (earlier runs' configs resolve as they did), and only
  // for a folder dataset.
  const folder = (args: string[]) =>
    resolveConfig(parseTrainArgs(["--dataset", "/d", ...args]).partial).dataset;
  assert.equal((folder(["--skip-missing"]) as { skipMissing?: boolean }).skipMissing, true);
  assert.ok(!("skipMissing" in folder([])));
  assert.throws(
    () => resolveConfig(parseTrainArgs(["--skip-missing"]).partial),
    /dataset\.skipMissing: only a folder dataset has it/,
  );
});

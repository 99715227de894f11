/**
 * Trajectory parity with the OFFICIAL DSVA code running (../shared/reference/official_dsva, the
 * authors' `model/main.py` training loop, driven by tests/oracle/official_dsva.py), not with our
 * own notes:
 *
 * * the same initial weights: a small random Hugging Face CLIP folder that both sides load
 *   (hidden 768, 224 px, patch 32: the official model hard-codes these), and the official
 *   `CLIP_proto`'s freshly initialised state dict (prototypes, ALE) loaded into our DSVA
 *   through `dsva.officialStateDict`;
 * * the same episodes: our sampler's image lists and our augmentation draws, handed to the
 *   official loop as the already-transformed pixels (the data path is not compared); the
 *   official code checks every image against its own `train_zsl_loc` / test lists of the same
 *   AID subset converted to its layout by its `tools/aid_to_dsva.py`;
 * * the official flags of each script (read from its `.sh`), with only the budget (epochs,
 *   batches, episode size, warm-up length) and, for the AC-flipped cases, `--pro_start_epoch`
 *   replaced; ours: `Trainer` (`dsvaTrainStep`) under the `official` recipe, the script's
 *   `OFFICIAL_SCRIPTS` loss weights, fp32, the attribute matrix as stored, γ of the script.
 *
 * Epoch 0 is the warm-up (official `--pretrain_epoch 0`: Adam on the prototypes and ALE Linear
 * at 1e-4), epoch 1 the main phase (everything at 1e-6, CPT on), a new Adam each epoch. Every
 * loss term of every step and every weight after the last step agree within 1e-5 relative (weights: element by element,
 * with an absolute floor of 1e-7, below the official code's own 1-vs-2-thread spread, see
 * ATOL); the
 * ZSL accuracy (ZSL scripts) and S, U, H (GZSL scripts) after each epoch are equal (to 1e-9, the
 * percentages' float rounding). Both sides run on 1 thread.
 *
 * The CI version runs every script with its own AC setting (03_ZSL_61_12: off) on episodes of
 * 4 classes × 2 images, 10+10 steps for 12_gzsl_52_9 (group lasso: every loss term) and 2+2 for
 * the others; with `DSVA_OFFICIAL_PARITY=full`, every script with AC on and with AC off, 10+10
 * steps of 8 × 3 (the official episode); with `DSVA_OFFICIAL_PARITY=small`, every script with
 * AC on and off, 10+10 steps of 4 × 2; with `DSVA_OFFICIAL_PARITY=<script>.sh:<on|off>`, that
 * script alone, 10+10 steps of 8 × 3; with `DSVA_OFFICIAL_PARITY=run`, the whole tiny run of
 * the README: `11_gzsl_43_11` with AC on, one warm-up and one main epoch of 20 official-size
 * episodes, evaluated on 60 unseen and 8 seen test images per class; there the per-epoch S, U
 * and H must be equal and the loss and weight deviations are printed (at 8 × 3 they exceed 1e-5,
 * as the official code against itself does, see below). Measured: S, U, H equal after both
 * epochs (8.00 / 7.00 / 7.47 of a random-init 1-layer CLIP); ours against the official on 1
 * thread, losses within 2.6e-2 relative and weights within 1.9e3× the tolerance; against the
 * official on 2 threads (`DSVA_OFFICIAL_THREADS=2`), 6.3e-2 and 1.2e4×: the official code's own
 * rounding moves it further than ours does. `DSVA_OFFICIAL_PARITY=small` (12 cases, 6.5 min; with
 * `DSVA_OFFICIAL_SELF=1` the official code also runs on 2 threads and its own 1-vs-2-thread
 * spread is printed beside ours), measured after the AC fused map was made bit-exact and the VAM
 * a conv1d: losses within 1e-5 in 9 of 12 cases (01_ZSL_43_11 on/off 2.0e-5, official self-spread
 * 6.9e-6; 11_gzsl_43_11 AC on 1.8e-5, self-spread 2.4e-4), weights within the tolerance in 5
 * (elsewhere 2.1× to 11×; the official self-spread 1.7× to 1.6e3×, larger than ours in every
 * case); ZSL / S / U / H equal in all. The weight floor is Adam: its first step moves every
 * element by ±lr whatever the gradient's size, so an element whose gradient is within rounding
 * of 0 (k_proj.bias's exact gradient is 0) can go either way. (The 8 × 3 run figures above were
 * measured before those two fixes.)
 *
 * Measured limit: on official-size episodes (8 × 3) the trajectory is chaotic at float32 level —
 * 01_ZSL_43_11 AC off, 10+10 steps: ours vs official differ by up to 4.6e-4 relative in a loss
 * term (from the first main-phase step) and 7e-6 in the prototypes, and the official code
 * against itself (1 thread vs 2) by 5.9e-4 and 4.2e-6; so the `full` and single-case modes fail
 * their 1e-5 bound by the official code's own rounding spread. On 4 × 2 episodes (CI) both
 * stay far inside it.
 * Skipped (loudly) where ../shared is absent, except under CI=true, where that fails.
 */
import assert from "node:assert/strict";
import { EpisodicSampler } from "../src/data/episodic_sampler.ts";
import { ImageLoader, type Sample } from "../src/data/loader.ts";
import { ShuffledBatchSampler } from "../src/data/shuffle_sampler.ts";
import { batchToTensor } from "../src/data/tensor.ts";
import { OFFICIAL_SCRIPTS, type OfficialScript } from "../src/dsva/recipes.ts";
import { DSVA } from "../src/dsva/model.ts";
import { officialStateDict } from "../src/dsva/official_weights.ts";
import type { DsvaLossTerm } from "../src/dsva/losses.ts";
import { loadSafetensors, saveSafetensors } from "../src/io/index.ts";
import { CLIPVisionModel } from "../src/models/pretrained.ts";
import { cat, fromBuffer, noGrad, scope, setNumThreads, type Tensor } from "../src/tensor/index.ts";
import { loadTrainData, type TrainData } from "../src/train/data.ts";
import { DsvaMetricsLog, type EpochRecord, type StepRecord } from "../src/train/records.ts";
import { normalizationOf, testTransform, trainingTransform } from "../src/train/scoring.ts";
import { Trainer } from "../src/train/trainer.ts";
import type { TrainConfig } from "../src/config/types.ts";
import { ROOT, runPython } from "./helpers.ts";

const OFFICIAL = `${ROOT}/../shared/reference/official_dsva`;
const AID = `${ROOT}/../shared/data/aid`;
const ORACLE = `${ROOT}/tests/oracle/official_dsva.py`;
const CI = Deno.env.get("CI") === "true";
const MODE = Deno.env.get("DSVA_OFFICIAL_PARITY") ?? "";
const FULL = MODE === "full";
/** `DSVA_OFFICIAL_PARITY=small`: issue 12's point 1 at the CI's episode size. */
const SMALL = MODE === "small";
/** `DSVA_OFFICIAL_PARITY=run`: issue 12's whole tiny run (README "Reproducing the paper"). */
const RUN = MODE === "run";
const SPLIT = "25_5";
const THREADS = 1;
/** The official side's threads: `DSVA_OFFICIAL_THREADS=2` measures how far the official code's
 * own rounding moves it (ours on 1 thread against it on 2). */
const OFFICIAL_THREADS = Number(Deno.env.get("DSVA_OFFICIAL_THREADS") ?? THREADS);
/** `DSVA_OFFICIAL_SELF=1`: also the official code against itself, 1 thread vs 2 (printed). */
const SELF = Deno.env.get("DSVA_OFFICIAL_SELF") === "1";
/** Relative tolerance of every loss term and weight. */
const TOL = 1e-5;
/** Absolute floor of the weight comparison. Adam divides each gradient element by its own running
 * magnitude, so float32 rounding in an element with a small gradient (k_proj's bias, whose exact
 * gradient is 0; prototype entries) moves its updates by up to lr·(relative gradient error).
 * Measured (12_gzsl_52_9, AC on, 10+10 steps of 4 × 2): the official code against itself, 1
 * thread vs 2, differs by up to 2.3e-7 (patch embedding), 1.7e-7 (prototypes, max |w| 1.2e-3)
 * and 9.8e-8 (k_proj weight); ours against the official on 1 thread by at most 5.9e-8. */
const ATOL = 1e-7;

const present = [`${OFFICIAL}/model/main.py`, `${AID}/splits.json`].every((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!present && !CI) {
  console.warn(
    `official_parity_test: SKIPPED — ${OFFICIAL} or ${AID} is absent (under CI=true this fails)`,
  );
}

/** Our loss terms → the official `loss_log` keys (weighted values there). */
const TERMS: Record<DsvaLossTerm, string> = {
  ce: "l_xe_final",
  mseGlobal: "l_attri_final",
  ceCrop: "l_xe_pro",
  ceVam: "l_xe_layer",
  mseVam: "l_attri_layer",
  cpt: "l_cpt",
  glassoPrototypes: "l_regular_layer",
  glassoAle: "l_regular_final",
};

interface Case {
  script: OfficialScript;
  /** Attention Concentration in training and test (official `--pro_start_epoch -1` / `40`). */
  ac: boolean;
  /** Steps per epoch (epoch 0 warm-up, epoch 1 main phase). */
  steps: number;
  ways: number;
  shots: number;
  /** Whether losses and weights must agree within the tolerance (not at 8 × 3: see above). */
  strict: boolean;
}

const OFFICIAL_SIZE = { steps: 10, ways: 8, shots: 3, strict: true };
/** Test images per class of the AID subset, [seen, unseen]. */
const TEST_PER_CLASS: [number, number] = RUN ? [8, 60] : [1, 3];

function cases(): Case[] {
  // DSVA_OFFICIAL_PARITY=<script>:<on|off>: that one case, 10+10 steps of 8 × 3.
  // DSVA_OFFICIAL_PARITY=<script>:<on|off>:small: that one case, 10+10 steps of 4 × 2.
  const one = /^(.+\.sh):(on|off)(:small)?$/.exec(MODE);
  if (one) {
    const script = OFFICIAL_SCRIPTS.find((s) => s.script === one[1]);
    if (!script) throw new Error(`DSVA_OFFICIAL_PARITY: no script ${one[1]}`);
    const size = one[3] ? { steps: 10, ways: 4, shots: 2, strict: true } : OFFICIAL_SIZE;
    return [{ ...size, script, ac: one[2] === "on" }];
  }
  if (RUN) {
    const script = OFFICIAL_SCRIPTS.find((s) => s.script === "11_gzsl_43_11.sh")!;
    return [{ script, ac: true, steps: 20, ways: 8, shots: 3, strict: false }];
  }
  const out: Case[] = [];
  for (const script of OFFICIAL_SCRIPTS) {
    if (FULL) {
      for (const ac of [true, false]) out.push({ ...OFFICIAL_SIZE, script, ac });
    } else if (SMALL) {
      for (const ac of [true, false]) {
        out.push({ script, ac, steps: 10, ways: 4, shots: 2, strict: true });
      }
    } else {
      // The full k for the script with every loss term (group lasso on), 2+2 for the others.
      const steps = script.script === "12_gzsl_52_9.sh" ? 10 : 2;
      out.push({ script, ac: script.ac, steps, ways: 4, shots: 2, strict: true });
    }
  }
  return out;
}

const label = (c: Case) => `${c.script.script} AC ${c.ac ? "on" : "off"} ${c.steps}+${c.steps}`;

/** The script's seed (a fixed one where the script draws a random seed). */
const seedOf = (s: OfficialScript) => s.seed ?? 13;

/** A few AID images per class of split 25_5, in our folder layout (links to ../shared): 4
 * training images per class, `seen` and `unseen` test images per class. */
async function writeAidSubset(dir: string, [seen, unseen]: [number, number]): Promise<void> {
  const splits = JSON.parse(await Deno.readTextFile(`${AID}/splits.json`));
  const sp = splits.splits[SPLIT];
  const take = (list: string[], n: number) => {
    const count = new Map<string, number>();
    return list.filter((f) => {
      const c = f.split("/")[0], k = count.get(c) ?? 0;
      count.set(c, k + 1);
      return k < n;
    });
  };
  const subset = {
    ...sp,
    trainval: take(sp.trainval, 4),
    test_seen: take(sp.test_seen, seen),
    test_unseen: take(sp.test_unseen, unseen),
  };
  await Deno.mkdir(`${dir}/attributes`, { recursive: true });
  for (const e of Deno.readDirSync(`${AID}/attributes`)) {
    await Deno.copyFile(`${AID}/attributes/${e.name}`, `${dir}/attributes/${e.name}`);
  }
  for (const f of [...subset.trainval, ...subset.test_seen, ...subset.test_unseen]) {
    await Deno.mkdir(`${dir}/images/${f.split("/")[0]}`, { recursive: true });
    await Deno.symlink(`${AID}/images/${f}`, `${dir}/images/${f}`);
  }
  await Deno.writeTextFile(
    `${dir}/splits.json`,
    JSON.stringify({ ...splits, splits: { [SPLIT]: subset } }),
  );
}

function configOf(c: Case, dataDir: string, clipDir: string, runsDir: string): TrainConfig {
  const gzsl = c.script.setting === "gzsl";
  return {
    name: "official-parity",
    officialScript: null,
    dataset: {
      kind: "folder",
      dir: dataDir,
      split: SPLIT,
      images: null,
      attributes: null,
      splits: null,
      groups: null,
      attributeScale: "none", // the official code uses the matrix as stored
    },
    backbone: { kind: "clip", dir: clipDir },
    recipe: "official",
    epochs: 2,
    batchesPerEpoch: c.steps,
    warmupEpochs: 1,
    ways: c.ways,
    shots: c.shots,
    imageSize: 224,
    resize: 256,
    normalization: "imagenet",
    lr: { heads: 1e-4, backbone: 1e-6, warmupSteps: 0 },
    betas: [0.5, 0.999],
    loss: { ceOnProbabilities: true, weights: { ...c.script.lossWeights } },
    ac: { enabled: c.ac, fromEpoch: 0, atTest: c.ac, thr: 1, iterations: 1, proWeight: 1 },
    seed: seedOf(c.script),
    device: "cpu",
    autocast: "none",
    threads: THREADS,
    selection: "official",
    selectionMetric: gzsl ? "H" : "zsl",
    heldoutFraction: 0,
    gamma: c.script.gamma ?? 0,
    gammaRetain: 0.9,
    evalEvery: 1,
    monitorTest: true,
    testBatchSize: 64,
    loaderConcurrency: 4,
    workers: 0,
    onBadImage: "fail",
    runsDir,
    pictures: 0,
    maxSteps: 0,
  };
}

/** Our episodes (the trainer's sampler and augmentation, re-drawn from the same seeds) and our
 * test tensors, for the official loop. */
async function writeInputs(
  cfg: TrainConfig,
  data: TrainData,
  dir: string,
): Promise<{ seen: string[]; unseen: string[]; train: [string, number][] }> {
  const rel = (s: Sample) => s.path.split("/").slice(-2).join("/"); // <class>/<file>
  const sampler = new EpisodicSampler(data.train.map((s) => s.label), {
    ways: cfg.ways,
    shots: cfg.shots,
    batchesPerEpoch: cfg.batchesPerEpoch,
    seed: cfg.seed,
  });
  const loader = new ImageLoader(data.train, {
    transform: trainingTransform(cfg),
    normalization: normalizationOf(cfg),
    concurrency: cfg.loaderConcurrency,
    workers: cfg.workers,
    seed: cfg.seed,
  });
  const episodes = new Map<string, Tensor>();
  const train: [string, number][] = [];
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    sampler.restore({ seed: cfg.seed, epoch, batch: 0 });
    for await (const b of loader.batches(sampler.epoch())) {
      episodes.set(`e${epoch}b${b.batch}.pixels`, batchToTensor(b, "cpu"));
      episodes.set(`e${epoch}b${b.batch}.labels`, int64(b.labels));
      b.indices.forEach((i) => train.push([rel(data.train[i]), data.train[i].label]));
    }
  }
  await saveSafetensors(`${dir}/episodes.safetensors`, episodes);
  for (const t of episodes.values()) t.dispose();
  const test = new Map<string, Tensor>();
  for (const [name, samples] of [["seen", data.testSeen], ["unseen", data.testUnseen]] as const) {
    const l = new ImageLoader(samples, {
      transform: testTransform(cfg),
      normalization: normalizationOf(cfg),
      concurrency: cfg.loaderConcurrency,
    });
    const parts: Tensor[] = [];
    const plan = new ShuffledBatchSampler(samples.length, {
      batchSize: cfg.testBatchSize,
      shuffle: false,
    });
    for await (const b of l.batches(plan.epoch())) parts.push(batchToTensor(b, "cpu"));
    test.set(`${name}.pixels`, cat(parts, 0));
    test.set(`${name}.labels`, int64(Int32Array.from(samples, (s) => s.label)));
    for (const p of parts) p.dispose();
  }
  await saveSafetensors(`${dir}/test.safetensors`, test);
  for (const t of test.values()) t.dispose();
  return { seen: data.testSeen.map(rel), unseen: data.testUnseen.map(rel), train };
}

function int64(xs: ArrayLike<number>): Tensor {
  return fromBuffer(BigInt64Array.from(Array.from(xs), BigInt), [xs.length], { dtype: "int64" });
}

interface OfficialJob {
  steps: { epoch: number; terms: Record<string, number>; total: number }[];
  evals: { epoch: number; fn: string; acc: number }[];
  argv: string[];
}

/** allclose as a ratio: max over elements of |a − b| / (ATOL + TOL·|b|); ≤ 1 passes. */
function allcloseRatio(a: Tensor, b: Tensor): number {
  return a.sub(b).abs().div(b.abs().mul(TOL).add(ATOL)).max().item();
}

/** |ours − theirs| / |theirs| (0 when both are 0). */
function rel(ours: number, theirs: number): number {
  if (ours === theirs) return 0;
  return Math.abs(ours - theirs) / Math.abs(theirs);
}

Deno.test({
  name: "DSVA trajectory = the official code running (losses per step, weights, ZSL/GZSL)",
  ignore: !present && !CI,
  sanitizeResources: false,
  fn: async () => {
    assert.ok(present, `CI=true but ${OFFICIAL} or ${AID} is missing`);
    const t0 = performance.now();
    setNumThreads(THREADS);
    const root = await Deno.makeTempDir({ prefix: "official-parity-" });
    try {
      const dataDir = `${root}/aid`, layout = `${root}/official`;
      const clipRoot = `${root}/clip`, clipDir = `${clipRoot}/flax-community/clip-rsicd`;
      const all = cases();
      await writeAidSubset(dataDir, TEST_PER_CLASS);
      await runPython(ORACLE, {
        mode: "setup",
        official: OFFICIAL,
        clip: {
          dir: clipDir,
          seed: 0,
          vision: {
            hidden_size: 768,
            image_size: 224,
            patch_size: 32,
            num_hidden_layers: 1,
            num_attention_heads: 8,
            intermediate_size: 512,
          },
          text: {
            hidden_size: 32,
            num_hidden_layers: 1,
            num_attention_heads: 2,
            intermediate_size: 64,
            vocab_size: 100,
            bos_token_id: 0,
            eos_token_id: 1,
            pad_token_id: 1,
          },
        },
        layout: { data: dataDir, out: layout, split: SPLIT },
      });

      const prepared: { c: Case; cfg: TrainConfig; data: TrainData; dir: string; job: unknown }[] =
        [];
      for (const [i, c] of all.entries()) {
        const dir = `${root}/case${i}`;
        await Deno.mkdir(`${dir}/runs/checkpoints`, { recursive: true });
        const cfg = configOf(c, dataDir, clipDir, `${dir}/runs`);
        const data = await loadTrainData(cfg);
        const paths = await writeInputs(cfg, data, dir);
        const job = {
          script: c.script.script,
          overrides: {
            nepoch: 2,
            pretrain_epoch: 0,
            n_batch: c.steps,
            ways: c.ways,
            shots: c.shots,
            batch_size: cfg.testBatchSize,
            pro_start_epoch: c.ac ? -1 : 40,
            manualSeed: seedOf(c.script),
            image_root: `${layout}/`,
            image_embedding_path: `${layout}/files/255_images.mat`,
            class_embedding_path: `${layout}/files/ann_attr_finetune_255_splits.mat`,
            attri_dim: data.numAttributes,
          },
          episodes: `${dir}/episodes.safetensors`,
          test: `${dir}/test.safetensors`,
          paths,
          work: dir,
        };
        prepared.push({ c, cfg, data, dir, job });
      }
      const tPy = performance.now();
      const official = await runPython<{ jobs: OfficialJob[] }>(ORACLE, {
        mode: "train",
        official: OFFICIAL,
        clip_root: clipRoot,
        threads: OFFICIAL_THREADS,
        jobs: prepared.map((p) => p.job),
      });
      console.log(`official code: ${((performance.now() - tPy) / 1000).toFixed(0)} s`);
      // DSVA_OFFICIAL_SELF=1: the official code once more on 2 threads, the floor its own
      // float32 rounding sets (printed next to ours, not asserted).
      const self = SELF
        ? await runPython<{ jobs: OfficialJob[] }>(ORACLE, {
          mode: "train",
          official: OFFICIAL,
          clip_root: clipRoot,
          threads: 2,
          jobs: await Promise.all(prepared.map(async (p) => {
            await Deno.mkdir(`${p.dir}/self`);
            return { ...(p.job as object), work: `${p.dir}/self` };
          })),
        })
        : null;

      const failures: string[] = [];
      for (const [i, { c, cfg, data, dir }] of prepared.entries()) {
        const theirs = official.jobs[i];
        const tOurs = performance.now();
        const backbone = (await CLIPVisionModel.fromPretrained(clipDir)).vision;
        const model = new DSVA(backbone, {
          numAttributes: data.numAttributes,
          groups: data.groups,
        });
        const init = await loadSafetensors(`${dir}/init.safetensors`);
        const { state, unexpected } = officialStateDict(init);
        assert.deepEqual(unexpected, []);
        noGrad(() => model.loadStateDict(state, { strict: true }));
        const initState = new Map([...state].map(([k, t]) => [k, t.clone()]));
        for (const t of init.values()) t.dispose();
        const metrics = new DsvaMetricsLog(`${dir}/metrics.jsonl`);
        const trainer = new Trainer(model, data, cfg, `${dir}/runs`, metrics);
        const outcome = await trainer.run({ log: () => {}, stopRequested: () => null });
        assert.equal(outcome.status, "finished");
        trainer.dispose();
        const records = metrics.read();
        const steps = records.filter((r): r is StepRecord => r.type === "step");
        const epochs = records.filter((r): r is EpochRecord => r.type === "epoch");

        // Every loss term of every step.
        let worstLoss = 0;
        assert.equal(steps.length, theirs.steps.length, `${label(c)}: step count`);
        steps.forEach((s, k) => {
          const o = theirs.steps[k];
          assert.equal(s.epoch, o.epoch, `${label(c)}: step ${k} epoch`);
          const weights = cfg.loss.weights;
          const phaseCpt = s.epoch === 0 ? 0 : weights.cpt; // the official realtrain
          for (const [term, key] of Object.entries(TERMS) as [DsvaLossTerm, string][]) {
            const w = term === "cpt" ? phaseCpt : weights[term];
            const ours = (s.terms[term] ?? 0) * w;
            const d = rel(ours, o.terms[key]);
            worstLoss = Math.max(worstLoss, d);
            if (!(d <= TOL) && c.strict) {
              failures.push(`${label(c)} step ${k}: ${term} ${ours} vs ${key} ${o.terms[key]}`);
            }
          }
          const d = rel(s.loss, o.total);
          worstLoss = Math.max(worstLoss, d);
          if (!(d <= TOL) && c.strict) {
            failures.push(`${label(c)} step ${k}: total ${s.loss} vs ${o.total}`);
          }
        });

        // Every weight after the last step.
        const fin = await loadSafetensors(`${dir}/final.safetensors`);
        const mapped = officialStateDict(fin).state;
        const ours = model.stateDict();
        let worstWeight = 0, worstName = "";
        scope(() => {
          for (const [name, t] of mapped) {
            const o = ours.get(name);
            assert.ok(o, `${label(c)}: we have no ${name}`);
            const ratio = allcloseRatio(o, t);
            if (ratio > worstWeight) [worstWeight, worstName] = [ratio, name];
            if (!(ratio <= 1) && c.strict) {
              const diff = o.sub(t).abs().max().item(), scale = t.abs().max().item();
              const moved = t.sub(initState.get(name)!).abs().max().item();
              failures.push(
                `${label(c)}: weight ${name} off by ${ratio}× the tolerance (max abs diff ` +
                  `${diff}, max |w| ${scale}, official moved ${moved})`,
              );
            }
          }
        });
        for (const t of fin.values()) t.dispose();
        for (const t of initState.values()) t.dispose();

        // ZSL accuracy (ZSL scripts) and S, U, H (GZSL scripts) after each epoch.
        const evalLines: string[] = [];
        for (const e of [0, 1]) {
          const ourTest = epochs.find((r) => r.epoch === e)?.test;
          assert.ok(ourTest, `${label(c)}: no test results for epoch ${e}`);
          const got = theirs.evals.filter((r) => r.epoch === e).map((r) => r.acc);
          const pairs: [string, number, number][] = [];
          if (c.script.setting === "zsl") pairs.push(["ZSL", ourTest.zsl * 100, got[0]]);
          else {
            const [S, U] = got;
            const H = S + U === 0 ? 0 : (2 * U * S) / (U + S);
            pairs.push(["S", ourTest.S * 100, S], ["U", ourTest.U * 100, U], [
              "H",
              ourTest.H * 100,
              H,
            ]);
          }
          for (const [what, a, b] of pairs) {
            evalLines.push(`${what}${e} ${a.toFixed(2)}/${b.toFixed(2)}`);
            if (!(Math.abs(a - b) <= 1e-9)) {
              failures.push(`${label(c)} epoch ${e}: ${what} ours ${a} vs official ${b}`);
            }
          }
        }
        console.log(
          `${label(c)} (${c.ways}×${c.shots}): losses ≤ ${worstLoss.toExponential(1)}, ` +
            `weights ≤ ${
              worstWeight.toExponential(1)
            } of the tolerance (${worstName}); ours/official ` +
            `${evalLines.join(" ")}; ours ${((performance.now() - tOurs) / 1000).toFixed(0)} s`,
        );
        if (self) {
          const again = self.jobs[i].steps;
          let loss = 0;
          theirs.steps.forEach((o, k) => {
            for (const key of Object.values(TERMS)) {
              loss = Math.max(loss, rel(again[k].terms[key], o.terms[key]));
            }
            loss = Math.max(loss, rel(again[k].total, o.total));
          });
          const one = await loadSafetensors(`${dir}/final.safetensors`);
          const two = await loadSafetensors(`${dir}/self/final.safetensors`);
          const twoState = officialStateDict(two).state;
          let weight = 0, worst = "";
          scope(() => {
            for (const [n, t] of officialStateDict(one).state) {
              const r = allcloseRatio(twoState.get(n)!, t);
              if (r > weight) [weight, worst] = [r, n];
            }
          });
          for (const t of [...one.values(), ...two.values()]) t.dispose();
          console.log(
            `  official 1 vs 2 threads: losses ≤ ${loss.toExponential(1)}, weights ≤ ` +
              `${weight.toExponential(1)} of the tolerance (${worst})`,
          );
        }
        model.dispose();
      }
      console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      assert.deepEqual(failures, []);
    } finally {
      if (Deno.env.get("DSVA_OFFICIAL_KEEP")) console.log(`kept ${root}`);
      else await Deno.remove(root, { recursive: true });
    }
  },
});

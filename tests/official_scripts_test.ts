/** Each `--official-script <name>` preset against its script: the six `.sh` files of the
 * official code (`../shared/reference/official_dsva/script/`) are parsed (backslash
 * continuations joined, argparse's "the last occurrence wins") and every flag is compared with
 * the config `--official-script <name>` resolves to; flags that are paths or hardware, or that
 * the official code never reads, are listed below with why. Skipped, loudly, where ../shared is
 * absent, except under CI=true, where that fails. */
import assert from "node:assert/strict";
import { parseTrainArgs } from "../src/cli/train_args.ts";
import { resolveConfigLayers, type SourcedConfig, type TrainConfig } from "../src/config/index.ts";
import { OFFICIAL_SCRIPTS } from "../src/dsva/recipes.ts";
import { ROOT } from "./helpers.ts";

const SCRIPTS = `${ROOT}/../shared/reference/official_dsva/script`;
const present = (() => {
  try {
    return Deno.statSync(`${SCRIPTS}/01_ZSL_43_11.sh`).isFile;
  } catch {
    return false;
  }
})();
const CI = Deno.env.get("CI") === "true";
if (!present && !CI) {
  console.warn(`SKIPPED official_scripts_test: ${SCRIPTS} is absent (the official code)`);
}

/** `main.py`'s flags in a script: flag → value (`true` for a flag without one), the last
 * occurrence winning as with argparse. */
function scriptFlags(text: string): Map<string, string | true> {
  const line = text.replace(/\\\n/g, " ").split("\n").find((l) => l.includes("main.py"));
  assert.ok(line, "no main.py command in the script");
  const tokens = line.slice(line.indexOf("main.py") + "main.py".length).trim().split(/\s+/)
    .map((t) => t.replace(/^'(.*)'$/, "$1"));
  const flags = new Map<string, string | true>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    assert.ok(t.startsWith("--"), `unexpected token ${t}`);
    const next = tokens[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      flags.set(t.slice(2), next);
      i++;
    } else flags.set(t.slice(2), true);
  }
  return flags;
}

/** What a script flag means in the resolved config: the config's value for it, the value the
 * flag must have, and the config field(s) whose source must be the script. */
type Mapped = {
  fields: string[];
  /** The config's value, compared with `parse(flag value)`. */
  get: (c: TrainConfig) => unknown;
  parse: (v: string | true) => unknown;
};
const num = (v: string | true) => Number(v);
const present_ = (v: string | true) => v === true;
const weight = (term: keyof TrainConfig["loss"]["weights"]): Mapped => ({
  fields: [`loss.weights.${term}`],
  get: (c) => c.loss.weights[term],
  parse: num,
});
/** The split tag of a `.mat` path (`.../43_images.mat` → 43); the folder is the user's. */
const tagOf = (re: RegExp) => (v: string | true) => re.exec(String(v))?.[1];

const MAPPED: Record<string, Mapped> = {
  pretrain_epoch: { fields: ["warmupEpochs"], get: (c) => c.warmupEpochs - 1, parse: num },
  pro_thr: { fields: ["ac.thr"], get: (c) => c.ac.thr, parse: num },
  nepoch: { fields: ["epochs"], get: (c) => c.epochs, parse: num },
  batch_size: { fields: ["testBatchSize"], get: (c) => c.testBatchSize, parse: num },
  pretrain_lr: { fields: ["lr.heads"], get: (c) => c.lr.heads, parse: num },
  classifier_lr: { fields: ["lr.backbone"], get: (c) => c.lr.backbone, parse: num },
  xe: weight("ce"),
  attri: weight("mseGlobal"),
  regular: weight("glassoAle"),
  l_xe: weight("ceVam"),
  l_attri: weight("mseVam"),
  l_regular: weight("glassoPrototypes"),
  cpt: weight("cpt"),
  n_batch: { fields: ["batchesPerEpoch"], get: (c) => c.batchesPerEpoch, parse: num },
  ways: { fields: ["ways"], get: (c) => c.ways, parse: num },
  shots: { fields: ["shots"], get: (c) => c.shots, parse: num },
  calibrated_stacking: { fields: ["gamma"], get: (c) => c.gamma, parse: num },
  manualSeed: { fields: ["seed"], get: (c) => c.seed, parse: num },
  // `cur_epoch > pro_start_epoch` turns the AC on (training and test alike).
  pro_start_epoch: {
    fields: ["ac.enabled", "ac.fromEpoch"],
    get: (c) => [c.ac.enabled, c.ac.fromEpoch - 1],
    parse: (v) => [Number(v) + 1 < 30, Number(v)],
  },
  // --gzsl: the GZSL test, and `Result.update_gzsl` keeps the best H.
  gzsl: { fields: ["selectionMetric"], get: (c) => c.selectionMetric === "H", parse: present_ },
  image_embedding_path: {
    fields: ["dataset.split"],
    get: (c) => (c.dataset.kind === "rssdivcs" ? c.dataset.split : null),
    parse: tagOf(/\/(\w+)_images\.mat$/),
  },
  class_embedding_path: {
    fields: ["dataset.split"],
    get: (c) => (c.dataset.kind === "rssdivcs" ? c.dataset.split : null),
    parse: tagOf(/ann_attr_finetune_(\w+)_splits\.mat$/),
  },
};

/** Flags that set nothing in our config, and why; the value each script must give (our code
 * has only that behaviour) or `"any"`. */
const IGNORED: Record<string, { value: string | true | "any"; why: string }> = {
  dataset: { value: "RSSDIVCS", why: "a name; the data is --dataset <folder> (kind rssdivcs)" },
  cuda: { value: true, why: "hardware (--device)" },
  train_id: { value: "any", why: "never read by main.py beyond naming (no setting)" },
  pro_type: { value: "4", why: "the AC uses every attribute group (pro_type 4 = all three)" },
  additional_loss: {
    value: true,
    why: "the VAM, CPT and group-lasso terms are always in the loss",
  },
  xe_pro: {
    value: "any",
    why: "parsed but never read: the crop CE weight is hard-coded 0 (reg_weight['proposal'])",
  },
  use_group: { value: true, why: "the AC and the group lasso always use the attribute groups" },
  train_mode: { value: "distributed", why: "the episodic (ways × shots) sampler is the only one" },
  sel_res: { value: "layer", why: "the VAM branch is the headline (recipe reportedBranch vam)" },
};

function resolved(name: string, dataset?: string): SourcedConfig {
  const args = parseTrainArgs([
    "--official-script",
    name,
    ...(dataset ? ["--dataset", dataset] : []),
  ]);
  return resolveConfigLayers([{ partial: args.partial, source: args.source }]);
}

/** A folder in the RSSDIVCS layout with the script's `.mat` names (empty files: resolution only
 * looks at the names). */
function layoutFolder(tag: string): string {
  const dir = Deno.makeTempDirSync({ prefix: "rssdivcs-layout-" });
  Deno.mkdirSync(`${dir}/files`);
  Deno.writeTextFileSync(`${dir}/files/${tag}_images.mat`, "");
  Deno.writeTextFileSync(`${dir}/files/ann_attr_finetune_${tag}_splits.mat`, "");
  return dir;
}

Deno.test({
  name: "official scripts: each preset resolves to exactly its .sh file's flags",
  ignore: !present && !CI,
  async fn() {
    assert.ok(present, `CI=true but the official scripts are missing at ${SCRIPTS}`);
    // 00_run.sh only starts the six.
    const files = [...Deno.readDirSync(SCRIPTS)].map((e) => e.name).filter((n) =>
      /^\d\d_.*\.sh$/.test(n) && n !== "00_run.sh"
    ).sort();
    assert.deepEqual(files, OFFICIAL_SCRIPTS.map((s) => s.script).sort(), "the six scripts");
    for (const s of OFFICIAL_SCRIPTS) {
      const flags = scriptFlags(await Deno.readTextFile(`${SCRIPTS}/${s.script}`));
      const dir = layoutFolder(s.filesTag);
      try {
        const { config, sources } = resolved(s.name, dir);
        const where = (f: string) => `${s.name} --${f}`;
        for (const [flag, value] of flags) {
          const m = MAPPED[flag], ign = IGNORED[flag];
          assert.ok(m || ign, `${where(flag)}: a flag this test does not know`);
          if (ign) {
            if (ign.value !== "any") assert.equal(value, ign.value, `${where(flag)}: ${ign.why}`);
            continue;
          }
          assert.deepEqual(m.get(config), m.parse(value), where(flag));
          for (const f of m.fields) {
            assert.equal(sources[f], `script ${s.name}`, `${where(flag)}: source of ${f}`);
          }
        }
        // Absent flags: argparse's defaults.
        if (!flags.has("gzsl")) assert.equal(config.selectionMetric, "zsl", `${s.name}: ZSL`);
        if (!flags.has("manualSeed")) {
          assert.equal(s.seed, null);
          assert.equal(sources.seed, "default", `${s.name}: no --manualSeed, the default seed`);
        }
        assert.equal(s.seed, flags.has("manualSeed") ? Number(flags.get("manualSeed")) : null);
        // What the official code does without a flag.
        assert.equal(config.recipe, "official");
        assert.equal(config.officialScript, s.name);
        assert.equal(config.selection, "official");
        assert.equal(config.heldoutFraction, 0);
        assert.equal(config.autocast, "none", "fp32: the official code has no autocast");
        assert.equal(config.loss.weights.ceCrop, 0);
        assert.equal(config.loss.ceOnProbabilities, true);
        assert.deepEqual(config.betas, [0.5, 0.999], "opt.py --beta1 0.5");
        assert.equal(config.ac.proWeight, 1, "opt.py --pro_weight 1");
        assert.equal(config.dataset.kind, "rssdivcs");
        if (config.dataset.kind === "rssdivcs") {
          assert.equal(config.dataset.attributeScale, "none", "att as stored");
          assert.equal(config.dataset.trainList, "train_zsl_loc", "trainval_loc = train_zsl_loc");
        }
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    }
  },
});

Deno.test("official scripts: flags override the preset, and the source says so", () => {
  const args = parseTrainArgs([
    "--official-script",
    "12_gzsl_52_9",
    "--epochs",
    "2",
    "--gamma",
    "0.01",
    "--set",
    "loss.weights.glassoAle=0",
  ]);
  const { config, sources } = resolveConfigLayers([
    { partial: { seed: 7, ways: 4 }, source: () => "file x.json" },
    { partial: args.partial, source: args.source },
  ]);
  assert.equal(config.epochs, 2);
  assert.equal(sources.epochs, "flag --epochs");
  assert.equal(config.warmupEpochs, 2, "the 5-epoch warm-up clipped to the run");
  assert.equal(config.gamma, 0.01);
  assert.equal(sources.gamma, "flag --gamma");
  assert.equal(config.loss.weights.glassoAle, 0);
  assert.equal(sources["loss.weights.glassoAle"], "flag --set loss.weights.glassoAle");
  assert.equal(config.loss.weights.glassoPrototypes, 5e-4);
  assert.equal(sources["loss.weights.glassoPrototypes"], "script 12_gzsl_52_9");
  assert.equal(config.seed, 7, "a config file wins over the preset");
  assert.equal(sources.seed, "file x.json");
  assert.equal(config.ways, 4);
  assert.equal(config.shots, 3);
  assert.equal(sources.shots, "script 12_gzsl_52_9");
  assert.equal(sources.gammaRetain, "default");
  // 03_ZSL_61_12: --pro_start_epoch 40, no AC within 30 epochs, neither in training nor at test.
  const zsl61 = (resolved("03_ZSL_61_12")).config;
  assert.equal(zsl61.ac.enabled, false);
  assert.equal(zsl61.ac.atTest, false);
  assert.throws(() => parseTrainArgs(["--official-script", "nope"]), /official.?Script|nope/i);
});

/**
 * The `--official-script <name>` preset: the settings of one of the six official scripts
 * (`OFFICIAL_SCRIPTS` in `src/dsva/recipes.ts`, their one home) as a partial config that the
 * config file and the flags override. Beyond the scripts' flags it sets what the official code
 * does without a flag: the official recipe, selection on the test set (`--gzsl`: by H, as
 * `Result.update_gzsl`; otherwise by ZSL accuracy), no held-out images, fp32 (the official code
 * has no autocast), and the attribute matrix as stored (`attributeScale: none`).
 * @module
 */
import { officialScript } from "../dsva/recipes.ts";
import type { PartialConfig } from "./schema.ts";

/** The preset of script `name`, given the rest of the configuration (`merged`: file and flags),
 * whose epoch count clips the warm-up and decides whether the AC starts within the run, and whose
 * dataset kind decides which dataset fields apply. */
export function officialScriptPreset(
  name: string,
  merged: PartialConfig,
  datasetKind: "synthetic" | "folder" | "rssdivcs",
): PartialConfig {
  const s = officialScript(name);
  const epochs = merged.epochs ?? s.epochs;
  const dataset: PartialConfig["dataset"] | undefined = datasetKind === "rssdivcs"
    ? { split: s.filesTag, trainList: "train_zsl_loc", attributeScale: "none" }
    : datasetKind === "folder"
    ? { attributeScale: "none" }
    : undefined;
  return {
    recipe: "official",
    officialScript: s.name,
    ...(dataset ? { dataset } : {}),
    epochs: s.epochs,
    batchesPerEpoch: s.batchesPerEpoch,
    // --pretrain_epoch N: epochs 0..N train the heads only (`epoch <= opt.pretrain_epoch`).
    warmupEpochs: Math.min(s.pretrainEpoch + 1, epochs),
    ways: s.ways,
    shots: s.shots,
    lr: { heads: s.pretrainLr, backbone: s.classifierLr },
    loss: { weights: { ...s.lossWeights } },
    // The AC runs when `cur_epoch > pro_start_epoch`, in training and at test time alike.
    ac: {
      enabled: s.proStartEpoch + 1 < epochs,
      fromEpoch: s.proStartEpoch + 1,
      thr: s.proThr,
    },
    ...(s.seed !== null ? { seed: s.seed } : {}),
    autocast: "none",
    selection: "official",
    selectionMetric: s.setting === "gzsl" ? "H" : "zsl",
    heldoutFraction: 0,
    gamma: s.gamma,
    testBatchSize: s.testBatchSize,
  };
}

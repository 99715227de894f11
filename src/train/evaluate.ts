/** The full evaluation of a trained model (`deno task eval`, and the end of `deno task train`):
 * every branch's ZSL accuracy, GZSL S / U / H with calibrated stacking, the seen–unseen curve and
 * AUSUC; written as `eval.json`, `eval.md` and a confusion-matrix PNG. */
import { listSome } from "../data/errors.ts";
import type { ImageProblem } from "../data/validate.ts";
import type { DSVA } from "../dsva/model.ts";
import { type EvalReport, reportToMarkdown, type ResultRow } from "../eval/report.ts";
import type { Tensor } from "../tensor/index.ts";
import type { TrainData } from "./data.ts";
import type { TestBests, TestEpoch } from "./state.ts";
import { type BranchResult, branchResult, chooseGamma, gzslPredictions } from "./metrics.ts";
import { confusionPng } from "./confusion_picture.ts";
import {
  type BadImagePolicy,
  type Branch,
  BRANCHES,
  concatSets,
  type ScoredSet,
  scoreSamples,
} from "./scoring.ts";
import type { TrainConfig } from "../config/types.ts";
import { type ClipBaseline, clipZeroShotBaseline } from "../zeroshot/baseline.ts";

/** What the evaluation found. Accuracies are fractions. */
export interface Evaluation {
  /** The headline branch (VAM, as the official numbers). */
  branch: Branch;
  zsl: number;
  chance: number;
  gzsl: { S: number; U: number; H: number; gamma: number; gammaRule: string };
  ausuc: number;
  /** Every branch. */
  branches: Record<Branch, BranchResult>;
  /** Whether the AC ran at test time (it changes the fused branch only). */
  acAtTest: boolean;
  /** Images scored (without the bad ones skipped). */
  images: { heldout: number; testSeen: number; testUnseen: number };
  /** Images left out as unreadable (`onBadImage: "skip"`; empty otherwise). */
  badImages: ImageProblem[];
  /** The test scores (not serialised). */
  test: ScoredSet;
  /** A CLIP backbone's own prompt zero-shot numbers on the same split (null for other
   * backbones, or a CLIP without a text tower). */
  clipBaseline: ClipBaseline | null;
}

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** Overrides the config's γ rule. */
  gamma?: number | "heldout";
  /** Run the AC at test time (default: the config's `ac.enabled && ac.atTest`). */
  useAC?: boolean;
  /** An image that cannot be decoded: `fail` (default) stops with a `DataError` naming it;
   * `skip` leaves it out of every metric and lists it in `badImages` (and `eval.json`). */
  onBadImage?: BadImagePolicy;
}

/** Scores the held-out and test images and computes every branch's results. */
export async function evaluateModel(
  model: DSVA,
  data: TrainData,
  config: TrainConfig,
  classAttributes: Tensor,
  opts: EvaluateOptions = {},
): Promise<Evaluation> {
  const useAC = opts.useAC ?? (config.ac.enabled && config.ac.atTest);
  const score = { useAC, onBadImage: opts.onBadImage ?? "fail" } as const;
  const heldout = data.heldout.length > 0
    ? await scoreSamples(model, data.heldout, classAttributes, config, score)
    : null;
  const testSeen = await scoreSamples(model, data.testSeen, classAttributes, config, score);
  const testUnseen = await scoreSamples(model, data.testUnseen, classAttributes, config, score);
  const test = concatSets(testSeen, testUnseen);
  const branches = {} as Record<Branch, BranchResult>;
  for (const b of BRANCHES) {
    const g = chooseGamma(config, heldout, data.seen, data.unseen, b, opts.gamma);
    branches[b] = branchResult(test, data.seen, data.unseen, b, g, { curve: true });
  }
  const v = branches.vam;
  return {
    branch: "vam",
    zsl: v.zsl,
    chance: 1 / data.unseen.length,
    gzsl: { S: v.S, U: v.U, H: v.H, gamma: v.gamma, gammaRule: v.gammaRule },
    ausuc: v.ausuc,
    branches,
    acAtTest: useAC,
    images: { heldout: heldout?.n ?? 0, testSeen: testSeen.n, testUnseen: testUnseen.n },
    badImages: [...(heldout?.badImages ?? []), ...(test.badImages ?? [])],
    test,
    clipBaseline: await clipZeroShotBaseline(config, data),
  };
}

/** Where the model came from, for the report. */
export interface EvalSource {
  checkpoint: string;
  epoch: number;
  step: number;
  /** How the epoch was chosen (e.g. "held-out seen accuracy"). */
  selection: string;
  /** The training run's best test epochs by ZSL accuracy and by H (absent for a checkpoint
   * evaluated on its own). */
  testBest?: TestBests;
}

/** The best-ZSL and best-H test epochs as one line (1-based epochs, percent). */
export function testBestLine(b: TestBests): string {
  const pct = (x: number) => (x * 100).toFixed(1);
  const one = (e: TestEpoch | null) =>
    e
      ? `epoch ${e.epoch + 1} (ZSL ${pct(e.zsl)}, S ${pct(e.S)}, U ${pct(e.U)}, H ${pct(e.H)})`
      : "none";
  return `Best test epochs during training (VAM branch): by ZSL accuracy ${one(b.zsl)}; ` +
    `by H ${one(b.H)}.`;
}

const BRANCH_NOTE: Record<Branch, string> = {
  vam: "vam (attribute prototypes; official headline)",
  global: "global (ALE on the mean token)",
  fused: "fused (global + AC crop)",
};

/** The eval report (the Markdown table's rows and notes). */
export function evalReport(ev: Evaluation, data: TrainData, config: TrainConfig, src: EvalSource) {
  const rows: ResultRow[] = BRANCHES.map((b) => {
    const r = ev.branches[b];
    return {
      branch: ev.acAtTest || b !== "fused" ? BRANCH_NOTE[b] : "fused (= global: no AC at test)",
      zsl: r.zsl,
      S: r.S,
      U: r.U,
      H: r.H,
      ausuc: r.ausuc,
      gamma: r.gamma,
      gammaRule: r.gammaRule,
    };
  });
  if (ev.clipBaseline) rows.push({ ...ev.clipBaseline }); // same split, CLIP's prompts alone
  const official = src.selection.includes("official");
  const report: EvalReport = {
    title: `DSVA evaluation — ${data.split} on ${data.root}`,
    meta: {
      checkpoint: src.checkpoint,
      epoch: src.epoch + 1,
      step: src.step,
      "model selection": official
        ? `${src.selection}: best epoch on the TEST set (official protocol; optimistic)`
        : src.selection,
      recipe: config.recipe,
      backbone: config.backbone.kind === "vit"
        ? `${config.backbone.preset} ViT (from scratch)`
        : `${config.backbone.kind} (${config.backbone.dir})`,
      classes: `${data.seen.length} seen, ${data.unseen.length} unseen`,
      images:
        `${ev.images.testSeen} test-seen, ${ev.images.testUnseen} test-unseen, ${ev.images.heldout} held-out seen`,
      "ZSL chance": `${(ev.chance * 100).toFixed(1)}%`,
      "AC at test time": ev.acAtTest,
    },
    rows,
    notes: [
      "ZSL: mean per-class top-1 over the unseen classes, unseen candidates only.",
      "GZSL: all classes are candidates; S and U are mean per-class top-1 on test-seen and " +
      "test-unseen images; H = 2SU/(S+U).",
      "Calibrated stacking: γ is subtracted from the seen classes' softmax probabilities (as the " +
      "official code does); 'held-out seen' chooses it on held-out seen training images so that " +
      `${(config.gammaRetain * 100).toFixed(0)}% of them stay seen.`,
      "AUSUC: area under the exact seen–unseen curve over all γ.",
      `Best H on the curve (γ picked on the test set, an upper bound only): ${
        BRANCHES.map((b) =>
          `${b} ${(ev.branches[b].oracleH.H * 100).toFixed(1)} (S ${
            (ev.branches[b].oracleH.S * 100).toFixed(1)
          }, U ${(ev.branches[b].oracleH.U * 100).toFixed(1)})`
        ).join("; ")
      }.`,
      ...(src.testBest ? [testBestLine(src.testBest)] : []),
    ],
  };
  if (ev.badImages.length) {
    report.notes!.push(
      `${ev.badImages.length} unreadable image(s) left out of every metric (onBadImage: skip): ${
        listSome(ev.badImages.map((b) => `${b.path}: ${b.problem}`), 20)
      }.`,
    );
  }
  return report;
}

/** The JSON summary (`eval.json` and the last output line's core). */
export function evalSummary(ev: Evaluation, report: EvalReport, src: EvalSource) {
  const strip = (r: BranchResult) => {
    const { curve: _c, ...rest } = r;
    return rest;
  };
  return {
    zsl: ev.zsl,
    chance: ev.chance,
    gzsl: ev.gzsl,
    ausuc: ev.ausuc,
    branch: ev.branch,
    epoch: src.epoch + 1,
    step: src.step,
    selection: src.selection,
    checkpoint: src.checkpoint,
    testBest: src.testBest ? testBestJson(src.testBest) : null,
    acAtTest: ev.acAtTest,
    branches: Object.fromEntries(BRANCHES.map((b) => [b, strip(ev.branches[b])])),
    images: ev.images,
    ...(ev.clipBaseline ? { baselines: { clipZeroShot: ev.clipBaseline } } : {}),
    ...(ev.badImages.length ? { badImages: ev.badImages } : {}),
    meta: report.meta,
    notes: report.notes,
  };
}

/** The best test epochs for `eval.json`, with 1-based epochs like its `epoch`. */
function testBestJson(b: TestBests) {
  const one = (e: TestEpoch | null) => (e ? { ...e, epoch: e.epoch + 1 } : null);
  return { zsl: one(b.zsl), H: one(b.H) };
}

/** Writes `eval.json`, `eval.md`, `confusion.png` (GZSL, VAM branch at its γ) and
 * `seen_unseen_curve.json` (every branch's curve) into `dir`; returns the summary object (the
 * content of `eval.json`). */
export async function writeEvaluation(
  dir: string,
  ev: Evaluation,
  data: TrainData,
  config: TrainConfig,
  src: EvalSource,
): Promise<ReturnType<typeof evalSummary> & { files: string[] }> {
  await Deno.mkdir(dir, { recursive: true });
  const report = evalReport(ev, data, config, src);
  const preds = gzslPredictions(ev.test, data.seen, data.unseen, "vam", ev.gzsl.gamma);
  const gamma = Number(ev.gzsl.gamma.toPrecision(4));
  const order = await confusionPng(
    `${dir}/confusion.png`,
    preds,
    ev.test.labels,
    data.seen,
    data.unseen,
    {
      classNames: data.classes,
      title: `GZSL confusion matrix, VAM branch, γ = ${gamma} (${ev.gzsl.gammaRule})`,
    },
  );
  report.notes!.push(
    `confusion.png: GZSL predictions of the VAM branch at γ = ${gamma}; rows = true class, columns = predicted class, in the order ${
      order.map((c) => data.classes[c]).join(", ")
    } (seen | unseen, split by the red line).`,
  );
  const summary = {
    ...evalSummary(ev, report, src),
    files: ["eval.json", "eval.md", "confusion.png", "seen_unseen_curve.json"],
  };
  await writeAtomic(
    `${dir}/seen_unseen_curve.json`,
    JSON.stringify(Object.fromEntries(BRANCHES.map((b) => [b, ev.branches[b].curve]))) + "\n",
  );
  await writeAtomic(
    `${dir}/eval.json`,
    JSON.stringify(
      summary,
      (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
      1,
    ) + "\n",
  );
  await writeAtomic(`${dir}/eval.md`, reportToMarkdown(report));
  return summary;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

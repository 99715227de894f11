/** A zero-shot classification written as `deno task eval` writes a DSVA evaluation, so that the
 * two stand side by side: `eval.json`, `eval.md`, `confusion.png` (GZSL predictions at γ) and
 * `seen_unseen_curve.json` in one folder. */
import { type EvalReport, reportToMarkdown } from "../eval/report.ts";
import { confusionPng } from "../train/confusion_picture.ts";
import type { TrainData } from "../train/data.ts";
import type { ZeroShotOutcome } from "./run.ts";

/** The files written, by name. */
export const ZEROSHOT_FILES = ["eval.json", "eval.md", "confusion.png", "seen_unseen_curve.json"];

/** The method's name in the tables. */
export const ZEROSHOT_ROW = "CLIP zero-shot (prompts)";

const pct = (x: number) => (x * 100).toFixed(1);

/** The report: meta facts, one result row, the protocol notes. */
export function zeroShotReport(
  z: ZeroShotOutcome,
  data: TrainData,
  model: string,
  templateSource: string,
): EvalReport {
  const s = z.split;
  return {
    title: `CLIP zero-shot — ${data.split} on ${data.root}`,
    meta: {
      model,
      "weights sha256": z.weightsHash,
      classes: `${data.seen.length} seen, ${data.unseen.length} unseen`,
      images: `${z.images.testSeen} test-seen, ${z.images.testUnseen} test-unseen; all-class ` +
        `protocol on ${z.images.allClass}`,
      templates: `${z.templates.length} (${templateSource})`,
      "all classes top-1": `${pct(z.allClasses.top1)}%`,
      "all classes mean per-class": `${pct(z.allClasses.meanPerClass)}%`,
      "ZSL chance": `${pct(s.chance)}%`,
      "logit scale": Number(z.scale.toPrecision(6)),
    },
    rows: [{
      branch: ZEROSHOT_ROW,
      zsl: s.zsl,
      S: s.gzsl.S,
      U: s.gzsl.U,
      H: s.gzsl.H,
      ausuc: s.ausuc,
      gamma: s.gzsl.gamma,
      gammaRule: s.gzsl.gammaRule,
    }],
    notes: [
      "Scores: softmax over every class of exp(logit_scale) · cosine(image, class text), the " +
      "class text embedding being the mean of the L2-normalised embeddings of its prompts " +
      "(one per template), normalised again.",
      `All classes (RemoteCLIP / GeoRSCLIP protocol): every class a candidate; top-1 ` +
      `${pct(z.allClasses.top1)}%, mean per-class ${pct(z.allClasses.meanPerClass)}% over ` +
      `${z.allClasses.images} images of ${z.allClasses.classes} classes.`,
      "ZSL: mean per-class top-1 over the unseen classes, unseen candidates only.",
      "GZSL: all classes are candidates; S and U are mean per-class top-1 on test-seen and " +
      "test-unseen images; H = 2SU/(S+U).",
      "Calibrated stacking: γ is subtracted from the seen classes' probabilities; for CLIP γ = 0 " +
      "unless given, as CLIP was trained on none of the split's seen classes (no held-out seen " +
      "images needed); AUSUC covers every γ.",
      `Best H on the curve (γ picked on the test set, an upper bound only): ${pct(s.oracleH.H)} ` +
      `(S ${pct(s.oracleH.S)}, U ${pct(s.oracleH.U)}, γ ${
        Number(s.oracleH.gamma.toPrecision(4))
      }).`,
      `Class texts: ${data.classes.map((c, i) => `${c} → "${z.classTexts[i]}"`).join(", ")}.`,
    ],
  };
}

/** The JSON summary (`eval.json`; the last output line's core). */
export function zeroShotSummary(z: ZeroShotOutcome, report: EvalReport) {
  const s = z.split;
  return {
    zsl: s.zsl,
    chance: s.chance,
    gzsl: s.gzsl,
    ausuc: s.ausuc,
    oracleH: s.oracleH,
    allClasses: {
      top1: z.allClasses.top1,
      meanPerClass: z.allClasses.meanPerClass,
      images: z.allClasses.images,
      classes: z.allClasses.classes,
    },
    branch: "clip-zeroshot",
    images: z.images,
    templates: z.templates,
    classTexts: z.classTexts,
    weightsSha256: z.weightsHash,
    cache: z.cache,
    encoded: z.encoded,
    meta: report.meta,
    notes: report.notes,
  };
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** Writes the four files into `dir` (each atomically); returns the summary. */
export async function writeZeroShotEvaluation(
  dir: string,
  z: ZeroShotOutcome,
  data: TrainData,
  model: string,
  templateSource: string,
): Promise<ReturnType<typeof zeroShotSummary> & { files: string[] }> {
  await Deno.mkdir(dir, { recursive: true });
  const report = zeroShotReport(z, data, model, templateSource);
  const gamma = Number(z.split.gzsl.gamma.toPrecision(4));
  const order = await confusionPng(
    `${dir}/confusion.png`,
    z.split.predictions,
    z.test.labels,
    data.seen,
    data.unseen,
    { classNames: data.classes, title: `GZSL confusion matrix, CLIP zero-shot, γ = ${gamma}` },
  );
  report.notes!.push(
    `confusion.png: GZSL predictions at γ = ${gamma}; rows = true class, columns = predicted ` +
      `class, in the order ${order.map((c) => data.classes[c]).join(", ")} (seen | unseen).`,
  );
  const summary = { ...zeroShotSummary(z, report), files: ZEROSHOT_FILES };
  await writeAtomic(
    `${dir}/seen_unseen_curve.json`,
    JSON.stringify({ clip: z.split.curve }) + "\n",
  );
  await writeAtomic(
    `${dir}/eval.json`,
    JSON.stringify(
      summary,
      (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
      1,
    ) +
      "\n",
  );
  await writeAtomic(`${dir}/eval.md`, reportToMarkdown(report));
  return summary;
}

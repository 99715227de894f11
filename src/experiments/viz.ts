/**
 * `deno task viz --run <runDir>`: pictures of a trained run for chosen test images — the image
 * with the Attention Concentration crop box, the AC's map, and each top attribute's attention map
 * overlaid on the image (the panels of src/train/pictures.ts), with the predicted and true class
 * and their attributes — as PNG files, `viz.json` and an HTML page (`viz.html`).
 * @module
 */
import { exists } from "../../ffi/fs.ts";
import { checkResolvedConfig } from "../config/index.ts";
import type { Sample } from "../data/loader.ts";
import { fromBuffer, noGrad, setNumThreads } from "../tensor/index.ts";
import { loadTrainData, type TrainData } from "../train/data.ts";
import { buildModel } from "../train/model.ts";
import { type AttentionPicture, attentionPictures } from "../train/pictures.ts";
import { CHECKPOINTS, readCheckpoint } from "../train/state.ts";
import type { TrainConfig } from "../config/types.ts";
import { escapeMarkup as esc } from "../io/markup.ts";

/** What to picture. */
export interface VizOptions {
  /** How many test images (default 6). */
  images?: number;
  /** Only images of unseen classes. */
  unseenOnly?: boolean;
  /** Particular test images (paths, or their endings such as `bridge/bridge_0003.png`). */
  files?: readonly string[];
  /** `best` (the selected epoch; default) or `last` checkpoint. */
  which?: "best" | "last";
  /** Output folder (default `<runDir>/viz`). */
  out?: string;
}

/** One picture with its captions. */
export interface VizPicture extends AttentionPicture {
  /** The true class's attributes and the predicted (GZSL) class's, strongest first. */
  trueAttributes: string[];
  predictedAttributes: string[];
}

/** What {@link vizRun} wrote. */
export interface VizResult {
  runDir: string;
  out: string;
  html: string;
  json: string;
  checkpoint: string;
  gamma: number;
  /** The options asked for (`images`, `unseenOnly`, `files`). */
  requested: { images: number; unseenOnly: boolean; files: string[] };
  pictures: VizPicture[];
}

/** A class's attributes with a positive value, strongest first (at most `max`). */
export function classAttributeNames(data: TrainData, c: number, max = 10): string[] {
  const k = data.numAttributes;
  return Array.from({ length: k }, (_, j) => [data.attributes[c * k + j], j] as const)
    .filter(([v]) => v > 0).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, max)
    .map(([, j]) => data.attributeNames[j]);
}

/** The test images to picture: the named files, or the run's usual choice (unseen and seen
 * classes alternating; only unseen with `unseenOnly`). */
export function chooseImages(data: TrainData, o: VizOptions): TrainData {
  if (o.files && o.files.length > 0) {
    const pick = (list: readonly Sample[]) =>
      list.filter((s) => o.files!.some((f) => s.path === f || s.path.endsWith(`/${f}`)));
    const testSeen = o.unseenOnly ? [] : pick(data.testSeen), testUnseen = pick(data.testUnseen);
    const found = testSeen.length + testUnseen.length;
    if (found === 0) {
      throw new Error(`none of ${o.files.join(", ")} is a test image of this run's split`);
    }
    return { ...data, testSeen, testUnseen };
  }
  return o.unseenOnly ? { ...data, testSeen: [] } : data;
}

function gammaOf(runDir: string, config: TrainConfig): number {
  try {
    const ev = JSON.parse(Deno.readTextFileSync(`${runDir}/eval.json`));
    if (typeof ev?.gzsl?.gamma === "number") return ev.gzsl.gamma;
  } catch { /* not evaluated */ }
  return typeof config.gamma === "number" ? config.gamma : 0;
}

/** Pictures of a run folder (see the module note). */
export async function vizRun(runDir: string, o: VizOptions = {}): Promise<VizResult> {
  runDir = runDir.replace(/\/+$/, "");
  const out = (o.out ?? `${runDir}/viz`).replace(/\/+$/, "");
  const config = checkResolvedConfig(
    JSON.parse(await Deno.readTextFile(`${runDir}/config.json`)),
    `${runDir}/config.json`,
  );
  setNumThreads(config.threads);
  let which = o.which ?? "best";
  let checkpoint = `${runDir}/${CHECKPOINTS[which]}`;
  if (!exists(checkpoint)) {
    if (which === "last") throw new Error(`${checkpoint}: no such checkpoint`);
    which = "last";
    checkpoint = `${runDir}/${CHECKPOINTS.last}`;
  }
  const data = await loadTrainData(config);
  const chosen = chooseImages(data, o);
  const count = o.files?.length
    ? chosen.testSeen.length + chosen.testUnseen.length
    : Math.max(0, o.images ?? 6);
  const model = await buildModel(config, data.numAttributes, data.groups);
  const gamma = gammaOf(runDir, config);
  let pics: AttentionPicture[];
  {
    using ck = await readCheckpoint(checkpoint, config.device as "cpu");
    noGrad(() => model.loadStateDict(ck.model, { strict: true }));
  }
  {
    using classAttributes = fromBuffer(data.attributes, [data.classes.length, data.numAttributes], {
      dtype: "float32",
      device: config.device as "cpu",
    });
    await Deno.mkdir(out, { recursive: true });
    pics = await attentionPictures(model, chosen, config, classAttributes, out, count, gamma);
  }
  model.dispose();
  const index = new Map(data.classes.map((c, i) => [c, i]));
  const pictures: VizPicture[] = pics.map((p) => ({
    ...p,
    trueAttributes: classAttributeNames(data, index.get(p.trueClass)!),
    predictedAttributes: classAttributeNames(data, index.get(p.predictedGzsl)!),
  }));
  const result: VizResult = {
    runDir,
    out,
    html: `${out}/viz.html`,
    json: `${out}/viz.json`,
    checkpoint,
    gamma,
    requested: { images: count, unseenOnly: o.unseenOnly ?? false, files: [...(o.files ?? [])] },
    pictures,
  };
  await Deno.writeTextFile(result.json, JSON.stringify(result, null, 1) + "\n");
  await Deno.writeTextFile(result.html, vizHtml(result, config, data));
  return result;
}

/** A caption for one picture (HTML). */
export function pictureCaption(p: VizPicture): string {
  const ok = p.predictedGzsl === p.trueClass;
  const mark = (good: boolean) => `style="color:${good ? "#0a7a2a" : "#b00"}"`;
  return `<b>${esc(p.trueClass)}</b> (${p.unseen ? "unseen" : "seen"}) · predicted (GZSL, ` +
    `calibrated) <span ${mark(ok)}>${esc(p.predictedGzsl)}</span>` +
    (p.predictedZsl !== null
      ? ` · ZSL <span ${mark(p.predictedZsl === p.trueClass)}>${esc(p.predictedZsl)}</span>`
      : "") +
    `<br>top predicted attributes: ${
      p.attributes.map((a) => `${esc(a.name)} ${a.value.toFixed(2)} ${a.inClass ? "✓" : "✗"}`).join(
        ", ",
      )
    }` +
    `<br>true class attributes: ${esc(p.trueAttributes.join(", ") || "–")}` +
    (ok ? "" : `<br>predicted class attributes: ${esc(p.predictedAttributes.join(", ") || "–")}`) +
    (p.box ? `<br>AC box: rows ${p.box.y0}–${p.box.y1}, columns ${p.box.x0}–${p.box.x1}` : "");
}

/** The page. */
export function vizHtml(r: VizResult, config: TrainConfig, data: TrainData): string {
  const rel = (f: string) => f; // picture files are relative to `out`
  const figs = r.pictures.map((p) =>
    `<figure><img src="${esc(rel(p.file))}" alt="${esc(p.trueClass)}"><figcaption>${
      pictureCaption(p)
    }<br><small>${esc(p.image)} · panels: ${
      esc(p.panels.join(" | "))
    }</small></figcaption></figure>`
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>DSVA pictures ${
    esc(r.runDir)
  }</title><style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1180px;color:#222}
figure{margin:14px 0}figcaption{font-size:13px;color:#333}h1{font-size:20px}</style></head><body>
<h1>Attention maps — <code>${esc(r.runDir)}</code></h1>
<p>${esc(data.split)} of ${
    esc(data.root)
  }: ${data.seen.length} seen, ${data.unseen.length} unseen classes, ${data.numAttributes} attributes. Backbone ${
    esc(config.backbone.kind === "vit" ? `${config.backbone.preset} ViT` : config.backbone.kind)
  }, recipe ${esc(config.recipe)}, AC ${
    config.ac.enabled ? "on" : "off"
  } in training. Checkpoint <code>${esc(r.checkpoint)}</code>; calibrated-stacking γ = ${
    Number(r.gamma.toPrecision(4))
  }.</p>
<p>Panels, left to right: the test image with the Attention Concentration crop box (green); the
AC's group-averaged map with the box; the VAM attention maps of the image's strongest predicted
attributes (heat: black → red → yellow). ✓ / ✗: whether the attribute belongs to the true class.</p>
${figs.join("\n")}
</body></html>
`;
}

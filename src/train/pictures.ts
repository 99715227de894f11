/** Pictures for the report: attention maps of the VAM's top attributes over test images with the
 * AC crop box drawn, titled panel by panel (./picture_text.ts). PNGs written with sharp
 * (src/data/image.ts); the confusion matrix is in ./confusion_picture.ts. */
import { decodeImage, type RgbImage, writePng } from "../data/image.ts";
import type { Sample } from "../data/loader.ts";
import { Rng } from "../data/rng.ts";
import { imagesToTensor } from "../data/tensor.ts";
import type { Box } from "../dsva/ac_box.ts";
import type { DSVA } from "../dsva/model.ts";
import type { Device } from "../tensor/device.ts";
import { interpolate, noGrad, scope, type Tensor } from "../tensor/index.ts";
import type { TrainData } from "./data.ts";
import { maybeAutocast, normalizationOf, testTransform } from "./scoring.ts";
import { drawLabels, fitSize, padImage, type TextLabel } from "./picture_text.ts";
import type { TrainConfig } from "../config/types.ts";

/** One attention picture. */
export interface AttentionPicture {
  /** PNG file, relative to the run folder. */
  file: string;
  /** The test image. */
  image: string;
  trueClass: string;
  unseen: boolean;
  /** GZSL prediction of the VAM branch (calibrated stacking at the run's γ) and, for an unseen
   * image, the ZSL one. */
  predictedGzsl: string;
  predictedZsl: string | null;
  /** The top attributes (the panels after the first two), with their VAM values. */
  attributes: { name: string; value: number; inClass: boolean }[];
  /** The AC box in input pixels (rows `[y0, y1)`, columns `[x0, x1)`). */
  box: Box | null;
  /** The panels, left to right. */
  panels: string[];
}

const PANEL = 160, GAP = 4, TOP = 3;

/** `[1, C, H, W]` float (0–255) → an RgbImage. */
function toRgb(t: Tensor): RgbImage {
  return scope(() => {
    const [, , h, w] = t.shape;
    const hwc = t.clamp(0, 255).round().to("uint8").squeeze(0).permute(1, 2, 0).contiguous().cpu();
    return { width: w, height: h, data: new Uint8Array(hwc.toTypedArray() as Uint8Array) };
  });
}

/** A heat colour for m ∈ [0, 1] (black → red → yellow → white). */
function heat(m: number): [number, number, number] {
  const v = Math.max(0, Math.min(1, m));
  return [
    Math.min(1, v * 3) * 255,
    Math.min(1, Math.max(0, v * 3 - 1)) * 255,
    Math.max(0, v * 3 - 2) * 255,
  ];
}

/** `base` with the map `m` (`size²`, any range; min-max normalised here) blended over it. */
function overlay(base: RgbImage, m: Float32Array): RgbImage {
  let lo = Infinity, hi = -Infinity;
  for (const v of m) {
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const out = new Uint8Array(base.data.length);
  for (let i = 0; i < m.length; i++) {
    const v = Number.isFinite(m[i]) ? (m[i] - lo) / span : 0;
    const [r, g, b] = heat(v);
    const a = 0.7 * v;
    out[i * 3] = base.data[i * 3] * (1 - a) + r * a;
    out[i * 3 + 1] = base.data[i * 3 + 1] * (1 - a) + g * a;
    out[i * 3 + 2] = base.data[i * 3 + 2] * (1 - a) + b * a;
  }
  return { width: base.width, height: base.height, data: out };
}

/** Draws a 2-pixel rectangle (box in `scale`d coordinates) in place. */
function drawBox(img: RgbImage, box: Box, scale: number, color = [40, 255, 80]): void {
  const x0 = Math.round(box.x0 * scale), x1 = Math.round(box.x1 * scale) - 1;
  const y0 = Math.round(box.y0 * scale), y1 = Math.round(box.y1 * scale) - 1;
  const put = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    img.data.set(color, (y * img.width + x) * 3);
  };
  for (let t = 0; t < 2; t++) {
    for (let x = x0; x <= x1; x++) {
      put(x, y0 + t);
      put(x, y1 - t);
    }
    for (let y = y0; y <= y1; y++) {
      put(x0 + t, y);
      put(x1 - t, y);
    }
  }
}

/** Panels side by side on a white strip. */
function strip(panels: RgbImage[]): RgbImage {
  const h = Math.max(...panels.map((p) => p.height));
  const w = panels.reduce((a, p) => a + p.width, 0) + GAP * (panels.length - 1);
  const data = new Uint8Array(w * h * 3).fill(255);
  let x0 = 0;
  for (const p of panels) {
    for (let y = 0; y < p.height; y++) {
      data.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), (y * w + x0) * 3);
    }
    x0 += p.width + GAP;
  }
  return { width: w, height: h, data };
}

/** What an attention picture's words say. */
export interface AttentionCaption {
  trueClass: string;
  unseen: boolean;
  predictedGzsl: string;
  predictedZsl: string | null;
  /** The calibrated-stacking γ of the GZSL prediction. */
  gamma: number;
  hasBox: boolean;
  /** Whether the second panel is the AC map (the AC ran). */
  hasAcMap: boolean;
  attributes: { name: string; value: number; inClass: boolean }[];
}

/** Where the words and the panel strip go on an attention picture (pixels). */
export interface AttentionLayout {
  width: number;
  height: number;
  /** The top row of the panel strip. */
  stripY: number;
  labels: TextLabel[];
}

const LINE = 14, HEAD_SIZE = 12, LINE_SIZE = 11, FOOT_SIZE = 10, MARGIN = 6;
const GOOD = "#1b7a2e", BAD = "#c0392b", QUIET = "#555";

/** Titles over each panel and a key under the strip, for panels `panelSize` px square. */
export function attentionLayout(c: AttentionCaption, panelSize = PANEL): AttentionLayout {
  type Line = { text: string; color?: string; bold?: boolean };
  const verdict = (p: string) => (p === c.trueClass ? GOOD : BAD);
  const titles: Line[][] = [[
    { text: c.hasBox ? "image + AC box" : "image", bold: true },
    { text: `true: ${c.trueClass} (${c.unseen ? "unseen" : "seen"})` },
    { text: `GZSL: ${c.predictedGzsl}`, color: verdict(c.predictedGzsl) },
    ...(c.predictedZsl === null
      ? []
      : [{ text: `ZSL: ${c.predictedZsl}`, color: verdict(c.predictedZsl) }]),
  ]];
  if (c.hasAcMap) {
    titles.push([
      { text: "AC map", bold: true },
      { text: "group-averaged" },
      ...(c.hasBox ? [{ text: "+ AC box" }] : []),
    ]);
  }
  for (const a of c.attributes) {
    titles.push([
      { text: a.name, bold: true },
      { text: `VAM value ${a.value.toFixed(2)}` },
      a.inClass
        ? { text: "in the true class", color: GOOD }
        : { text: "not in the true class", color: QUIET },
    ]);
  }
  const width = titles.length * panelSize + GAP * (titles.length - 1);
  const stripY = MARGIN + Math.max(...titles.map((t) => t.length)) * LINE + 4;
  const labels: TextLabel[] = titles.flatMap((lines, p) =>
    lines.map((l, j) => {
      const size = j === 0 ? HEAD_SIZE : LINE_SIZE;
      return {
        text: l.text,
        x: p * (panelSize + GAP) + 2,
        y: MARGIN + (j + 1) * LINE - 3,
        size: fitSize(l.text, panelSize - 4, size, l.bold),
        bold: l.bold,
        color: l.color,
      };
    })
  );
  const key = [
    "heat: black → red → yellow → white = each map's minimum → maximum" +
    (c.hasBox ? " · green box: the AC crop" : ""),
    `GZSL: predicted among all classes (calibrated stacking, γ = ${
      Number(c.gamma.toPrecision(4))
    })` +
    " · ZSL: among the unseen classes only",
  ];
  key.forEach((text, j) =>
    labels.push({
      text,
      x: 2,
      y: stripY + panelSize + (j + 1) * LINE,
      size: fitSize(text, width - 4, FOOT_SIZE),
      color: QUIET,
    })
  );
  return { width, height: stripY + panelSize + key.length * LINE + MARGIN, stripY, labels };
}

/** The panels side by side under their titles, with the key below (see {@link attentionLayout}). */
export function attentionPicture(panels: RgbImage[], caption: AttentionCaption): Promise<RgbImage> {
  const layout = attentionLayout(caption, panels[0].width);
  const body = strip(panels);
  return drawLabels(padImage(body, layout.width, layout.height, 0, layout.stripY), layout.labels);
}

/** Up to `count` test images, alternating unseen and seen classes, one class after another. */
export function pictureSamples(data: TrainData, count: number): Sample[] {
  const order = [...data.unseen, ...data.seen];
  const byClass = new Map<number, Sample[]>();
  for (const s of [...data.testUnseen, ...data.testSeen]) {
    if (!byClass.has(s.label)) byClass.set(s.label, []);
    byClass.get(s.label)!.push(s);
  }
  const u = data.unseen.filter((c) => byClass.has(c)), s = data.seen.filter((c) => byClass.has(c));
  const inter: number[] = [];
  for (let i = 0; i < Math.max(u.length, s.length); i++) {
    if (i < u.length) inter.push(u[i]);
    if (i < s.length) inter.push(s[i]);
  }
  const classes = inter.length ? inter : order;
  const out: Sample[] = [];
  for (let round = 0; out.length < count && round < 100; round++) {
    let any = false;
    for (const c of classes) {
      const list = byClass.get(c) ?? [];
      if (round < list.length && out.length < count) {
        out.push(list[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

/** Writes one PNG per image into `<runDir>/pictures/`: the image with the AC box, the AC's fused
 * map with the box, and the VAM attention maps of the image's top attributes. */
export async function attentionPictures(
  model: DSVA,
  data: TrainData,
  config: TrainConfig,
  classAttributes: Tensor,
  runDir: string,
  count: number,
  gamma = 0,
): Promise<AttentionPicture[]> {
  if (count <= 0) return [];
  await Deno.mkdir(`${runDir}/pictures`, { recursive: true });
  const device = config.device as Device;
  const norm = normalizationOf(config);
  const tf = testTransform(config);
  const unseenSet = new Set(data.unseen);
  const seenSet = new Set(data.seen);
  const classSets = data.classes.map((_, c) =>
    new Set(
      Array.from({ length: data.numAttributes }, (_, k) => k).filter((k) =>
        data.attributes[c * data.numAttributes + k] > 0
      ),
    )
  );
  const wasTraining = model.training;
  model.eval();
  const out: AttentionPicture[] = [];
  try {
    for (const [i, s] of pictureSamples(data, count).entries()) {
      const img = tf.apply(await decodeImage(s.path), new Rng(0));
      const scale = PANEL / img.width;
      const r = noGrad(() =>
        scope(() => {
          const x = imagesToTensor([img], norm, device);
          const o = maybeAutocast(
            config,
            () =>
              model.forward(x, classAttributes, {
                useAC: true,
                keepAcMaps: true,
              }),
          );
          const attrs = o.attributes.float().squeeze(0).cpu().toTypedArray() as Float32Array;
          const top = Array.from(attrs, (v, k) => [v, k] as const).sort((a, b) => b[0] - a[0])
            .slice(0, TOP).map(([, k]) => k);
          const up = (m: Tensor) =>
            interpolate(m.float(), { size: [PANEL, PANEL], mode: "bilinear", alignCorners: false })
              .squeeze(0).squeeze(0).cpu().toTypedArray() as Float32Array;
          const maps = top.map((k) => up(o.attentionMaps.narrow(1, k, 1)));
          const acMap = o.acRounds?.[0]?.map ? up(o.acRounds[0].map.unsqueeze(1)) : null;
          const pixels = imagesToTensor([img], {
            mean: [0, 0, 0],
            std: [1 / 255, 1 / 255, 1 / 255],
          });
          const big = toRgb(
            interpolate(pixels, { size: [PANEL, PANEL], mode: "bilinear", alignCorners: false }),
          );
          const probs = o.vamLogits.float().softmax(1).squeeze(0).cpu()
            .toTypedArray() as Float32Array;
          const shifted = Array.from(probs, (p, c) => (seenSet.has(c) ? p - gamma : p));
          let g = 0;
          for (let c = 1; c < shifted.length; c++) if (shifted[c] > shifted[g]) g = c;
          let z = data.unseen[0];
          for (const c of data.unseen) if (probs[c] > probs[z]) z = c;
          return {
            top,
            attrs,
            maps,
            acMap,
            big,
            g,
            z,
            box: o.boxes?.[0] ?? null,
          };
        })
      );
      const panels: RgbImage[] = [];
      const names: string[] = [];
      const first = { ...r.big, data: r.big.data.slice() };
      if (r.box) drawBox(first, r.box, scale);
      panels.push(first);
      names.push("image + AC box");
      if (r.acMap) {
        const p = overlay(r.big, r.acMap);
        if (r.box) drawBox(p, r.box, scale);
        panels.push(p);
        names.push("AC map (group-averaged) + box");
      }
      r.top.forEach((k, j) => {
        panels.push(overlay(r.big, r.maps[j]));
        names.push(`attention: ${data.attributeNames[k]}`);
      });
      const file = `pictures/attention_${String(i).padStart(2, "0")}.png`;
      const unseen = unseenSet.has(s.label);
      const picture = {
        file,
        image: s.path,
        trueClass: data.classes[s.label],
        unseen,
        predictedGzsl: data.classes[r.g],
        predictedZsl: unseen ? data.classes[r.z] : null,
        attributes: r.top.map((k) => ({
          name: data.attributeNames[k],
          value: r.attrs[k],
          inClass: classSets[s.label].has(k),
        })),
      };
      const caption = { ...picture, gamma, hasBox: r.box !== null, hasAcMap: r.acMap !== null };
      await writePng(`${runDir}/${file}`, await attentionPicture(panels, caption));
      out.push({
        ...picture,
        box: r.box,
        panels: names,
      });
    }
  } finally {
    model.train(wasTraining);
  }
  return out;
}

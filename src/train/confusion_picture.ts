/** The GZSL confusion matrix as a PNG that explains itself: a title, class names on both axes
 * (unseen classes marked), axis titles and a colour scale with its range. */
import { type RgbImage, writePng } from "../data/image.ts";
import { drawLabels, fitSize, padImage, type TextLabel, textWidth } from "./picture_text.ts";

/** One class along the axes, in matrix order. */
export interface ConfusionClass {
  name: string;
  unseen: boolean;
}

/** Where everything goes on the picture (pixels). */
export interface ConfusionLayout {
  width: number;
  height: number;
  /** The matrix's top-left pixel and its cell size (each cell has a 1-pixel grid line). */
  matrix: { x: number; y: number; cell: number };
  /** The colour scale: 1 at the top, 0 at the bottom. */
  bar: { x: number; y: number; width: number; height: number };
  labels: TextLabel[];
}

const PAD = 10, AXIS_SIZE = 12, TITLE_SIZE = 14, NOTE_SIZE = 11, BAR_WIDTH = 14;
const UNSEEN_COLOUR = "#c05000";
/** The axis name of an unseen class ends with this. */
export const UNSEEN_MARK = " (u)";

/** A cell's colour for a row fraction v ∈ [0, 1] (white → dark blue). */
export function confusionColour(v: number): [number, number, number] {
  return [255 - 247 * v, 255 - 207 * v, 255 - 148 * v].map(Math.round) as [number, number, number];
}

/** The picture's layout for `classes` (rows and columns in the same order) under `title`. */
export function confusionLayout(
  classes: readonly ConfusionClass[],
  title: string,
): ConfusionLayout {
  const k = classes.length;
  const cell = Math.max(6, Math.min(24, Math.floor(480 / k)));
  const size = Math.min(12, Math.max(6, cell - 4));
  const names = classes.map((c) => c.name + (c.unseen ? UNSEEN_MARK : ""));
  const nameWidth = Math.max(0, ...names.map((n) => textWidth(n, size)));
  const notes = [
    "rows: true class · columns: predicted class · each row normalised to sum 1",
    `${UNSEEN_MARK.trim()}, orange: unseen class · red lines split seen | unseen`,
  ];
  const x = Math.ceil(PAD + AXIS_SIZE + 6 + nameWidth + 6);
  const y = PAD + TITLE_SIZE + 6 + notes.length * (NOTE_SIZE + 4) + 6;
  const side = k * cell + 1;
  const bar = { x: x + side + 16, y, width: BAR_WIDTH, height: k * cell };
  const tickX = bar.x + bar.width + 4;
  const barTitleX = tickX + textWidth("0.5", NOTE_SIZE) + 4 + NOTE_SIZE;
  const barTitle = "fraction of the row";
  const below = y + side + 4;
  const predictedY = Math.ceil(below + nameWidth + 6 + AXIS_SIZE);
  const labels: TextLabel[] = [
    { text: title, x: PAD, y: PAD + TITLE_SIZE, size: TITLE_SIZE, bold: true },
    ...notes.map((text, i) => ({
      text,
      x: PAD,
      y: PAD + TITLE_SIZE + 6 + (i + 1) * (NOTE_SIZE + 4) - 4,
      size: NOTE_SIZE,
      color: "#444",
    })),
    {
      text: "true class",
      x: PAD + AXIS_SIZE,
      y: y + side / 2,
      size: AXIS_SIZE,
      bold: true,
      anchor: "middle",
      rotate: -90,
    },
    {
      text: "predicted class",
      x: x + side / 2,
      y: predictedY,
      size: AXIS_SIZE,
      bold: true,
      anchor: "middle",
    },
    ...names.map((text, r): TextLabel => ({
      text,
      x: x - 4,
      y: y + r * cell + cell / 2 + 0.35 * size + 0.5,
      size,
      anchor: "end",
      color: classes[r].unseen ? UNSEEN_COLOUR : undefined,
    })),
    ...names.map((text, c): TextLabel => ({
      text,
      x: x + c * cell + cell / 2 + 0.35 * size + 0.5,
      y: below,
      size,
      anchor: "end",
      rotate: -90,
      color: classes[c].unseen ? UNSEEN_COLOUR : undefined,
    })),
    ...[1, 0.5, 0].map((v): TextLabel => ({
      text: String(v),
      x: tickX,
      y: bar.y + (1 - v) * bar.height + 0.35 * NOTE_SIZE,
      size: NOTE_SIZE,
    })),
    {
      text: barTitle,
      x: barTitleX,
      y: bar.y + bar.height / 2,
      size: fitSize(barTitle, bar.height, NOTE_SIZE),
      anchor: "middle",
      rotate: -90,
      color: "#444",
    },
  ];
  const textRight = Math.max(
    textWidth(title, TITLE_SIZE, true),
    ...notes.map((n) => textWidth(n, NOTE_SIZE)),
  );
  const width = Math.ceil(Math.max(barTitleX + PAD, PAD + textRight + PAD));
  return { width, height: predictedY + PAD, matrix: { x, y, cell }, bar, labels };
}

/** The confusion matrix as a PNG: rows = true test classes (seen, then unseen), columns = every
 * class in the same order, each row normalised (white → dark blue, scale at the right); red lines
 * separate seen from unseen. `classNames` are indexed by class id. Returns the class order. */
export async function confusionPng(
  path: string,
  predictions: Int32Array,
  labels: Int32Array,
  seen: readonly number[],
  unseen: readonly number[],
  text: { classNames: readonly string[]; title: string },
): Promise<number[]> {
  const order = [...seen, ...unseen];
  const pos = new Map(order.map((c, i) => [c, i]));
  const k = order.length;
  const counts = new Float64Array(k * k), support = new Float64Array(k);
  for (let i = 0; i < labels.length; i++) {
    const r = pos.get(labels[i]), c = pos.get(predictions[i]);
    if (r === undefined || c === undefined) continue;
    counts[r * k + c]++;
    support[r]++;
  }
  const layout = confusionLayout(
    order.map((c, i) => ({ name: text.classNames[c] ?? String(c), unseen: i >= seen.length })),
    text.title,
  );
  const { cell } = layout.matrix;
  const w = k * cell + 1, h = k * cell + 1;
  const data = new Uint8Array(w * h * 3).fill(200);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) {
      const col = confusionColour(support[r] > 0 ? counts[r * k + c] / support[r] : 0);
      for (let y = 1; y < cell; y++) {
        for (let x = 1; x < cell; x++) data.set(col, ((r * cell + y) * w + c * cell + x) * 3);
      }
    }
  }
  const line = seen.length * cell;
  for (let t = 0; t < w; t++) {
    data.set([220, 30, 30], (line * w + t) * 3);
    data.set([220, 30, 30], (t * w + line) * 3);
  }
  const canvas = padImage(
    { width: w, height: h, data },
    layout.width,
    layout.height,
    layout.matrix.x,
    layout.matrix.y,
  );
  drawScale(canvas, layout.bar);
  await writePng(path, await drawLabels(canvas, layout.labels));
  return order;
}

/** The colour scale in place: 1 at the top, 0 at the bottom, with a grey frame. */
function drawScale(img: RgbImage, bar: ConfusionLayout["bar"]): void {
  for (let y = -1; y <= bar.height; y++) {
    const col = y < 0 || y === bar.height
      ? null
      : confusionColour(1 - y / Math.max(1, bar.height - 1));
    for (let x = -1; x <= bar.width; x++) {
      const frame = col === null || x < 0 || x === bar.width;
      img.data.set(frame ? [150, 150, 150] : col!, ((bar.y + y) * img.width + bar.x + x) * 3);
    }
  }
}

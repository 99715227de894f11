/**
 * The words on the run's PNG pictures: the confusion matrix's title, class names on both axes
 * (unseen marked), axis titles and colour scale; the attention pictures' panel titles and key.
 * Each layout is checked as data (what it says), then rendered for real and decoded: the margins
 * where text goes must hold dark (ink) pixels, which a canvas without its text layer does not
 * (so the test fails when no font renders), and the pixel panels must be unchanged under it.
 */
import assert from "node:assert/strict";
import { decodeImage, type RgbImage } from "../src/data/image.ts";
import {
  confusionColour,
  confusionLayout,
  confusionPng,
  UNSEEN_MARK,
} from "../src/train/confusion_picture.ts";
import { escapeMarkup } from "../src/io/markup.ts";
import { drawLabels, padImage, textLayerSvg } from "../src/train/picture_text.ts";
import { type AttentionCaption, attentionLayout, attentionPicture } from "../src/train/pictures.ts";

/** Pixels in the rectangle `[x0, x1) × [y0, y1)` darker than 110 in every channel. */
function ink(img: RgbImage, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) {
      const i = (y * img.width + x) * 3;
      if (img.data[i] < 110 && img.data[i + 1] < 110 && img.data[i + 2] < 110) n++;
    }
  }
  return n;
}

const pixel = (img: RgbImage, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

const NAMES = ["meadow", "forest", "lake", "river", "beach", "bridge", "center_pivot", "desert"];
const SEEN = [0, 1, 2, 3, 4], UNSEEN = [5, 6, 7];

Deno.test("confusion layout: title, class names on both axes, unseen marked, scale", () => {
  const classes = [...SEEN, ...UNSEEN].map((c, i) => ({ name: NAMES[c], unseen: i >= 5 }));
  const l = confusionLayout(classes, "GZSL confusion matrix, VAM branch, γ = 0.5");
  const texts = l.labels.map((x) => x.text);
  assert.equal(texts[0], "GZSL confusion matrix, VAM branch, γ = 0.5");
  for (const t of ["true class", "predicted class", "1", "0.5", "0", "fraction of the row"]) {
    assert.ok(texts.includes(t), t);
  }
  for (const c of SEEN) assert.equal(texts.filter((t) => t === NAMES[c]).length, 2, NAMES[c]);
  for (const c of UNSEEN) {
    assert.equal(texts.filter((t) => t === NAMES[c] + UNSEEN_MARK).length, 2, NAMES[c]);
    assert.ok(!texts.includes(NAMES[c]), `${NAMES[c]} is marked unseen`);
  }
  // Rows: right-aligned left of the matrix, one per row, top to bottom; columns: below it.
  const rows = l.labels.filter((x) => x.anchor === "end" && !x.rotate);
  const cols = l.labels.filter((x) => x.anchor === "end" && x.rotate === -90);
  assert.equal(rows.length, 8);
  assert.equal(cols.length, 8);
  for (let i = 1; i < 8; i++) {
    assert.ok(Math.abs(rows[i].y - rows[i - 1].y - l.matrix.cell) < 1e-9);
    assert.ok(Math.abs(cols[i].x - cols[i - 1].x - l.matrix.cell) < 1e-9);
  }
  assert.ok(rows.every((x) => x.x < l.matrix.x));
  assert.ok(cols.every((x) => x.y > l.matrix.y + 8 * l.matrix.cell));
  // Everything inside the canvas.
  for (const x of l.labels) {
    assert.ok(x.x >= 0 && x.x <= l.width && x.y >= 0 && x.y <= l.height, JSON.stringify(x));
  }
  assert.ok(l.bar.x + l.bar.width < l.width && l.bar.height === 8 * l.matrix.cell);
});

Deno.test("confusion.png: the text is rendered, the cells and scale keep their colours", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva_pictures_" });
  try {
    // Every class right except two unseen images predicted as a seen class.
    const labels = Int32Array.from([0, 1, 2, 3, 4, 5, 5, 6, 7, 7]);
    const preds = Int32Array.from([0, 1, 2, 3, 4, 5, 1, 6, 7, 2]);
    const path = `${dir}/confusion.png`;
    const order = await confusionPng(path, preds, labels, SEEN, UNSEEN, {
      classNames: NAMES,
      title: "GZSL confusion matrix, VAM branch, γ = 0.5",
    });
    assert.deepEqual(order, [...SEEN, ...UNSEEN]);
    const img = await decodeImage(path);
    const l = confusionLayout(
      order.map((c, i) => ({ name: NAMES[c], unseen: i >= 5 })),
      "GZSL confusion matrix, VAM branch, γ = 0.5",
    );
    assert.deepEqual([img.width, img.height], [l.width, l.height]);
    const { x, y, cell } = l.matrix, side = 8 * cell;
    // Ink where the words go: the title, the row names, the column names, the scale's ticks.
    assert.ok(ink(img, 0, 0, img.width, y - 2) > 200, "title");
    assert.ok(ink(img, 20, y, x - 2, y + side) > 100, "row names");
    assert.ok(ink(img, x, y + side + 3, x + side, img.height) > 100, "column names");
    assert.ok(ink(img, l.bar.x + l.bar.width + 2, y, img.width, y + side) > 30, "scale ticks");
    // The cells: full diagonal rows dark blue, half rows half, an empty cell white.
    const centre = (r: number, c: number) =>
      pixel(img, x + c * cell + cell / 2, y + r * cell + cell / 2);
    assert.deepEqual(centre(0, 0), confusionColour(1));
    assert.deepEqual(centre(5, 5), confusionColour(0.5));
    assert.deepEqual(centre(5, 1), confusionColour(0.5));
    assert.deepEqual(centre(0, 1), confusionColour(0));
    // The seen | unseen line.
    assert.deepEqual(pixel(img, x + 5 * cell, y + 2), [220, 30, 30]);
    // The scale: dark at the top, white at the bottom.
    const bx = l.bar.x + l.bar.width / 2;
    assert.deepEqual(pixel(img, bx, l.bar.y), confusionColour(1));
    assert.deepEqual(pixel(img, bx, l.bar.y + l.bar.height - 1), confusionColour(0));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const CAPTION: AttentionCaption = {
  trueClass: "center_pivot",
  unseen: true,
  predictedGzsl: "farmland",
  predictedZsl: "center_pivot",
  gamma: 0.4583,
  hasBox: true,
  hasAcMap: true,
  attributes: [
    { name: "round_structures", value: 0.8312, inClass: true },
    { name: "crops", value: 0.51, inClass: true },
    { name: "pavement", value: 0.2, inClass: false },
  ],
};

Deno.test("attention layout: a title over every panel, the classes, the attributes", () => {
  const l = attentionLayout(CAPTION, 160);
  const texts = l.labels.map((x) => x.text);
  for (
    const t of [
      "image + AC box",
      "true: center_pivot (unseen)",
      "GZSL: farmland",
      "ZSL: center_pivot",
      "AC map",
      "round_structures",
      "VAM value 0.83",
      "crops",
      "VAM value 0.51",
      "pavement",
      "VAM value 0.20",
      "not in the true class",
    ]
  ) assert.ok(texts.includes(t), t);
  assert.ok(texts.some((t) => t.includes("γ = 0.4583")));
  // Each panel's bold title starts over its panel.
  const heads = l.labels.filter((x) => x.bold);
  assert.deepEqual(heads.map((x) => x.x), [0, 1, 2, 3, 4].map((p) => p * 164 + 2));
  assert.ok(heads.every((x) => x.y < l.stripY));
  assert.equal(l.width, 5 * 160 + 4 * 4);
  // Without the AC: no AC map panel, no box.
  const noAc = attentionLayout({ ...CAPTION, hasAcMap: false, hasBox: false }, 160);
  const t2 = noAc.labels.map((x) => x.text);
  assert.ok(t2.includes("image") && !t2.includes("AC map") && !t2.includes("image + AC box"));
  assert.equal(noAc.width, 4 * 160 + 3 * 4);
});

Deno.test("attention picture: titles and key rendered, the panels' pixels unchanged", async () => {
  const panel = (v: number): RgbImage => ({
    width: 160,
    height: 160,
    data: new Uint8Array(160 * 160 * 3).fill(v),
  });
  const panels = [40, 90, 140, 190, 230].map(panel);
  const img = await attentionPicture(panels, CAPTION);
  const l = attentionLayout(CAPTION, 160);
  assert.deepEqual([img.width, img.height], [l.width, l.height]);
  for (let p = 0; p < 5; p++) {
    assert.ok(ink(img, p * 164, 0, p * 164 + 160, l.stripY) > 100, `panel ${p} title`);
    const v = [40, 90, 140, 190, 230][p];
    assert.deepEqual(pixel(img, p * 164 + 80, l.stripY + 80), [v, v, v]);
    assert.deepEqual(pixel(img, p * 164, l.stripY), [v, v, v]);
    assert.deepEqual(pixel(img, p * 164 + 159, l.stripY + 159), [v, v, v]);
  }
  assert.ok(ink(img, 0, l.stripY + 160, img.width, img.height) > 200, "key under the panels");
});

Deno.test("text layer: names are escaped, and a blank canvas gets ink only from its labels", async () => {
  const svg = textLayerSvg(100, 20, [{ text: `a<b & "c"`, x: 2, y: 14, size: 12 }]);
  assert.match(svg, /a&lt;b &amp; &quot;c&quot;/);
  assert.equal(escapeMarkup(`<'&>`), "&lt;&apos;&amp;&gt;");
  const blank = padImage({ width: 0, height: 0, data: new Uint8Array(0) }, 100, 20, 0, 0);
  assert.equal(ink(blank, 0, 0, 100, 20), 0);
  const drawn = await drawLabels(blank, [{ text: `a<b & "c"`, x: 2, y: 14, size: 12 }]);
  assert.ok(ink(drawn, 0, 0, 100, 20) > 20, "rendered with a font");
  assert.equal(ink(await drawLabels(blank, []), 0, 0, 100, 20), 0);
});

/** The leftmost and rightmost columns holding ink. */
function inkColumns(img: RgbImage): [number, number] {
  let lo = img.width, hi = -1;
  for (let x = 0; x < img.width; x++) {
    if (ink(img, x, 0, x + 1, img.height) > 0) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
  }
  return [lo, hi];
}

Deno.test("text layer: set in a real font (a machine without one draws same-width boxes)", async () => {
  const blank = padImage({ width: 0, height: 0, data: new Uint8Array(0) }, 300, 24, 0, 0);
  const span = async (text: string) => {
    const [lo, hi] = inkColumns(await drawLabels(blank, [{ text, x: 2, y: 18, size: 16 }]));
    return hi - lo + 1;
  };
  const narrow = await span("iiiiiiiiii"), wide = await span("MMMMMMMMMM");
  assert.ok(
    narrow > 0 && wide > 2 * narrow,
    `"M"×10 is ${wide} px wide, "i"×10 ${narrow} px: no font?`,
  );
});

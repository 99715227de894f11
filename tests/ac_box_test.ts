/**
 * Parity of the Attention Concentration box step (src/dsva/ac_box.ts) with the official code's
 * `skimage.measure.label` + `regionprops` (tests/oracle/ac_box.py):
 *
 * * label parity: random masks (Bernoulli at several densities, random blobs, edge cases) on
 *   7×7, 14×14, 31×17 and 224×224 grids — the whole label image, the component count, every area
 *   and bbox, the largest-component choice (ties included) and the final box must be identical;
 * * pipeline parity: random attention maps run through the official float32 torch pipeline
 *   (min-max, group mean, bilinear upsampling, `map > mean * thr`) — our mask and box from the
 *   same averaged map must be identical (torch's own mean passed in, and our own mean: counted).
 */
import assert from "node:assert/strict";
import { torch } from "../mod.ts";
import {
  acBox,
  acBoxes,
  acMask,
  boxFromMask,
  labelComponents,
  largestComponent,
} from "../src/dsva/ac_box.ts";
import { mulberry32, ROOT, runPython } from "./helpers.ts";

const ORACLE = `${ROOT}/tests/oracle/ac_box.py`;

function toB64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
function fromB64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

interface MaskCase {
  name: string;
  h: number;
  w: number;
  mask: Uint8Array;
}

function bernoulli(rand: () => number, h: number, w: number, p: number): Uint8Array {
  return Uint8Array.from({ length: h * w }, () => (rand() < p ? 1 : 0));
}

/** Random blobs: a sum of Gaussian bumps thresholded at its mean (like an AC mask). */
function blobs(rand: () => number, h: number, w: number, k: number): Uint8Array {
  const cy = Array.from({ length: k }, () => rand() * h);
  const cx = Array.from({ length: k }, () => rand() * w);
  const sd = Array.from({ length: k }, () => 2 + rand() * Math.min(h, w) / 8);
  const amp = Array.from({ length: k }, () => 0.3 + rand());
  const v = new Float64Array(h * w);
  let mean = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = 0; j < k; j++) {
        s += amp[j] * Math.exp(-((y - cy[j]) ** 2 + (x - cx[j]) ** 2) / (2 * sd[j] ** 2));
      }
      v[y * w + x] = s;
      mean += s;
    }
  }
  mean /= h * w;
  return Uint8Array.from(v, (s) => (s > mean * 1.2 ? 1 : 0));
}

function maskCases(): MaskCase[] {
  const cases: MaskCase[] = [];
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const rand = mulberry32(seed * 7919);
    for (const [h, w] of [[7, 7], [14, 14], [31, 17], [224, 224]]) {
      for (const p of [0.05, 0.2, 0.35, 0.5, 0.65]) {
        if (h === 224 && p !== 0.35 && p !== 0.5) continue;
        cases.push({ name: `bern s${seed} ${h}x${w} p${p}`, h, w, mask: bernoulli(rand, h, w, p) });
      }
    }
    for (let j = 0; j < 6; j++) {
      cases.push({
        name: `sparse s${seed}.${j} 7x7`,
        h: 7,
        w: 7,
        mask: bernoulli(rand, 7, 7, 0.1),
      });
    }
    for (const [h, w, k] of [[224, 224, 6], [224, 224, 12], [14, 14, 3], [64, 48, 5]]) {
      cases.push({ name: `blobs s${seed} ${h}x${w} k${k}`, h, w, mask: blobs(rand, h, w, k) });
    }
  }
  // Edge cases.
  const z = (h: number, w: number) => new Uint8Array(h * w);
  cases.push({ name: "empty 7x7", h: 7, w: 7, mask: z(7, 7) });
  cases.push({ name: "full 14x14", h: 14, w: 14, mask: z(14, 14).fill(1) });
  cases.push({
    name: "checkerboard 7x7 (one 8-connected component)",
    h: 7,
    w: 7,
    mask: Uint8Array.from(
      { length: 49 },
      (_, i) => ((i % 7) + Math.floor(i / 7)) % 2 === 0 ? 1 : 0,
    ),
  });
  // Equal areas: a 2x2 square on the right starting on row 1, one on the left starting on row 2,
  // and a 4-pixel diagonal starting on row 0 at the far right: the diagonal is first in raster order.
  {
    const m = z(7, 7);
    for (const [y, x] of [[1, 4], [1, 5], [2, 4], [2, 5], [2, 0], [2, 1], [3, 0], [3, 1]]) {
      m[y * 7 + x] = 1;
    }
    for (const [y, x] of [[0, 3], [1, 2], [2, 2], [3, 3]]) m[y * 7 + x] = 1;
    cases.push({ name: "ties 7x7", h: 7, w: 7, mask: m });
  }
  {
    // Single pixels only: every component has area 1.
    const m = z(14, 14);
    for (let y = 1; y < 14; y += 2) for (let x = (y * 3) % 2; x < 14; x += 2) m[y * 14 + x] = 1;
    cases.push({ name: "isolated pixels 14x14", h: 14, w: 14, mask: m });
  }
  {
    // A "U": the right arm's first pixel is found before the arms join (union-find merge).
    const m = z(7, 7);
    for (let y = 0; y < 6; y++) m[y * 7 + 1] = m[y * 7 + 5] = 1;
    for (let x = 1; x <= 5; x++) m[6 * 7 + x] = 1;
    m[0 * 7 + 3] = 1; // an isolated pixel between the arms
    cases.push({ name: "U shape 7x7", h: 7, w: 7, mask: m });
  }
  cases.push({
    name: "one pixel corner 224",
    h: 224,
    w: 224,
    mask: (() => {
      const m = z(224, 224);
      m[224 * 224 - 1] = 1;
      return m;
    })(),
  });
  return cases;
}

interface LabelOut {
  labels: string;
  count: number;
  areas: number[];
  bboxes: number[][];
  box: number[];
  label: number;
}

Deno.test("AC labeling + box equal skimage.measure.label + regionprops (connectivity 2)", async () => {
  const cases = maskCases();
  const out = await runPython<LabelOut[]>(ORACLE, {
    mode: "label",
    masks: cases.map((c) => ({ h: c.h, w: c.w, bits: toB64(c.mask) })),
  });
  let ties = 0;
  let pixels = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const o = out[i];
    const comps = labelComponents(c.mask, c.h, c.w);
    const want = new Int32Array(fromB64(o.labels).buffer);
    const msg = c.name;
    assert.deepStrictEqual(comps.count, o.count, msg);
    let same = true;
    for (let p = 0; p < want.length; p++) if (want[p] !== comps.labels[p]) same = false;
    assert.deepStrictEqual(same, true, `${msg}: label images differ`);
    assert.deepStrictEqual(Array.from(comps.areas), o.areas, msg);
    const boxes = Array.from(
      { length: comps.count },
      (_, k) => Array.from(comps.boxes.subarray(4 * k, 4 * k + 4)),
    );
    assert.deepStrictEqual(boxes, o.bboxes, msg);
    assert.deepStrictEqual(largestComponent(comps), o.label, msg);
    const r = boxFromMask(c.mask, c.h, c.w);
    assert.deepStrictEqual([r.box.y0, r.box.x0, r.box.y1, r.box.x1], o.box, msg);
    assert.deepStrictEqual(r.empty, o.count === 0, msg);
    const max = Math.max(0, ...o.areas);
    if (o.areas.filter((a) => a === max).length > 1) ties++;
    pixels += c.h * c.w;
  }
  // The suite must exercise the tie rule, not just pass by luck.
  if (ties < 20) throw new Error(`only ${ties} masks with tied largest components`);
  console.log(
    `  ${cases.length} masks (${pixels} pixels), ${ties} with tied largest areas: identical`,
  );
});

interface MapOut {
  map: string;
  h: number;
  w: number;
  mean: number;
  mask: string;
  box: number[];
}

Deno.test("AC threshold + box on the official float32 pipeline's maps (7×7, 14×14, 224×224)", async () => {
  const specs: { grid: number; up: number; thr: number; kind: string }[] = [];
  for (const kind of ["randn", "relu", "quant"]) {
    for (const [grid, up] of [[7, 0], [14, 0], [7, 224], [14, 224]]) {
      for (const thr of [1.0, 1.0, 0.8, 1.3]) specs.push({ grid, up, thr, kind });
    }
  }
  let ownMeanMaskDiffs = 0;
  let ownMeanBoxDiffs = 0;
  let maps = 0;
  for (const seed of [11, 12, 13]) {
    const out = await runPython<MapOut[]>(ORACLE, { mode: "maps", seed, specs });
    for (let i = 0; i < specs.length; i++) {
      const o = out[i];
      const map = new Float32Array(fromB64(o.map).buffer);
      const wantMask = fromB64(o.mask);
      const msg = `seed ${seed} spec ${JSON.stringify(specs[i])}`;
      // With torch's float32 mean passed in: bit-identical mask, identical box.
      const withMean = { thr: specs[i].thr, mean: o.mean };
      assert.deepStrictEqual(acMask(map, withMean), wantMask, msg);
      const r = acBox(map, o.h, o.w, withMean);
      assert.deepStrictEqual([r.box.y0, r.box.x0, r.box.y1, r.box.x1], o.box, msg);
      // With our own mean (exact, rounded once to float32): count any difference.
      const own = acMask(map, { thr: specs[i].thr });
      if (own.some((v, p) => v !== wantMask[p])) {
        ownMeanMaskDiffs++;
        // The only admissible difference: pixels within float32 rounding of the threshold.
        const t = o.mean * specs[i].thr;
        own.forEach((v, p) => {
          if (v !== wantMask[p] && Math.abs(map[p] - t) > 4e-7 * Math.abs(t)) {
            throw new Error(`${msg}: pixel ${p} = ${map[p]} differs, threshold ${t}`);
          }
        });
      }
      const r2 = acBox(map, o.h, o.w, { thr: specs[i].thr });
      if ([r2.box.y0, r2.box.x0, r2.box.y1, r2.box.x1].join() !== o.box.join()) ownMeanBoxDiffs++;
      maps++;
    }
  }
  console.log(
    `  ${maps} maps: torch mean -> masks and boxes identical; own mean -> ` +
      `${ownMeanMaskDiffs} masks / ${ownMeanBoxDiffs} boxes differ`,
  );
});

Deno.test("acBoxes: batched over a [B, H, W] tensor and host data equals acBox per map", () => {
  const rand = mulberry32(99);
  const b = 5, h = 14, w = 14;
  const data = Float32Array.from({ length: b * h * w }, () => rand());
  const t = torch.tensor(data, { shape: [b, h, w] });
  try {
    const fromTensor = acBoxes(t);
    const fromHost = acBoxes({ data, shape: [b, h, w] });
    const fromHost4 = acBoxes({ data, shape: [b, 1, h, w] }, { thr: 1 });
    for (let i = 0; i < b; i++) {
      const one = acBox(data.subarray(i * h * w, (i + 1) * h * w), h, w);
      assert.deepStrictEqual(fromTensor[i], one);
      assert.deepStrictEqual(fromHost[i], one);
      assert.deepStrictEqual(fromHost4[i], one);
    }
  } finally {
    t.dispose();
  }
});

Deno.test("AC box: empty and NaN maps fall back to the whole map; bad shapes throw", () => {
  const flat = new Float32Array(49).fill(0.5); // nothing is > mean
  const r = acBox(flat, 7, 7);
  assert.deepStrictEqual(r.empty, true);
  assert.deepStrictEqual(r.box, { y0: 0, x0: 0, y1: 7, x1: 7 });
  const nan = new Float32Array(49).fill(NaN);
  assert.deepStrictEqual(acBox(nan, 7, 7).box, { y0: 0, x0: 0, y1: 7, x1: 7 });
  let threw = false;
  try {
    acBox(flat, 7, 8);
  } catch (e) {
    threw = e instanceof RangeError && /49 values/.test(e.message);
  }
  assert.deepStrictEqual(threw, true);
});

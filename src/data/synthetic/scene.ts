/** Painting one aerial-like scene from a set of attributes. Every attribute in the set leaves a
 * visible trace and none outside it is drawn, so the class × attribute matrix is ground truth. */
import type { RgbImage } from "../image.ts";
import type { Rng } from "../rng.ts";
import { Canvas, type Rgb } from "./canvas.ts";
import { fbm, valueNoise } from "./noise.ts";

/** What was drawn, for captions. */
export interface SceneNotes {
  /** Buildings drawn. */
  buildings: number;
  /** Trees drawn. */
  trees: number;
  /** Boats drawn. */
  boats: number;
  /** Cars drawn. */
  cars: number;
  /** Tanks and pivot circles drawn. */
  roundStructures: number;
  /** Piers drawn. */
  piers: number;
  /** Railway tracks drawn. */
  tracks: number;
  /** Roads drawn. */
  roads: number;
}

type Free = (x: number, y: number) => boolean;

const C = {
  grass: [96, 138, 62],
  meadowDry: [138, 150, 80],
  forestFloor: [38, 66, 34],
  tree: [46, 92, 44],
  treeDark: [30, 60, 30],
  sand: [218, 198, 152],
  soil: [148, 112, 80],
  pavement: [148, 148, 144],
  asphalt: [74, 74, 77],
  marking: [232, 230, 220],
  waterDeep: [28, 64, 92],
  waterShallow: [58, 108, 118],
  foam: [226, 232, 230],
  ballast: [128, 116, 102],
  tie: [84, 64, 48],
  rail: [186, 186, 190],
  shadow: [20, 22, 24],
} as const satisfies Record<string, Rgb>;

const ROOFS: Rgb[] = [[172, 84, 62], [186, 104, 70], [122, 122, 128], [206, 202, 196], [
  94,
  104,
  124,
], [150, 74, 58]];
const CAR_COLORS: Rgb[] = [[200, 30, 30], [235, 235, 235], [30, 30, 35], [40, 70, 160], [
  170,
  170,
  175,
], [220, 190, 40]];
const FIELD_COLORS: Rgb[] = [[120, 160, 64], [170, 170, 82], [196, 176, 104], [140, 110, 70], [
  96,
  140,
  56,
], [210, 196, 120]];

function jitter(c: Rgb, rng: Rng, amt: number): Rgb {
  return [
    c[0] + rng.uniform(-amt, amt),
    c[1] + rng.uniform(-amt, amt),
    c[2] + rng.uniform(-amt, amt),
  ];
}
const scale = (c: Rgb, k: number): Rgb => [c[0] * k, c[1] * k, c[2] * k];
const mix = (
  a: Rgb,
  b: Rgb,
  t: number,
): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/** A straight band across the scene: a road or a track bed. */
interface Line {
  px: number;
  py: number;
  angle: number;
  half: number;
  cos: number;
  sin: number;
}
function line(px: number, py: number, angle: number, half: number): Line {
  return { px, py, angle, half, cos: Math.cos(angle), sin: Math.sin(angle) };
}
const across = (l: Line, x: number, y: number) => (y - l.py) * l.cos - (x - l.px) * l.sin;
const along = (l: Line, x: number, y: number) => (x - l.px) * l.cos + (y - l.py) * l.sin;

// Per-pixel colour functions return this scratch colour (the canvas copies it at once), so
// that textured fills allocate nothing per pixel.
const scratch: [number, number, number] = [0, 0, 0];
function shaded(c: Rgb, k: number): Rgb {
  scratch[0] = c[0] * k;
  scratch[1] = c[1] * k;
  scratch[2] = c[2] * k;
  return scratch;
}
const shadedCopy = (c: Rgb, k: number): Rgb => [c[0] * k, c[1] * k, c[2] * k];
const blendedCopy = (a: Rgb, b: Rgb, t: number): Rgb => [...blended(a, b, t)];
function blended(a: Rgb, b: Rgb, t: number): Rgb {
  scratch[0] = a[0] + (b[0] - a[0]) * t;
  scratch[1] = a[1] + (b[1] - a[1]) * t;
  scratch[2] = a[2] + (b[2] - a[2]) * t;
  return scratch;
}

/** Paints a scene showing exactly `attrs` (attribute names) at `size × size` pixels. */
export function renderScene(
  attrs: ReadonlySet<string>,
  rng: Rng,
  size: number,
): { image: RgbImage; notes: SceneNotes } {
  const has = (a: string) => attrs.has(a);
  const cv = new Canvas(size, 2);
  const notes: SceneNotes = {
    buildings: 0,
    trees: 0,
    boats: 0,
    cars: 0,
    roundStructures: 0,
    piers: 0,
    tracks: 0,
    roads: 0,
  };
  const seed = rng.uint32() | 0;
  const blocked: ((x: number, y: number, m: number) => boolean)[] = [];
  const free: Free = (x, y) =>
    x > 0.02 && x < 0.98 && y > 0.02 && y < 0.98 && !blocked.some((b) => b(x, y, 0));
  const freeBy = (x: number, y: number, m: number) =>
    x > -0.05 && x < 1.05 && y > -0.05 && y < 1.05 && !blocked.some((b) => b(x, y, m));

  // 1. Ground.
  const ground = has("pavement")
    ? scale(jitter(C.pavement, rng, 3), rng.uniform(0.88, 1.1))
    : has("bare_soil")
    ? jitter(C.soil, rng, 10)
    : has("sand")
    ? jitter(C.sand, rng, 8)
    : has("grass")
    ? mix(jitter(C.grass, rng, 8), C.meadowDry, rng.uniform(0, 0.35))
    : has("trees")
    ? jitter(C.forestFloor, rng, 5)
    : jitter(C.grass, rng, 8);
  const grain = has("pavement") ? 0.06 : has("sand") ? 0.08 : has("bare_soil") ? 0.22 : 0.2;
  // A second tone in large patches: drier grass, darker soil, stained concrete.
  const tone2 = has("grass") && !has("pavement") && !has("bare_soil") && !has("sand")
    ? blendedCopy(ground, [150, 152, 84], rng.uniform(0.3, 0.6))
    : shadedCopy(ground, rng.uniform(0.85, 0.95));
  const f0 = rng.uniform(4, 8), f1 = rng.uniform(1.5, 3);
  cv.shade((x, y) => {
    const n = fbm(x * f0, y * f0, seed, 4);
    const t = Math.min(1, Math.max(0, (fbm(x * f1 + 3, y * f1 + 3, seed + 5, 3) - 0.35) * 3));
    const k = 1 + grain * (n - 0.5) * 2 + 0.05 * (valueNoise(x * 60, y * 60, seed + 7) - 0.5);
    return shaded(blended(ground, tone2, t), k);
  }, true);
  if (has("pavement")) paintSlabs(cv, rng);
  if (has("sand") && !has("water")) paintRipples(cv, rng, seed);

  // 2. Fields.
  if (has("cropland")) paintFields(cv, rng, has("round_structures"), notes);

  // 3. Water: a shore on one side (beach, harbor) or a lake.
  if (has("water")) {
    if (has("sand") || has("pavement")) {
      paintShore(cv, rng, has("sand"), has("pier"), has("boats"), has("large"), blocked, notes);
    } else paintLake(cv, rng, seed, blocked);
  }

  // 4. River.
  let river: { angle: number } | null = null;
  if (has("river")) river = paintRiver(cv, rng, blocked);

  // 5. Rails.
  let railLine: Line | null = null;
  if (has("rails")) railLine = paintRails(cv, rng, blocked, notes);

  // 6. Roads.
  let gridAngle = rng.uniform(-0.3, 0.3);
  if (has("road")) {
    const lines = planRoads(rng, has("intersection"), has("dense"), river?.angle ?? null);
    gridAngle = lines[0].angle;
    for (const l of lines) blocked.push((x, y, m) => Math.abs(across(l, x, y)) < l.half + m);
    paintRoads(cv, lines);
    if (has("intersection")) paintCrosswalks(cv, lines);
    if (river) { for (const l of lines) paintBridgeShadow(cv, l); }
    notes.roads = lines.length;
    if (has("cars")) {
      const k = rng.intIn(4, 10);
      for (let i = 0; i < k; i++) {
        const l = rng.pick(lines);
        const t = rng.uniform(-0.6, 0.6), off = (rng.chance(0.5) ? 1 : -1) * l.half * 0.5;
        const x = l.px + t * Math.cos(l.angle) - off * Math.sin(l.angle);
        const y = l.py + t * Math.sin(l.angle) + off * Math.cos(l.angle);
        if (x < 0.03 || x > 0.97 || y < 0.03 || y > 0.97) continue;
        paintCar(cv, x, y, l.angle, rng);
        notes.cars++;
      }
    }
  }

  // 7. Parking lots.
  if (has("cars") && !has("road")) paintParking(cv, rng, blocked, notes);

  // 8. Large structure and buildings.
  if (has("large")) paintLargeBuilding(cv, rng, railLine, freeBy, blocked, notes);
  if (has("round_structures") && !has("cropland")) {
    paintTanks(cv, rng, freeBy, blocked, notes, has("large") ? 3 : 8);
  }
  if (has("buildings")) {
    if (has("dense")) paintDenseBlocks(cv, rng, gridAngle, freeBy, notes);
    else if (has("sparse")) paintHouses(cv, rng, free, freeBy, blocked, notes, rng.intIn(4, 8));
    else if (!has("large")) paintHouses(cv, rng, free, freeBy, blocked, notes, rng.intIn(6, 10));
    else if (has("round_structures")) {
      paintHouses(cv, rng, free, freeBy, blocked, notes, rng.intIn(2, 4), 1.6);
    }
  }

  // 9. Trees.
  if (has("trees")) {
    if (has("dense") && !has("buildings")) paintForest(cv, rng, notes);
    else {paintTreeClusters(
        cv,
        rng,
        freeBy,
        notes,
        has("sparse") ? rng.intIn(10, 22) : rng.intIn(14, 30),
      );}
  }

  // 10. Light and sensor.
  const gain = rng.uniform(0.9, 1.1), tint = jitter([1, 1, 1], rng, 0.04);
  for (let p = 0; p < cv.r.length; p++) {
    cv.r[p] *= gain * tint[0];
    cv.g[p] *= gain * tint[1];
    cv.b[p] *= gain * tint[2];
  }
  return { image: cv.toImage(), notes };
}

function paintSlabs(cv: Canvas, rng: Rng) {
  const step = rng.uniform(0.08, 0.14), a = rng.uniform(0, Math.PI);
  const c = Math.cos(a), s = Math.sin(a);
  cv.modulate((x, y) => {
    const u = (x * c + y * s) / step, v = (-x * s + y * c) / step;
    const du = Math.abs(u - Math.round(u)), dv = Math.abs(v - Math.round(v));
    return du < 0.03 || dv < 0.03 ? 0.93 : 1;
  });
}

function paintRipples(cv: Canvas, rng: Rng, seed: number) {
  const a = rng.uniform(0, Math.PI), f = rng.uniform(18, 30);
  const c = Math.cos(a), s = Math.sin(a);
  cv.modulate(
    (x, y) =>
      1 + 0.05 * Math.sin((x * c + y * s) * f * Math.PI * 2 + 6 * fbm(x * 3, y * 3, seed + 3, 2)),
    true,
  );
}

function paintFields(cv: Canvas, rng: Rng, pivots: boolean, notes: SceneNotes) {
  const a = rng.uniform(-0.5, 0.5) + (rng.chance(0.5) ? Math.PI / 2 : 0);
  const c = Math.cos(a), s = Math.sin(a);
  const cw = rng.uniform(0.22, 0.4), ch = rng.uniform(0.18, 0.34);
  // Parcels (i, j) in -4..5 cover the scene at any angle; drawn up front so that the colours
  // taken from rng do not depend on which pixels are visited.
  const cells = Array.from({ length: 100 }, () => ({
    col: jitter(rng.pick(FIELD_COLORS), rng, 10),
    f: rng.uniform(50, 90),
    dir: rng.chance(0.5),
  }));
  cv.draw(0, 0, 1, 1, (x, y) => {
    const u = (x - 0.5) * c + (y - 0.5) * s, v = -(x - 0.5) * s + (y - 0.5) * c;
    const i = Math.floor(u / cw), j = Math.floor(v / ch);
    const fu = u / cw - i, fv = v / ch - j;
    const edge = Math.min(fu, 1 - fu) * cw < 0.008 || Math.min(fv, 1 - fv) * ch < 0.008;
    const p = cells[(i + 4) * 10 + (j + 4)];
    const stripe = 0.9 + 0.1 * Math.sin((p.dir ? u : v) * p.f * Math.PI * 2);
    return edge ? shaded(p.col, 0.72) : shaded(p.col, stripe);
  });
  if (pivots) {
    const k = rng.intIn(1, 3);
    const r = k === 1 ? rng.uniform(0.3, 0.42) : rng.uniform(0.2, 0.27);
    const spots = k === 1
      ? [[0.5, 0.5]]
      : k === 2
      ? [[0.27, 0.5], [0.73, 0.5]]
      : [[0.27, 0.27], [0.73, 0.3], [0.5, 0.74]];
    for (const [sx, sy] of spots) {
      const cx = sx + rng.uniform(-0.04, 0.04), cy = sy + rng.uniform(-0.04, 0.04);
      const col = jitter(
        rng.pick([[70, 140, 50], [110, 150, 60], [160, 140, 80]] as Rgb[]),
        rng,
        10,
      );
      const dryCol = mix(col, [170, 150, 100], 0.5);
      const sector = rng.uniform(0, Math.PI * 2), dry = rng.uniform(0.8, 2.5);
      cv.draw(cx - r, cy - r, cx + r, cy + r, (x, y) => {
        const d = Math.hypot(x - cx, y - cy) / r;
        if (d > 1) return null;
        let ang = Math.atan2(y - cy, x - cx) - sector;
        ang = ((ang % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
        return shaded(ang < dry ? dryCol : col, 0.94 + 0.06 * Math.sin(d * 40));
      });
      cv.line(cx, cy, cx + r * Math.cos(sector), cy + r * Math.sin(sector), 0.008, [200, 200, 195]);
      cv.circle(cx, cy, 0.01, [210, 210, 205]);
      notes.roundStructures++;
    }
  }
}

function paintLake(
  cv: Canvas,
  rng: Rng,
  seed: number,
  blocked: ((x: number, y: number, m: number) => boolean)[],
) {
  const cx = rng.uniform(0.35, 0.65), cy = rng.uniform(0.35, 0.65);
  const R = rng.uniform(0.22, 0.34), ax = rng.uniform(0.75, 1.3);
  // The shoreline radius depends on the angle only: tabulate it.
  const T = 256;
  const table = Float64Array.from({ length: T + 1 }, (_, k) => {
    const th = (k / T) * 2 * Math.PI;
    return R * (0.7 + 0.6 * fbm(Math.cos(th) * 1.5 + 5, Math.sin(th) * 1.5 + 5, seed + 11, 3));
  });
  const radius = (x: number, y: number) => {
    const dx = (x - cx) * ax, dy = (y - cy) / ax;
    const t = ((Math.atan2(dy, dx) / (2 * Math.PI) + 1) % 1) * T, k = Math.floor(t);
    return { d: Math.hypot(dx, dy), r: table[k] + (table[k + 1] - table[k]) * (t - k) };
  };
  blocked.push((x, y, m) => {
    const { d, r } = radius(x, y);
    return d < r + m + 0.03;
  });
  const deep = jitter(C.waterDeep, rng, 8), shallow = jitter(C.waterShallow, rng, 8);
  const ext = R * 1.4 * Math.max(ax, 1 / ax);
  cv.draw(cx - ext, cy - ext, cx + ext, cy + ext, (x, y) => {
    const { d, r } = radius(x, y);
    if (d > r + 0.015) return null;
    if (d > r) return [70, 96, 52];
    return blended(shallow, deep, Math.min(1, (r - d) / (0.5 * r)));
  });
}

function paintShore(
  cv: Canvas,
  rng: Rng,
  sandy: boolean,
  piers: boolean,
  boats: boolean,
  roomy: boolean,
  blocked: ((x: number, y: number, m: number) => boolean)[],
  notes: SceneNotes,
) {
  const a = rng.pick([0, Math.PI / 2, Math.PI, -Math.PI / 2]) + rng.uniform(-0.3, 0.3);
  const nx = Math.cos(a), ny = Math.sin(a); // points into the water
  // Shoreline offset from the centre, into the water; `roomy` leaves land for a large building.
  const level = roomy ? rng.uniform(0.08, 0.16) : rng.uniform(-0.15, 0.05);
  const seed = rng.uint32() | 0;
  const wav = sandy ? 0.05 : 0;
  // The shoreline wobble depends on the position along the shore only: tabulate it.
  const T = 256;
  const wobble = Float64Array.from(
    { length: T + 1 },
    (_, k) => wav * (fbm((k / T * 2 - 1) * 3 + 9, 1, seed, 3) - 0.5) * 2,
  );
  const depth = (x: number, y: number) => {
    const t = (x - 0.5) * nx + (y - 0.5) * ny - level;
    const u = Math.min(1, Math.max(-1, -(x - 0.5) * ny + (y - 0.5) * nx));
    return t - wobble[Math.round((u + 1) / 2 * T)];
  };
  blocked.push((x, y, m) => depth(x, y) > -m - 0.03);
  const deep = jitter(C.waterDeep, rng, 8), shallow = jitter(C.waterShallow, rng, 8);
  const wet: Rgb = [190, 170, 130], damp: Rgb = [160, 146, 118];
  cv.draw(0, 0, 1, 1, (x, y) => {
    const d = depth(x, y);
    if (d < (sandy ? -0.04 : -0.012)) return null;
    if (d < 0) return sandy ? blended(wet, damp, -d / 0.04) : [188, 186, 180]; // wet sand or quay wall
    if (sandy && d < 0.012) return C.foam;
    return blended(shallow, deep, Math.min(1, d / 0.25));
  });
  const ux = -ny, uy = nx; // along the shore
  const sx = 0.5 + nx * level, sy = 0.5 + ny * level; // a point on the shoreline
  if (piers) {
    const k = rng.intIn(3, 5), len = rng.uniform(0.28, 0.42), w = rng.uniform(0.022, 0.03);
    const gap = 0.8 / k, start = -0.4 + gap / 2 + rng.uniform(-0.03, 0.03);
    for (let i = 0; i < k; i++) {
      const t = start + i * gap;
      const px = sx + ux * t + nx * len / 2, py = sy + uy * t + ny * len / 2;
      cv.rect(px + 0.006, py + 0.008, len, w, a, C.shadow, 0.35);
      cv.rect(px, py, len, w, a, [196, 190, 176]);
      notes.piers++;
      if (boats) {
        for (const side of [-1, 1]) {
          const m = rng.intIn(1, 3);
          for (let b = 0; b < m; b++) {
            const d = len * (0.25 + 0.65 * (b + rng.uniform(0, 0.3)) / m);
            const bx = sx + ux * (t + side * (w / 2 + 0.022)) + nx * d;
            const by = sy + uy * (t + side * (w / 2 + 0.022)) + ny * d;
            paintBoat(cv, bx, by, a, rng, false);
            notes.boats++;
          }
        }
      }
    }
  }
  if (boats) {
    const k = rng.intIn(1, 3);
    for (let i = 0; i < k; i++) {
      const d = rng.uniform(0.15, 0.3), t = rng.uniform(-0.4, 0.4);
      const bx = sx + ux * t + nx * (d + 0.1), by = sy + uy * t + ny * (d + 0.1);
      if (bx < 0.05 || bx > 0.95 || by < 0.05 || by > 0.95) continue;
      paintBoat(cv, bx, by, rng.uniform(0, Math.PI), rng, true);
      notes.boats++;
    }
  }
}

function paintBoat(cv: Canvas, x: number, y: number, angle: number, rng: Rng, wake: boolean) {
  const L = rng.uniform(0.045, 0.07), W = L * rng.uniform(0.3, 0.4);
  const c = Math.cos(angle), s = Math.sin(angle);
  if (wake) {
    for (let i = 1; i <= 4; i++) {
      cv.ellipse(x - c * L * 0.7 * i, y - s * L * 0.7 * i, L * 0.5, W * (0.5 + 0.25 * i), angle, [
        200,
        215,
        215,
      ], 0.35 / i);
    }
  }
  cv.ellipse(x + 0.004, y + 0.005, L / 2, W / 2, angle, C.shadow, 0.4);
  cv.ellipse(
    x,
    y,
    L / 2,
    W / 2,
    angle,
    jitter(
      rng.pick([[240, 240, 238], [236, 236, 230], [200, 60, 50], [60, 90, 150]] as Rgb[]),
      rng,
      6,
    ),
  );
  cv.ellipse(x - c * L * 0.08, y - s * L * 0.08, L * 0.2, W * 0.3, angle, [150, 150, 150]);
}

function paintRiver(
  cv: Canvas,
  rng: Rng,
  blocked: ((x: number, y: number, m: number) => boolean)[],
) {
  const angle = rng.uniform(0, Math.PI);
  const c = Math.cos(angle), s = Math.sin(angle);
  const a1 = rng.uniform(0.06, 0.12), f1 = rng.uniform(0.8, 1.6), p1 = rng.uniform(0, 6.3);
  const a2 = rng.uniform(0.01, 0.04), f2 = rng.uniform(2.5, 4), p2 = rng.uniform(0, 6.3);
  const off = rng.uniform(-0.1, 0.1);
  const half = rng.uniform(0.06, 0.09);
  const dist = (x: number, y: number) => {
    const u = (x - 0.5) * c + (y - 0.5) * s, v = -(x - 0.5) * s + (y - 0.5) * c;
    const w1 = 2 * Math.PI * f1, w2 = 2 * Math.PI * f2;
    const center = off + a1 * Math.sin(w1 * u + p1) + a2 * Math.sin(w2 * u + p2);
    const slope = a1 * w1 * Math.cos(w1 * u + p1) + a2 * w2 * Math.cos(w2 * u + p2);
    return Math.abs(v - center) / Math.sqrt(1 + slope * slope);
  };
  blocked.push((x, y, m) => dist(x, y) < half + m + 0.02);
  const deep = jitter(C.waterDeep, rng, 8), shallow = jitter(C.waterShallow, rng, 8);
  cv.draw(0, 0, 1, 1, (x, y) => {
    const d = dist(x, y);
    if (d > half + 0.015) return null;
    if (d > half) return [84, 104, 58];
    return blended(deep, shallow, d / half);
  });
  return { angle };
}

function paintRails(
  cv: Canvas,
  rng: Rng,
  blocked: ((x: number, y: number, m: number) => boolean)[],
  notes: SceneNotes,
): Line {
  const tracks = rng.intIn(2, 4);
  const angle = rng.uniform(0, Math.PI);
  const gauge = 0.016, pitch = 0.05;
  const l = line(
    0.5 + rng.uniform(-0.12, 0.12),
    0.5 + rng.uniform(-0.12, 0.12),
    angle,
    (tracks * pitch) / 2 + 0.02,
  );
  blocked.push((x, y, m) => Math.abs(across(l, x, y)) < l.half + m);
  const first = -((tracks - 1) / 2) * pitch;
  cv.draw(0, 0, 1, 1, (x, y) => {
    const v = across(l, x, y);
    if (Math.abs(v) >= l.half) return null;
    const t = Math.round((v - first) / pitch);
    if (t >= 0 && t < tracks) {
      const dv = v - first - t * pitch;
      if (Math.abs(Math.abs(dv) - gauge / 2) < 0.0035) return C.rail;
      const k = along(l, x, y) / 0.014;
      if (Math.abs(dv) < gauge * 0.9 && Math.abs(k - Math.round(k)) < 0.22) return C.tie;
    }
    return shaded(C.ballast, 0.92 + 0.16 * valueNoise(x * 80, y * 80, 5));
  });
  notes.tracks += tracks;
  return l;
}

function planRoads(rng: Rng, crossing: boolean, grid: boolean, riverAngle: number | null): Line[] {
  const half = rng.uniform(0.028, 0.038);
  if (grid) {
    const a = rng.uniform(-0.3, 0.3) + (rng.chance(0.5) ? Math.PI / 2 : 0);
    const n = rng.intIn(2, 3), spacing = 1 / n;
    const lines: Line[] = [];
    const o = rng.uniform(0, spacing);
    for (let i = -1; i <= n; i++) {
      const d = o + i * spacing - 0.5;
      lines.push(line(0.5 - Math.sin(a) * d, 0.5 + Math.cos(a) * d, a, half * 0.8));
      lines.push(line(0.5 + Math.cos(a) * d, 0.5 + Math.sin(a) * d, a + Math.PI / 2, half * 0.8));
    }
    return lines;
  }
  const cx = 0.5 + rng.uniform(-0.15, 0.15), cy = 0.5 + rng.uniform(-0.15, 0.15);
  const a = riverAngle !== null
    ? riverAngle + Math.PI / 2 + rng.uniform(-0.35, 0.35)
    : rng.uniform(0, Math.PI);
  const lines: Line[] = [line(cx, cy, a, half)];
  if (crossing) lines.push(line(cx, cy, a + Math.PI / 2 + rng.uniform(-0.25, 0.25), half));
  return lines;
}

function paintRoads(cv: Canvas, lines: readonly Line[]) {
  cv.draw(0, 0, 1, 1, (x, y) => {
    let hit: Line | null = null, v = 0, others = 0;
    for (const l of lines) {
      const d = Math.abs(across(l, x, y));
      if (d < l.half) {
        others++;
        if (!hit) [hit, v] = [l, d];
      }
    }
    if (!hit) return null;
    if (others === 1) {
      if (v > hit.half * 0.86) return [150, 150, 146];
      if (v < 0.0035) {
        const k = along(hit, x, y) / 0.05;
        if (k - Math.floor(k) < 0.55) return C.marking;
      }
    }
    return shaded(C.asphalt, 0.94 + 0.12 * valueNoise(x * 90, y * 90, 3));
  });
}

function paintCrosswalks(cv: Canvas, lines: Line[]) {
  const [a, b] = lines;
  // The crossing point of the two centre lines.
  const det = Math.cos(a.angle) * Math.sin(b.angle) - Math.sin(a.angle) * Math.cos(b.angle);
  if (Math.abs(det) < 1e-6) return;
  const t = ((b.px - a.px) * Math.sin(b.angle) - (b.py - a.py) * Math.cos(b.angle)) / det;
  const x0 = a.px + t * Math.cos(a.angle), y0 = a.py + t * Math.sin(a.angle);
  // Clear the centre markings in the junction, then draw zebra stripes on each arm.
  cv.circle(x0, y0, Math.max(a.half, b.half) * 1.1, C.asphalt);
  for (const l of [a, b]) {
    const other = l === a ? b : a;
    for (const side of [-1, 1]) {
      const d = side * (other.half + 0.02);
      const cx = x0 + Math.cos(l.angle) * d, cy = y0 + Math.sin(l.angle) * d;
      for (let k = -3; k <= 3; k++) {
        const o = (k * l.half) / 3.6;
        cv.rect(
          cx - Math.sin(l.angle) * o,
          cy + Math.cos(l.angle) * o,
          0.028,
          0.006,
          l.angle,
          C.marking,
        );
      }
    }
  }
}

function paintBridgeShadow(cv: Canvas, l: Line) {
  // Railings: a light edge line each side make the deck read as a bridge over water.
  cv.paint(
    0,
    0,
    1,
    1,
    (x, y) => {
      const v = Math.abs(across(l, x, y));
      return v > l.half && v < l.half + 0.01 ? 1 : 0;
    },
    C.shadow,
    0.25,
  );
}

function paintCar(cv: Canvas, x: number, y: number, angle: number, rng: Rng) {
  const col = jitter(rng.pick(CAR_COLORS), rng, 10);
  cv.rect(x + 0.003, y + 0.004, 0.034, 0.017, angle, C.shadow, 0.4);
  cv.rect(x, y, 0.034, 0.017, angle, col);
  cv.rect(
    x + Math.cos(angle) * 0.003,
    y + Math.sin(angle) * 0.003,
    0.012,
    0.013,
    angle,
    scale(col, 0.7),
  );
}

function paintParking(
  cv: Canvas,
  rng: Rng,
  blocked: ((x: number, y: number, m: number) => boolean)[],
  notes: SceneNotes,
) {
  const a = rng.pick([0, Math.PI / 2]) + rng.uniform(-0.2, 0.2);
  const c = Math.cos(a), s = Math.sin(a);
  const rowPitch = rng.uniform(0.17, 0.21),
    stall = 0.028,
    depth = 0.042,
    occupancy = rng.uniform(0.5, 0.95);
  const off = rng.uniform(0, rowPitch);
  const tarmac = shadedCopy(C.asphalt, rng.uniform(1.05, 1.3));
  // Asphalt over the whole lot, lighter islands between the double rows of stalls.
  cv.draw(0, 0, 1, 1, (x, y) => {
    const v = -(x - 0.5) * s + (y - 0.5) * c - off;
    const k = v / rowPitch - Math.round(v / rowPitch);
    const island = Math.abs(k * rowPitch) < 0.006;
    return shaded(island ? [170, 170, 165] : tarmac, 0.95 + 0.1 * valueNoise(x * 90, y * 90, 9));
  });
  for (let r = -5; r <= 5; r++) {
    const v = r * rowPitch + off;
    for (const side of [-1, 1]) {
      for (let k = -18; k <= 18; k++) {
        const u = k * stall;
        const sv = v + side * depth / 2;
        const x = 0.5 + u * c - sv * s, y = 0.5 + u * s + sv * c;
        if (x < 0.02 || x > 0.98 || y < 0.02 || y > 0.98) continue;
        if (blocked.some((b) => b(x, y, 0.01))) continue;
        const dx = 0.5 + (u - stall / 2) * c - sv * s, dy = 0.5 + (u - stall / 2) * s + sv * c;
        cv.rect(dx, dy, 0.003, depth, a, C.marking, 0.9);
        if (rng.chance(occupancy)) {
          paintCar(cv, x, y, a + Math.PI / 2, rng);
          notes.cars++;
        }
      }
    }
  }
}

function paintLargeBuilding(
  cv: Canvas,
  rng: Rng,
  rail: Line | null,
  freeBy: (x: number, y: number, m: number) => boolean,
  blocked: ((x: number, y: number, m: number) => boolean)[],
  notes: SceneNotes,
) {
  let angle = rng.uniform(-0.3, 0.3), w = rng.uniform(0.38, 0.55), h = rng.uniform(0.22, 0.32);
  let cx = 0.5, cy = 0.5;
  for (let tries = 0; tries < 60; tries++) {
    if (rail) {
      angle = rail.angle;
      const side = rng.chance(0.5) ? 1 : -1;
      const d = side * (rail.half + h / 2 + 0.03);
      const t = rng.uniform(-0.15, 0.15);
      cx = rail.px + Math.cos(angle) * t - Math.sin(angle) * d;
      cy = rail.py + Math.sin(angle) * t + Math.cos(angle) * d;
    } else {
      cx = rng.uniform(0.3, 0.7);
      cy = rng.uniform(0.3, 0.7);
    }
    const ok = [[0, 0], [1, 1], [-1, 1], [1, -1], [-1, -1]].every(([i, j]) => {
      const u = (i * w) / 2, v = (j * h) / 2;
      return freeBy(
        cx + u * Math.cos(angle) - v * Math.sin(angle),
        cy + u * Math.sin(angle) + v * Math.cos(angle),
        0,
      );
    });
    if (ok && cx > 0.15 && cx < 0.85 && cy > 0.15 && cy < 0.85) break;
    w *= 0.97;
    h *= 0.97;
  }
  const roof = jitter(
    rng.pick([[200, 200, 198], [170, 176, 180], [120, 130, 140]] as Rgb[]),
    rng,
    8,
  );
  const c = Math.cos(angle), s = Math.sin(angle);
  cv.rect(cx + 0.014, cy + 0.018, w, h, angle, C.shadow, 0.45);
  const panels = rng.intIn(5, 9);
  cv.rect(cx, cy, w, h, angle, (x, y) => {
    const u = (x - cx) * c + (y - cy) * s;
    const k = ((u / w + 0.5) * panels) % 1;
    return shaded(roof, k < 0.08 ? 0.82 : 1 - 0.05 * k);
  });
  blocked.push((x, y, m) => {
    const u = (x - cx) * c + (y - cy) * s, v = -(x - cx) * s + (y - cy) * c;
    return Math.abs(u) < w / 2 + m + 0.02 && Math.abs(v) < h / 2 + m + 0.02;
  });
  notes.buildings++;
}

function paintTanks(
  cv: Canvas,
  rng: Rng,
  freeBy: (x: number, y: number, m: number) => boolean,
  blocked: ((x: number, y: number, m: number) => boolean)[],
  notes: SceneNotes,
  max: number,
) {
  const k = rng.intIn(Math.min(3, max), max);
  const r0 = rng.uniform(0.06, 0.09);
  for (let i = 0, tries = 0; i < k && tries < 200; tries++) {
    const r = r0 * rng.uniform(0.8, 1.15);
    const x = rng.uniform(r + 0.03, 1 - r - 0.03), y = rng.uniform(r + 0.03, 1 - r - 0.03);
    if (
      ![[0, 0], [r, 0], [-r, 0], [0, r], [0, -r]].every(([dx, dy]) => freeBy(x + dx, y + dy, 0.015))
    ) continue;
    cv.circle(x + r * 0.25, y + r * 0.3, r, C.shadow, 0.45);
    cv.circle(x, y, r, jitter([214, 214, 210], rng, 8));
    cv.ring(x, y, r * 0.82, r, [160, 160, 158]);
    cv.circle(x - r * 0.2, y - r * 0.2, r * 0.35, [236, 236, 232], 0.6);
    blocked.push((px, py, m) => Math.hypot(px - x, py - y) < r + m + 0.015);
    notes.roundStructures++;
    i++;
  }
}

function paintHouse(
  cv: Canvas,
  x: number,
  y: number,
  w: number,
  h: number,
  angle: number,
  rng: Rng,
) {
  const roof = jitter(rng.pick(ROOFS), rng, 10);
  cv.rect(x + 0.008, y + 0.01, w, h, angle, C.shadow, 0.45);
  cv.rect(x, y, w, h, angle, roof);
  // Gable: one half of the roof darker.
  const c = Math.cos(angle), s = Math.sin(angle);
  cv.rect(x - s * h / 4, y + c * h / 4, w, h / 2, angle, scale(roof, 0.78));
  cv.rect(x, y, w, 0.004, angle, scale(roof, 1.15), 0.8);
}

function paintHouses(
  cv: Canvas,
  rng: Rng,
  free: Free,
  freeBy: (x: number, y: number, m: number) => boolean,
  blocked: ((x: number, y: number, m: number) => boolean)[],
  notes: SceneNotes,
  k: number,
  big = 1,
) {
  for (let i = 0, tries = 0; i < k && tries < 300; tries++) {
    const w = rng.uniform(0.07, 0.11) * big, h = w * rng.uniform(0.6, 0.85);
    const x = rng.uniform(0.08, 0.92), y = rng.uniform(0.08, 0.92);
    const m = Math.max(w, h) / 2 + 0.01;
    if (
      !free(x, y) ||
      ![[m, 0], [-m, 0], [0, m], [0, -m]].every(([dx, dy]) => freeBy(x + dx, y + dy, 0.01))
    ) continue;
    paintHouse(cv, x, y, w, h, rng.uniform(-0.4, 0.4), rng);
    blocked.push((px, py, mm) => Math.hypot(px - x, py - y) < m + mm + 0.035);
    notes.buildings++;
    i++;
  }
}

function paintDenseBlocks(
  cv: Canvas,
  rng: Rng,
  angle: number,
  freeBy: (x: number, y: number, m: number) => boolean,
  notes: SceneNotes,
) {
  // Houses packed in rows wherever the street grid left room, on a lattice along the streets.
  const step = rng.uniform(0.075, 0.09);
  const c = Math.cos(angle), s = Math.sin(angle);
  for (let i = -10; i <= 10; i++) {
    for (let j = -10; j <= 10; j++) {
      const u = i * step, v = j * step * 0.9;
      const x = 0.5 + u * c - v * s, y = 0.5 + u * s + v * c;
      if (x < 0.03 || x > 0.97 || y < 0.03 || y > 0.97) continue;
      const w = step * rng.uniform(0.7, 0.85), h = step * 0.9 * rng.uniform(0.65, 0.8);
      const m = Math.max(w, h) / 2;
      if (
        ![[m, 0], [-m, 0], [0, m], [0, -m], [0, 0]].every(([dx, dy]) =>
          freeBy(x + dx, y + dy, 0.004)
        )
      ) continue;
      paintHouse(cv, x, y, w, h, angle, rng);
      notes.buildings++;
    }
  }
}

function paintForest(cv: Canvas, rng: Rng, notes: SceneNotes) {
  const k = rng.intIn(260, 340);
  for (let i = 0; i < k; i++) {
    const x = rng.uniform(-0.03, 1.03), y = rng.uniform(-0.03, 1.03), r = rng.uniform(0.025, 0.045);
    paintTree(cv, x, y, r, rng);
  }
  notes.trees += k;
}

function paintTree(cv: Canvas, x: number, y: number, r: number, rng: Rng) {
  const col = jitter(C.tree, rng, 10);
  cv.circle(x + r * 0.35, y + r * 0.45, r, C.shadow, 0.35);
  cv.circle(x, y, r, col);
  cv.circle(x - r * 0.3, y - r * 0.3, r * 0.5, scale(col, 1.25), 0.7);
}

function paintTreeClusters(
  cv: Canvas,
  rng: Rng,
  freeBy: (x: number, y: number, m: number) => boolean,
  notes: SceneNotes,
  k: number,
) {
  const centers = Array.from(
    { length: rng.intIn(2, 4) },
    () => [rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)],
  );
  for (let i = 0, tries = 0; i < k && tries < 400; tries++) {
    const [cx, cy] = rng.pick(centers);
    const x = cx + rng.normal() * 0.12, y = cy + rng.normal() * 0.12;
    const r = rng.uniform(0.022, 0.04);
    if (x < -0.02 || x > 1.02 || y < -0.02 || y > 1.02 || !freeBy(x, y, r)) continue;
    paintTree(cv, x, y, r, rng);
    notes.trees++;
    i++;
  }
}

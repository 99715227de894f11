/** Image decoding and transforms against Pillow (tests/oracle/pillow_image.py). */
import assert from "node:assert/strict";
import { decodeImage, type RgbImage } from "../src/data/image.ts";
import { resize } from "../src/data/resize.ts";
import { CenterCrop, Compose, Resize, roundHalfEven } from "../src/data/transforms.ts";
import { crop, flipHorizontal, flipVertical, RandomResizedCrop } from "../src/data/transforms.ts";
import { DataError } from "../src/data/errors.ts";
import { decodeJpegWasm, looksLikeJpeg } from "../src/data/jpeg_wasm.ts";
import { IMAGENET, stackImages } from "../src/data/normalize.ts";
import { Rng } from "../src/data/rng.ts";
import { ROOT, runPython } from "./helpers.ts";
import { isDir } from "../ffi/fs.ts";

const AID = `${ROOT}/../shared/data/aid/images`;
const haveAid = isDir(AID);

type Op = (string | number)[];
interface PilOut {
  width: number;
  height: number;
  b64?: string;
  error?: string;
}

async function pillow(cases: { id: string; path: string; ops: Op[] }[]) {
  const out = await runPython<Record<string, PilOut>>(`${ROOT}/tests/oracle/pillow_image.py`, {
    cases,
  });
  const res: Record<string, RgbImage> = {};
  for (const [id, o] of Object.entries(out)) {
    if (o.error) throw new Error(`pillow ${id}: ${o.error}`);
    const bin = atob(o.b64!);
    res[id] = {
      width: o.width,
      height: o.height,
      data: Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    };
  }
  return res;
}

function stats(a: RgbImage, b: RgbImage) {
  assert.equal(a.width, b.width, "width");
  assert.equal(a.height, b.height, "height");
  let sum = 0, max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.data.length, max };
}

let fixtures: Promise<Record<string, string>> | undefined;
function makeFixtures(): Promise<Record<string, string>> {
  fixtures ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "dsva-img-" });
    return await runPython<Record<string, string>>(`${ROOT}/tests/oracle/make_images.py`, { dir });
  })();
  return fixtures;
}

function aidSamples(n: number): string[] {
  const out: string[] = [];
  for (const c of [...Deno.readDirSync(AID)].map((e) => e.name).sort().slice(0, n)) {
    const f = [...Deno.readDirSync(`${AID}/${c}`)].map((e) => e.name).sort()[0];
    out.push(`${AID}/${c}/${f}`);
  }
  return out;
}

Deno.test("decode: baseline JPEG, PNG, TIFF, gray, alpha and palette match Pillow exactly", async () => {
  const fx = await makeFixtures();
  const names = [
    "rgb.jpg",
    "rgb.png",
    "gray.png",
    "gray.jpg",
    "rgba.png",
    "la.png",
    "palette.png",
    "rgb.tif",
    "wide.jpg",
  ];
  const paths = names.map((n) => fx[n]);
  if (haveAid) paths.push(...aidSamples(3));
  const pil = await pillow(paths.map((p) => ({ id: p, path: p, ops: [] })));
  for (const p of paths) {
    const s = stats(await decodeImage(p), pil[p]);
    assert.equal(s.max, 0, `${p}: max diff ${s.max}`);
  }
});

Deno.test("decode: clean JPEGs take the WebAssembly decoder and equal Pillow; others go to sharp", async () => {
  const fx = await makeFixtures();
  const jpegs = ["rgb.jpg", "gray.jpg", "wide.jpg", "progressive.jpg", "rgb444.jpg"].map((n) =>
    fx[n]
  );
  if (haveAid) jpegs.push(...aidSamples(5));
  const pil = await pillow(jpegs.map((p) => ({ id: p, path: p, ops: [] })));
  for (const p of jpegs) {
    const img = await decodeJpegWasm(await Deno.readFile(p));
    assert.ok(img, `${p}: the WebAssembly decoder declined a clean JPEG`);
    assert.equal(stats(img, pil[p]).max, 0, p);
  }
  const rgb = await Deno.readFile(fx["rgb.jpg"]);
  assert.equal(await decodeJpegWasm(rgb.subarray(0, rgb.length >> 1)), null, "truncated");
  assert.equal(await decodeJpegWasm(await Deno.readFile(fx["cmyk.jpg"])), null, "CMYK");
  assert.equal(looksLikeJpeg(await Deno.readFile(fx["rgb.png"])), false, "PNG");
});

Deno.test("decode: 16-bit scales to 8 bits, CMYK becomes RGB", async () => {
  const fx = await makeFixtures();
  const ref = await decodeImage(fx["gray.png"]);
  for (const n of ["gray16.png", "gray16.tif"]) {
    const s = stats(await decodeImage(fx[n]), ref);
    assert.ok(s.max <= 1, `${n}: max diff ${s.max} from v/257`);
  }
  for (const n of ["cmyk.jpg", "cmyk.tif"]) {
    const img = await decodeImage(fx[n]);
    const px = (
      x: number,
    ) => [...img.data.subarray((20 * img.width + x) * 3, (20 * img.width + x) * 3 + 3)];
    const [r, g, b] = px(5);
    assert.ok(r < 80 && g > 120 && b > 170, `${n}: cyan came out as ${[r, g, b]}`);
    assert.ok(
      px(img.width - 5).every((v) => v < 60),
      `${n}: black came out as ${px(img.width - 5)}`,
    );
  }
});

Deno.test("resize: bit-exact with Pillow for every filter, enlarging and shrinking", async () => {
  const fx = await makeFixtures();
  const src = haveAid ? aidSamples(2) : [fx["wide.jpg"], fx["rgb.png"]];
  const sizes: [number, number][] = [[256, 256], [224, 100], [97, 61], [40, 33], [300, 17]];
  const filters = ["bilinear", "bicubic", "lanczos", "box", "hamming"] as const;
  const cases: { id: string; path: string; ops: Op[] }[] = [];
  for (const p of src) {
    for (const [w, h] of sizes) {
      for (const f of filters) {
        cases.push({ id: `${p}|${w}|${h}|${f}`, path: p, ops: [["resize_exact", w, h, f]] });
      }
    }
  }
  const pil = await pillow(cases);
  for (const c of cases) {
    const [, w, h, f] = c.id.split("|");
    const img = await decodeImage(c.path);
    const s = stats(resize(img, +w, +h, f as (typeof filters)[number]), pil[c.id]);
    assert.equal(s.max, 0, `${c.id}: max diff ${s.max}`);
  }
});

Deno.test("Resize(256) + CenterCrop(224) pipeline is within 2/255 mean abs diff of torchvision", async () => {
  const fx = await makeFixtures();
  const src = [fx["wide.jpg"], fx["rgb.jpg"], ...(haveAid ? aidSamples(4) : [])];
  const pipe = Compose(Resize(256), CenterCrop(224));
  const pil = await pillow(
    src.map((p) => ({ id: p, path: p, ops: [["resize", 256], ["center_crop", 224]] })),
  );
  for (const p of src) {
    const s = stats(pipe.apply(await decodeImage(p), new Rng(0)), pil[p]);
    assert.ok(s.mean <= 2, `${p}: mean abs diff ${s.mean}`);
    assert.equal(s.max, 0, `${p}: expected bit-exact, max diff ${s.max}`);
  }
});

Deno.test("crop with padding, flips and odd centre crops match Pillow", async () => {
  const fx = await makeFixtures();
  const p = fx["rgb.png"]; // 61×45
  const ops: Record<string, Op[]> = {
    crop: [["crop", -3, 5, 30, 70]],
    hflip: [["hflip"]],
    vflip: [["vflip"]],
    cc: [["center_crop", 30]],
    ccpad: [["center_crop", 50]],
  };
  const pil = await pillow(Object.entries(ops).map(([id, o]) => ({ id, path: p, ops: o })));
  const img = await decodeImage(p);
  const r = new Rng(0);
  assert.equal(stats(crop(img, -3, 5, 30, 70), pil.crop).max, 0);
  assert.equal(stats(flipHorizontal(img), pil.hflip).max, 0);
  assert.equal(stats(flipVertical(img), pil.vflip).max, 0);
  assert.equal(stats(CenterCrop(30).apply(img, r), pil.cc).max, 0);
  assert.equal(stats(CenterCrop(50).apply(img, r), pil.ccpad).max, 0);
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, 2.4].map(roundHalfEven), [0, 2, 2, -0, 2]);
});

Deno.test("random transforms are seeded and normalisation matches torchvision", async () => {
  const fx = await makeFixtures();
  const img = await decodeImage(fx["wide.jpg"]);
  const t = RandomResizedCrop(32);
  const a = t.apply(img, new Rng(5, 1)), b = t.apply(img, new Rng(5, 1));
  assert.deepEqual(a.data, b.data);
  assert.equal(a.width, 32);
  const batch = stackImages([a, b], IMAGENET);
  assert.deepEqual(batch.shape, [2, 3, 32, 32]);
  const v = a.data[0];
  assert.ok(Math.abs(batch.data[0] - (v / 255 - 0.485) / 0.229) < 1e-6);
  const g = a.data[1];
  assert.ok(Math.abs(batch.data[32 * 32] - (g / 255 - 0.456) / 0.224) < 1e-6);
});

Deno.test("decode: corrupted, truncated, missing and non-image files give a DataError naming the file", async () => {
  const fx = await makeFixtures();
  const dir = await Deno.makeTempDir({ prefix: "dsva-bad-" });
  const jpg = await Deno.readFile(fx["wide.jpg"]);
  const cases: Record<string, Uint8Array> = {
    "truncated.jpg": jpg.slice(0, Math.floor(jpg.length / 2)),
    "garbage.jpg": new TextEncoder().encode("this is not a JPEG at all"),
    "empty.png": new Uint8Array(0),
  };
  const broken = jpg.slice();
  for (let i = 400; i < 800; i++) broken[i] = 0xff;
  cases["scrambled.jpg"] = broken;
  for (const [name, bytes] of Object.entries(cases)) {
    const p = `${dir}/${name}`;
    await Deno.writeFile(p, bytes);
    await assert.rejects(decodeImage(p), (e: unknown) => {
      assert.ok(e instanceof DataError, `${name}: ${e}`);
      assert.equal(e.file, p);
      assert.match(e.problem, /corrupted|truncated|not an image|empty/i, e.message);
      return true;
    });
  }
  await assert.rejects(decodeImage(`${dir}/missing.jpg`), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.match(e.message, /missing\.jpg: no such file/);
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});

/** The loader's fused Resize → crop → flips → normalise path against the step-by-step
 * transforms (themselves checked against Pillow in data_image_test.ts): same values, same
 * random draws. */
import assert from "node:assert/strict";
import { rgbImage } from "../src/data/image.ts";
import { IMAGENET, writeChw } from "../src/data/normalize.ts";
import type { ResampleFilter } from "../src/data/resize.ts";
import { Rng } from "../src/data/rng.ts";
import { planWindow, transformToChw } from "../src/data/to_chw.ts";
import {
  CenterCrop,
  Compose,
  RandomCrop,
  RandomHorizontalFlip,
  RandomResizedCrop,
  RandomVerticalFlip,
  Resize,
  type Transform,
} from "../src/data/transforms.ts";

function noise(w: number, h: number, seed: number) {
  const rng = new Rng(seed);
  const img = rgbImage(w, h);
  for (let i = 0; i < img.data.length; i++) img.data[i] = rng.int(256);
  return img;
}

function stepByStep(img: ReturnType<typeof noise>, t: Transform, rng: Rng): Float32Array {
  const out = t.apply(img, rng);
  const data = new Float32Array(out.width * out.height * 3);
  writeChw(out, data, 0, IMAGENET);
  return data;
}

Deno.test("fused resize → crop → flips equals the step-by-step transforms exactly", () => {
  const filters: ResampleFilter[] = ["bilinear", "bicubic", "box", "lanczos", "hamming"];
  const pipelines = (f: ResampleFilter): Transform[] => [
    Compose(Resize(40, f), RandomCrop(32), RandomHorizontalFlip()),
    Compose(Resize(40, f), CenterCrop(33)),
    Compose(
      Resize([21, 50], f),
      CenterCrop([20, 31]),
      RandomVerticalFlip(),
      RandomHorizontalFlip(),
    ),
    Compose(Resize(12, f), RandomCrop([10, 12]), RandomHorizontalFlip(1), RandomHorizontalFlip(1)),
    Compose(RandomCrop(17), RandomVerticalFlip(0.7)),
    Compose(Resize(29, f)),
  ];
  let fused = 0;
  for (const [w, h] of [[37, 29], [64, 64], [23, 51], [150, 150]]) {
    const img = noise(w, h, w * h);
    for (const f of filters) {
      for (const [k, t] of pipelines(f).entries()) {
        for (let s = 0; s < 4; s++) {
          const keys = [w, h, k, s];
          const plan = planWindow(t.spec!, w, h, new Rng(...keys));
          if (plan) fused++;
          const a = transformToChw(img, t, new Rng(...keys), IMAGENET);
          const b = stepByStep(img, t, new Rng(...keys));
          assert.equal(a.data.length, b.length, `${t.name} on ${w}×${h}`);
          const bad = a.data.findIndex((v, i) => v !== b[i]);
          assert.equal(bad, -1, `${t.name} on ${w}×${h} (${f}, draw ${s}): element ${bad} differs`);
        }
      }
    }
  }
  assert.ok(fused > 300, `only ${fused} cases took the fused path`);
});

Deno.test("pipelines the fused path cannot run fall back without drawing random numbers", () => {
  const img = noise(20, 20, 1);
  for (
    const t of [
      Compose(Resize(24), RandomCrop(32)), // the crop needs padding
      Compose(RandomResizedCrop(16), RandomHorizontalFlip()),
      Compose(RandomHorizontalFlip(), Resize(16)), // a resize after a flip
    ]
  ) {
    const rng = new Rng(3);
    assert.equal(planWindow(t.spec!, 20, 20, rng), null, t.name);
    assert.equal(rng.uint32(), new Rng(3).uint32(), `${t.name} drew from the generator`);
    const a = transformToChw(img, t, new Rng(5), IMAGENET);
    assert.deepEqual(a.data, stepByStep(img, t, new Rng(5)), t.name);
  }
});

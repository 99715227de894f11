/** Host batches to libtorch tensors, through the public `train` namespace of mod.ts (the `data`
 * namespace stays free of libtorch). */
import assert from "node:assert/strict";
import { data, train } from "../mod.ts";

Deno.test("batches become float32 NCHW tensors, labels int64", async () => {
  const img = (v: number): data.RgbImage => data.rgbImage(4, 3, new Uint8Array(36).fill(v));
  const loader = new data.ImageLoader([{ path: "a", label: 3 }, { path: "b", label: 1 }], {
    transform: data.CenterCrop([2, 2]),
    normalization: data.CLIP,
    decode: (p) => Promise.resolve(img(p === "a" ? 255 : 0)),
  });
  const [b] = await Array.fromAsync(loader.batches([{ epoch: 0, batch: 0, indices: [0, 1] }]));
  using x = train.batchToTensor(b);
  using y = train.labelsToTensor(Array.from(b.labels));
  assert.deepEqual(x.shape, [2, 3, 2, 2]);
  assert.equal(x.dtype, "float32");
  assert.equal(y.dtype, "int64");
  assert.deepEqual(y.toFlat(), [3, 1]);
  const v = x.toFlat() as number[];
  assert.ok(Math.abs(v[0] - (1 - 0.48145466) / 0.26862954) < 1e-5);
  assert.ok(Math.abs(v[12] - (0 - 0.48145466) / 0.26862954) < 1e-5);
  using z = train.imagesToTensor([img(0)], data.UNIT);
  assert.deepEqual(z.shape, [1, 3, 3, 4]);
});

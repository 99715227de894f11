/** The concurrent loader and the samplers: order, budget, errors, determinism, resuming. */
import assert from "node:assert/strict";
import { EpisodicSampler } from "../src/data/episodic_sampler.ts";
import { DataError } from "../src/data/errors.ts";
import { encodePng, type RgbImage } from "../src/data/image.ts";
import { ImageLoader, type LoadedBatch, type Sample } from "../src/data/loader.ts";
import { UNIT } from "../src/data/normalize.ts";
import { mapOrdered } from "../src/data/ordered.ts";
import { Rng } from "../src/data/rng.ts";
import type { BatchPlan } from "../src/data/sampler.ts";
import { ShuffledBatchSampler } from "../src/data/shuffle_sampler.ts";
import { Compose, RandomCrop, RandomHorizontalFlip, Resize } from "../src/data/transforms.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 20×16 images whose pixels encode their index. */
function fakeImage(i: number): RgbImage {
  const data = new Uint8Array(20 * 16 * 3);
  for (let p = 0; p < data.length; p++) data[p] = (i * 37 + p * 11) % 256;
  return { width: 20, height: 16, data };
}
const samples: Sample[] = Array.from({ length: 60 }, (_, i) => ({ path: `img${i}`, label: i % 6 }));
const transform = Compose(Resize(14), RandomCrop(12), RandomHorizontalFlip());

function jittery(seed: number, inFlight?: { now: number; max: number }) {
  const rng = new Rng(seed);
  return async (path: string) => {
    if (inFlight) inFlight.max = Math.max(inFlight.max, ++inFlight.now);
    await sleep(rng.int(4));
    if (inFlight) inFlight.now--;
    return fakeImage(Number(path.slice(3)));
  };
}

async function collect(loader: ImageLoader, plans: Iterable<BatchPlan>, slow = 0) {
  const out: LoadedBatch[] = [];
  for await (const b of loader.batches(plans)) {
    out.push(b);
    if (slow) await sleep(slow);
  }
  return out;
}

Deno.test("loader: same batches whatever the concurrency and timing; budget respected", async () => {
  const sampler = () => new ShuffledBatchSampler(samples.length, { batchSize: 7, seed: 3 });
  const ref = await collect(
    new ImageLoader(samples, {
      transform,
      concurrency: 1,
      prefetch: 1,
      decode: jittery(0),
      seed: 9,
    }),
    sampler().epoch(),
  );
  assert.equal(ref.length, 9);
  assert.deepEqual(ref[8].shape, [4, 3, 12, 12]);
  for (const [concurrency, prefetch, slow] of [[8, 2, 0], [3, 4, 3], [16, 1, 2]]) {
    const live = { now: 0, max: 0 };
    const loader = new ImageLoader(samples, {
      transform,
      concurrency,
      prefetch,
      decode: jittery(concurrency, live),
      seed: 9,
    });
    const got = await collect(loader, sampler().epoch(), slow);
    assert.equal(got.length, ref.length);
    got.forEach((b, i) => {
      assert.deepEqual(b.indices, ref[i].indices);
      assert.deepEqual(b.labels, ref[i].labels);
      assert.deepEqual(b.data, ref[i].data, `batch ${i} differs at concurrency ${concurrency}`);
    });
    assert.ok(loader.peak.openBatches <= prefetch, `${loader.peak.openBatches} open > ${prefetch}`);
    assert.ok(live.max <= concurrency && loader.peak.inFlight <= concurrency);
    if (concurrency > 1) assert.ok(live.max > 1, "ran concurrently");
  }
});

Deno.test("loader: a bad image fails its batch with the file's error, or is skipped and counted", async () => {
  const decode = (path: string) =>
    path === "img9"
      ? Promise.reject(new DataError(path, "corrupted or truncated image"))
      : Promise.resolve(fakeImage(1));
  const plans = new ShuffledBatchSampler(samples.length, { batchSize: 10, shuffle: false }).epoch();
  const loader = new ImageLoader(samples, { transform, decode, concurrency: 4 });
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const b of loader.batches(plans)) seen.push(b.batch);
    })(),
    /img9: corrupted or truncated image/,
  );
  assert.deepEqual(seen, []);
  const warnings: string[] = [];
  const skipping = new ImageLoader(samples, {
    transform,
    decode,
    onError: "skip",
    warn: (m) => warnings.push(m),
  });
  const got = await collect(
    skipping,
    new ShuffledBatchSampler(samples.length, { batchSize: 10, shuffle: false }).epoch(),
  );
  assert.equal(got[0].shape[0], 9);
  assert.equal(got[0].indices.includes(9), false);
  assert.equal(got[0].data.length, 9 * 3 * 12 * 12);
  assert.equal(skipping.skipped, 1);
  assert.match(warnings[0], /img9/);
});

Deno.test("loader: real PNG files decode, normalise and stack into NCHW", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-loader-" });
  const files: Sample[] = [];
  for (let i = 0; i < 4; i++) {
    const p = `${dir}/${i}.png`;
    await Deno.writeFile(p, await encodePng(fakeImage(i)));
    files.push({ path: p, label: i });
  }
  const loader = new ImageLoader(files, { transform: Compose(), normalization: UNIT });
  const [b] = await collect(loader, [{ epoch: 0, batch: 0, indices: [2, 0] }]);
  assert.deepEqual(b.shape, [2, 3, 16, 20]);
  assert.deepEqual(Array.from(b.labels), [2, 0]);
  const img = fakeImage(2);
  assert.equal(b.data[0], Math.fround(img.data[0] / 255)); // R plane, pixel 0
  assert.equal(b.data[16 * 20], Math.fround(img.data[1] / 255)); // G plane, pixel 0
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loader: worker threads give the same pixels as the main thread, and stop after", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-workers-" });
  const files: Sample[] = [];
  for (let i = 0; i < 12; i++) {
    const p = `${dir}/${i}.png`;
    await Deno.writeFile(p, await encodePng(fakeImage(i)));
    files.push({ path: p, label: i % 3 });
  }
  const plans = () => new ShuffledBatchSampler(files.length, { batchSize: 5, seed: 2 }).epoch();
  const here = await collect(new ImageLoader(files, { transform, seed: 4 }), plans());
  const there = await collect(new ImageLoader(files, { transform, seed: 4, workers: 2 }), plans());
  assert.deepEqual(there, here);
  await Deno.writeTextFile(files[7].path, "broken");
  await assert.rejects(
    collect(new ImageLoader(files, { transform, workers: 2 }), plans()),
    (e: unknown) => e instanceof DataError && e.file === files[7].path,
  );
  assert.throws(
    () => new ImageLoader(files, { transform: { name: "custom", apply: (i) => i }, workers: 2 }),
    /has no spec/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("mapOrdered keeps order and bounds the window", async () => {
  let live = 0, maxLive = 0;
  const rng = new Rng(1);
  const out: number[] = [];
  for await (
    const v of mapOrdered([...Array(30).keys()], async (x) => {
      maxLive = Math.max(maxLive, ++live);
      await sleep(rng.int(3));
      live--;
      return x * 2;
    }, { concurrency: 4, window: 6 })
  ) out.push(v);
  assert.deepEqual(out, [...Array(30).keys()].map((x) => x * 2));
  assert.ok(maxLive <= 4 && maxLive > 1);
});

Deno.test("episodic sampler: ways × shots, shot-major, seeded, resumable across epochs", () => {
  const labels = Array.from({ length: 200 }, (_, i) => (i * 7) % 12);
  const make = () =>
    new EpisodicSampler(labels, { ways: 5, shots: 3, batchesPerEpoch: 4, seed: 11 });
  const s = make();
  const first = s.next();
  assert.equal(first.indices.length, 15);
  const classes = first.indices.slice(0, 5).map((i) => labels[i]);
  assert.equal(new Set(classes).size, 5);
  for (let k = 0; k < 3; k++) {
    assert.deepEqual(
      first.indices.slice(k * 5, k * 5 + 5).map((i) => labels[i]),
      classes,
      "shot-major",
    );
  }
  assert.equal(new Set(first.indices).size, 15);
  // Same seed, same batches; different seed, different batches.
  assert.deepEqual(make().plan(0, 0), first.indices);
  assert.notDeepEqual(
    new EpisodicSampler(labels, { ways: 5, shots: 3, batchesPerEpoch: 4, seed: 12 }).plan(0, 0),
    first.indices,
  );
  // Resume mid-epoch and across the epoch boundary.
  for (let i = 0; i < 2; i++) s.next();
  const saved = JSON.parse(JSON.stringify(s.state()));
  assert.deepEqual(saved, { seed: 11, epoch: 0, batch: 3 });
  const rest = [s.next(), s.next(), s.next()];
  assert.deepEqual(rest.map((p) => [p.epoch, p.batch]), [[0, 3], [1, 0], [1, 1]]);
  const r = make();
  r.restore(saved);
  assert.deepEqual([r.next(), r.next(), r.next()], rest);
  assert.equal([...make().epoch()].length, 4);
  assert.throws(
    () => new EpisodicSampler(labels, { ways: 13, shots: 1, batchesPerEpoch: 1 }),
    /13 ways but .* 12 classes/,
  );
  assert.throws(
    () => new EpisodicSampler([0, 0, 1], { ways: 2, shots: 2, batchesPerEpoch: 1 }),
    /class\(es\) 1 have fewer/,
  );
});

Deno.test("shuffled sampler: a permutation per epoch, seeded, resumable mid-epoch", () => {
  const ids = Array.from({ length: 23 }, (_, i) => 100 + i);
  const make = () => new ShuffledBatchSampler(ids, { batchSize: 5, seed: 4 });
  const s = make();
  const e0 = [...s.epoch()];
  assert.equal(e0.length, 5);
  assert.deepEqual(e0.flatMap((p) => p.indices).sort((a, b) => a - b), ids);
  const e1 = [...s.epoch()];
  assert.notDeepEqual(e1.flatMap((p) => p.indices), e0.flatMap((p) => p.indices));
  assert.deepEqual(s.state(), { seed: 4, epoch: 2, batch: 0 });
  const a = make();
  a.next();
  a.next();
  const st = a.state();
  const b = make();
  b.restore(st);
  assert.deepEqual([...b.epoch()], e0.slice(2));
  assert.equal(new ShuffledBatchSampler(23, { batchSize: 5, dropLast: true }).batchesPerEpoch, 4);
  assert.deepEqual(new ShuffledBatchSampler(7, { batchSize: 3, shuffle: false }).plan(0, 2), [6]);
  assert.throws(() => b.restore({ seed: 5, epoch: 0, batch: 0 }), /seed 5/);
});

Deno.test("rng: seeded streams, state round trip, unbiased ints", () => {
  const a = new Rng(1, 2, 3), b = new Rng(1, 2, 3), c = new Rng(1, 2, 4);
  const xs = Array.from({ length: 5 }, () => a.uint32());
  assert.deepEqual(Array.from({ length: 5 }, () => b.uint32()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.uint32()), xs);
  const st = a.state();
  const next = a.float();
  assert.equal(Rng.fromState(st).float(), next);
  const counts = new Array(3).fill(0);
  const r = new Rng(0);
  for (let i = 0; i < 3000; i++) counts[r.int(3)]++;
  assert.ok(counts.every((n) => n > 900 && n < 1100), `${counts}`);
  assert.deepEqual(r.permutation(5).sort(), [0, 1, 2, 3, 4]);
});

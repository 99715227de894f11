/** Darknet-tiny parity against TensorFlow.js: the real pretrained weights from
 * ../shared/data/weights/darknet-tiny-tfjs, a real AID image, the same float input given to
 * `@tensorflow/tfjs-layers` (pure-JS CPU backend) running the same model.json and to our
 * libtorch rebuild. Skipped where ../shared/data is absent, except under CI=true. */
import assert from "node:assert/strict";
import { models, torch } from "../mod.ts";
import { decodeImage } from "../src/data/image.ts";
import { ROOT } from "./helpers.ts";
import { isFile } from "../ffi/fs.ts";

const DARKNET = `${ROOT}/../shared/data/weights/darknet-tiny-tfjs`;
const IMAGE = `${ROOT}/../shared/data/aid/images/Airport/airport_1.jpg`;
const present = isFile(`${DARKNET}/model.json`) && isFile(IMAGE);
const CI = Deno.env.get("CI") === "true";

/** TF.js (tfjs-core + tfjs-layers on the CPU backend), loaded only when the test runs. */
async function tfjs() {
  const tf = await import("npm:@tensorflow/tfjs-core@4.22.0");
  await import("npm:@tensorflow/tfjs-backend-cpu@4.22.0");
  const tfl = await import("npm:@tensorflow/tfjs-layers@4.22.0");
  tf.env().set("PROD", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
  return { tf, tfl };
}

type Tf = Awaited<ReturnType<typeof tfjs>>;

/** The TF.js model from model.json and its shards; `anySize` frees the input's H and W. */
async function loadTfjs({ tf, tfl }: Tf, anySize = false) {
  const doc = JSON.parse(await Deno.readTextFile(`${DARKNET}/model.json`));
  if (anySize) {
    for (const l of doc.modelTopology.model_config.config.layers) {
      if (l.class_name === "InputLayer") l.config.batch_input_shape = [null, null, null, 3];
    }
  }
  const parts: Uint8Array[] = [];
  for (const g of doc.weightsManifest) {
    for (const p of g.paths) parts.push(await Deno.readFile(`${DARKNET}/${p}`));
  }
  const all = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  parts.reduce((o, b) => (all.set(b, o), o + b.length), 0);
  const weightSpecs = doc.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  return await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: doc.modelTopology, weightSpecs, weightData: all.buffer }),
  );
}

/** Runs the TF.js model on our NCHW input (as NHWC); returns the outputs and ms per call. */
async function predictTfjs(
  { tf }: Tf,
  model: Awaited<ReturnType<typeof loadTfjs>>,
  x: torch.Tensor,
): Promise<{ out: Float32Array; ms: number }> {
  const [n, c, h, w] = x.shape;
  const nhwc = torch.scope(() => x.permute(0, 2, 3, 1).contiguous().toTypedArray());
  const input = tf.tensor4d(nhwc as Float32Array, [n, h, w, c]);
  const t0 = performance.now();
  const y = model.predict(input) as InstanceType<typeof tf.Tensor>;
  const out = (await y.data()) as Float32Array;
  const ms = performance.now() - t0;
  input.dispose();
  y.dispose();
  return { out, ms };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const top5 = (logits: ArrayLike<number>) => {
  const mx = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - mx));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((p, i) => ({ index: i, prob: p / z })).sort((a, b) => b.prob - a.prob).slice(0, 5);
};

Deno.test({
  name: "darknet: Darknet-tiny logits equal TF.js on a real AID image (224×224, ≤1e-4)",
  ignore: !present && !CI,
  fn: async () => {
    assert.ok(present, `CI=true but ${DARKNET} or ${IMAGE} is missing`);
    const tfx = await tfjs();
    const img = await decodeImage(IMAGE);
    const net = await models.Darknet.fromTfjs(DARKNET);
    const tfModel = await loadTfjs(tfx);
    try {
      assert.deepEqual(net.inputSize, [224, 224]);
      assert.equal(net.numParameters(), 1_042_104); // the 1,046,488 TF.js weights but BN moving stats
      const x = models.Darknet.preprocess(img); // [1, 3, 224, 224], pixels / 255
      assert.deepEqual(x.shape, [1, 3, 224, 224]);

      // Our preprocessing is ml5's: div(255) then resizeBilinear(alignCorners = true).
      const { tf } = tfx;
      const tfPre = tf.tidy(() =>
        tf.image.resizeBilinear(
          tf.tensor3d(Float32Array.from(img.data, (v) => v / 255), [img.height, img.width, 3]),
          [224, 224],
          true,
        )
      );
      const pre = (await tfPre.data()) as Float32Array;
      tfPre.dispose();
      const ours = torch.scope(() => x.permute(0, 2, 3, 1).contiguous().toTypedArray());
      const preDiff = maxAbsDiff(ours as Float32Array, pre);
      assert.equal(preDiff, 0, `preprocessing differs from tf.image.resizeBilinear: ${preDiff}`);

      const ref = await predictTfjs(tfx, tfModel, x);
      const times: number[] = [];
      const got = torch.noGrad(() => {
        let y: Float32Array | undefined;
        for (let i = 0; i < 6; i++) {
          const t0 = performance.now();
          y = torch.scope(() => net.forward(x).toTypedArray() as Float32Array);
          times.push(performance.now() - t0);
        }
        return y!;
      });
      assert.equal(got.length, 1000);
      const diff = maxAbsDiff(got, ref.out);
      const ms = times.slice(1).sort((a, b) => a - b)[2]; // median of 5 after a warm-up
      const [lo, hi] = [Math.min(...ref.out), Math.max(...ref.out)];
      console.log(
        `darknet-tiny on airport_1.jpg (150×150 → 224×224): max |ours − tfjs| = ${
          diff.toExponential(3)
        } over 1000 logits in [${lo.toFixed(3)}, ${hi.toFixed(3)}]; forward ${
          ms.toFixed(1)
        } ms median (libtorch CPU, batch 1) vs ${ref.ms.toFixed(0)} ms (tfjs CPU backend)`,
      );
      const ourTop = top5(got), refTop = top5(ref.out);
      console.log(
        "top-5 (Darknet ImageNet class indices; no class-name list is available offline):\n" +
          ourTop.map((t, k) =>
            `  ${k + 1}. class ${t.index}  p=${t.prob.toFixed(4)}  (tfjs: class ${
              refTop[k].index
            }  p=${refTop[k].prob.toFixed(4)})`
          ).join("\n"),
      );
      assert.ok(diff <= 1e-4, `logits differ from TF.js by ${diff}`);
      assert.deepEqual(ourTop.map((t) => t.index), refTop.map((t) => t.index));

      // probabilities() is ml5's softmax; features() is the classifier's 128-channel input.
      torch.scope(() =>
        torch.noGrad(() => {
          const p = net.probabilities(x);
          assert.ok(Math.abs(p.sum().item() - 1) < 1e-5);
          assert.equal(p.argmax().item(), ourTop[0].index);
          assert.equal(net.featureLayer, "leaky_re_lu_15");
          assert.deepEqual(net.features(x).shape, [1, 128, 14, 14]);
          assert.deepEqual(net.features(x, "leaky_re_lu_14").shape, [1, 512, 14, 14]);
        })
      );
      x.dispose();
    } finally {
      net.dispose();
      tfModel.dispose();
    }
  },
});

Deno.test({
  name: "darknet: odd feature-map sizes pad like TensorFlow 'same' (150×150 input, ≤1e-4)",
  ignore: !present && !CI,
  fn: async () => {
    assert.ok(present, `CI=true but ${DARKNET} or ${IMAGE} is missing`);
    const tfx = await tfjs();
    const img = await decodeImage(IMAGE);
    // 150 → 75 → 38 → 19 → 10: the max-pools on 75 and 19 pad one pixel right/bottom.
    assert.deepEqual(models.tfSamePadding(75, 2, 2), [0, 1]);
    assert.deepEqual(models.tfSamePadding(7, 3, 2), [1, 1]);
    assert.deepEqual(models.tfSamePadding(8, 3, 2), [0, 1]);
    const net = await models.Darknet.fromTfjs(DARKNET);
    const tfModel = await loadTfjs(tfx, true);
    try {
      const x = models.Darknet.preprocess(img, { size: [img.height, img.width] });
      assert.deepEqual(x.shape, [1, 3, 150, 150]);
      const ref = await predictTfjs(tfx, tfModel, x);
      const got = torch.scope(() =>
        torch.noGrad(() => net.forward(x).toTypedArray() as Float32Array)
      );
      const fshape = torch.scope(() => torch.noGrad(() => net.features(x).shape));
      assert.deepEqual(fshape, [1, 128, 10, 10]);
      const diff = maxAbsDiff(got, ref.out);
      console.log(`darknet-tiny at 150×150: max |ours − tfjs| = ${diff.toExponential(3)}`);
      assert.ok(diff <= 1e-4, `logits differ from TF.js by ${diff}`);
      x.dispose();
    } finally {
      net.dispose();
      tfModel.dispose();
    }
  },
});

Deno.test({
  name: "darknet: strided 'same' conv and max-pool pad right/bottom like TF.js (random weights)",
  fn: async () => {
    const { tf } = await tfjs();
    torch.manualSeed(0);
    const conv = new models.KerasConv2d(3, 4, [3, 3], { stride: [2, 2], padding: "same" });
    const pool = new models.KerasMaxPool2d([3, 3], [2, 2], "same");
    try {
      for (const [h, w] of [[8, 8], [9, 8], [7, 10]]) {
        const x = torch.randn([1, 3, h, w]);
        const xs = torch.scope(() => x.permute(0, 2, 3, 1).contiguous().toTypedArray());
        const k = torch.scope(() => conv.weight.permute(2, 3, 1, 0).contiguous().toTypedArray());
        const b = conv.bias!.toTypedArray() as Float32Array;
        const ref = tf.tidy(() => {
          const input = tf.tensor4d(xs as Float32Array, [1, h, w, 3]);
          const y = tf.add(
            tf.conv2d(input, tf.tensor4d(k as Float32Array, [3, 3, 3, 4]), 2, "same"),
            tf.tensor1d(b),
          );
          return [y.dataSync(), tf.maxPool(input, 3, 2, "same").dataSync()];
        });
        const [yc, yp] = torch.scope(() =>
          torch.noGrad(() =>
            [conv.forward(x), pool.forward(x)].map((t) => {
              assert.deepEqual(t.shape.slice(2), [Math.ceil(h / 2), Math.ceil(w / 2)]);
              return t.permute(0, 2, 3, 1).contiguous().toTypedArray() as Float32Array;
            })
          )
        );
        assert.ok(maxAbsDiff(yc, ref[0] as Float32Array) <= 1e-5, `conv ${h}×${w}`);
        assert.equal(maxAbsDiff(yp, ref[1] as Float32Array), 0, `max-pool ${h}×${w}`);
        x.dispose();
      }
    } finally {
      conv.dispose();
      pool.dispose();
    }
  },
});

Deno.test("darknet: unsupported Keras layers and non-chain models are refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-darknet-" });
  try {
    const write = (layers: unknown[]) =>
      Deno.writeTextFile(
        `${dir}/model.json`,
        JSON.stringify({
          modelTopology: {
            model_config: { class_name: "Model", config: { layers } },
          },
          weightsManifest: [],
        }),
      );
    const input = {
      name: "input_1",
      class_name: "InputLayer",
      config: { batch_input_shape: [null, 8, 8, 3] },
      inbound_nodes: [],
    };
    await write([input, {
      name: "flatten_1",
      class_name: "Flatten",
      config: {},
      inbound_nodes: [[["input_1", 0, 0, {}]]],
    }]);
    await assert.rejects(
      models.Darknet.fromTfjs(dir),
      /Flatten layer "flatten_1" is not supported/,
    );
    await write([input, {
      name: "max_pooling2d_1",
      class_name: "MaxPooling2D",
      config: { pool_size: [2, 2], padding: "same" },
      inbound_nodes: [[["input_1", 0, 0, {}]]],
    }, {
      name: "max_pooling2d_2",
      class_name: "MaxPooling2D",
      config: { pool_size: [2, 2], padding: "same" },
      inbound_nodes: [[["input_1", 0, 0, {}]]],
    }]);
    await assert.rejects(models.Darknet.fromTfjs(dir), /only chain-shaped models/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

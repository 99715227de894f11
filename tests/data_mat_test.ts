/** xlsa17/DSVA `.mat` files (v5 from scipy.io, v7.3 from h5py): 0-based indices, orientation. */
import assert from "node:assert/strict";
import { readAttributes } from "../src/data/attributes.ts";
import { DataError } from "../src/data/errors.ts";
import { readMat } from "../src/data/mat.ts";
import { readXlsa17 } from "../src/data/xlsa17.ts";
import { ROOT, runPython } from "./helpers.ts";

interface Fixtures {
  files: Record<string, string>;
  expect: {
    classesByAttributes: number[];
    classes: string[];
    labels: number[];
    imageFiles: string[];
    trainval: number[];
    testSeen: number[];
    testUnseen: number[];
    gzslTrain: number[];
  };
}

let fixtures: Promise<Fixtures> | undefined;
const make = () =>
  fixtures ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "dsva-mat-" });
    return await runPython<Fixtures>(`${ROOT}/tests/oracle/make_mat.py`, { dir });
  })();

const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) < 1e-12, `at ${i}: ${a[i]} vs ${b[i]}`);
  }
};

for (
  const [version, splits, images] of [
    ["v5 compressed", "att_splits_v5.mat", "res101_v5.mat"],
    ["v5 uncompressed", "att_splits_v5u.mat", "res101_v5.mat"],
    ["v7.3 (HDF5)", "att_splits_v73.mat", "res101_v73.mat"],
  ]
) {
  Deno.test(`xlsa17 ${version}: 0-based indices, classes × attributes, names and files`, async () => {
    const { files, expect } = await make();
    const x = await readXlsa17({ splits: files[splits], images: files[images] });
    assert.deepEqual(x.trainval, expect.trainval);
    assert.deepEqual(x.testSeen, expect.testSeen);
    assert.deepEqual(x.testUnseen, expect.testUnseen);
    assert.deepEqual(x.labels, expect.labels);
    assert.deepEqual(x.imageFiles, expect.imageFiles);
    assert.deepEqual(x.classes, expect.classes);
    assert.equal(x.attributes.rows, 5);
    assert.equal(x.attributes.cols, 4);
    close(x.attributes.values, expect.classesByAttributes);
    const m = await readAttributes(files[splits]);
    assert.deepEqual(m.classes, expect.classes);
    close(m.values, expect.classesByAttributes);
  });
}

Deno.test("DSVA split variables: train_zsl_loc_0 / train_gzsl_loc_0", async () => {
  const { files, expect } = await make();
  const zsl = await readXlsa17({ splits: files["dsva_splits_v5.mat"] });
  assert.deepEqual(zsl.variables.trainval, "train_zsl_loc_0");
  assert.deepEqual(zsl.trainval, expect.trainval);
  assert.equal(zsl.classes, null);
  const gzsl = await readXlsa17({ splits: files["dsva_splits_v5.mat"], gzsl: true });
  assert.deepEqual(gzsl.trainval, expect.gzslTrain);
  await assert.rejects(
    readXlsa17({ splits: files["dsva_splits_v5.mat"], splitId: 3 }),
    /has none of the variables trainval_loc, train_zsl_loc_3/,
  );
});

Deno.test("mat: raw variables, and clear errors for bad files", async () => {
  const { files } = await make();
  const v = await readMat(files["res101_v5.mat"]);
  assert.ok(v.features.kind === "numeric");
  assert.deepEqual(v.features.dims, [3, 12]);
  const dir = await Deno.makeTempDir({ prefix: "dsva-badmat-" });
  await Deno.writeTextFile(`${dir}/x.mat`, "not a mat file at all");
  await assert.rejects(
    readMat(`${dir}/x.mat`),
    (e: unknown) => e instanceof DataError && /not a MATLAB file/.test(e.problem),
  );
  const good = await Deno.readFile(files["att_splits_v5.mat"]);
  await Deno.writeFile(`${dir}/cut.mat`, good.slice(0, 300));
  await assert.rejects(
    readMat(`${dir}/cut.mat`),
    (e: unknown) => e instanceof DataError && e.file === `${dir}/cut.mat`,
  );
  await assert.rejects(
    readXlsa17({
      splits: files["att_splits_v5.mat"],
      images: files["res101_v5.mat"],
      attributeVariable: "nope",
    }),
    /has no variable "nope"/,
  );
  await Deno.remove(dir, { recursive: true });
});

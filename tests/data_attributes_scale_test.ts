/** Scaling a class × attribute matrix: the trainer's `max` / `l2` / `none` (float32) and the
 * float64 `scaleAttributes` / `l2NormalizeRows` share one division and one row normalisation. */
import assert from "node:assert/strict";
import {
  fromRows,
  l2NormalizeRows,
  scaleAttributeMatrix,
  scaleAttributes,
} from "../src/data/attributes.ts";

const f = Math.fround;
// 0.7 is not a float32: the trainer's numbers come from its float32 rounding.
const m = fromRows([[50, 100], [0, 0], [3, -4], [0.7, 1]]);

Deno.test("max divides by the largest absolute value in float32, only when it is above 1", () => {
  const s = scaleAttributeMatrix(m, "max");
  assert.ok(s.values instanceof Float32Array);
  assert.deepEqual(Array.from(s.values), [
    0.5,
    1,
    0,
    0,
    f(0.03),
    f(-0.04),
    f(f(0.7) / 100),
    f(0.01),
  ]);
  assert.equal(s.note, "divided by the maximum 100");
  const small = scaleAttributeMatrix(fromRows([[-0.5, 1], [0.25, 0]]), "max");
  assert.deepEqual(Array.from(small.values), [-0.5, 1, 0.25, 0]);
  assert.equal(small.note, "unscaled (values already within [-1, 1])");
  const negative = scaleAttributeMatrix(fromRows([[-8, 2]]), "max");
  assert.deepEqual(Array.from(negative.values), [-1, 0.25]);
  assert.equal(negative.note, "divided by the maximum 8");
});

Deno.test("l2 gives every row unit norm in float32; a zero row stays zero", () => {
  const s = scaleAttributeMatrix(m, "l2");
  const n0 = Math.hypot(50, 100), n3 = Math.hypot(f(0.7), 1);
  assert.deepEqual(Array.from(s.values), [
    f(50 / n0),
    f(100 / n0),
    0,
    0,
    f(0.6),
    f(-0.8),
    f(f(0.7) / n3),
    f(1 / n3),
  ]);
  assert.equal(s.note, "rows L2-normalised");
});

Deno.test("none copies the values as float32 and leaves the matrix alone", () => {
  const s = scaleAttributeMatrix(m, "none");
  assert.deepEqual(Array.from(s.values), Array.from(m.values, f));
  assert.equal(s.note, "unscaled");
  s.values[0] = 9;
  assert.equal(m.values[0], 50);
});

Deno.test("the float64 copies: scaleAttributes divides, l2NormalizeRows normalises rows", () => {
  const d = scaleAttributes(m, 100);
  assert.deepEqual(Array.from(d.values), [0.5, 1, 0, 0, 0.03, -0.04, 0.7 / 100, 0.01]);
  assert.equal(m.values[0], 50);
  const l = l2NormalizeRows(m);
  const n0 = Math.hypot(50, 100), n3 = Math.hypot(0.7, 1);
  assert.deepEqual(Array.from(l.values), [50 / n0, 100 / n0, 0, 0, 0.6, -0.8, 0.7 / n3, 1 / n3]);
  assert.deepEqual(l.classes, m.classes);
});

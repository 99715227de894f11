/**
 * ZSL / GZSL metric parity with an independent numpy implementation of Xian et al.'s definitions
 * as DSVA computes them (tests/oracle/metrics.py), plus hand-checked examples, input errors and
 * the report writer.
 *
 * Random cases: several seeds × three score kinds (float32 softmax probabilities as DSVA scores,
 * float32 logits, and scores quantized to quarters so that argmax and critical-γ ties abound),
 * uneven class sizes (1–30 images), classes with no correct prediction, one case kind with empty
 * classes (`onEmptyClass: "skip"`). Both sides compute in float64; ZSL, S, U, H, every prediction,
 * every point of the seen–unseen curve (critical γs, representative γs, S, U, H) and the AUSUC
 * summed in the same order must be identical (===). AUSUC against numpy's `np.trapezoid` (a
 * pairwise sum) is allowed 1e-12.
 */
import assert from "node:assert/strict";
import { evaluation, torch } from "../mod.ts";
import { mulberry32, ROOT, runPython } from "./helpers.ts";

const {
  confusionMatrix,
  EvalInputError,
  gzslAccuracy,
  harmonicMean,
  perClassAccuracy,
  reportToJson,
  reportToMarkdown,
  selectGamma,
  seenUnseenCurve,
  writeReport,
  zslAccuracy,
} = evaluation;

const ORACLE = `${ROOT}/tests/oracle/metrics.py`;

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

type Kind = "prob" | "logit" | "quant" | "empty";

interface Case {
  name: string;
  scores: Float32Array;
  rows: number;
  cols: number;
  labels: number[];
  seen: number[];
  unseen: number[];
  gammas: number[];
  skip: boolean;
  retain: number;
  zeroCorrect: number[];
}

function makeCase(seed: number, kind: Kind): Case {
  const rand = mulberry32(seed * 1000 + kind.length);
  const cols = 8 + Math.floor(rand() * 13);
  const nUnseen = 3 + Math.floor(rand() * 5);
  const ids = shuffle(Array.from({ length: cols }, (_, i) => i), rand);
  const unseen = ids.slice(0, nUnseen);
  const seen = ids.slice(nUnseen);
  const isSeen = new Set(seen);
  const sizes = Array.from({ length: cols }, () => 1 + Math.floor(rand() * 30));
  if (kind === "empty") {
    sizes[seen[0]] = 0;
    sizes[unseen[0]] = 0;
  }
  const labels: number[] = [];
  sizes.forEach((n, c) => {
    for (let i = 0; i < n; i++) labels.push(c);
  });
  shuffle(labels, rand);
  const rows = labels.length;
  // Classes that are never predicted for their own images (0 correct in every setting).
  const zeroCorrect = [seen[1], unseen[1]];
  const scores = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      const z = normal(rand) + (c === labels[r] ? 1.5 : 0) + (isSeen.has(c) ? 0.6 : 0);
      row[c] = kind === "quant" ? Math.max(-1, Math.min(1, Math.round(z) / 4)) : z;
    }
    if (kind === "prob" || kind === "empty") {
      const m = Math.max(...row);
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += row[c] = Math.exp(row[c] - m);
      for (let c = 0; c < cols; c++) row[c] /= sum;
    }
    if (zeroCorrect.includes(labels[r])) row[labels[r]] = Math.min(...row) - 0.5;
    for (let c = 0; c < cols; c++) scores[r * cols + c] = row[c];
  }
  const gammas = kind === "quant"
    ? [0, 0.25, 0.5, -0.25, 0.125]
    : [0, 1e-4, 0.05, 0.3, -0.2, 1.4e-4];
  return {
    name: `seed ${seed} ${kind} (${rows} images, ${seen.length}+${unseen.length} classes)`,
    scores,
    rows,
    cols,
    labels,
    seen,
    unseen,
    gammas,
    skip: kind === "empty",
    retain: [0.95, 0.9, 0.8, 1, 0][seed % 5],
    zeroCorrect,
  };
}

interface OracleOut {
  zsl: number;
  zsl_pred: number[];
  gzsl: { S: number; U: number; H: number; pred: number[] }[];
  gzsl32: { S: number; U: number; H: number; pred: number[] }[];
  curve: {
    crit: number[];
    gamma: number[];
    S: number[];
    U: number[];
    H: number[];
    ausuc_seq: number;
    ausuc_np: number;
  };
  retention: { gamma: number; switched: number; n: number };
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7];
const KINDS: Kind[] = ["prob", "logit", "quant", "empty"];

Deno.test("ZSL / GZSL / curve / AUSUC equal the numpy oracle (float64, exact)", async () => {
  const cases = SEEDS.flatMap((s) => KINDS.map((k) => makeCase(s, k)));
  const out = await runPython<OracleOut[]>(ORACLE, {
    cases: cases.map((c) => ({ ...c, scores: Array.from(c.scores) })),
  });
  let maxNpDiff = 0;
  let points = 0;
  let zeroClasses = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const o = out[i];
    const msg = c.name;
    const scores = { data: c.scores, shape: [c.rows, c.cols] };
    const onEmptyClass = c.skip ? "skip" as const : "error" as const;
    const cls = { seen: c.seen, unseen: c.unseen, onEmptyClass };

    // ZSL on the unseen-class images.
    const zrows = c.labels.flatMap((y, r) => (c.unseen.includes(y) ? [r] : []));
    const zdata = new Float32Array(zrows.length * c.cols);
    zrows.forEach((r, k) => zdata.set(c.scores.subarray(r * c.cols, (r + 1) * c.cols), k * c.cols));
    const z = zslAccuracy(
      { data: zdata, shape: [zrows.length, c.cols] },
      zrows.map((r) => c.labels[r]),
      { unseen: c.unseen, onEmptyClass },
    );
    assert.equal(z.accuracy, o.zsl, `${msg}: ZSL`);
    assert.deepEqual(Array.from(z.predictions), o.zsl_pred, `${msg}: ZSL predictions`);
    zeroClasses += z.perClass.filter((p) => p.correct === 0).length;

    c.gammas.forEach((gamma, k) => {
      const g = gzslAccuracy(scores, c.labels, { ...cls, gamma });
      const w = o.gzsl[k];
      assert.equal(g.S, w.S, `${msg}: S at γ=${gamma}`);
      assert.equal(g.U, w.U, `${msg}: U at γ=${gamma}`);
      assert.equal(g.H, w.H, `${msg}: H at γ=${gamma}`);
      assert.deepEqual(Array.from(g.predictions), w.pred, `${msg}: predictions at γ=${gamma}`);
      // float32 stacking as the official numpy code does it.
      const g32 = gzslAccuracy(scores, c.labels, { ...cls, gamma, precision: "float32" });
      const w32 = o.gzsl32[k];
      assert.deepEqual([g32.S, g32.U, g32.H], [w32.S, w32.U, w32.H], `${msg}: float32 γ=${gamma}`);
      assert.deepEqual(Array.from(g32.predictions), w32.pred, `${msg}: float32 γ=${gamma}`);
    });

    const curve = seenUnseenCurve(scores, c.labels, cls);
    assert.deepEqual(Array.from(curve.criticalGammas), o.curve.crit, `${msg}: critical γ`);
    assert.deepEqual(Array.from(curve.gamma), o.curve.gamma, `${msg}: representative γ`);
    assert.deepEqual(Array.from(curve.S), o.curve.S, `${msg}: curve S`);
    assert.deepEqual(Array.from(curve.U), o.curve.U, `${msg}: curve U`);
    assert.deepEqual(Array.from(curve.H), o.curve.H, `${msg}: curve H`);
    assert.equal(curve.ausuc, o.curve.ausuc_seq, `${msg}: AUSUC (same summation order)`);
    const npDiff = Math.abs(curve.ausuc - o.curve.ausuc_np);
    assert.ok(npDiff <= 1e-12, `${msg}: AUSUC vs np.trapezoid differs by ${npDiff}`);
    maxNpDiff = Math.max(maxNpDiff, npDiff);
    points += curve.S.length;
    // Shape of the curve: (0, S_max) ... (U_max, 0), S non-increasing, U non-decreasing.
    assert.equal(curve.U[0], 0);
    assert.equal(curve.S[curve.S.length - 1], 0);
    for (let j = 1; j < curve.S.length; j++) {
      assert.ok(curve.S[j] <= curve.S[j - 1] && curve.U[j] >= curve.U[j - 1], msg);
    }
    // The curve's best point is the max of H; max-h selection agrees with it.
    assert.equal(curve.best.H, Math.max(...curve.H));
    const mh = selectGamma(scores, c.labels, { ...cls, rule: { kind: "max-h" } });
    assert.equal(mh.gamma, curve.best.gamma);
    assert.equal(mh.H, curve.best.H);

    // seen-retention on the seen-class images only.
    const srows = c.labels.flatMap((y, r) => (c.seen.includes(y) ? [r] : []));
    const sdata = new Float32Array(srows.length * c.cols);
    srows.forEach((r, k) => sdata.set(c.scores.subarray(r * c.cols, (r + 1) * c.cols), k * c.cols));
    const sel = selectGamma(
      { data: sdata, shape: [srows.length, c.cols] },
      srows.map((r) => c.labels[r]),
      { seen: c.seen, unseen: c.unseen, rule: { kind: "seen-retention", retain: c.retain } },
    );
    assert.equal(sel.gamma, o.retention.gamma, `${msg}: seen-retention γ`);
    assert.equal(sel.retained, (o.retention.n - o.retention.switched) / o.retention.n, msg);
    assert.ok(sel.retained! >= c.retain - 1e-12, msg);
  }
  assert.ok(zeroClasses >= cases.length, "every case has classes with 0 correct");
  console.log(
    `  ${cases.length} cases, ${points} curve points: all identical; ` +
      `|AUSUC − np.trapezoid| ≤ ${
        maxNpDiff.toExponential(2)
      }; ${zeroClasses} ZSL classes with 0 correct`,
  );
});

Deno.test("hand-checked example: ZSL, S, U, H, γ, curve, AUSUC", () => {
  // Classes 0, 1 seen; 2, 3 unseen. Scores chosen so every number is easy to verify.
  const scores = {
    data: new Float64Array([
      // seen images
      0.9,
      0.1,
      0.0,
      0.0, // y=0: d = 0.9 - 0.0 = 0.9, correct seen
      0.3,
      0.2,
      0.25,
      0.1, // y=0: d = 0.05, correct seen
      0.5,
      0.4,
      0.0,
      0.6, // y=1: seen argmax 0 (wrong), d = -0.1
      // unseen images
      0.6,
      0.0,
      0.5,
      0.1, // y=2: d = 0.1, unseen argmax 2 (right)
      0.2,
      0.0,
      0.1,
      0.3, // y=2: d = -0.1, unseen argmax 3 (wrong)
      0.4,
      0.1,
      0.0,
      0.2, // y=3: d = 0.2, unseen argmax 3 (right)
    ]),
    shape: [6, 4],
  };
  const labels = [0, 0, 1, 2, 2, 3];
  const cls = { seen: [0, 1], unseen: [2, 3] };
  const g0 = gzslAccuracy(scores, labels, cls);
  // γ=0: predictions 0, 0, 3, 0, 3, 0 -> S = (2/2 + 0/1)/2 = 0.5, U = (0/2 + 0/1)/2 = 0.
  assert.deepEqual(Array.from(g0.predictions), [0, 0, 3, 0, 3, 0]);
  assert.equal(g0.S, 0.5);
  assert.equal(g0.U, 0);
  assert.equal(g0.H, 0);
  const g = gzslAccuracy(scores, labels, { ...cls, gamma: 0.15 });
  // γ=0.15: rows with d < 0.15 switch: row 1 (to 2), row 2 (3), row 3 (2), row 4 (3).
  assert.deepEqual(Array.from(g.predictions), [0, 2, 3, 2, 3, 0]);
  assert.equal(g.S, (1 / 2 + 0) / 2);
  assert.equal(g.U, (1 / 2 + 0) / 2);
  assert.equal(g.H, harmonicMean(0.25, 0.25));
  const z = zslAccuracy(
    { data: scores.data.subarray(12), shape: [3, 4] },
    [2, 2, 3],
    { unseen: [2, 3] },
  );
  assert.equal(z.accuracy, (1 / 2 + 1) / 2);
  assert.equal(z.overall, 2 / 3);
  const c = seenUnseenCurve(scores, labels, cls);
  // d per row: .9, .3-.25, .5-.6, .6-.5, .2-.3 (= .5-.6 in float64), .4-.2
  assert.deepEqual(Array.from(c.criticalGammas), [
    0.5 - 0.6,
    0.3 - 0.25,
    0.6 - 0.5,
    0.4 - 0.2,
    0.9,
  ]);
  // S: 0.5 until row 1 (d=.05) switches -> 0.25; until row 0 (d=.9) -> 0.
  // U: 0; row 4 (d=-.1) switches to a wrong class; row 3 (d=.1) -> 1/2·(1/2) = .25;
  //    row 5 (d=.2) -> (1/2 + 1)/2 = .75.
  assert.deepEqual(Array.from(c.S), [0.5, 0.5, 0.25, 0.25, 0.25, 0]);
  assert.deepEqual(Array.from(c.U), [0, 0, 0, 0.25, 0.75, 0.75]);
  // Area: trapezoids (0->.25 at S=.25) + (.25->.75 at S=.25) + (.75->.75) = .0625 + .125.
  assert.equal(c.ausuc, 0.25 * 0.25 + 0.5 * 0.25);
  assert.equal(c.best.H, harmonicMean(0.25, 0.75));
  assert.deepEqual([c.gammaLo[4], c.gammaHi[4]], [0.4 - 0.2, 0.9]);
});

Deno.test("Tensor inputs give the same results as host arrays", () => {
  const cs = makeCase(3, "prob");
  const host = { data: cs.scores, shape: [cs.rows, cs.cols] };
  const t = torch.tensor(cs.scores, { shape: [cs.rows, cs.cols] });
  const y = torch.tensor(BigInt64Array.from(cs.labels.map(BigInt)));
  try {
    const cls = { seen: cs.seen, unseen: cs.unseen };
    assert.deepEqual(
      gzslAccuracy(t, y, { ...cls, gamma: 0.01 }),
      gzslAccuracy(host, cs.labels, { ...cls, gamma: 0.01 }),
    );
    assert.deepEqual(seenUnseenCurve(t, y, cls), seenUnseenCurve(host, cs.labels, cls));
    const t64 = t.double();
    try {
      assert.deepEqual(
        seenUnseenCurve(t64, y, cls).ausuc,
        seenUnseenCurve(host, cs.labels, cls).ausuc,
      );
    } finally {
      t64.dispose();
    }
  } finally {
    t.dispose();
    y.dispose();
  }
});

Deno.test("seen-retention: retain 1 keeps every held-out image seen, retain 0 none", () => {
  const scores = {
    data: new Float64Array([0.5, 0.2, 0.3, 0.4, 0.1, 0.2, 0.7, 0.1, 0.0]),
    shape: [3, 3],
  };
  const labels = [0, 1, 0];
  const cls = { seen: [0, 1], unseen: [2] };
  // d = 0.5-0.3 = .2, 0.4-0.2 = .2 (ties), 0.7-0 = .7
  const all = selectGamma(scores, labels, { ...cls, rule: { kind: "seen-retention", retain: 1 } });
  assert.equal(all.retained, 1);
  assert.ok(all.gamma < 0.5 - 0.3);
  const none = selectGamma(scores, labels, { ...cls, rule: { kind: "seen-retention", retain: 0 } });
  assert.equal(none.retained, 0);
  assert.ok(none.gamma > 0.7);
  // retain 0.5: ⌊0.5·3⌋ = 1 may switch, but the two smallest d tie, so none switch.
  const half = selectGamma(scores, labels, {
    ...cls,
    rule: { kind: "seen-retention", retain: 0.5 },
  });
  assert.equal(half.retained, 1);
  const third = selectGamma(scores, labels, {
    ...cls,
    rule: { kind: "seen-retention", retain: 1 / 3 },
  });
  assert.equal(third.retained, 1 / 3);
  assert.equal(third.gamma, (0.5 - 0.3) + ((0.7 - 0) - (0.5 - 0.3)) / 2);
});

Deno.test("per-class report and confusion matrix", () => {
  const pred = [0, 1, 1, 2, 2, 0, 5];
  const labels = [0, 0, 1, 1, 2, 2, 2];
  const r = perClassAccuracy(pred, labels, [2, 0, 1], { names: ["a", "b", "c"] });
  assert.deepEqual(r.perClass.map((p) => [p.classId, p.name, p.count, p.correct]), [
    [0, "a", 2, 1],
    [1, "b", 2, 1],
    [2, "c", 3, 1],
  ]);
  assert.equal(r.mean, (0.5 + 0.5 + 1 / 3) / 3);
  assert.equal(r.overall, 3 / 7);
  const m = confusionMatrix(pred, labels, [0, 1, 2]);
  assert.deepEqual(Array.from(m.counts), [1, 1, 0, 0, 1, 1, 1, 0, 1]);
  assert.deepEqual(Array.from(m.outside), [0, 0, 1]);
  assert.deepEqual(Array.from(m.support), [2, 2, 3]);
});

Deno.test("bad inputs raise EvalInputError naming the argument", () => {
  const ok = { data: new Float32Array([0.1, 0.2, 0.3, 0.4]), shape: [2, 2] };
  const cases: [() => unknown, RegExp][] = [
    [
      () => zslAccuracy({ data: new Float32Array(3), shape: [2, 2] }, [0, 1], { unseen: [0, 1] }),
      /4 values/,
    ],
    [
      () =>
        zslAccuracy({ data: new Float32Array([0, NaN, 0, 0]), shape: [2, 2] }, [0, 1], {
          unseen: [0, 1],
        }),
      /row 0, column 1 is NaN/,
    ],
    [() => zslAccuracy(ok, [0], { unseen: [0, 1] }), /expected 2 labels/],
    [() => zslAccuracy(ok, [0, 1], { unseen: [1] }), /row 0 has class 0, which is not an unseen/],
    [() => zslAccuracy(ok, [0, 0], { unseen: [0, 1] }), /class 1 has no test images/],
    [() => zslAccuracy(ok, [0, 1], { unseen: [0, 0, 1] }), /listed twice/],
    [() => zslAccuracy(ok, [0, 1], { unseen: [0, 2] }), /class 2 is not a column/],
    [() => gzslAccuracy(ok, [0, 1], { seen: [0], unseen: [0, 1] }), /also in the seen list/],
    [
      () =>
        gzslAccuracy({ data: new Float32Array(6), shape: [2, 3] }, [0, 1], {
          seen: [0],
          unseen: [1],
        }),
      /column 2 .* in neither list/,
    ],
    [
      () => gzslAccuracy(ok, [0, 1], { seen: [0], unseen: [1], gamma: Infinity }),
      /gamma: must be finite/,
    ],
    [() => gzslAccuracy(ok, [0, 1.5], { seen: [0], unseen: [1] }), /label at row 1 is 1.5/],
    [
      () =>
        selectGamma(ok, [0, 1], {
          seen: [0],
          unseen: [1],
          rule: { kind: "seen-retention", retain: 0.9 },
        }),
      /an unseen class/,
    ],
  ];
  for (const [f, re] of cases) {
    assert.throws(f, (e: unknown) => e instanceof EvalInputError && re.test(e.message), String(re));
  }
  // "skip" leaves empty classes out and reports them.
  const z = zslAccuracy(ok, [0, 0], { unseen: [0, 1], onEmptyClass: "skip" });
  assert.deepEqual(z.skipped, [1]);
});

Deno.test("report: JSON and Markdown table written atomically", async () => {
  const report = {
    title: "DSVA synthetic 25_5",
    meta: { checkpoint: "runs/x/ckpt.safetensors", chance: 0.2, images: 300 },
    rows: [
      {
        branch: "vam",
        zsl: 0.6123,
        S: 0.5,
        U: 0.25,
        H: 1 / 3,
        ausuc: 0.1875,
        gamma: 1.4e-4,
        gammaRule: "given",
      },
      { branch: "global", zsl: 0.4, S: 0.7, U: 0.05, H: harmonicMean(0.7, 0.05) },
      { branch: "fused|x", zsl: NaN },
    ],
    notes: ["γ subtracted from softmax probabilities of seen classes"],
  };
  const md = reportToMarkdown(report);
  assert.match(md, /^# DSVA synthetic 25_5\n/);
  assert.match(
    md,
    /\| branch \| ZSL \(%\) \| S \(%\) \| U \(%\) \| H \(%\) \| AUSUC \(%\) \| γ \| γ rule \|/,
  );
  assert.match(md, /\| vam \| 61\.2 \| 50\.0 \| 25\.0 \| 33\.3 \| 18\.8 \| 0\.00014 \| given \|/);
  assert.match(md, /\| global \| 40\.0 \| 70\.0 \| 5\.0 \| 9\.3 \| – \| – \| – \|/);
  assert.match(md, /\| fused\\\|x \| – \|/);
  assert.equal(JSON.parse(reportToJson(report)).rows[2].zsl, null);
  const dir = await Deno.makeTempDir();
  try {
    const paths = await writeReport(report, `${dir}/sub`);
    assert.equal(await Deno.readTextFile(paths.markdown), md);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(paths.json)).rows[0].gamma, 1.4e-4);
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name).sort(), [
      "eval.json",
      "eval.md",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Weight files: safetensors (both ways with Python's `safetensors`), malformed files,
 * checkpoints, TF.js layers models, torch.save state dicts. */
import { io, type Tensor, torch } from "../mod.ts";
import type { DType } from "../mod.ts";
import { ROOT, runPython } from "./helpers.ts";
import { isFile } from "../ffi/fs.ts";

const ORACLE = `${ROOT}/tests/oracle/safetensors_io.py`;
const DARKNET = `${ROOT}/../shared/data/weights/darknet-tiny-tfjs`;
const DTYPES: DType[] = [
  "float32",
  "float64",
  "float16",
  "bfloat16",
  "int64",
  "int32",
  "int16",
  "int8",
  "uint8",
  "bool",
];
const ITEM: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

interface Desc {
  dtype: string;
  shape: number[];
  sha256: string;
}

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}
function assertEq<T>(a: T, b: T, msg = "") {
  const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
  if (x !== y) throw new Error(`${msg} expected ${y}, got ${x}`);
}
/** Key order of JSON objects (metadata written by Rust's HashMap) carries no meaning. */
const sortedKeys = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
async function sha256(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}
async function describe(t: Tensor): Promise<Desc> {
  return { dtype: t.dtype, shape: t.shape, sha256: await sha256(t.toBuffer()) };
}
/** Expects `fn` to reject with a WeightFileError whose message holds every `parts`. */
async function rejects(fn: () => Promise<unknown>, ...parts: string[]): Promise<string> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert(err !== undefined, `expected an error mentioning ${parts.join(", ")}`);
  assert(err instanceof io.WeightFileError, `expected a WeightFileError, got ${err}`);
  for (const p of parts) {
    assert(err.message.includes(p), `error "${err.message}" does not mention "${p}"`);
  }
  return err.message;
}

/** A tensor of random bits (bool: 0/1) of every dtype. */
function randomTensor(dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = crypto.getRandomValues(new Uint8Array(n * ITEM[dtype]));
  if (dtype === "bool") bytes.forEach((v, i) => (bytes[i] = v & 1));
  return torch.fromBuffer(bytes, shape, { dtype });
}

/** A safetensors file from a header (object or raw text) and data bytes. */
async function rawFile(
  path: string,
  header: unknown,
  data: Uint8Array,
  lengthField?: bigint,
): Promise<void> {
  const json = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  await Deno.writeFile(path, out);
}

async function withTmp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "io_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------- safetensors

Deno.test("safetensors: round trip is exact for every dtype and shape", async () => {
  await withTmp(async (dir) => {
    const live0 = torch.memory().liveTensors;
    const src = new Map<string, Tensor>();
    for (const d of DTYPES) {
      for (
        const [s, shape] of Object.entries({ v: [13], m: [3, 5], c: [2, 1, 3], s: [], e: [0] })
      ) {
        src.set(`${d}.${s}`, randomTensor(d, shape));
      }
    }
    // a non-contiguous view, a tensor that requires grad, a unicode name
    const base = randomTensor("float32", [4, 6]);
    src.set("float32.transposed", base.transpose(0, 1));
    src.set("float32.grad", torch.randn([3], { requiresGrad: true }));
    src.set("名前/ünïcode.weight", randomTensor("bfloat16", [2, 2]));
    const meta = { format: "pt", note: "round trip ✓", empty: "" };
    const path = `${dir}/rt.safetensors`;
    await io.saveSafetensors(path, src, meta);
    // nothing but the file itself in the folder (the temporary file was renamed)
    assertEq([...Deno.readDirSync(dir)].map((e) => e.name), ["rt.safetensors"]);

    const header = await io.readSafetensorsHeader(path);
    assertEq(header.dataStart % 8, 0, "data section aligned:");
    for (const e of header.entries) {
      assertEq((header.dataStart + e.begin) % ITEM[e.dtype], 0, `${e.name} aligned:`);
    }
    {
      using back = await io.loadSafetensors(path);
      assertEq(sortedKeys(back.metadata), sortedKeys(meta));
      assertEq([...back.keys()].sort(), [...src.keys()].sort());
      for (const [k, t] of src) {
        const u = back.get(k)!;
        assertEq(u.dtype, t.dtype, k);
        assertEq(u.shape, t.shape, k);
        assert(bytesEq(u.toBuffer(), t.toBuffer()), `${k}: bytes differ`);
      }
    }
    for (const t of src.values()) t.dispose();
    base.dispose();
    assertEq(torch.memory().liveTensors, live0, "live tensors after dispose:");
  });
});

Deno.test("safetensors: Python's files load here bit for bit, and ours load in Python", async () => {
  await withTmp(async (dir) => {
    const py = `${dir}/python.safetensors`;
    const meta = { format: "pt", source: "python" };
    const made = await runPython<{ tensors: Record<string, Desc> }>(ORACLE, {
      op: "make",
      path: py,
      metadata: meta,
    });
    {
      using loaded = await io.loadSafetensors(py);
      assertEq(sortedKeys(loaded.metadata), sortedKeys(meta));
      assertEq([...loaded.keys()].sort(), Object.keys(made.tensors).sort());
      for (const [k, want] of Object.entries(made.tensors)) {
        assertEq(await describe(loaded.get(k)!), want, `${k}:`);
      }
      // re-save here; the oracle compares both files value by value
      await io.saveSafetensors(`${dir}/deno.safetensors`, loaded, loaded.metadata);
    }

    // Deno → Python: tensors made here, checked by Python's load_file and safe_open
    const mine = new Map<string, Tensor>();
    for (const d of DTYPES) mine.set(`x.${d}`, randomTensor(d, [3, 4]));
    mine.set("x.scalar", torch.tensor(3.5, { dtype: "float64" }));
    mine.set("x.view", mine.get("x.float32")!.transpose(0, 1));
    const expect: Record<string, Desc> = {};
    for (const [k, t] of mine) expect[k] = await describe(t);
    const ours = `${dir}/mine.safetensors`;
    await io.saveSafetensors(ours, mine, { made: "deno" });
    // an empty file (no tensors) is valid both ways
    const empty = `${dir}/empty.safetensors`;
    await io.saveSafetensors(empty, {});
    const { answers } = await runPython<{ answers: { mismatches: string[] }[] }>(ORACLE, {
      op: "batch",
      requests: [
        { op: "compare", a: py, b: `${dir}/deno.safetensors` },
        { op: "check", path: ours, expect, metadata: { made: "deno" } },
        { op: "check", path: empty, expect: {} },
      ],
    });
    for (const a of answers) assertEq(a.mismatches, []);
    assertEq((await io.loadSafetensors(empty)).size, 0);
    for (const t of mine.values()) t.dispose();
  });
});

Deno.test("safetensors: dtype, device and filter options", async () => {
  await withTmp(async (dir) => {
    const path = `${dir}/o.safetensors`;
    using w = torch.tensor([1.5, -2.25, 3], { dtype: "bfloat16" });
    using ids = torch.arange(4, undefined, 1, { dtype: "int64" });
    await io.saveSafetensors(path, { w, ids });
    using a = await io.loadSafetensors(path, { dtype: "float32", device: "cpu" });
    assertEq(a.get("w")!.dtype, "float32");
    assertEq(a.get("w")!.toFlat(), [1.5, -2.25, 3]);
    assertEq(a.get("ids")!.dtype, "int64", "integer tensors keep their dtype:");
    using b = await io.loadSafetensors(path, { filter: (n) => n === "ids" });
    assertEq([...b.keys()], ["ids"]);
  });
});

Deno.test({
  name: "safetensors: loads onto CUDA and saves from CUDA",
  ignore: !torch.cuda.isAvailable(),
  fn: async () => {
    await withTmp(async (dir) => {
      const path = `${dir}/gpu.safetensors`;
      using a = randomTensor("bfloat16", [64, 33]);
      using b = randomTensor("int64", [7]);
      await io.saveSafetensors(path, { a, b });
      using g = await io.loadSafetensors(path, { device: "cuda" });
      assertEq(g.get("a")!.device, "cuda:0");
      assert(bytesEq(g.get("a")!.toBuffer(), a.toBuffer()), "bytes differ on cuda");
      const back = `${dir}/from_gpu.safetensors`;
      await io.saveSafetensors(back, g);
      assert(bytesEq(await Deno.readFile(back), await Deno.readFile(path)), "files differ");
    });
  },
});

Deno.test("safetensors: malformed files give a WeightFileError naming file and tensor", async () => {
  await withTmp(async (dir) => {
    const live0 = torch.memory().liveTensors;
    const p = `${dir}/bad.safetensors`;
    const f32 = (n: number) => new Uint8Array(4 * n);
    const ok = {
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [3], data_offsets: [8, 20] },
    };
    const load = () => io.loadSafetensors(p);

    await rejects(() => io.loadSafetensors(`${dir}/missing.safetensors`), "missing.safetensors");

    await Deno.writeFile(p, new Uint8Array([1, 2, 3]));
    await rejects(load, p, "shorter than the 8-byte header length");

    await rawFile(p, ok, f32(5), 1000n);
    await rejects(load, p, "header length 1000 runs past the end");

    await rawFile(p, ok, f32(5), 0xffff_ffff_ffff_ffffn);
    await rejects(load, p, "runs past the end");

    // truncated: the last tensor's bytes are cut short
    await rawFile(p, ok, f32(4));
    const msg = await rejects(load, p, `tensor "b"`, "truncated");
    console.log(`  truncated file → ${msg}`);

    await rawFile(p, "{not json at all", f32(5));
    console.log(`  corrupted header → ${await rejects(load, p, "not valid UTF-8 JSON")}`);

    const bad = new TextEncoder().encode(JSON.stringify(ok));
    bad[10] = 0xff; // invalid UTF-8
    await rawFile(p, new TextDecoder().decode(bad.subarray(0, 9)) + "\udfff", f32(5));
    await rejects(load, p, "not valid UTF-8 JSON");

    await rawFile(p, "[1,2,3]", new Uint8Array());
    await rejects(load, p, "not a JSON object");

    const variants: [string, unknown, string[]][] = [
      ["unknown dtype", { ...ok, b: { ...ok.b, dtype: "Q7" } }, [
        `tensor "b"`,
        `unknown dtype "Q7"`,
      ]],
      ["fp8", { ...ok, b: { ...ok.b, dtype: "F8_E4M3" } }, [
        `tensor "b"`,
        "F8_E4M3 has no tensor type",
      ]],
      ["no dtype", { ...ok, a: { shape: [2], data_offsets: [0, 8] } }, [`tensor "a"`, "dtype"]],
      ["overlap", {
        a: { dtype: "F32", shape: [3], data_offsets: [0, 12] },
        b: { dtype: "F32", shape: [3], data_offsets: [8, 20] },
      }, [`tensor "b"`, "overlap"]],
      ["gap", {
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [2], data_offsets: [12, 20] },
      }, [`tensor "b"`, "gap"]],
      ["reversed", { ...ok, b: { ...ok.b, data_offsets: [20, 8] } }, [
        `tensor "b"`,
        "begin <= end",
      ]],
      ["negative", { ...ok, a: { ...ok.a, data_offsets: [-8, 0] } }, [
        `tensor "a"`,
        "data_offsets",
      ]],
      ["fractional", { ...ok, a: { ...ok.a, shape: [1.5] } }, [`tensor "a"`, "shape"]],
      ["negative dim", { ...ok, a: { ...ok.a, shape: [-2] } }, [`tensor "a"`, "shape"]],
      ["past end", { ...ok, b: { ...ok.b, shape: [4], data_offsets: [8, 24] } }, [
        `tensor "b"`,
        "run past the end",
      ]],
      ["size mismatch", { ...ok, b: { ...ok.b, shape: [2, 2] } }, [`tensor "b"`, "needs 16"]],
      ["trailing bytes", { a: ok.a }, ["trailing bytes"]],
      ["metadata type", { ...ok, __metadata__: { step: 3 } }, ['"step" is not a string']],
      ["metadata list", { ...ok, __metadata__: ["x"] }, ["__metadata__ is not a JSON object"]],
      ["entry type", { ...ok, a: 5 }, [`tensor "a"`, "not a JSON object"]],
    ];
    for (const [what, header, parts] of variants) {
      await rawFile(p, header, f32(5));
      const m = await rejects(load, p, p, ...parts);
      if (what === "unknown dtype" || what === "overlap") console.log(`  ${what} → ${m}`);
    }
    assertEq(torch.memory().liveTensors, live0, "no tensors leak from failed loads:");
  });
});

Deno.test("safetensors: random corruption of a real file never crashes", async () => {
  await withTmp(async (dir) => {
    const live0 = torch.memory().liveTensors;
    const good = `${dir}/good.safetensors`;
    {
      using a = randomTensor("float32", [4, 4]);
      using b = randomTensor("int64", [3]);
      using c = randomTensor("bfloat16", [5]);
      await io.saveSafetensors(good, { a, b, c }, { k: "v" });
    }
    const bytes = await Deno.readFile(good);
    const p = `${dir}/fuzz.safetensors`;
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let failed = 0, loaded = 0;
    for (let i = 0; i < 300; i++) {
      const copy = bytes.slice();
      const flips = 1 + Math.floor(rnd() * 3);
      const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
      for (let f = 0; f < flips; f++) copy[Math.floor(rnd() * headerEnd)] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.2 ? Math.floor(rnd() * copy.length) : copy.length;
      await Deno.writeFile(p, copy.subarray(0, cut));
      try {
        (await io.loadSafetensors(p)).dispose();
        loaded++;
      } catch (e) {
        assert(e instanceof io.WeightFileError, `case ${i}: ${e}`);
        assert(e.message.includes(p), `case ${i}: ${e.message}`);
        failed++;
      }
    }
    console.log(`  300 corrupted files: ${failed} rejected with WeightFileError, ${loaded} loaded`);
    assertEq(torch.memory().liveTensors, live0, "no leaks:");
  });
});

Deno.test("safetensors: a failed save leaves the old file and no temporary file", async () => {
  await withTmp(async (dir) => {
    const path = `${dir}/keep.safetensors`;
    using a = torch.ones([3]);
    await io.saveSafetensors(path, { a });
    const before = await Deno.readFile(path);
    const gone = torch.zeros([2]);
    gone.dispose();
    await rejects(() => io.saveSafetensors(path, { a, gone }), path, `tensor "gone"`);
    await rejects(() => io.saveSafetensors(path, { __metadata__: a }), "reserved");
    await rejects(
      () => io.saveSafetensors(path, { a }, { n: 3 } as unknown as Record<string, string>),
      "not a string",
    );
    assert(bytesEq(await Deno.readFile(path), before), "old file changed");
    assertEq([...Deno.readDirSync(dir)].map((e) => e.name), ["keep.safetensors"]);
    await rejects(
      () => io.saveSafetensors(`${dir}/no/such/dir/x.safetensors`, { a }),
      "no/such/dir",
    );
  });
});

Deno.test("safetensors: a large file loads without doubling memory", async () => {
  await withTmp(async (dir) => {
    const path = `${dir}/large.safetensors`;
    // 16 tensors of 8 MiB: loading may cost the tensors plus one 8 MiB read buffer
    const code = `
      import { io, torch } from "${ROOT}/mod.ts";
      const mib = () => Number(Deno.readTextFileSync("/proc/self/status")
        .match(/VmHWM:\\s+(\\d+)/)[1]) / 1024;
      const rss = () => Number(Deno.readTextFileSync("/proc/self/status")
        .match(/VmRSS:\\s+(\\d+)/)[1]) / 1024;
      if (Deno.args[0] === "save") {
        const m = new Map();
        for (let i = 0; i < 16; i++) m.set("w" + i, torch.randn([1024, 2048]));
        await io.saveSafetensors("${path}", m);
      } else {
        const before = rss();
        const t0 = performance.now();
        const l = await io.loadSafetensors("${path}");
        const ms = performance.now() - t0;
        console.log(JSON.stringify({ growth: mib() - before, ms, numel: l.numel }));
      }`;
    const run = async (arg: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", code, arg],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert(out.success, new TextDecoder().decode(out.stderr));
      return text;
    };
    await run("save");
    const r = JSON.parse(await run("load"));
    const fileMiB = (await Deno.stat(path)).size / 2 ** 20;
    console.log(
      `  ${fileMiB.toFixed(0)} MiB file: peak RSS grew ${r.growth.toFixed(0)} MiB, loaded in ${
        r.ms.toFixed(0)
      } ms`,
    );
    assertEq(r.numel, 16 * 1024 * 2048);
    assert(r.growth < fileMiB + 8 + 24, `peak grew ${r.growth} MiB for a ${fileMiB} MiB file`);
  });
});

// ---------------------------------------------------------------- checkpoints

/** Deep equality where tensors compare by dtype, shape and bytes, and NaN/-0 by Object.is. */
function sameTree(a: unknown, b: unknown, path = "state"): void {
  if (a instanceof torch.Tensor || b instanceof torch.Tensor) {
    assert(a instanceof torch.Tensor && b instanceof torch.Tensor, `${path}: tensor vs non-tensor`);
    assertEq(b.dtype, a.dtype, `${path} dtype:`);
    assertEq(b.shape, a.shape, `${path} shape:`);
    assert(bytesEq(a.toBuffer(), b.toBuffer()), `${path}: tensor bytes differ`);
    return;
  }
  if (a instanceof Map || b instanceof Map) {
    assert(a instanceof Map && b instanceof Map, `${path}: Map vs non-Map`);
    assertEq([...b.keys()], [...a.keys()], `${path} keys:`);
    for (const [k, v] of a) sameTree(v, b.get(k), `${path}.${k}`);
    return;
  }
  if (Array.isArray(a)) {
    assert(Array.isArray(b) && a.length === b.length, `${path}: array length`);
    a.forEach((v, i) => sameTree(v, b[i], `${path}.${i}`));
    return;
  }
  if (a !== null && typeof a === "object") {
    assert(b !== null && typeof b === "object" && !Array.isArray(b), `${path}: object expected`);
    assertEq(Object.keys(b), Object.keys(a), `${path} keys:`);
    for (const k of Object.keys(a)) {
      sameTree(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
      );
    }
    return;
  }
  assert(Object.is(a, b), `${path}: ${String(a)} vs ${String(b)}`);
}

Deno.test("checkpoint: model + optimizer + run state round trip exactly", async () => {
  await withTmp(async (dir) => {
    const live0 = torch.memory().liveTensors;
    const w = randomTensor("float32", [4, 3]);
    const model = new Map<string, Tensor>([
      ["encoder.layers.0.weight", w],
      ["encoder.layers.0.bias", randomTensor("bfloat16", [4])],
      ["embeddings.position_ids", torch.arange(6, undefined, 1, { dtype: "int64" })],
    ]);
    const weird: Record<string, unknown> = { $ref: "not a tag", n: 1 };
    Object.defineProperty(weird, "__proto__", { value: 5, enumerable: true });
    const state = {
      step: 1234,
      epoch: 7,
      model,
      optimizer: {
        state: new Map<number, unknown>([
          [0, { step: torch.tensor(1234), exp_avg: randomTensor("float32", [4, 3]) }],
          [1, { step: torch.tensor(1234), exp_avg: randomTensor("float32", [4]) }],
        ]),
        param_groups: [{
          lr: 3e-4,
          betas: [0.9, 0.999],
          eps: 1e-8,
          weight_decay: 0.05,
          amsgrad: false,
          params: [0, 1],
        }],
      },
      rng: { seed: 42, state: randomTensor("uint8", [16]), counter: 2n ** 70n },
      sampler: { position: 17, permutation: [3, 1, 2, 0] },
      config: {
        name: "dsva/clean",
        nested: { nan: NaN, inf: -Infinity, negZero: -0, none: null, undef: undefined },
        $single: { x: [true, false] },
        weird,
        emptyObj: {},
        emptyMap: new Map(),
      },
      tied: w, // the same tensor object twice
    };
    const path = `${dir}/ckpt.safetensors`;
    await io.saveCheckpoint(path, state);
    await io.saveCheckpoint(path, state); // overwrite in place
    assertEq([...Deno.readDirSync(dir)].map((e) => e.name), ["ckpt.safetensors"]);
    {
      using back = await io.loadCheckpoint<typeof state>(path);
      sameTree(state, back);
      assert(back.tied === back.model.get("encoder.layers.0.weight"), "shared tensor not shared");
      assertEq(back.config.weird.__proto__ as unknown, 5);
      assert(Object.getPrototypeOf(back.config.weird) === Object.prototype, "prototype changed");
    }
    // the tensors are plain safetensors entries: Python reads them under dotted names
    const py = await runPython<{ tensors: Record<string, Desc>; metadata: Record<string, string> }>(
      ORACLE,
      { op: "read", path },
    );
    assertEq(
      py.tensors["model.encoder.layers.0.weight"],
      await describe(model.get("encoder.layers.0.weight")!),
    );
    assert("optimizer.state.1.exp_avg" in py.tensors, Object.keys(py.tensors).join(","));
    assertEq(Object.keys(py.tensors).length, 8);
    assert(io.CHECKPOINT_STATE_KEY in py.metadata, "state JSON in __metadata__");
    for (const t of model.values()) t.dispose();
    for (const s of state.optimizer.state.values()) {
      for (const t of Object.values(s as Record<string, Tensor>)) t.dispose();
    }
    state.rng.state.dispose();
    assertEq(torch.memory().liveTensors, live0, "live tensors:");
  });
});

Deno.test("checkpoint: bad states and files give clear errors", async () => {
  await withTmp(async (dir) => {
    const path = `${dir}/c.safetensors`;
    using t = torch.ones([2]);
    const base = { step: 1, epoch: 0, model: { t } };
    await rejects(() => io.saveCheckpoint(path, { ...base, fn: () => 1 }), "state fn", "function");
    await rejects(
      () => io.saveCheckpoint(path, { ...base, when: new Date() }),
      "state when",
      "Date cannot be stored",
    );
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    await rejects(() => io.saveCheckpoint(path, { ...base, cyc }), "cycle");
    await rejects(() => io.saveCheckpoint(path, { ...base, step: 1.5 }), "integers");
    await rejects(
      () => io.saveCheckpoint(path, { ...base, model: { "a.b": t, a: { b: t.clone() } } }),
      "share the name",
    );
    await io.saveSafetensors(path, { t });
    await rejects(() => io.loadCheckpoint(path), path, "not a checkpoint");
    await io.saveSafetensors(path, { t }, {
      [io.CHECKPOINT_VERSION_KEY]: "1",
      [io.CHECKPOINT_STATE_KEY]: '{"step":1,"epoch":0,"model":{"$tensor":"nope"}}',
    });
    await rejects(() => io.loadCheckpoint(path), `tensor "nope"`, "lacks it");
    await io.saveSafetensors(path, { t }, {
      [io.CHECKPOINT_VERSION_KEY]: "1",
      [io.CHECKPOINT_STATE_KEY]: '{"step":1,"epoch":',
    });
    await rejects(() => io.loadCheckpoint(path), "corrupted checkpoint state");
  });
});

// ---------------------------------------------------------------- TF.js

const darknetPresent = isFile(`${DARKNET}/model.json`);

Deno.test({
  name: "tfjs: the real Darknet-tiny model loads with the right shapes",
  // skipped where ../shared/data is absent, except under CI=true where that fails
  ignore: !darknetPresent && Deno.env.get("CI") !== "true",
  fn: async () => {
    assert(darknetPresent, `${DARKNET}/model.json is missing (CI=true: real data required)`);
    const t0 = performance.now();
    using m = await io.loadTfjsModel(DARKNET);
    const ms = performance.now() - t0;
    assertEq(m.modelClass, "Model");
    assertEq(m.inputs, ["input_1"]);
    assertEq(m.outputs, ["global_average_pooling2d_1"]);
    const groups = new Set(m.weightSpecs.map((s) => s.group));
    assertEq(groups.size, 31);
    assertEq(m.weights.size, 77);
    assertEq(m.weights.numel, 1_046_488);
    assertEq(m.weights.get("conv2d_1/kernel")!.shape, [3, 3, 3, 16]);
    assertEq(m.weights.get("conv2d_16/kernel")!.shape, [1, 1, 128, 1000]);
    assertEq(m.weights.get("conv2d_16/bias")!.shape, [1000]);
    assertEq(m.weights.get("batch_normalization_12/moving_variance")!.shape, [512]);
    for (const t of m.weights.values()) assertEq(t.dtype, "float32");
    // values are the shard bytes themselves: the last weight of group 23 ends its shard
    const shard = await Deno.readFile(`${DARKNET}/group23-shard1of1`);
    assert(
      bytesEq(m.weights.get("conv2d_16/bias")!.toBuffer(), shard.subarray(shard.length - 4000)),
      "bias bytes differ from the shard",
    );
    const mv = m.weights.get("batch_normalization_1/moving_variance")!;
    assert(mv.min().item() > 0, "moving variances are positive");
    const conv = m.layers.find((l) => l.name === "conv2d_2")!;
    assertEq(conv.className, "Conv2D");
    assertEq(conv.inbound, ["max_pooling2d_1"]);
    assertEq(conv.weights, ["conv2d_2/kernel"]);
    assertEq(m.layers.find((l) => l.name === "batch_normalization_2")!.weights.length, 4);
    const classes = new Map<string, number>();
    for (const l of m.layers) classes.set(l.className, (classes.get(l.className) ?? 0) + 1);
    console.log(
      `  darknet-tiny: ${m.layers.length} layers (${
        [...classes].map(([k, v]) => `${v} ${k}`).join(", ")
      }), ${m.weights.size} weights in ${groups.size} shards, ${m.weights.numel} float32 params, loaded in ${
        ms.toFixed(0)
      } ms`,
    );
    for (const l of m.layers.filter((l) => l.className === "Conv2D")) {
      const shapes = l.weights.map((w) => `${w} [${m.weights.get(w)!.shape.join(", ")}]`);
      console.log(
        `    ${l.name.padEnd(10)} <- ${l.inbound.join(", ").padEnd(18)} ${shapes.join(", ")}`,
      );
    }
  },
});

/** Writes a small TF.js model: a Sequential topology, one group split over two shards,
 * one group of quantized weights. */
async function writeTinyTfjs(dir: string, mutate?: (doc: Record<string, unknown>) => void) {
  const kernel = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 3);
  const bias = Float32Array.from([0.25, -0.5, 8]);
  const g0 = new Uint8Array([
    ...new Uint8Array(kernel.buffer),
    ...new Uint8Array(bias.buffer),
  ]);
  await Deno.writeFile(`${dir}/group1-shard1of2.bin`, g0.subarray(0, 20));
  await Deno.writeFile(`${dir}/group1-shard2of2.bin`, g0.subarray(20));
  const q8 = new Uint8Array([0, 1, 128, 255]);
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x3555]); // 1, -2, inf, 0.333
  const i32 = new Int32Array([-7, 11]);
  await Deno.writeFile(
    `${dir}/group2-shard1of1.bin`,
    new Uint8Array([
      ...q8,
      ...new Uint8Array(f16.buffer),
      ...new Uint8Array(i32.buffer),
      1,
      0,
      ...new Uint8Array(new Uint16Array([0, 65535]).buffer),
    ]),
  );
  const doc: Record<string, unknown> = {
    format: "layers-model",
    generatedBy: "keras v2.4",
    convertedBy: "TensorFlow.js Converter v3",
    modelTopology: {
      class_name: "Sequential",
      config: {
        name: "tiny",
        layers: [
          {
            class_name: "Dense",
            config: { name: "dense", units: 3, batch_input_shape: [null, 4] },
          },
          { class_name: "Dense", config: { name: "q", units: 2 } },
        ],
      },
    },
    weightsManifest: [
      {
        paths: ["group1-shard1of2.bin", "group1-shard2of2.bin"],
        weights: [
          { name: "dense/kernel", shape: [4, 3], dtype: "float32" },
          { name: "dense/bias", shape: [3], dtype: "float32" },
        ],
      },
      {
        paths: ["group2-shard1of1.bin"],
        weights: [
          {
            name: "q/kernel",
            shape: [2, 2],
            dtype: "float32",
            quantization: { dtype: "uint8", scale: 0.1, min: -1 },
          },
          { name: "q/half", shape: [4], dtype: "float32", quantization: { dtype: "float16" } },
          { name: "q/ints", shape: [2], dtype: "int32" },
          { name: "q/flags", shape: [2], dtype: "bool" },
          {
            name: "q/u16",
            shape: [2],
            dtype: "int32",
            quantization: { dtype: "uint16", scale: 0.5, min: 10 },
          },
        ],
      },
    ],
  };
  mutate?.(doc);
  await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(doc));
  return { kernel, bias, q8 };
}

Deno.test("tfjs: shards, quantization and Sequential topology (synthetic model)", async () => {
  await withTmp(async (dir) => {
    const { kernel, bias, q8 } = await writeTinyTfjs(dir);
    using m = await io.loadTfjsModel(`${dir}/model.json`);
    assertEq(m.format, "layers-model");
    assertEq(m.modelClass, "Sequential");
    assertEq(m.layers.map((l) => [l.name, l.inbound, l.weights]), [
      ["dense", [], ["dense/kernel", "dense/bias"]],
      ["q", ["dense"], ["q/kernel", "q/half", "q/ints", "q/flags", "q/u16"]],
    ]);
    assertEq(m.inputs, ["dense"]);
    assertEq(m.outputs, ["q"]);
    assertEq(m.weights.get("dense/kernel")!.toFlat(), Array.from(kernel));
    assertEq(m.weights.get("dense/bias")!.toFlat(), Array.from(bias));
    const q = m.weights.get("q/kernel")!;
    assertEq(q.dtype, "float32");
    assertEq(q.toFlat(), Array.from(Float32Array.from(q8, (v) => v * 0.1 - 1)));
    const h = m.weights.get("q/half")!.toFlat() as number[];
    assertEq(h.slice(0, 3), [1, -2, Infinity]);
    assert(Math.abs(h[3] - 1 / 3) < 1e-3, `${h[3]}`);
    assertEq(m.weights.get("q/ints")!.toFlat(), [-7, 11]);
    assertEq(m.weights.get("q/flags")!.toFlat(), [true, false]);
    assertEq(m.weights.get("q/u16")!.dtype, "int32");
    assertEq(m.weights.get("q/u16")!.toFlat(), [10, Math.round(65535 * 0.5 + 10)]);
  });
});

Deno.test("tfjs: manifest problems give clear errors", async () => {
  const cases: [string, (dir: string, doc: Record<string, unknown>) => void, string[]][] = [
    ["missing shard", (d) => Deno.removeSync(`${d}/group1-shard2of2.bin`), [
      "group1-shard2of2.bin",
      "missing",
    ]],
    ["short shard", (d) => Deno.writeFileSync(`${d}/group2-shard1of1.bin`, new Uint8Array(3)), [
      "group 1",
      "declares 26 bytes",
      "hold 3",
    ]],
    ["long shard", (d) => Deno.writeFileSync(`${d}/group1-shard1of2.bin`, new Uint8Array(64)), [
      "group 0",
      "declares 60 bytes",
    ]],
    ["bad dtype", (_d, doc) => {
      (doc.weightsManifest as { weights: { dtype: string }[] }[])[0].weights[1].dtype = "string";
    }, [`tensor "dense/bias"`, "not supported"]],
    ["duplicate", (_d, doc) => {
      (doc.weightsManifest as { weights: { name: string }[] }[])[1].weights[2].name = "dense/bias";
    }, [`tensor "dense/bias"`, "twice"]],
    ["absolute path", (_d, doc) => {
      (doc.weightsManifest as { paths: string[] }[])[0].paths[0] = "https://x/y.bin";
    }, ["not a relative file path"]],
    ["graph model", (_d, doc) => {
      doc.format = "graph-model";
    }, ["graph model"]],
    ["no topology", (_d, doc) => {
      delete doc.modelTopology;
    }, ["modelTopology"]],
  ];
  for (const [what, mutate, parts] of cases) {
    await withTmp(async (dir) => {
      await writeTinyTfjs(dir, (doc) => mutate(dir, doc));
      const m = await rejects(() => io.loadTfjsModel(dir), ...parts);
      if (what === "short shard") console.log(`  ${what} → ${m}`);
    });
  }
  await rejects(() => io.loadTfjsModel("/nonexistent/model.json"), "/nonexistent/model.json");
});

// ---------------------------------------------------------------- torch.save

Deno.test("torch .bin: a torch.save'd nested state dict loads bit for bit", async () => {
  await withTmp(async (dir) => {
    const path = `${dir}/pytorch_model.bin`;
    const modulePath = `${dir}/module.pt`;
    const made = await runPython<{ tensors: Record<string, Desc>; module: Record<string, Desc> }>(
      ORACLE,
      { op: "torch_save", path, module_path: modulePath },
    );
    for (const [file, want] of [[path, made.tensors], [modulePath, made.module]] as const) {
      using sd = await io.loadTorchBin(file);
      assertEq([...sd.keys()].sort(), Object.keys(want).sort(), `${file}:`);
      for (const [k, w] of Object.entries(want)) assertEq(await describe(sd.get(k)!), w, `${k}:`);
    }
    await Deno.writeFile(`${dir}/junk.bin`, new Uint8Array([1, 2, 3, 4]));
    await rejects(() => io.loadTorchBin(`${dir}/junk.bin`), "junk.bin");
    await rejects(() => io.loadTorchBin(`${dir}/none.bin`), "none.bin");
  });
});

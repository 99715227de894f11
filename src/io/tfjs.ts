/** Reading TF.js layers models: `model.json` (Keras topology + weights manifest) and
 * its binary weight shards.
 *
 * Each manifest group's shards are one little-endian byte stream holding that group's
 * weights back to back, in manifest order. Quantized weights (`uint8`/`uint16` affine,
 * `float16`) are dequantized to their original dtype as TF.js does. Shapes are kept as
 * TF.js stores them (e.g. Conv2D kernels `[kh, kw, in, out]`); transposing to PyTorch's
 * layout is the model builder's job. */
import { type Device, fromBuffer, type Tensor } from "../tensor/index.ts";
import { WeightFileError } from "./errors.ts";
import { openForRead, readExactlyAt } from "./files.ts";
import { TensorMap } from "./tensor_map.ts";

/** A weight entry of the manifest. */
export interface TfjsWeightSpec {
  /** Weight name (`<layer>/<variable>`, e.g. `conv2d_1/kernel`). */
  name: string;
  /** Shape as TF.js stores it. */
  shape: number[];
  /** The weight's dtype (after dequantization, if quantized). */
  dtype: "float32" | "int32" | "bool";
  /** How the bytes are quantized in the shard: value = q * scale + min, or float16. */
  quantization?: { dtype: "uint8" | "uint16" | "float16"; scale?: number; min?: number };
  /** Index of its manifest group. */
  group: number;
}

/** One Keras layer of the topology. */
export interface TfjsLayer {
  /** Layer name (`conv2d_1`). */
  name: string;
  /** Keras class (`Conv2D`, `BatchNormalization`, ...). */
  className: string;
  /** The Keras layer config as stored. */
  config: Record<string, unknown>;
  /** Names of the layers feeding this one. */
  inbound: string[];
  /** Names of this layer's weights (`conv2d_1/kernel`, ...) in manifest order. */
  weights: string[];
}

/** A loaded TF.js layers model. Disposing it frees its weights. */
export interface TfjsModel extends Disposable {
  /** The model.json read. */
  path: string;
  /** `format` from model.json (`layers-model`), when present. */
  format?: string;
  /** `generatedBy` from model.json (the Keras/TF version), when present. */
  generatedBy?: string;
  /** `convertedBy` from model.json (the converter version), when present. */
  convertedBy?: string;
  /** Keras model class: `Model`/`Functional` or `Sequential`. */
  modelClass: string;
  /** The layers in topology order. */
  layers: TfjsLayer[];
  /** Input layer names. */
  inputs: string[];
  /** Output layer names. */
  outputs: string[];
  /** The raw `modelTopology` object. */
  topology: Record<string, unknown>;
  /** The manifest, flattened. */
  weightSpecs: TfjsWeightSpec[];
  /** Weights by name, in manifest order (dequantized). */
  weights: TensorMap;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

const STORED_BYTES = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 } as const;

function specBytes(s: TfjsWeightSpec): number {
  const numel = s.shape.reduce((a, b) => a * b, 1);
  return numel * STORED_BYTES[s.quantization?.dtype ?? s.dtype];
}

function parseManifest(
  path: string,
  manifest: unknown,
): { paths: string[]; specs: TfjsWeightSpec[] }[] {
  if (!Array.isArray(manifest)) throw new WeightFileError(path, "weightsManifest is not a list");
  const seen = new Set<string>();
  return manifest.map((g, gi) => {
    const fail = (m: string, entry?: string) =>
      new WeightFileError(path, `weightsManifest group ${gi}: ${m}`, { entry });
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      throw fail("needs `paths` and `weights` lists");
    }
    const paths = g.paths.map((p) => {
      if (typeof p !== "string" || p === "" || p.startsWith("/") || /^[a-z]+:/i.test(p)) {
        throw fail(`shard path ${JSON.stringify(p)} is not a relative file path`);
      }
      return p;
    });
    const specs = g.weights.map((w): TfjsWeightSpec => {
      if (!isObject(w) || typeof w.name !== "string" || w.name === "") {
        throw fail("a weight entry has no name");
      }
      const name = w.name;
      if (seen.has(name)) throw fail("the name appears twice in the manifest", name);
      seen.add(name);
      if (w.dtype !== "float32" && w.dtype !== "int32" && w.dtype !== "bool") {
        throw fail(
          `dtype ${JSON.stringify(w.dtype)} is not supported (float32, int32, bool)`,
          name,
        );
      }
      if (
        !Array.isArray(w.shape) ||
        !w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
      ) {
        throw fail(`shape ${JSON.stringify(w.shape)} is not a list of non-negative integers`, name);
      }
      const spec: TfjsWeightSpec = {
        name,
        shape: w.shape as number[],
        dtype: w.dtype,
        group: gi,
      };
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (
          !isObject(q) || (q.dtype !== "uint8" && q.dtype !== "uint16" && q.dtype !== "float16")
        ) {
          throw fail(`quantization ${JSON.stringify(q)} is not uint8, uint16 or float16`, name);
        }
        if (q.dtype !== "float16" && (typeof q.scale !== "number" || typeof q.min !== "number")) {
          throw fail("affine quantization needs numeric `scale` and `min`", name);
        }
        if (w.dtype === "bool") throw fail("a quantized weight cannot be bool", name);
        spec.quantization = {
          dtype: q.dtype,
          scale: q.scale as number | undefined,
          min: q.min as number | undefined,
        };
      }
      return spec;
    });
    return { paths, specs };
  });
}

/** Turns a weight's stored bytes into a tensor of its original dtype. */
function decodeWeight(
  spec: TfjsWeightSpec,
  bytes: Uint8Array,
  device: Device | undefined,
): Tensor {
  const q = spec.quantization;
  if (q === undefined) {
    return fromBuffer(bytes, spec.shape, { dtype: spec.dtype, device });
  }
  if (q.dtype === "float16") {
    const h = fromBuffer(bytes, spec.shape, { dtype: "float16", device });
    try {
      return h.to(spec.dtype);
    } finally {
      h.dispose();
    }
  }
  // As TF.js: value = q * scale + min in double precision, then stored as float32
  // (or rounded for int32).
  const scale = q.scale!, min = q.min!;
  const src = q.dtype === "uint8"
    ? bytes
    : new Uint16Array(bytes.slice().buffer, 0, bytes.length / 2);
  const out = spec.dtype === "int32"
    ? Int32Array.from(src, (v) => Math.round(v * scale + min))
    : Float32Array.from(src, (v) => v * scale + min);
  return fromBuffer(out, spec.shape, { dtype: spec.dtype, device });
}

/** The inbound layer names of a Keras layer (Keras 2 and Keras 3 node formats). */
function inboundOf(layer: Record<string, unknown>): string[] {
  const names: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      if (v.length >= 3 && typeof v[0] === "string" && typeof v[1] === "number") {
        names.push(v[0]);
        return;
      }
      v.forEach(walk);
    } else if (isObject(v)) {
      const cfg = v.config;
      if (isObject(cfg) && Array.isArray(cfg.keras_history)) walk(cfg.keras_history);
      else Object.values(v).forEach(walk);
    }
  };
  walk(layer.inbound_nodes);
  return [...new Set(names)];
}

function parseTopology(path: string, topology: Record<string, unknown>) {
  const modelConfig = isObject(topology.model_config) ? topology.model_config : topology;
  const modelClass = modelConfig.class_name;
  if (typeof modelClass !== "string") {
    throw new WeightFileError(path, "modelTopology has no Keras model `class_name`");
  }
  const cfg = modelConfig.config;
  const rawLayers = Array.isArray(cfg) ? cfg : isObject(cfg) ? cfg.layers : undefined;
  if (!Array.isArray(rawLayers)) {
    throw new WeightFileError(path, "modelTopology has no layer list");
  }
  const layers: TfjsLayer[] = rawLayers.map((l, i) => {
    if (!isObject(l) || typeof l.class_name !== "string") {
      throw new WeightFileError(path, `modelTopology layer ${i} has no class_name`);
    }
    const config = isObject(l.config) ? l.config : {};
    const name = typeof l.name === "string"
      ? l.name
      : typeof config.name === "string"
      ? config.name
      : `layer_${i}`;
    return { name, className: l.class_name, config, inbound: inboundOf(l), weights: [] };
  });
  const sequential = modelClass === "Sequential";
  if (sequential) layers.forEach((l, i) => (l.inbound = i > 0 ? [layers[i - 1].name] : []));
  const ends = (key: string, fallback: string[]) => {
    const v = isObject(cfg) ? cfg[key] : undefined;
    if (!Array.isArray(v)) return fallback;
    const out: string[] = [];
    const walk = (x: unknown) => {
      if (Array.isArray(x) && typeof x[0] === "string") out.push(x[0]);
      else if (Array.isArray(x)) x.forEach(walk);
    };
    walk(v);
    return out;
  };
  const first = layers.length ? [layers[0].name] : [];
  const last = layers.length ? [layers[layers.length - 1].name] : [];
  return {
    modelClass,
    layers,
    inputs: sequential ? first : ends("input_layers", first),
    outputs: sequential ? last : ends("output_layers", last),
  };
}

/** Loads a TF.js layers model: its Keras topology and its weights as tensors.
 * `path` is the `model.json` file or the folder holding it. The manifest is checked
 * against the shards (every shard present, sizes adding up to the weights each group
 * declares); problems give a {@link WeightFileError} naming the file and the weight.
 *
 * ```ts
 * using m = await io.loadTfjsModel("weights/darknet-tiny-tfjs");
 * console.log(m.layers.length, m.weights.get("conv2d_1/kernel")?.shape); // [3, 3, 3, 16]
 * ```
 */
export async function loadTfjsModel(
  path: string,
  opts: { device?: Device } = {},
): Promise<TfjsModel> {
  let jsonPath = path;
  try {
    if ((await Deno.stat(path)).isDirectory) jsonPath = `${path.replace(/\/$/, "")}/model.json`;
  } catch (e) {
    throw new WeightFileError(path, `cannot open: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(await Deno.readTextFile(jsonPath));
  } catch (e) {
    throw new WeightFileError(jsonPath, `cannot read model.json: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!isObject(doc) || !isObject(doc.modelTopology)) {
    throw new WeightFileError(jsonPath, "model.json has no `modelTopology` object");
  }
  if (doc.format === "graph-model" || "node" in doc.modelTopology) {
    throw new WeightFileError(jsonPath, "this is a TF.js graph model; only layers models are read");
  }
  const topo = parseTopology(jsonPath, doc.modelTopology);
  const groups = parseManifest(jsonPath, doc.weightsManifest);
  const dir = jsonPath.includes("/") ? jsonPath.slice(0, jsonPath.lastIndexOf("/") + 1) : "";

  const weights = new TensorMap();
  try {
    for (const [gi, g] of groups.entries()) {
      const want = g.specs.reduce((a, s) => a + specBytes(s), 0);
      const shardFiles = g.paths.map((p) => dir + p);
      const sizes: number[] = [];
      for (const f of shardFiles) {
        try {
          sizes.push((await Deno.stat(f)).size);
        } catch (e) {
          throw new WeightFileError(
            f,
            `weight shard of group ${gi} is missing: ${(e as Error).message}`,
            {
              cause: e,
            },
          );
        }
      }
      const have = sizes.reduce((a, b) => a + b, 0);
      if (have !== want) {
        throw new WeightFileError(
          jsonPath,
          `weightsManifest group ${gi} (${
            g.specs.map((s) => s.name).join(", ")
          }) declares ${want} bytes, but its shards ${g.paths.join(", ")} hold ${have}`,
        );
      }
      const buf = new Uint8Array(want);
      let pos = 0;
      for (const [i, f] of shardFiles.entries()) {
        using file = await openForRead(f);
        await readExactlyAt(file, f, 0, buf.subarray(pos, pos + sizes[i]));
        pos += sizes[i];
      }
      pos = 0;
      for (const s of g.specs) {
        const n = specBytes(s);
        try {
          weights.set(s.name, decodeWeight(s, buf.subarray(pos, pos + n), opts.device));
        } catch (e) {
          throw new WeightFileError(jsonPath, `cannot decode: ${(e as Error).message}`, {
            entry: s.name,
            cause: e,
          });
        }
        pos += n;
      }
    }
  } catch (e) {
    weights.dispose();
    throw e;
  }

  const byLayer = new Map(topo.layers.map((l) => [l.name, l]));
  const weightSpecs = groups.flatMap((g) => g.specs);
  for (const s of weightSpecs) byLayer.get(s.name.split("/")[0])?.weights.push(s.name);
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    path: jsonPath,
    format: str(doc.format),
    generatedBy: str(doc.generatedBy),
    convertedBy: str(doc.convertedBy),
    ...topo,
    topology: doc.modelTopology,
    weightSpecs,
    weights,
    [Symbol.dispose]: () => weights.dispose(),
  };
}

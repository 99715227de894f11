/** Where a CLIP's weights come from, and turning the non-Hugging-Face ones into our model's
 * names and geometry. Three sources:
 *
 * * `hf`: a Hugging Face folder (`config.json` + `model.safetensors` / `pytorch_model.bin`);
 * * `openai`: OpenAI's TorchScript archive (`ViT-B-32.pt`, partly fp16), read by libtorch's
 *   `torch::jit::load` in the shim;
 * * `open_clip`: an open_clip state dict (`.pt` / `.bin` written by `torch.save`, or
 *   `.safetensors`), bare or as `{"state_dict": ...}`, with or without DDP's `module.` prefix.
 *
 * The last two share OpenAI's key layout (`visual.conv1.weight`, fused `attn.in_proj_weight`,
 * `visual.proj` used as `x @ proj`, ...); the geometry is read off the shapes as open_clip's
 * `build_model_from_openai_state_dict` does (heads = width / 64).
 */
import { isFile } from "../../ffi/fs.ts";
import { loadSafetensors, loadTorchBin, loadTorchScript } from "../io/index.ts";
import { scope, type Tensor } from "../tensor/index.ts";
import type { CLIPConfig } from "./clip.ts";

/** A CLIP weights source (see the module doc). */
export type CLIPFormat = "hf" | "openai" | "open_clip";
/** The MLP activation of both towers: OpenAI's QuickGELU (`x·σ(1.702x)`) or exact GELU. */
export type CLIPActivation = "quick_gelu" | "gelu";

/** The activation each source's weights are taken to use unless told otherwise. */
export const DEFAULT_ACTIVATION: Record<Exclude<CLIPFormat, "hf">, CLIPActivation> = {
  openai: "quick_gelu",
  open_clip: "gelu",
};

const FORMATS: readonly CLIPFormat[] = ["hf", "openai", "open_clip"];

/** Why a CLIP source cannot be read; the message names the file. */
export class CLIPSourceError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "CLIPSourceError";
  }
}

/** The names of a zip archive's entries (torch.save and torch.jit.save both write zips). A file
 * cut short loses the central directory at its end: that is an error saying so. */
async function zipEntryNames(path: string, size: number): Promise<string[]> {
  using f = await Deno.open(path);
  const readAt = async (offset: number, n: number): Promise<Uint8Array> => {
    const buf = new Uint8Array(n);
    await f.seek(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < n) {
      const k = await f.read(buf.subarray(got));
      if (k === null) break;
      got += k;
    }
    return buf.subarray(0, got);
  };
  const truncated = (why: string) =>
    new CLIPSourceError(path, `truncated or damaged archive (${why}); download it again`);
  const tailLen = Math.min(size, 65536 + 22);
  const tail = await readAt(size - tailLen, tailLen);
  const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw truncated("no end-of-central-directory record");
  let cdSize = dv.getUint32(eocd + 12, true), cdOffset = dv.getUint32(eocd + 16, true);
  if ((cdOffset === 0xffffffff || cdSize === 0xffffffff) && eocd >= 20) {
    // Zip64: the locator just before the EOCD points at the zip64 EOCD record.
    if (dv.getUint32(eocd - 20, true) !== 0x07064b50) throw truncated("bad zip64 locator");
    const rec = await readAt(Number(dv.getBigUint64(eocd - 12, true)), 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rec.length < 56 || rv.getUint32(0, true) !== 0x06064b50) {
      throw truncated("bad zip64 end record");
    }
    cdSize = Number(rv.getBigUint64(40, true));
    cdOffset = Number(rv.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > size) throw truncated("central directory past the end of the file");
  const cd = await readAt(cdOffset, cdSize);
  const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const names: string[] = [];
  const dec = new TextDecoder();
  for (let i = 0; i + 46 <= cd.length && cv.getUint32(i, true) === 0x02014b50;) {
    const n = cv.getUint16(i + 28, true), x = cv.getUint16(i + 30, true);
    const c = cv.getUint16(i + 32, true);
    names.push(dec.decode(cd.subarray(i + 46, i + 46 + n)));
    i += 46 + n + x + c;
  }
  return names;
}

/** The source format of `path`: a folder is `hf`; a zip holding TorchScript code
 * (`<name>/constants.pkl`, `<name>/code/`) is `openai`; another torch.save zip or a
 * `.safetensors` file is `open_clip`. Anything else is a {@link CLIPSourceError}. */
export async function detectClipFormat(path: string): Promise<CLIPFormat> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    throw new CLIPSourceError(path, `cannot open: ${(e as Error).message}`);
  }
  if (st.isDirectory) return "hf";
  const head = new Uint8Array(16);
  {
    using f = await Deno.open(path);
    await f.read(head);
  }
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    const names = await zipEntryNames(path, st.size);
    const jit = names.some((n) => /(^|\/)constants\.pkl$/.test(n) || /(^|\/)code\//.test(n));
    return jit ? "openai" : "open_clip";
  }
  // safetensors: an 8-byte little-endian header length, then the JSON header.
  if (st.size >= 10 && head[8] === 0x7b) {
    const len = Number(new DataView(head.buffer).getBigUint64(0, true));
    if (len > 0 && 8 + len <= st.size) return "open_clip";
    throw new CLIPSourceError(path, "truncated safetensors file (header runs past the end)");
  }
  if (head[0] === 0x80 && head[1] <= 5) {
    throw new CLIPSourceError(
      path,
      "a legacy (pre-1.6) torch.save pickle; re-save it with a current torch.save",
    );
  }
  throw new CLIPSourceError(
    path,
    "not a CLIP weights file (expected a Hugging Face folder, a TorchScript archive, " +
      "a torch.save zip or a .safetensors file)",
  );
}

/** Checks a `format` option's value. */
export function checkFormat(format: string): CLIPFormat {
  if (!FORMATS.includes(format as CLIPFormat)) {
    throw new TypeError(`format "${format}" is not one of ${FORMATS.join(", ")}`);
  }
  return format as CLIPFormat;
}

/** Checks an `activation` option's value. */
export function checkActivation(act: string): CLIPActivation {
  if (act !== "quick_gelu" && act !== "gelu") {
    throw new TypeError(`activation "${act}" is not quick_gelu or gelu`);
  }
  return act;
}

// Entries OpenAI's archive and TorchScript'd open_clip models carry that are not weights:
// geometry scalars (open_clip pops the first three) and the text tower's causal mask.
const NOT_WEIGHTS = new Set(["input_resolution", "context_length", "vocab_size", "attn_mask"]);

/** The tensors of an `openai` or `open_clip` file, keys as OpenAI's layout: `state_dict.` and
 * `module.` prefixes stripped, non-weight entries disposed and dropped. */
export async function readOpenAiLayout(
  path: string,
  format: "openai" | "open_clip",
): Promise<Map<string, Tensor>> {
  let raw: Map<string, Tensor>;
  if (format === "openai") raw = await loadTorchScript(path);
  else if (path.endsWith(".safetensors")) raw = await loadSafetensors(path);
  else raw = await loadTorchBin(path);
  const keys = [...raw.keys()];
  const nested = keys.some((k) => k.startsWith("state_dict."));
  const out = new Map<string, Tensor>();
  for (const [k0, v] of raw) {
    let k = k0;
    if (nested) {
      if (!k.startsWith("state_dict.")) { // optimizer state and the like
        v.dispose();
        continue;
      }
      k = k.slice("state_dict.".length);
    }
    if (k.startsWith("module.")) k = k.slice("module.".length);
    if (NOT_WEIGHTS.has(k) || k.endsWith(".attn_mask")) {
      v.dispose();
      continue;
    }
    out.set(k, v);
  }
  return out;
}

const sampleKeys = (keys: string[]) => {
  const shown = keys.slice(0, 4).map((k) => `"${k}"`).join(", ");
  return keys.length === 0
    ? "it holds no tensors"
    : `its keys look like ${shown}${keys.length > 4 ? `, ... (${keys.length} in all)` : ""}`;
};

/** The geometry of an OpenAI-layout CLIP, read off its shapes. A ResNet image tower, a
 * Hugging Face state dict, or any other layout is a {@link CLIPSourceError}. */
export function openAiGeometry(
  state: ReadonlyMap<string, Tensor>,
  path: string,
  act: CLIPActivation,
): CLIPConfig {
  const keys = [...state.keys()];
  if (keys.some((k) => /^visual\.(layer[1-4]|attnpool)\./.test(k))) {
    throw new CLIPSourceError(
      path,
      "a ResNet image tower (ModifiedResNet, as RN50 / RN101 / RN50x4: visual.layer1.*, " +
        "visual.attnpool.*) is not supported; use a ViT CLIP (ViT-B-32, ViT-B-16, ViT-L-14)",
    );
  }
  if (keys.some((k) => k.startsWith("visual.trunk.") || k.startsWith("text.transformer."))) {
    throw new CLIPSourceError(
      path,
      `an open_clip model with a timm or Hugging Face tower is not supported (${sampleKeys(keys)})`,
    );
  }
  if (keys.some((k) => k.startsWith("text_model.") || k.startsWith("vision_model."))) {
    throw new CLIPSourceError(
      path,
      "Hugging Face CLIPModel weights: pass the folder that holds them with its config.json",
    );
  }
  const need = [
    "visual.conv1.weight",
    "visual.positional_embedding",
    "visual.proj",
    "token_embedding.weight",
    "positional_embedding",
    "ln_final.weight",
    "text_projection",
  ];
  const missing = need.filter((k) => !state.has(k));
  if (missing.length > 0) {
    throw new CLIPSourceError(
      path,
      `unknown checkpoint layout: no ${
        missing.map((k) => `"${k}"`).join(", ")
      } (expected an OpenAI / open_clip ViT CLIP; ${sampleKeys(keys)})`,
    );
  }
  const shape = (k: string) => state.get(k)!.shape;
  const layers = (prefix: string) =>
    keys.filter((k) => k.startsWith(prefix) && k.endsWith(".attn.in_proj_weight")).length;
  const conv = shape("visual.conv1.weight"); // [W, 3, p, p]
  const width = conv[0], patch = conv[3];
  const grid = Math.round(Math.sqrt(shape("visual.positional_embedding")[0] - 1));
  if (grid * grid + 1 !== shape("visual.positional_embedding")[0]) {
    throw new CLIPSourceError(
      path,
      `visual.positional_embedding [${
        shape("visual.positional_embedding")
      }] is not 1 + a square grid of positions`,
    );
  }
  const textWidth = shape("ln_final.weight")[0];
  const embed = shape("text_projection")[1];
  const vLayers = layers("visual.transformer.resblocks.");
  const tLayers = layers("transformer.resblocks.");
  if (vLayers === 0 || tLayers === 0) {
    throw new CLIPSourceError(path, "unknown checkpoint layout: no transformer blocks found");
  }
  for (const [w, what] of [[width, "image"], [textWidth, "text"]] as const) {
    if (w % 64 !== 0) {
      throw new CLIPSourceError(
        path,
        `${what} width ${w} is not a multiple of 64 (heads = width / 64)`,
      );
    }
  }
  return {
    vision: {
      imageSize: patch * grid,
      patchSize: patch,
      hiddenSize: width,
      numLayers: vLayers,
      numHeads: width / 64,
      intermediateSize: shape("visual.transformer.resblocks.0.mlp.c_fc.weight")[0],
      act,
      layerNormEps: 1e-5,
      style: "clip",
      patchBias: false,
      channels: conv[1],
    },
    text: {
      vocabSize: shape("token_embedding.weight")[0],
      hiddenSize: textWidth,
      intermediateSize: shape("transformer.resblocks.0.mlp.c_fc.weight")[0],
      numLayers: tLayers,
      numHeads: textWidth / 64,
      maxPositionEmbeddings: shape("positional_embedding")[0],
      act,
      layerNormEps: 1e-5,
      // 2 selects pooling at the largest id, as OpenAI and open_clip do (text.argmax(-1)).
      eosTokenId: 2,
      bosTokenId: 49406,
      padTokenId: 0,
    },
    projectionDim: embed,
    logitScaleInit: Math.log(1 / 0.07),
  };
}

/** OpenAI-layout tensors in our (Hugging Face) names, float32. The fused q/k/v are split and
 * the `x @ proj` matrices transposed into Linear weights. Every returned tensor is new (the
 * caller disposes both maps). An unexpected key is an error naming it. */
export function openAiToHf(state: ReadonlyMap<string, Tensor>, path: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const f32 = (t: Tensor) => t.to("float32", { copy: true });
  const projT = (t: Tensor) => scope(() => t.to("float32").transpose(0, 1).contiguous());
  const block: [RegExp, string][] = [
    [/^ln_1\.(weight|bias)$/, "layer_norm1.$1"],
    [/^ln_2\.(weight|bias)$/, "layer_norm2.$1"],
    [/^attn\.out_proj\.(weight|bias)$/, "self_attn.out_proj.$1"],
    [/^mlp\.c_fc\.(weight|bias)$/, "mlp.fc1.$1"],
    [/^mlp\.c_proj\.(weight|bias)$/, "mlp.fc2.$1"],
  ];
  const fixed: Record<string, string> = {
    "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
    "visual.class_embedding": "vision_model.embeddings.class_embedding",
    "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
    "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
    "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
    "visual.ln_post.weight": "vision_model.post_layernorm.weight",
    "visual.ln_post.bias": "vision_model.post_layernorm.bias",
    "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
    "positional_embedding": "text_model.embeddings.position_embedding.weight",
    "ln_final.weight": "text_model.final_layer_norm.weight",
    "ln_final.bias": "text_model.final_layer_norm.bias",
    "logit_scale": "logit_scale",
  };
  try {
    for (const [k, v] of state) {
      if (k in fixed) {
        out.set(fixed[k], f32(v));
        continue;
      }
      if (k === "visual.proj" || k === "text_projection") {
        const name = k === "visual.proj" ? "visual_projection.weight" : "text_projection.weight";
        out.set(name, projT(v));
        continue;
      }
      const m = /^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$/.exec(k);
      if (!m) throw new CLIPSourceError(path, `unexpected key "${k}" for an OpenAI-layout CLIP`);
      const base = `${m[1] ? "vision_model" : "text_model"}.encoder.layers.${m[2]}`;
      const rest = m[3];
      const fused = /^attn\.in_proj_(weight|bias)$/.exec(rest);
      if (fused) {
        const qkv = scope(() => v.to("float32").chunk(3, 0).map((t) => t.contiguous()));
        ["q", "k", "v"].forEach((n, i) =>
          out.set(`${base}.self_attn.${n}_proj.${fused[1]}`, qkv[i])
        );
        continue;
      }
      const rule = block.find(([re]) => re.test(rest));
      if (!rule) throw new CLIPSourceError(path, `unexpected key "${k}" for an OpenAI-layout CLIP`);
      out.set(`${base}.${rest.replace(rule[0], rule[1])}`, f32(v));
    }
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  }
  return out;
}

/** Where the tokenizer of a weights file lies: `tokenizer.json` or OpenAI/open_clip's
 * `bpe_simple_vocab_16e6.txt.gz` beside it, else undefined. */
export function tokenizerBeside(path: string): string | undefined {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) : ".";
  for (
    const name of ["tokenizer.json", "bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt"]
  ) {
    if (isFile(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

/** The whole CLIP model (Hugging Face `CLIPModel`): vision and text towers, their
 * projections into the joint space, and the learned logit scale. Parameter names
 * equal the Hugging Face checkpoint keys (`vision_model.*`, `text_model.*`,
 * `visual_projection.weight`, `text_projection.weight`, `logit_scale`), so a
 * checkpoint loads with `strict` and `stateDict()` saves one. */
import { full, noGrad, scope, type Tensor } from "../tensor/index.ts";
import type { Device } from "../tensor/index.ts";
import { Linear, Module, StateDictError } from "../nn/index.ts";
import type { FactoryOptions } from "../nn/module.ts";
import { VisionTransformer } from "./vit.ts";
import { type ViTConfig, vitConfigFromHf } from "./vit_config.ts";
import { type CLIPTextConfig, clipTextConfigFromHf, CLIPTextTransformer } from "./clip_text.ts";
import { CLIPVisionModel, readHfFolder } from "./pretrained.ts";
import { isDir } from "../../ffi/fs.ts";
import {
  checkActivation,
  checkFormat,
  type CLIPActivation,
  type CLIPFormat,
  DEFAULT_ACTIVATION,
  detectClipFormat,
  openAiGeometry,
  openAiToHf,
  readOpenAiLayout,
} from "./clip_sources.ts";

/** How `CLIPModel.fromPretrained` reads its source. */
export interface CLIPLoadOptions {
  /** Where the model goes after loading (default the CPU). */
  device?: Device;
  /** The source format; detected when omitted (a folder is "hf", a TorchScript zip "openai",
   * another torch.save zip or a .safetensors file "open_clip"). */
  format?: CLIPFormat;
  /** Both towers' MLP activation. Default: "quick_gelu" for an OpenAI archive, "gelu" for an
   * open_clip state dict (pass "quick_gelu" for OpenAI-initialised fine-tunes such as
   * RemoteCLIP, GeoRSCLIP, SkyCLIP), the config's `hidden_act` for a Hugging Face folder. */
  activation?: CLIPActivation;
  /** Where the one-line load summary goes (default `console.error`); null for silence. */
  log?: ((line: string) => void) | null;
}

/** Shape of a whole CLIP model. */
export interface CLIPConfig {
  /** The image tower (style "clip"). */
  vision: ViTConfig;
  /** The text tower. */
  text: CLIPTextConfig;
  /** Width of the joint embedding space. */
  projectionDim: number;
  /** Initial value of `logit_scale` (log of the inverse temperature): ln(1/0.07). */
  logitScaleInit: number;
}

/** A Hugging Face CLIPConfig `config.json` (with `vision_config` and `text_config`)
 * as a CLIPConfig. A config without `text_config` (a CLIPVisionModel's) is an
 * error; `where` names the file in messages. */
export function clipConfigFromHf(json: Record<string, unknown>, where = "config.json"): CLIPConfig {
  if (typeof json.text_config !== "object" || json.text_config === null) {
    const type = typeof json.model_type === "string" ? ` (model_type "${json.model_type}")` : "";
    throw new TypeError(
      `${where}: no "text_config"${type}: this is not a full CLIP model, it has no text tower. ` +
        `Use a CLIPModel checkpoint, or models.CLIPVisionModel.fromPretrained for images only`,
    );
  }
  const num = (k: string, dflt: number): number => {
    const x = json[k] ?? dflt;
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new TypeError(`${where}: "${k}" must be a number, got ${JSON.stringify(x)}`);
    }
    return x;
  };
  return {
    vision: vitConfigFromHf(json),
    text: clipTextConfigFromHf(json, where),
    projectionDim: num("projection_dim", 512),
    logitScaleInit: num("logit_scale_init_value", 2.6592),
  };
}

/** A CLIPConfig as a Hugging Face `config.json` object (transformers' CLIPConfig layout; the
 * inverse of {@link clipConfigFromHf}), so `CLIPModel.fromPretrained` and transformers both
 * read the folder. */
export function clipConfigToHf(c: CLIPConfig): Record<string, unknown> {
  const v = c.vision, t = c.text;
  return {
    architectures: ["CLIPModel"],
    model_type: "clip",
    projection_dim: c.projectionDim,
    logit_scale_init_value: c.logitScaleInit,
    text_config: {
      model_type: "clip_text_model",
      vocab_size: t.vocabSize,
      hidden_size: t.hiddenSize,
      intermediate_size: t.intermediateSize,
      num_hidden_layers: t.numLayers,
      num_attention_heads: t.numHeads,
      max_position_embeddings: t.maxPositionEmbeddings,
      hidden_act: t.act,
      layer_norm_eps: t.layerNormEps,
      projection_dim: c.projectionDim,
      bos_token_id: t.bosTokenId,
      eos_token_id: t.eosTokenId,
      pad_token_id: t.padTokenId,
    },
    vision_config: {
      model_type: "clip_vision_model",
      image_size: v.imageSize,
      patch_size: v.patchSize,
      hidden_size: v.hiddenSize,
      intermediate_size: v.intermediateSize,
      num_hidden_layers: v.numLayers,
      num_attention_heads: v.numHeads,
      num_channels: v.channels,
      hidden_act: v.act,
      layer_norm_eps: v.layerNormEps,
      projection_dim: c.projectionDim,
    },
  };
}

/** `x / ‖x‖₂` over the last dimension, computed as transformers does
 * (`x / sum(x²)^0.5`). */
export function l2Normalize(x: Tensor): Tensor {
  return scope(() => x.div(x.pow(2).sum(-1, { keepdim: true }).pow(0.5)));
}

/** Options of `encodeImage` / `encodeText`. */
export interface EncodeOptions {
  /** Divide each embedding by its L2 norm (false: the raw projected features, as
   * transformers' get_image_features / get_text_features and OpenAI's encode_*). */
  normalize?: boolean;
}

/** Inputs of `CLIPModel.forward`; `{ pixels, ...tokenizer.encode(texts) }` fits. */
export interface CLIPInputs {
  /** [B, 3, H, W], normalized as the model expects. */
  pixels: Tensor;
  /** [N, L] int64 token ids. */
  inputIds: Tensor;
  /** [N, L] 1 for tokens, 0 for padding (optional). */
  attentionMask?: Tensor | null;
}

/** What `CLIPModel.forward` returns (as transformers' CLIPOutput). */
export interface CLIPOutput {
  /** [B, P], L2-normalized. */
  imageEmbeds: Tensor;
  /** [N, P], L2-normalized. */
  textEmbeds: Tensor;
  /** [B, N]: exp(logit_scale) · cosine similarity. */
  logitsPerImage: Tensor;
  /** [N, B]: the transpose of `logitsPerImage`. */
  logitsPerText: Tensor;
}

/** Hugging Face `CLIPModel` (see the module doc for the parameter names). */
export class CLIPModel extends Module {
  readonly textModel: CLIPTextTransformer;
  readonly visionModel: VisionTransformer;
  /** [P, vision width], no bias. */
  readonly visualProjection: Linear;
  /** [P, text width], no bias. */
  readonly textProjection: Linear;
  /** 0-d: log of the inverse softmax temperature. */
  readonly logitScale: Tensor;

  /** A randomly initialized CLIP of `config` (towers with PyTorch's layer init). */
  constructor(readonly config: CLIPConfig, f: FactoryOptions = {}) {
    super();
    if (config.vision.style !== "clip") {
      throw new TypeError(`CLIPModel: the vision config must have style "clip"`);
    }
    const p = config.projectionDim;
    // Registration order of transformers' CLIPModel.
    this.textModel = this.registerModule("text_model", new CLIPTextTransformer(config.text, f));
    this.visionModel = this.registerModule(
      "vision_model",
      new VisionTransformer(config.vision, f),
    );
    this.visualProjection = this.registerModule(
      "visual_projection",
      new Linear(config.vision.hiddenSize, p, { bias: false, ...f }),
    );
    this.textProjection = this.registerModule(
      "text_projection",
      new Linear(config.text.hiddenSize, p, { bias: false, ...f }),
    );
    this.logitScale = this.registerParameter(
      "logit_scale",
      full([], config.logitScaleInit, { dtype: f.dtype, device: f.device }),
    );
  }

  /** Loads a CLIP from a Hugging Face folder (`config.json` + `model.safetensors` or
   * `pytorch_model.bin`), an OpenAI TorchScript archive, or an open_clip state dict (`.pt`,
   * `.bin`, `.safetensors`; see {@link CLIPLoadOptions} for format and activation), with
   * `strict` names and shapes, then moves it to `device`. It logs one line: format, geometry,
   * activation and parameter count. A folder without a text tower, a ResNet image tower, an
   * unknown layout or a truncated file is an error naming the file. */
  static async fromPretrained(path: string, opts: CLIPLoadOptions = {}): Promise<CLIPModel> {
    const format = opts.format ? checkFormat(opts.format) : await detectClipFormat(path);
    const override = opts.activation ? checkActivation(opts.activation) : undefined;
    const log = opts.log === undefined ? (l: string) => console.error(l) : opts.log;
    let config: CLIPConfig, weights: Map<string, Tensor>, file: string, actNote: string;
    let loaded: Map<string, Tensor>;
    if (format === "hf") {
      const hf = await readHfFolder(path);
      loaded = hf.state;
      file = hf.file;
      try {
        config = clipConfigFromHf(hf.config, `${path}/config.json`);
        weights = hfClipWeights(loaded, file);
      } catch (e) {
        for (const t of loaded.values()) t.dispose();
        throw e;
      }
      const own = config.vision.act;
      if (override) {
        config = withActivation(config, override);
        actNote = override === own ? "as config.json" : `override; config.json says ${own}`;
      } else actNote = "config.json hidden_act";
    } else {
      file = path;
      loaded = await readOpenAiLayout(path, format);
      const own = DEFAULT_ACTIVATION[format];
      const act = override ?? own;
      try {
        config = openAiGeometry(loaded, path, act);
        weights = openAiToHf(loaded, path);
      } finally {
        for (const t of loaded.values()) t.dispose();
      }
      loaded = weights;
      if (format === "openai" && act !== own) {
        console.warn(
          `warning: ${path}: activation ${act} overrides the OpenAI archive's own ${own}; ` +
            `OpenAI's CLIP weights were trained with ${own}, so its embeddings will be wrong`,
        );
      }
      actNote = override
        ? (act === own ? `as the ${format} default` : `override; the ${format} default is ${own}`)
        : format === "openai"
        ? "OpenAI's own"
        : 'open_clip default; pass activation "quick_gelu" for OpenAI-initialised weights';
    }
    let model: CLIPModel | null = null;
    try {
      model = new CLIPModel(config);
      const m = model;
      try {
        noGrad(() => m.loadStateDict(weights, { strict: true }));
      } catch (e) {
        if (e instanceof StateDictError) e.message = `${file}: ${e.message}`;
        throw e;
      }
      if (opts.device) model.to(opts.device);
      log?.(`CLIP ${path}: ${describeClip(format, config, actNote, model.numParameters())}`);
      return model.eval();
    } catch (e) {
      model?.dispose();
      throw e;
    } finally {
      for (const t of loaded.values()) t.dispose();
    }
  }

  /** Images [B, 3, H, W] → projected features [B, P] (normalized with `normalize`). */
  encodeImage(pixels: Tensor, opts: EncodeOptions = {}): Tensor {
    return scope(() => {
      const f = this.visualProjection.forward(this.visionModel.forward(pixels).pooledOutput);
      return opts.normalize ? l2Normalize(f) : f;
    });
  }

  /** Token ids [N, L] (and optional padding mask) → projected features [N, P]
   * (normalized with `normalize`). */
  encodeText(
    inputIds: Tensor,
    opts: EncodeOptions & { attentionMask?: Tensor | null } = {},
  ): Tensor {
    return scope(() => {
      const out = this.textModel.forward(inputIds, { attentionMask: opts.attentionMask });
      const f = this.textProjection.forward(out.pooledOutput);
      return opts.normalize ? l2Normalize(f) : f;
    });
  }

  /** Both towers, normalized embeddings and the scaled cosine-similarity logits. */
  forward(inputs: CLIPInputs): CLIPOutput {
    return scope(() => {
      const imageEmbeds = this.encodeImage(inputs.pixels, { normalize: true });
      const textEmbeds = this.encodeText(inputs.inputIds, {
        attentionMask: inputs.attentionMask,
        normalize: true,
      });
      const logitsPerText = textEmbeds.matmul(imageEmbeds.transpose(0, 1)).mul(
        this.logitScale.exp(),
      );
      return {
        imageEmbeds,
        textEmbeds,
        logitsPerImage: logitsPerText.transpose(0, 1),
        logitsPerText,
      };
    });
  }
}

/** The tensors of a Hugging Face CLIPModel state dict that CLIPModel loads (every
 * key but the `position_ids` buffers older transformers saved). A state without
 * `text_model.*` (or without `vision_model.*`) is an error naming `file` and
 * showing some of its keys. The tensors are the input's (not copies). */
export function hfClipWeights(
  state: ReadonlyMap<string, Tensor>,
  file = "checkpoint",
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of state) if (!k.endsWith(".position_ids")) out.set(k, v);
  const keys = [...out.keys()];
  const sample = () => {
    const shown = keys.slice(0, 4).map((k) => `"${k}"`).join(", ");
    return keys.length === 0
      ? "it holds no tensors"
      : `its keys look like ${shown}${keys.length > 4 ? `, ... (${keys.length} in all)` : ""}`;
  };
  for (const [prefix, what] of [["text_model.", "text"], ["vision_model.", "vision"]]) {
    if (!keys.some((k) => k.startsWith(prefix))) {
      const hint = what === "text"
        ? "A vision-only checkpoint (CLIPVisionModel) loads with models.CLIPVisionModel.fromPretrained."
        : "A text-only checkpoint cannot serve as a whole CLIP model.";
      throw new TypeError(
        `${file}: no CLIP ${what} tower: no "${prefix}*" weights found (${sample()}). ${hint}`,
      );
    }
  }
  return out;
}

/** `config` with both towers' MLP activation set to `act`. */
export function withActivation(config: CLIPConfig, act: CLIPActivation): CLIPConfig {
  return { ...config, vision: { ...config.vision, act }, text: { ...config.text, act } };
}

/** The load summary: format, geometry, activation, parameter count. */
export function describeClip(
  format: CLIPFormat,
  c: CLIPConfig,
  actNote: string,
  parameters: number,
): string {
  const v = c.vision, t = c.text;
  return `format ${format}; image ViT ${v.imageSize}px patch ${v.patchSize}, width ` +
    `${v.hiddenSize}, ${v.numLayers} layers, ${v.numHeads} heads; text width ${t.hiddenSize}, ` +
    `${t.numLayers} layers, ${t.numHeads} heads, context ${t.maxPositionEmbeddings}, vocab ` +
    `${t.vocabSize}; embed ${c.projectionDim}; activation ${v.act} (${actNote}); ` +
    `${(parameters / 1e6).toFixed(2)}M parameters`;
}

/** The image tower of any CLIP source (see {@link CLIPModel.fromPretrained}): a Hugging Face
 * folder through `CLIPVisionModel` (vision-only folders too), a weights file through the whole
 * model, whose text tower and projections are then freed. */
export async function clipVisionTower(
  path: string,
  opts: CLIPLoadOptions = {},
): Promise<VisionTransformer> {
  if (isDir(path) && (opts.format ?? "hf") === "hf" && !opts.activation) {
    const v = (await CLIPVisionModel.fromPretrained(path)).vision;
    if (opts.device) v.to(opts.device);
    return v;
  }
  const clip = await CLIPModel.fromPretrained(path, opts);
  clip.textModel.dispose();
  clip.textProjection.dispose();
  clip.visualProjection.dispose();
  clip.logitScale.dispose();
  return clip.visionModel;
}

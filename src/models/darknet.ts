/** Darknet-tiny, the ImageNet-pretrained CNN of ml5 (`darknet-tiny-tfjs`), rebuilt from its
 * TF.js layers model so that its pretrained weights run on libtorch: a CNN backbone for the
 * CNN-versus-ViT ablation.
 *
 * The network is built from the Keras topology in `model.json` (a chain of Conv2D,
 * BatchNormalization, LeakyReLU, MaxPooling2D, ... layers), with Keras semantics kept exactly:
 * NHWC kernels `[kh, kw, in, out]` become NCHW `[out, in, kh, kw]`, `padding: "same"` pads like
 * TensorFlow (the odd pixel goes right/bottom), max-pool padding never wins the max, and
 * BatchNormalization uses its moving statistics (Keras inference). Modules are named after the
 * Keras layers (`conv2d_1.weight`, `batch_normalization_1.running_mean`, ...).
 *
 * Input: RGB in [0, 1] (pixels / 255), NCHW, 224×224 (ml5's `darknet.js` preprocessing:
 * `toFloat().div(255)`, then `resizeBilinear(…, [224, 224], alignCorners = true)` when the image
 * is another size; no mean/std normalization). See {@link Darknet.preprocess}. The 1000 outputs
 * are logits: the model ends in global average pooling, and ml5 applies the softmax itself.
 *
 * The Keras layers are in `darknet_layers.ts`, building them and their weights from `model.json`
 * in `darknet_tfjs.ts`; this file is the model: checks, forward, features and preprocessing. */
import { loadTfjsModel, type TfjsModel } from "../io/index.ts";
import { type Device, fromBuffer, noGrad, scope, type Tensor } from "../tensor/index.ts";
import { Module, type TensorModule } from "../nn/index.ts";
import { KerasConv2d, pair } from "./darknet_layers.ts";
import { buildLayer, stateFromTfjs } from "./darknet_tfjs.ts";

/** TF.js's CPU `resizeBilinear(alignCorners = true)` of an HWC float image with 3 channels. */
function resizeBilinearAligned(
  src: Float32Array,
  h: number,
  w: number,
  nh: number,
  nw: number,
): Float32Array {
  const out = new Float32Array(nh * nw * 3);
  const ry = nh > 1 ? (h - 1) / (nh - 1) : h / nh;
  const rx = nw > 1 ? (w - 1) / (nw - 1) : w / nw;
  let o = 0;
  for (let r = 0; r < nh; r++) {
    const fy = ry * r;
    const y0 = Math.max(0, Math.floor(fy)), y1 = Math.min(h - 1, Math.ceil(fy));
    const dy = fy - y0;
    for (let c = 0; c < nw; c++) {
      const fx = rx * c;
      const x0 = Math.max(0, Math.floor(fx)), x1 = Math.min(w - 1, Math.ceil(fx));
      const dx = fx - x0;
      const tl = (y0 * w + x0) * 3, tr = (y0 * w + x1) * 3;
      const bl = (y1 * w + x0) * 3, br = (y1 * w + x1) * 3;
      for (let k = 0; k < 3; k++) {
        const top = src[tl + k] + (src[tr + k] - src[tl + k]) * dx;
        const bottom = src[bl + k] + (src[br + k] - src[bl + k]) * dx;
        out[o++] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

/** Options of {@link Darknet.fromTfjs}. */
export interface DarknetOptions {
  /** Device of the weights (cpu). */
  device?: Device;
}

/**
 * Darknet-tiny (or any chain-shaped Keras CNN from a TF.js layers model) on libtorch.
 *
 * ```ts
 * const net = await models.Darknet.fromTfjs("../shared/data/weights/darknet-tiny-tfjs");
 * const x = models.Darknet.preprocess(await decodeImage("airport_1.jpg")); // [1, 3, 224, 224]
 * const logits = net.forward(x);  // [1, 1000], as the TF.js model's output
 * const fmap = net.features(x);   // [1, 128, 14, 14], the classifier's input
 * ```
 *
 * Returned in `eval()` mode (BatchNorm uses the pretrained moving statistics). The 1000
 * outputs follow Darknet's ImageNet class order (ml5's `IMAGENET_CLASSES_DARKNET`), which is
 * not the usual synset-sorted order.
 */
export class Darknet extends Module {
  /** The Keras layer names, in order (each a child module, InputLayer excepted). */
  readonly layerNames: string[];
  /** The default layer of {@link Darknet.features}: the input of the last convolution (the
   * 1000-way 1×1 classifier), i.e. the last backbone feature map. */
  readonly featureLayer: string;
  /** [H, W] the model was trained at (from the InputLayer), when fixed. */
  readonly inputSize: [number, number] | null;
  /** Input channels (3, RGB). */
  readonly inChannels: number;
  readonly #layers: [string, TensorModule][] = [];

  private constructor(model: TfjsModel, device: Device | undefined) {
    super();
    const input = model.layers.find((l) => l.className === "InputLayer");
    const shape = (input?.config.batch_input_shape ?? input?.config.batch_shape) as
      | (number | null)[]
      | undefined;
    if (!shape || shape.length !== 4 || typeof shape[3] !== "number") {
      throw new Error(`${model.path}: expected an NHWC image input with known channels`);
    }
    this.inChannels = shape[3];
    this.inputSize = typeof shape[1] === "number" && typeof shape[2] === "number"
      ? [shape[1], shape[2]]
      : null;
    // A chain: every layer fed by the one before it, the last one the output.
    const lastName = model.layers.at(-1)?.name;
    if (model.outputs.length !== 1 || model.outputs[0] !== lastName) {
      throw new Error(
        `${model.path}: outputs [${model.outputs}] are not the last layer ${lastName}; ` +
          "only chain-shaped models are supported",
      );
    }
    for (const [i, l] of model.layers.entries()) {
      const want = i === 0 ? [] : [model.layers[i - 1].name];
      if (l.inbound.length !== want.length || l.inbound.some((n, j) => n !== want[j])) {
        throw new Error(
          `${model.path}: layer "${l.name}" is fed by [${l.inbound}], not [${want}]; ` +
            "only chain-shaped models are supported",
        );
      }
    }
    let channels = this.inChannels;
    try {
      for (const l of model.layers) {
        const built = buildLayer(l, channels, device);
        channels = built.channels;
        if (built.module) this.#layers.push([l.name, this.registerModule(l.name, built.module)]);
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
    this.layerNames = this.#layers.map(([n]) => n);
    const convs = this.#layers.filter(([, m]) => m instanceof KerasConv2d);
    const last = convs.at(-1)?.[0];
    const at = last ? this.layerNames.indexOf(last) : -1;
    this.featureLayer = at > 0 ? this.layerNames[at - 1] : this.layerNames.at(-1)!;
  }

  /** Builds the network from a TF.js layers model folder (or its `model.json`) and loads its
   * weights with `strict` names and shapes. */
  static async fromTfjs(path: string, opts: DarknetOptions = {}): Promise<Darknet> {
    using model = await loadTfjsModel(path, { device: opts.device });
    const net = new Darknet(model, opts.device);
    try {
      const layers = new Map(net.#layers);
      const state = noGrad(() => stateFromTfjs(model, layers));
      try {
        noGrad(() => net.loadStateDict(state, { strict: true }));
      } finally {
        for (const t of state.values()) t.dispose();
      }
    } catch (e) {
      net.dispose();
      throw e;
    }
    return net.eval();
  }

  /** The child module of the Keras layer `name`. */
  layer(name: string): TensorModule {
    const hit = this.#layers.find(([n]) => n === name);
    if (!hit) throw new RangeError(`Darknet: no layer "${name}" (have ${this.layerNames})`);
    return hit[1];
  }

  #run(x: Tensor, upTo: number): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new RangeError(
        `Darknet: expected input [N, ${this.inChannels}, H, W] (NCHW, RGB in [0, 1]), got [${x.shape}]`,
      );
    }
    return scope(() => {
      let h = x;
      for (let i = 0; i <= upTo; i++) h = this.#layers[i][1].forward(h);
      return h;
    });
  }

  /** The feature map after Keras layer `layer` (default {@link Darknet.featureLayer}):
   * [N, C, h, w], e.g. [N, 128, 14, 14] for Darknet-tiny at 224×224. */
  features(x: Tensor, layer: string = this.featureLayer): Tensor {
    const i = this.layerNames.indexOf(layer);
    if (i < 0) throw new RangeError(`Darknet: no layer "${layer}" (have ${this.layerNames})`);
    return this.#run(x, i);
  }

  /** The model's output, as TF.js `model.predict` gives it: for Darknet-tiny the
   * global-average-pooled 1000-way logits [N, 1000] (the model has no softmax). */
  forward(x: Tensor): Tensor {
    return this.#run(x, this.#layers.length - 1);
  }

  /** softmax(forward(x)) over classes, as ml5's `classify` computes. */
  probabilities(x: Tensor): Tensor {
    return scope(() => this.forward(x).softmax(-1));
  }

  /** ml5's Darknet preprocessing of an 8-bit RGB image (HWC, interleaved): pixels / 255, then,
   * when the image is not `size` (the model's 224×224), TF.js's `resizeBilinear` with
   * `alignCorners = true`, computed on the host exactly as the TF.js CPU kernel does (source
   * coordinates and blending in double precision, rounded to float32 once). Returns
   * [1, 3, size, size] float32 on `device`. */
  static preprocess(
    img: { width: number; height: number; data: Uint8Array },
    opts: { size?: number | [number, number]; device?: Device } = {},
  ): Tensor {
    const [sh, sw] = pair(opts.size ?? 224, "Darknet.preprocess size");
    const { width, height, data } = img;
    if (data.length !== width * height * 3) {
      throw new RangeError(`Darknet.preprocess: ${data.length} bytes is not ${width}×${height}×3`);
    }
    const px = Float32Array.from(data, (v) => v / 255);
    const hwc = height === sh && width === sw
      ? px
      : resizeBilinearAligned(px, height, width, sh, sw);
    return scope(() =>
      fromBuffer(hwc, [1, sh, sw, 3], { dtype: "float32", device: opts.device })
        .permute(0, 3, 1, 2).contiguous()
    );
  }
}

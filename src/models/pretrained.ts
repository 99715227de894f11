/** Loading pretrained ViTs: Hugging Face CLIP folders and timm safetensors. */
import { exists } from "../../ffi/fs.ts";
import { loadSafetensors, loadTorchBin } from "../io/index.ts";
import { noGrad, type Tensor } from "../tensor/index.ts";
import { VisionTransformer, type ViTOutput } from "./vit.ts";
import { type ViTConfig, vitConfigFromHf } from "./vit_config.ts";
import { hfClipVision, timmVit } from "./weight_maps.ts";

/** Every tensor of a Hugging Face model folder (`model.safetensors`, else
 * `pytorch_model.bin`), its parsed `config.json`, and the weight file read. */
export async function readHfFolder(
  dir: string,
): Promise<{ config: Record<string, unknown>; state: Map<string, Tensor>; file: string }> {
  const configPath = `${dir}/config.json`;
  if (!exists(configPath)) throw new Error(`${dir}: no config.json (not a model folder)`);
  const config = JSON.parse(await Deno.readTextFile(configPath));
  const st = `${dir}/model.safetensors`, bin = `${dir}/pytorch_model.bin`;
  if (exists(st)) return { config, state: await loadSafetensors(st), file: st };
  if (exists(bin)) return { config, state: await loadTorchBin(bin), file: bin };
  throw new Error(`${dir}: neither model.safetensors nor pytorch_model.bin found`);
}

function disposeAll(ts: Iterable<Tensor>) {
  for (const t of ts) t.dispose();
}

/** Hugging Face `CLIPVisionModel`: our ViT with a CLIP checkpoint's vision weights. */
export class CLIPVisionModel {
  private constructor(readonly vision: VisionTransformer) {}

  /** Loads `dir` (a CLIPVisionModel or full CLIPModel folder) with `strict` names and shapes. */
  static async fromPretrained(dir: string): Promise<CLIPVisionModel> {
    const { config, state } = await readHfFolder(dir);
    const model = new VisionTransformer(vitConfigFromHf(config));
    try {
      noGrad(() => model.loadStateDict(hfClipVision(state), { strict: true }));
    } catch (e) {
      model.dispose();
      throw e;
    } finally {
      disposeAll(state.values());
    }
    return new CLIPVisionModel(model);
  }

  forward(pixels: Tensor): ViTOutput {
    return this.vision.forward(pixels);
  }

  dispose(): void {
    this.vision.dispose();
  }
}

/** A timm ViT from its safetensors state dict, with `config` describing it
 * (timm checkpoints carry no config). The classifier head is not loaded. */
export async function vitFromTimm(path: string, config: ViTConfig): Promise<VisionTransformer> {
  const state = await loadSafetensors(path);
  const { weights, head } = timmVit(state);
  const model = new VisionTransformer({ ...config, style: "timm" });
  try {
    noGrad(() => model.loadStateDict(weights, { strict: true }));
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    disposeAll(state.values());
    disposeAll(weights.values());
    disposeAll(head.values());
  }
  return model;
}

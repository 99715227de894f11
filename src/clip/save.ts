/** Writing a CLIP as a Hugging Face folder (`CLIPModel.fromPretrained` and transformers both
 * read it back).
 * @module
 */
import { clipConfigToHf, type CLIPModel } from "../models/clip.ts";
import { saveSafetensors } from "../io/index.ts";

/** Writes `model` as a Hugging Face CLIP folder: `config.json`, `model.safetensors` (the
 * checkpoint keys of transformers' CLIPModel), and the tokenizer files given. */
export async function saveHfClip(
  dir: string,
  model: CLIPModel,
  tokenizer: { tokenizer: unknown; config: unknown },
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const write = (name: string, x: unknown) =>
    Deno.writeTextFile(`${dir}/${name}`, JSON.stringify(x, null, 1) + "\n");
  await write("config.json", clipConfigToHf(model.config));
  await write("tokenizer.json", tokenizer.tokenizer);
  await write("tokenizer_config.json", tokenizer.config);
  const state = model.stateDict();
  await saveSafetensors(`${dir}/model.safetensors`, state, { format: "pt" });
}

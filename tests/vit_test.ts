/** ViT parity against Hugging Face transformers' CLIPVisionModel (same weights,
 * same input): last hidden state and pooled output within 1e-5 in fp32. */
import assert from "node:assert/strict";
import { models, torch } from "../mod.ts";
import { loadSafetensors } from "../src/io/index.ts";
import { ROOT, runPython } from "./helpers.ts";

const ORACLE = `${ROOT}/tests/oracle/clip_vision.py`;

async function parity(
  config: Record<string, unknown>,
  opts: { format: "safetensors" | "bin"; batch: number; imageSize?: number },
) {
  const dir = await Deno.makeTempDir({ prefix: "dsva-vit-" });
  try {
    await runPython(ORACLE, {
      dir,
      config,
      format: opts.format,
      batch: opts.batch,
      image_size: opts.imageSize,
    });
    const model = await models.CLIPVisionModel.fromPretrained(dir);
    const ref = await loadSafetensors(`${dir}/ref.safetensors`);
    const diffs = torch.scope(() =>
      torch.noGrad(() => {
        const out = model.forward(ref.get("pixels")!);
        const d = (a: torch.Tensor, b: torch.Tensor) => a.sub(b).abs().max().item();
        return {
          last: d(out.lastHiddenState, ref.get("last_hidden_state")!),
          pooled: d(out.pooledOutput, ref.get("pooler_output")!),
        };
      })
    );
    model.dispose();
    for (const t of ref.values()) t.dispose();
    return diffs;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const small = {
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  image_size: 32,
  patch_size: 8,
  hidden_act: "quick_gelu",
};

Deno.test("ViT = transformers CLIPVisionModel, small config, safetensors", async () => {
  const d = await parity(small, { format: "safetensors", batch: 2 });
  console.log("small config max abs diff", d);
  assert.ok(d.last <= 1e-5, `last hidden state differs by ${d.last}`);
  assert.ok(d.pooled <= 1e-5, `pooled output differs by ${d.pooled}`);
});

Deno.test("ViT = transformers CLIPVisionModel, pytorch_model.bin, other image size", async () => {
  const d = await parity({ ...small, hidden_act: "gelu" }, {
    format: "bin",
    batch: 1,
    imageSize: 48,
  });
  console.log("interpolated positions max abs diff", d);
  assert.ok(d.last <= 1e-5, `last hidden state differs by ${d.last}`);
  assert.ok(d.pooled <= 1e-5, `pooled output differs by ${d.pooled}`);
});

Deno.test("ViT = transformers CLIPVisionModel, full ViT-B/32 config", async () => {
  const d = await parity({
    hidden_size: 768,
    intermediate_size: 3072,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    image_size: 224,
    patch_size: 32,
    hidden_act: "quick_gelu",
  }, { format: "safetensors", batch: 1 });
  console.log("ViT-B/32 max abs diff", d);
  assert.ok(d.last <= 1e-5, `last hidden state differs by ${d.last}`);
  assert.ok(d.pooled <= 1e-5, `pooled output differs by ${d.pooled}`);
});

Deno.test("loading a checkpoint with wrong shapes names every mismatch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsva-vit-" });
  try {
    await runPython(ORACLE, { dir, config: small, format: "safetensors", batch: 1 });
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    cfg.intermediate_size = 96; // every fc1/fc2 now mismatches
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(cfg));
    let msg = "";
    try {
      await models.CLIPVisionModel.fromPretrained(dir);
    } catch (e) {
      msg = String(e);
    }
    for (let i = 0; i < 3; i++) {
      assert.ok(msg.includes(`encoder.layers.${i}.mlp.fc1.weight`), msg);
      assert.ok(msg.includes(`encoder.layers.${i}.mlp.fc2.weight`), msg);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** timm ViT parity: a real timm VisionTransformer's state dict (tests/fixtures,
 * written by tests/oracle/timm_fixture.py with timm 1.0.29 on torch 2.11, since
 * timm cannot be installed here) loads through the timm name map and gives the
 * same forward_features on the same input. */
import assert from "node:assert/strict";
import { io, models, torch } from "../mod.ts";
import { ROOT } from "./helpers.ts";

Deno.test("timm ViT loads through the name map and matches timm's forward_features", async () => {
  const config = models.vitConfig("vit-tiny-16", {
    imageSize: 32,
    patchSize: 8,
    hiddenSize: 48,
    numLayers: 2,
    numHeads: 3,
    intermediateSize: 192,
  });
  const model = await models.vitFromTimm(
    `${ROOT}/tests/fixtures/timm_vit_tiny.safetensors`,
    config,
  );
  using ref = await io.loadSafetensors(`${ROOT}/tests/fixtures/timm_vit_tiny_ref.safetensors`);
  const diff = torch.scope(() =>
    torch.noGrad(() => {
      const out = model.forward(ref.get("input")!);
      return out.lastHiddenState.sub(ref.get("features")!).abs().max().item();
    })
  );
  model.dispose();
  console.log(`max abs diff to timm ${ref.metadata?.timm}: ${diff}`);
  assert.ok(diff <= 1e-5, `features differ by ${diff}`);
});

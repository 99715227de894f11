"""Oracle for tests/vit_test.ts: a transformers CLIPVisionModel with random
weights, saved as a Hugging Face folder, plus its outputs on a seeded input.

stdin JSON: {"dir": str, "config": {CLIPVisionConfig fields}, "format": "safetensors"|"bin",
             "batch": int, "image_size": int (input size, may differ from config)}
writes <dir>/config.json, <dir>/model.safetensors or pytorch_model.bin, <dir>/ref.safetensors
"""
import json
import sys

import torch
from safetensors.torch import save_file
from transformers import CLIPVisionConfig, CLIPVisionModel

req = json.load(sys.stdin)
torch.manual_seed(0)
config = CLIPVisionConfig(**req["config"])
model = CLIPVisionModel(config).eval()
# Random (non-default) LayerNorm affine parameters so they matter in the comparison.
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.LayerNorm):
            m.weight.normal_(1.0, 0.1)
            m.bias.normal_(0.0, 0.1)
model.save_pretrained(req["dir"], safe_serialization=req["format"] == "safetensors")
size = req.get("image_size", config.image_size)
pixels = torch.randn(req["batch"], 3, size, size)
with torch.no_grad():
    out = model(pixel_values=pixels, interpolate_pos_encoding=size != config.image_size)
save_file(
    {
        "pixels": pixels.contiguous(),
        "last_hidden_state": out.last_hidden_state.contiguous(),
        "pooler_output": out.pooler_output.contiguous(),
    },
    f"{req['dir']}/ref.safetensors",
)
print(json.dumps({"threads": torch.get_num_threads(), "params": sum(p.numel() for p in model.parameters())}))

"""Writes the timm ViT fixture used by tests/timm_vit_test.ts (run where timm is
installed; timm cannot be installed on the CPU-only development machine):

    python3 tests/oracle/timm_fixture.py <out dir>

<out dir>/timm_vit_tiny.safetensors      the state dict exactly as timm names it
<out dir>/timm_vit_tiny_ref.safetensors  a seeded input and timm's forward_features
"""
import sys

import timm
import torch
from safetensors.torch import save_file
from timm.models.vision_transformer import VisionTransformer

out = sys.argv[1]
torch.manual_seed(0)
model = VisionTransformer(
    img_size=32, patch_size=8, embed_dim=48, depth=2, num_heads=3, mlp_ratio=4.0,
    num_classes=5, qkv_bias=True,
).eval()
with torch.no_grad():
    for p in model.parameters():  # timm zero-inits some tensors; make every one matter
        p.add_(torch.randn_like(p) * 0.05)
    x = torch.randn(2, 3, 32, 32)
    feats = model.forward_features(x)
save_file({k: v.contiguous() for k, v in model.state_dict().items()},
          f"{out}/timm_vit_tiny.safetensors", metadata={"timm": timm.__version__, "torch": torch.__version__})
save_file({"input": x, "features": feats.contiguous()}, f"{out}/timm_vit_tiny_ref.safetensors",
          metadata={"timm": timm.__version__, "torch": torch.__version__})
print("timm", timm.__version__, "torch", torch.__version__, "features", tuple(feats.shape))

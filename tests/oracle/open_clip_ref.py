"""Oracle for tests/open_clip_test.ts: real open_clip 3.3.0 models with random weights, saved
in each distribution format, loaded back by open_clip's own loaders, and their outputs.

torchvision cannot be imported beside the CPU torch (its C++ ops fail to register), and
open_clip imports it only for a few names: tests/oracle/torchvision_stub stands in for them.

stdin JSON, by "mode":
  "make": {"path", "format": "state" | "wrapped" | "safetensors" | "jit", "model": "ViT-B-32"
           or {"embed_dim", "vision_cfg", "text_cfg"}, "quick_gelu": bool, "seed": int,
           "texts": [str], "batch": int, "out"}
      builds the open_clip CLIP, perturbs every weight (so no LayerNorm is the identity and no
      bias zero), and saves it as
        state:       torch.save(model.state_dict())           (RemoteCLIP, GeoRSCLIP)
        wrapped:     torch.save({"epoch", "name", "state_dict": {"module." + k: v}})  (SkyCLIP)
        safetensors: safetensors save_file(model.state_dict()) (open_clip_model.safetensors)
        jit:         an OpenAI-style TorchScript archive: traced as open_clip's trace_model does,
                     the weights OpenAI keeps in fp16 cast to fp16, and the input_resolution /
                     context_length / vocab_size entries OpenAI's archives carry.
      Then loads the file back the way open_clip does (open_clip.load_checkpoint into a fresh
      model of the same config; load_openai_model for the archive), tokenizes `texts` with
      open_clip.tokenize, and writes <out> (safetensors): pixels [batch, 3, S, S] (seeded
      normal), ids [N, 77], image_features = encode_image, text_features = encode_text,
      logits = logit_scale.exp() * normalized image @ normalized text.T.
  "tokenize": {"texts": [str]}
      stdout: {"ids": open_clip.tokenize(texts) as lists (77 each)}
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "torchvision_stub"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
import open_clip  # noqa: E402
from open_clip.model import CLIP  # noqa: E402

# The tensors OpenAI's archives (and open_clip's convert_weights_to_lp) keep in fp16.
LP = (".in_proj_weight", ".in_proj_bias", "out_proj.weight", "out_proj.bias", "c_fc.weight",
      "c_fc.bias", "c_proj.weight", "c_proj.bias", "conv1.weight")


def build(spec):
    if spec["model"] == "ViT-B-32":
        cfg = open_clip.get_model_config("ViT-B-32")
    else:
        cfg = spec["model"]
    return CLIP(cfg["embed_dim"], cfg["vision_cfg"], cfg["text_cfg"],
                quick_gelu=spec["quick_gelu"]).eval()


def make(spec):
    torch.manual_seed(spec["seed"])
    model = build(spec)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                p.fill_(2.0)
            elif p.ndim == 1 and name.endswith("weight"):  # LayerNorm gains
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.add_(0.02 * torch.randn_like(p))
    path, fmt = spec["path"], spec["format"]
    state = model.state_dict()
    if fmt == "state":
        torch.save(state, path)
    elif fmt == "wrapped":
        torch.save({"epoch": 20, "name": "skyclip-like",
                    "state_dict": {"module." + k: v for k, v in state.items()}}, path)
    elif fmt == "safetensors":
        save_file({k: v.contiguous() for k, v in state.items()}, path)
    elif fmt == "jit":
        # open_clip's trace_model, with the image size as an int (3.3.0 passes its tuple).
        size = model.visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else size
        # OpenAI's causal mask is a plain attribute (a constant of the archive), not a buffer.
        mask = model._buffers.pop("attn_mask")
        model.attn_mask = mask
        ctx, vocab = model.context_length, model.vocab_size
        del model.context_length, model.vocab_size  # plain ints here, tensors in OpenAI's
        model.register_buffer("input_resolution", torch.tensor(size))
        model.register_buffer("context_length", torch.tensor(ctx))
        model.register_buffer("vocab_size", torch.tensor(vocab))
        images = torch.ones(1, 3, size, size)
        text = torch.zeros(1, ctx, dtype=torch.int)
        traced = torch.jit.trace_module(model, inputs=dict(
            forward=(images, text), encode_text=(text,), encode_image=(images,)),
            check_trace=False)  # only the archive is used: no graph check needed
        with torch.no_grad():
            for name, p in traced.named_parameters():
                if name.endswith(LP) or name in ("visual.proj", "text_projection"):
                    p.data = p.data.half()
        torch.jit.save(traced, path)
    else:
        raise SystemExit(f"unknown format {fmt}")

    if fmt == "jit":
        ref = open_clip.load_openai_model(path, precision="fp32", device="cpu").eval()
    else:
        ref = build(spec)
        open_clip.load_checkpoint(ref, path)
    size = ref.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    g = torch.Generator().manual_seed(spec["seed"] + 1)
    pixels = torch.randn(spec["batch"], 3, size, size, generator=g)
    ids = open_clip.tokenize(spec["texts"])
    with torch.no_grad():
        img = ref.encode_image(pixels)
        txt = ref.encode_text(ids)
        logits = ref.logit_scale.exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).T
    save_file({"pixels": pixels, "ids": ids.to(torch.int64), "image_features": img.contiguous(),
               "text_features": txt.contiguous(), "logits": logits.contiguous()}, spec["out"])
    return {"image_size": size, "params": sum(p.numel() for p in ref.parameters())}


def main():
    spec = json.load(sys.stdin)
    torch.set_num_threads(2)
    if spec["mode"] == "make":
        out = make(spec)
    elif spec["mode"] == "tokenize":
        out = {"ids": open_clip.tokenize(spec["texts"]).tolist()}
    else:
        raise SystemExit(f"unknown mode {spec['mode']}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""Python torch baseline for `deno task bench train` (bench/train.ts).

PyTorch eager: the DSVA forward and losses of tests/oracle/dsva_ref.py (plain torch, the same
parameter names as our state dict; the parity oracle of tests/dsva_test.ts), with its attention
switched to F.scaled_dot_product_attention (as ours), and torch.optim.Adam(fused=True) (the
kernel our Adam runs) over the same two parameter groups. The initial weights are ours: the
Deno side writes its state dict, class attributes, pixels and labels to safetensors files and
this process loads them. One training step, as in bench/train.ts:

    opt.zero_grad(set_to_none=True)
    out = forward(sd, pixels, att, case)       # ViT + VAM + ALE + AC crop re-feed
    terms = losses(sd, out, att, labels, case)
    terms["total"].backward()
    opt.step()
    float(terms["total"])

Serves rounds over stdin/stdout (one JSON request per line in, one JSON result per line out):

Setup:    {"setup":true,"threads":1,"dir":...,"case":{...},"lr":{"heads":..,"backbone":..},
           "betas":[..],"eps":..,"warmup":1}
          -> {"threads":1,"params":N,"warmupMs":[...]}
Round:    {"iters":1} -> {"ms":[...],"cpuMs":[...],"waitMs":[...],"threads":1}

The first line written (before any request) describes this torch.
"""

import json
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from baseline_timing import timed, timed_round

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import dsva_ref as ref  # noqa: E402


def vit_tokens_sdpa(sd, x, cfg):
    """dsva_ref.vit_tokens with scaled_dot_product_attention for the attention."""
    pre = "backbone."
    p = cfg["patch_size"]
    eps = cfg["eps"]
    w = lambda n: sd[pre + n]  # noqa: E731
    b = x.shape[0]
    patches = F.conv2d(x, w("embeddings.patch_embedding.weight"), stride=p)
    d = patches.shape[1]
    tokens = patches.flatten(2).transpose(1, 2)
    cls = w("embeddings.class_embedding").expand(b, 1, -1)
    h = torch.cat([cls, tokens], dim=1) + w("embeddings.position_embedding.weight").unsqueeze(0)
    h = F.layer_norm(h, (d,), w("pre_layrnorm.weight"), w("pre_layrnorm.bias"), eps)
    heads = cfg["num_heads"]
    hd = d // heads
    i = 0
    while pre + f"encoder.layers.{i}.layer_norm1.weight" in sd:
        L = f"encoder.layers.{i}."
        r = h
        y = F.layer_norm(h, (d,), w(L + "layer_norm1.weight"), w(L + "layer_norm1.bias"), eps)
        q = F.linear(y, w(L + "self_attn.q_proj.weight"), w(L + "self_attn.q_proj.bias"))
        k = F.linear(y, w(L + "self_attn.k_proj.weight"), w(L + "self_attn.k_proj.bias"))
        v = F.linear(y, w(L + "self_attn.v_proj.weight"), w(L + "self_attn.v_proj.bias"))
        t = y.shape[1]
        q, k, v = (z.view(b, t, heads, hd).transpose(1, 2) for z in (q, k, v))
        att = F.scaled_dot_product_attention(q, k, v)
        att = att.transpose(1, 2).reshape(b, t, d)
        h = r + F.linear(att, w(L + "self_attn.out_proj.weight"), w(L + "self_attn.out_proj.bias"))
        r = h
        y = F.layer_norm(h, (d,), w(L + "layer_norm2.weight"), w(L + "layer_norm2.bias"), eps)
        y = F.linear(y, w(L + "mlp.fc1.weight"), w(L + "mlp.fc1.bias"))
        y = y * torch.sigmoid(1.702 * y) if cfg["act"] == "quick_gelu" else F.gelu(y)
        h = r + F.linear(y, w(L + "mlp.fc2.weight"), w(L + "mlp.fc2.bias"))
        i += 1
    return h


ref.vit_tokens = vit_tokens_sdpa  # ref.forward looks it up at call time


class Bench:
    def __init__(self, req):
        self.threads = req["threads"]
        torch.set_num_threads(self.threads)
        d = req["dir"]
        self.sd = {k: v.clone().requires_grad_(v.is_floating_point())
                   for k, v in load_file(f"{d}/weights.safetensors").items()}
        inp = load_file(f"{d}/inputs.safetensors")
        self.pixels, self.att, self.labels = inp["pixels"], inp["att"], inp["labels"]
        self.case = req["case"]
        params = [v for v in self.sd.values() if v.requires_grad]
        backbone = [v for k, v in self.sd.items() if v.requires_grad and k.startswith("backbone.")]
        heads = [v for k, v in self.sd.items() if v.requires_grad and not k.startswith("backbone.")]
        self.opt = torch.optim.Adam(
            [{"params": heads, "lr": req["lr"]["heads"]},
             {"params": backbone, "lr": req["lr"]["backbone"]}],
            betas=tuple(req["betas"]), eps=req["eps"], weight_decay=0, fused=True)
        self.params = sum(p.numel() for p in params)
        self.warmup_ms = [timed(self.step)[0] for _ in range(req["warmup"])]

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        out = ref.forward(self.sd, self.pixels, self.att, self.case)
        terms = ref.losses(self.sd, out, self.att, self.labels, self.case)
        terms["total"].backward()
        self.opt.step()
        self.loss = float(terms["total"].detach())

    def round(self, iters):
        return timed_round(iters, self.threads, self.step) | {"loss": self.loss}


def main():
    hello = {
        "torch": torch.__version__,
        "package": os.path.dirname(os.path.realpath(torch.__file__)),
        "python": sys.version.split()[0],
        "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY"),
    }
    print(json.dumps(hello), flush=True)
    bench = None
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req.get("quit"):
            break
        if req.get("setup"):
            bench = Bench(req)
            print(json.dumps({"threads": torch.get_num_threads(), "params": bench.params,
                              "warmupMs": bench.warmup_ms, "loss": bench.loss}), flush=True)
            continue
        print(json.dumps(bench.round(req["iters"])), flush=True)


if __name__ == "__main__":
    main()

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

import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from baseline_serve import serve
from baseline_timing import timed, timed_round

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import dsva_ref as ref  # noqa: E402


ref.attend = F.scaled_dot_product_attention  # the fused kernel, as transformers' sdpa


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
    state = {}

    def setup(req):
        b = state["bench"] = Bench(req)
        return {"threads": torch.get_num_threads(), "params": b.params,
                "warmupMs": b.warmup_ms, "loss": b.loss}

    serve({"ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY")},
          lambda req: state["bench"].round(req["iters"]), setup)



if __name__ == "__main__":
    main()

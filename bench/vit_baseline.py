"""Python torch baseline for `deno task bench vit` (bench/vit.ts).

PyTorch eager, Hugging Face transformers `CLIPVisionModel` with the ViT-B/32
config (OpenAI CLIP: hidden 768, 12 layers, 12 heads, MLP 3072, patch 32,
224x224, quick_gelu) and attn_implementation="sdpa", random init, train mode
(dropout 0). One training iteration, as in bench/vit.ts:

    model.zero_grad(set_to_none=True)
    out = model(pixel_values=pixels)           # pixels [B, 3, 224, 224] float32
    (out.last_hidden_state.mean() + out.pooler_output.mean()).backward()

Serves rounds over stdin/stdout so that the model is built once and the Deno
driver can alternate with it: one JSON request per line in, one JSON result per
line out.

Setup:    {"setup":true,"threads":1,"batch":8,"warmup":1}
          -> {"threads":1,"params":87456000,"warmupMs":[...]}
Round:    {"iters":1} -> {"ms":[...],"cpuMs":[...],"waitMs":[...],"threads":1}
          per iteration: ms, wall time; cpuMs, this process's CPU time (user +
          system, all threads); waitMs, time the main thread waited on a run queue
          (Linux /proc/thread-self/schedstat; null elsewhere).

The first line written (before any request) describes this torch. Run it by
hand with `--once` for one setup and one round.
"""

import json
import sys

import torch

from baseline_serve import serve
from baseline_timing import timed, timed_round

CONFIG = dict(
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    image_size=224,
    patch_size=32,
    num_channels=3,
    hidden_act="quick_gelu",
    layer_norm_eps=1e-5,
    attention_dropout=0.0,
)


class Bench:
    def __init__(self, threads, batch, warmup):
        from transformers import CLIPVisionConfig, CLIPVisionModel

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        config = CLIPVisionConfig(**CONFIG, attn_implementation="sdpa")
        self.model = CLIPVisionModel(config)
        self.model.train()
        assert self.model.config._attn_implementation == "sdpa"
        self.pixels = torch.randn(batch, 3, CONFIG["image_size"], CONFIG["image_size"])
        self.threads = threads
        self.params = sum(p.numel() for p in self.model.parameters())
        self.warmup_ms = [timed(self.step)[0] for _ in range(warmup)]

    def step(self):
        self.model.zero_grad(set_to_none=True)
        out = self.model(pixel_values=self.pixels)
        (out.last_hidden_state.mean() + out.pooler_output.mean()).backward()

    def round(self, iters):
        return timed_round(iters, self.threads, self.step)


def main():
    if "--once" in sys.argv:
        b = Bench(threads=torch.get_num_threads(), batch=8, warmup=1)
        print(json.dumps({"warmupMs": b.warmup_ms, **b.round(1)}))
        return
    import transformers

    state = {}

    def setup(req):
        b = state["bench"] = Bench(req["threads"], req["batch"], req["warmup"])
        return {"threads": torch.get_num_threads(), "params": b.params, "warmupMs": b.warmup_ms}

    serve({"transformers": transformers.__version__},
          lambda req: state["bench"].round(req["iters"]), setup)



if __name__ == "__main__":
    main()

"""Python baseline for `deno task bench zeroshot` (bench/zeroshot.ts).

transformers `CLIPModel.from_pretrained(dir)` (attn_implementation="sdpa") on the folder the
Deno side wrote and loads with its own loader: the same weights. One iteration, as there:

    with torch.no_grad(): model.get_image_features(pixel_values=pixels)   # then L2-normalised

pixels [B, 3, S, S] float32 come from <dir>/pixels.safetensors (written by the Deno side), so
both sides encode the same images; the setup answer carries the embeddings' first rows for the
driver's agreement check.

Setup:  {"setup":true,"dir":...,"threads":1,"warmup":1}
        -> {"threads":1,"params":N,"loadMs":x,"warmupMs":[...],"first":[[...]]}
Round:  {"iters":2} -> {"ms":[...],"cpuMs":[...],"waitMs":[...],"threads":1}
"""

import time

import torch
from safetensors.torch import load_file

from baseline_serve import serve
from baseline_timing import timed, timed_round


class Bench:
    def __init__(self, folder, threads, warmup):
        from transformers import CLIPModel

        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        self.model = CLIPModel.from_pretrained(folder, attn_implementation="sdpa").eval()
        self.load_ms = (time.perf_counter() - t0) * 1000
        self.pixels = load_file(f"{folder}/pixels.safetensors")["pixels"]
        self.threads = threads
        self.params = sum(p.numel() for p in self.model.parameters())
        self.warmup_ms = [timed(self.step)[0] for _ in range(warmup)]

    def encode(self):
        with torch.no_grad():
            f = self.model.get_image_features(pixel_values=self.pixels)
            if not torch.is_tensor(f):  # transformers 5 returns an output object
                f = f.pooler_output
            return f / f.norm(dim=-1, keepdim=True)

    def step(self):
        self.encode()

    def round(self, iters):
        return timed_round(iters, self.threads, self.step)


def main():
    import transformers

    state = {}

    def setup(req):
        b = state["bench"] = Bench(req["dir"], req["threads"], req["warmup"])
        return {
            "threads": torch.get_num_threads(),
            "params": b.params,
            "loadMs": b.load_ms,
            "warmupMs": b.warmup_ms,
            "first": b.encode()[:2].tolist(),
        }

    serve({"transformers": transformers.__version__},
          lambda req: state["bench"].round(req["iters"]), setup)


if __name__ == "__main__":
    main()

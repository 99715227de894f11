"""Python baseline for `deno task bench zeroshot` (bench/zeroshot.ts).

With "against": "open_clip" (the default of the bench): open_clip 3.3.0's ViT-B-32-quickgelu,
random weights saved by this side as a plain state dict (<dir>/ViT-B-32-quickgelu.pt) that the
Deno side then loads; one iteration is `model.encode_image(pixels, normalize=True)` under
no_grad. Otherwise transformers:

transformers `CLIPModel.from_pretrained(dir)` (attn_implementation="sdpa") on the folder the
Deno side wrote and loads with its own loader: the same weights. One iteration, as there:

    with torch.no_grad(): model.get_image_features(pixel_values=pixels)   # then L2-normalised

pixels [B, 3, S, S] float32 come from <dir>/pixels.safetensors (written by the Deno side), so
both sides encode the same images; the setup answer carries the embeddings' first rows for the
driver's agreement check.

Setup:  {"setup":true,"dir":...,"threads":1,"warmup":1,"against":"open_clip"|"transformers"}
        -> {"threads":1,"params":N,"loadMs":x,"warmupMs":[...],"first":[[...]]}
Round:  {"iters":2} -> {"ms":[...],"cpuMs":[...],"waitMs":[...],"threads":1}
"""

import os
import sys
import time

import torch
from safetensors.torch import load_file

from baseline_serve import serve
from baseline_timing import timed, timed_round


def open_clip_module():
    """open_clip, with the torchvision stand-in of tests/oracle on the path (torchvision cannot
    be imported beside the CPU torch; open_clip needs only a few of its names)."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "tests", "oracle", "torchvision_stub"))
    import open_clip

    return open_clip


class Bench:
    def __init__(self, folder, threads, warmup, against):
        torch.set_num_threads(threads)
        self.against = against
        t0 = time.perf_counter()
        if against == "open_clip":
            # open_clip's own ViT-B-32 (QuickGELU, OpenAI's), random weights written as the
            # plain state dict RemoteCLIP / GeoRSCLIP ship; the Deno side loads that file.
            open_clip = open_clip_module()
            torch.manual_seed(0)
            self.model = open_clip.create_model("ViT-B-32-quickgelu").eval()
            torch.save(self.model.state_dict(), f"{folder}/ViT-B-32-quickgelu.pt")
        else:
            from transformers import CLIPModel

            self.model = CLIPModel.from_pretrained(folder, attn_implementation="sdpa").eval()
        self.load_ms = (time.perf_counter() - t0) * 1000
        self.pixels = load_file(f"{folder}/pixels.safetensors")["pixels"]
        self.threads = threads
        self.params = sum(p.numel() for p in self.model.parameters())
        self.warmup_ms = [timed(self.step)[0] for _ in range(warmup)]

    def encode(self):
        with torch.no_grad():
            if self.against == "open_clip":
                return self.model.encode_image(self.pixels, normalize=True)
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
        b = state["bench"] = Bench(req["dir"], req["threads"], req["warmup"],
                                   req.get("against", "transformers"))
        return {
            "threads": torch.get_num_threads(),
            "params": b.params,
            "loadMs": b.load_ms,
            "warmupMs": b.warmup_ms,
            "first": b.encode()[:2].tolist(),
        }

    versions = {"transformers": transformers.__version__}
    try:
        versions["open_clip"] = open_clip_module().__version__
    except Exception:  # noqa: BLE001 - only the transformers baseline then
        versions["open_clip"] = None
    serve(versions,
          lambda req: state["bench"].round(req["iters"]), setup)


if __name__ == "__main__":
    main()

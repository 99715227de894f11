"""Python torch baseline for `deno task bench clip` (bench/clip.ts).

PyTorch eager, Hugging Face transformers `CLIPModel` built from the same config.json as the
Deno side's (the tiny from-scratch CLIP of `deno task clip:finetune`, or whatever config the
driver sends), attn_implementation="sdpa", random init, train mode. One fine-tuning step, as in
bench/clip.ts and src/attributes/clip_train.ts:

    opt.zero_grad(set_to_none=True)
    img = normalize(model.get_image_features(pixels)); txt = normalize(model.get_text_features(ids))
    logits = img @ txt.T * logit_scale.exp()
    loss = (CE(logits, arange) + CE(logits.T, arange)) / 2; loss.backward()
    opt.step()                      # AdamW, decay on matrices only, betas (0.9, 0.98), eps 1e-6
    logit_scale.clamp_(0, ln 100)

Same protocol as bench/vit_baseline.py: one JSON request per line on stdin, one JSON answer per
line on stdout; the first line written describes this torch.

Setup:  {"setup":true,"config":{...},"threads":1,"batch":64,"seq":24,"warmup":1}
        -> {"threads":1,"params":N,"warmupMs":[...]}
Round:  {"iters":2} -> {"ms":[...],"cpuMs":[...],"waitMs":[...],"threads":1}
"""

import math

import torch
import torch.nn.functional as F

from baseline_serve import serve
from baseline_timing import timed, timed_round


class Bench:
    def __init__(self, config, threads, batch, seq, warmup):
        from transformers import CLIPConfig, CLIPModel

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        cfg = CLIPConfig(
            text_config=config["text_config"],
            vision_config=config["vision_config"],
            projection_dim=config["projection_dim"],
            logit_scale_init_value=config["logit_scale_init_value"],
            attn_implementation="sdpa",
        )
        self.model = CLIPModel(cfg)
        self.model.train()
        v, t = config["vision_config"], config["text_config"]
        size = v["image_size"]
        self.pixels = torch.randn(batch, 3, size, size)
        g = torch.Generator().manual_seed(0)
        ids = torch.randint(0, t["vocab_size"] - 2, (batch, seq), generator=g)
        ids[:, 0] = t["bos_token_id"]
        ids[:, -1] = t["eos_token_id"]
        self.ids = ids
        decay, other = [], []
        for name, p in self.model.named_parameters():
            exempt = p.ndim < 2 or "embedding" in name or name.endswith("logit_scale")
            (other if exempt else decay).append(p)
        self.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
            lr=1e-3,
            betas=(0.9, 0.98),
            eps=1e-6,
        )
        self.target = torch.arange(batch)
        self.threads = threads
        self.params = sum(p.numel() for p in self.model.parameters())
        self.warmup_ms = [timed(self.step)[0] for _ in range(warmup)]

    def step(self):
        m = self.model
        self.opt.zero_grad(set_to_none=True)
        img = m.get_image_features(pixel_values=self.pixels)
        txt = m.get_text_features(input_ids=self.ids)
        if not torch.is_tensor(img):  # transformers 5 returns an output object
            img, txt = img.pooler_output, txt.pooler_output
        img = img / img.norm(dim=-1, keepdim=True)
        txt = txt / txt.norm(dim=-1, keepdim=True)
        logits = img @ txt.t() * m.logit_scale.exp()
        loss = (F.cross_entropy(logits, self.target) + F.cross_entropy(logits.t(), self.target)) / 2
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            m.logit_scale.clamp_(0, math.log(100))

    def round(self, iters):
        return timed_round(iters, self.threads, self.step)


def main():
    import transformers

    state = {}

    def setup(req):
        b = state["bench"] = Bench(req["config"], req["threads"], req["batch"], req["seq"],
                                   req["warmup"])
        return {"threads": torch.get_num_threads(), "params": b.params, "warmupMs": b.warmup_ms}

    serve({"transformers": transformers.__version__},
          lambda req: state["bench"].round(req["iters"]), setup)



if __name__ == "__main__":
    main()

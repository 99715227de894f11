"""Oracle for tests/nn_test.ts: torch.nn layers and torch.nn.init with given seeds and weights.

stdin: {"threads": int, "cases": [case]} where a case is one of
  {"id", "op": "init_module", "seed", "spec"}: torch.manual_seed(seed), build the module of `spec`,
      return its state dict;
  {"id", "op": "init_fn", "seed", "fn", "shape", "kwargs"}: torch.manual_seed(seed),
      torch.nn.init.<fn>(torch.empty(shape), **kwargs), return it as {"out": ...};
  {"id", "op": "forward", "spec", "weights": {name: tensor}, "inputs": [tensor], "train": bool,
      "kwargs": {...}}: build, load the weights (strict), set the mode, run forward on the
      inputs; return {"out": ..., "state": state dict after the call}.
A tensor is {"shape", "dtype"?, "values"}. A spec is {"kind": "linear" | "conv2d" | "layernorm" |
"batchnorm2d" | "embedding" | "mha", ...constructor arguments}. For "mha" the weights use our
names (q_proj, k_proj, v_proj, out_proj) and are packed into nn.MultiheadAttention(batch_first=True);
kwargs.mask (a float [N, N] tensor) becomes its attn_mask.

stdout: {id: {name: {"shape", "values"}}}.
"""

import json
import sys

import torch
import torch.nn as nn

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}


def tensor(d):
    return torch.tensor(d["values"], dtype=DTYPES[d.get("dtype", "float32")]).reshape(d["shape"])


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "values": t.flatten().tolist()}


def build(s):
    k = s["kind"]
    if k == "linear":
        return nn.Linear(s["in"], s["out"], bias=s.get("bias", True))
    if k == "conv2d":
        return nn.Conv2d(s["in"], s["out"], s["k"], stride=s.get("stride", 1),
                         padding=s.get("padding", 0), dilation=s.get("dilation", 1),
                         groups=s.get("groups", 1), bias=s.get("bias", True))
    if k == "layernorm":
        return nn.LayerNorm(s["shape"], eps=s.get("eps", 1e-5))
    if k == "batchnorm2d":
        return nn.BatchNorm2d(s["c"], eps=s.get("eps", 1e-5), momentum=s.get("momentum", 0.1))
    if k == "embedding":
        return nn.Embedding(s["n"], s["d"], padding_idx=s.get("padding_idx"))
    if k == "mha":
        return nn.MultiheadAttention(s["d"], s["heads"], batch_first=True)
    raise ValueError(k)


def load(m, s, weights):
    w = {k: tensor(v) for k, v in weights.items()}
    if s["kind"] == "mha":
        w = {
            "in_proj_weight": torch.cat([w[f"{p}_proj.weight"] for p in "qkv"]),
            "in_proj_bias": torch.cat([w[f"{p}_proj.bias"] for p in "qkv"]),
            "out_proj.weight": w["out_proj.weight"],
            "out_proj.bias": w["out_proj.bias"],
        }
    m.load_state_dict(w, strict=True)


def run(c):
    op = c["op"]
    if op == "init_module":
        torch.manual_seed(c["seed"])
        return {k: enc(v) for k, v in build(c["spec"]).state_dict().items()}
    if op == "init_fn":
        torch.manual_seed(c["seed"])
        t = torch.empty(c["shape"])
        getattr(nn.init, c["fn"])(t, **c["kwargs"])
        return {"out": enc(t)}
    if op == "forward":
        s = c["spec"]
        m = build(s)
        load(m, s, c["weights"])
        m.train(c["train"])
        xs = [tensor(x) for x in c["inputs"]]
        if s["kind"] == "mha":
            kw = c.get("kwargs", {})
            mask = tensor(kw["mask"]) if "mask" in kw else None
            out = m(xs[0], xs[0], xs[0], need_weights=False, attn_mask=mask)[0]
        else:
            out = m(*xs)
        return {"out": enc(out), **{f"state.{k}": enc(v) for k, v in m.state_dict().items()}}
    raise ValueError(op)


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req["threads"])
    with torch.no_grad():
        json.dump({c["id"]: run(c) for c in req["cases"]}, sys.stdout)


main()

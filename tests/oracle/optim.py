"""Oracle for tests/optim_test.ts: trains the same small MLP with torch.optim.

stdin: {"threads": int, "x": {"shape", "values"}, "y": {...}, "weights": {name: {"shape", "values"}},
"cases": [{"id", "optimizer": "sgd" | "adam" | "adamw", "impl": "default" | "fused" | "foreach",
"defaults": {...}, "groups": [{"names": [param names], ...hyper}], "schedule": null |
{"warmupSteps", "totalSteps", "minLrRatio"}, "steps": int, "batch": int, "clip": null | float}]}

The MLP is Linear(8,16) GELU Linear(16,16) ReLU Linear(16,4) (names as nn.Sequential: "0.weight",
...), loss MSE; step i trains on rows [i*batch, (i+1)*batch) of x/y (wrapping). The schedule, when
given, is LambdaLR with the cosine-with-warm-up formula written out below (the same formula as
optim.cosineWithWarmupFactor). Hyperparameter names arrive in camelCase.

stdout: {id: {"params": {name: flat values}, "losses": [float]}}.
"""

import json
import math
import sys

import torch
import torch.nn as nn

CAMEL = {"weightDecay": "weight_decay", "lr": "lr", "betas": "betas", "eps": "eps",
         "amsgrad": "amsgrad", "momentum": "momentum", "dampening": "dampening",
         "nesterov": "nesterov", "maximize": "maximize"}


def tensor(d):
    return torch.tensor(d["values"], dtype=torch.float32).reshape(d["shape"])


def hyper(h):
    out = {}
    for k, v in h.items():
        if k == "names":
            continue
        out[CAMEL[k]] = tuple(v) if k == "betas" else v
    return out


def cosine_with_warmup(step, warmup, total, min_ratio):
    if step < warmup:
        return step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * max(0.0, 0.5 * (1 + math.cos(math.pi * progress)))


def run(case, x, y, weights):
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 4))
    model.load_state_dict({k: tensor(v) for k, v in weights.items()})
    named = dict(model.named_parameters())
    groups = [{"params": [named[n] for n in g["names"]], **hyper(g)} for g in case["groups"]]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    kw = hyper(case["defaults"])
    if case["impl"] == "fused":
        kw["fused"] = True
    elif case["impl"] == "foreach":
        kw["foreach"] = True
    else:
        kw["foreach"] = False
    opt = cls[case["optimizer"]](groups, **kw)
    sched = None
    s = case["schedule"]
    if s is not None:
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: cosine_with_warmup(step, s["warmupSteps"], s["totalSteps"],
                                                 s["minLrRatio"]))
    b = case["batch"]
    n = x.shape[0]
    losses = []
    for i in range(case["steps"]):
        lo = (i * b) % n
        xb, yb = x[lo:lo + b], y[lo:lo + b]
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        if case["clip"] is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), case["clip"])
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    return {"params": {k: v.detach().flatten().tolist() for k, v in model.state_dict().items()},
            "losses": losses}


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req["threads"])
    x, y = tensor(req["x"]), tensor(req["y"])
    out = {c["id"]: run(c, x, y, req["weights"]) for c in req["cases"]}
    json.dump(out, sys.stdout)


main()

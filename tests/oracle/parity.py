"""Oracle for tests/parity_test.ts: runs each case with Python torch.

stdin: {"threads": int, "cases": [{"id", "py", "inputs": [...]}]}; each input is
{"base": shape, "shape": view shape, "view": "" | "t" | "s" | "e" | "o" | "p",
"dtype": "float32" | "float64" | "int64" | "bool", "grad": bool, "values": flat}.
The view is applied to a leaf tensor of shape `base` (the gradient is taken
with respect to that leaf). `py` is a Python expression over the inputs named
a, b, c, d, e (in order), torch and F.

stdout: {id: {"outs": [{"shape", "dtype", "values"}], "grads": [values | null]}}
or {id: {"error": str}}. Gradients are those of the float outputs that require
grad, with grad_outputs w[i] = ((i * 7 + 3) % 11 - 5) / 4 over each output's
flat (row-major) index, with respect to every input with grad set. Non-finite
floats are sent as the strings "nan", "inf", "-inf" (JSON has no such numbers).
"""

import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.int64,
    "bool": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}


def apply_view(base, view, shape):
    if view == "":
        return base
    if view == "t":
        return base.transpose(-2, -1)
    if view == "s":
        return base[..., ::2]
    if view == "e":
        return base.expand(*shape)
    if view == "o":
        return base[1:]
    if view == "p":
        return base.permute(0, 3, 1, 2)
    raise ValueError(f"unknown view {view!r}")


def encode(t):
    vals = t.detach().reshape(-1).tolist()
    if t.dtype.is_floating_point:
        vals = [v if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
                for v in vals]
    return vals


def weights(out):
    n = out.numel()
    w = ((np.arange(n, dtype=np.int64) * 7 + 3) % 11 - 5) / 4.0
    return torch.from_numpy(w).to(out.dtype).reshape(out.shape)


def run_case(case):
    leaves, args = [], []
    for inp in case["inputs"]:
        base = torch.tensor(inp["values"], dtype=DTYPES[inp["dtype"]]).reshape(inp["base"])
        if inp["grad"]:
            base.requires_grad_(True)
            leaves.append(base)
        args.append(apply_view(base, inp["view"], inp["shape"]))
    env = {"torch": torch, "F": F, "math": math}
    env.update(zip("abcde", args))
    res = eval(case["py"], env)  # noqa: S307 - expressions come from the test itself
    outs = [res] if isinstance(res, torch.Tensor) else list(res)
    result = {
        "outs": [
            {"shape": list(o.shape), "dtype": NAMES.get(o.dtype, str(o.dtype)), "values": encode(o)}
            for o in outs
        ],
        "grads": [],
    }
    diff = [o for o in outs if o.requires_grad]
    if diff and leaves:
        grads = torch.autograd.grad(diff, leaves, [weights(o) for o in diff], allow_unused=True)
        result["grads"] = [None if g is None else encode(g) for g in grads]
    return result


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req["threads"])
    out = {}
    for case in req["cases"]:
        try:
            out[case["id"]] = run_case(case)
        except Exception as e:  # reported per case by the test
            out[case["id"]] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""Oracle for tests/io_test.ts: Python's own safetensors (and torch.save) on the other side.

stdin: one JSON request; stdout: one JSON answer. Tensors are described as
{"dtype": our dtype name, "shape": [...], "sha256": hex digest of the raw
little-endian element bytes}.

  {"op": "make", "path", "metadata"}        writes tensors of every dtype with
      safetensors.torch.save_file (random bit patterns: NaNs, infs, subnormals
      included); answers {"tensors": {name: desc}}.
  {"op": "check", "path", "expect": {name: desc}, "metadata"}
      loads `path` with safetensors.torch.load_file and safe_open and compares
      every tensor bit for bit and the metadata; answers {"mismatches": [str]}.
  {"op": "compare", "a", "b"}   both files with Python safetensors, bit for bit.
  {"op": "batch", "requests": [request, ...]}  answers {"answers": [answer, ...]}
      (one Python start-up for several requests).
  {"op": "read", "path"}        answers {"tensors": {name: desc}, "metadata"}.
  {"op": "torch_save", "path", "module_path"}  writes a nested dict of tensors
      and a torch.nn module's state_dict() (an OrderedDict) with torch.save;
      answers {"tensors": {dotted name: desc}, "module": {name: desc}}.
"""

import hashlib
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}
SHAPES = {"vec": [7], "mat": [3, 5], "cube": [2, 3, 4], "scalar": [], "empty": [0, 4]}


def raw(t):
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def describe(t):
    return {"dtype": NAMES[t.dtype], "shape": list(t.shape), "sha256": hashlib.sha256(raw(t)).hexdigest()}


def random_tensor(dtype, shape, gen):
    n = 1
    for d in shape:
        n *= d
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=gen).to(torch.bool)
    size = torch.empty((), dtype=dtype).element_size()
    bits = torch.randint(0, 256, (n * size,), dtype=torch.uint8, generator=gen)
    return bits.view(dtype).reshape(shape)


def make(req):
    gen = torch.Generator().manual_seed(1234)
    tensors = {}
    for dname, dt in DTYPES.items():
        for sname, shape in SHAPES.items():
            tensors[f"{dname}.{sname}"] = random_tensor(dt, shape, gen)
    # special values, spelled out
    tensors["float32.special"] = torch.tensor(
        [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-45, 3.4e38], dtype=torch.float32
    )
    tensors["bfloat16.special"] = tensors["float32.special"].to(torch.bfloat16)
    tensors["float16.special"] = torch.tensor([0.0, -0.0, float("inf"), float("nan"), 6e-8, 65504.0]).half()
    save_file(tensors, req["path"], metadata=req.get("metadata"))
    return {"tensors": {k: describe(v) for k, v in tensors.items()}}


def read(path):
    tensors = load_file(path)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
        assert sorted(f.keys()) == sorted(tensors.keys())
        for k in f.keys():  # the lazy reader must agree with load_file
            assert raw(f.get_tensor(k)) == raw(tensors[k]), k
    return tensors, metadata


def check(req):
    tensors, metadata = read(req["path"])
    expect = req["expect"]
    bad = []
    if sorted(tensors) != sorted(expect):
        bad.append(f"names differ: {sorted(tensors)} vs {sorted(expect)}")
    for k, want in expect.items():
        if k in tensors and describe(tensors[k]) != want:
            bad.append(f"{k}: python {describe(tensors[k])} vs expected {want}")
    if metadata != (req.get("metadata") or {}):
        bad.append(f"metadata: python {metadata} vs expected {req.get('metadata')}")
    return {"mismatches": bad}


def compare(req):
    a, ma = read(req["a"])
    b, mb = read(req["b"])
    bad = []
    if sorted(a) != sorted(b):
        bad.append(f"names differ: {sorted(a)} vs {sorted(b)}")
    for k in a:
        if k in b:
            x, y = a[k], b[k]
            if x.dtype != y.dtype or x.shape != y.shape or raw(x) != raw(y):
                bad.append(f"{k}: {x.dtype}{list(x.shape)} vs {y.dtype}{list(y.shape)} or bytes differ")
            if x.dtype.is_floating_point and not torch.equal(x.isnan(), y.isnan()):
                bad.append(f"{k}: NaN positions differ")
    if ma != mb:
        bad.append(f"metadata: {ma} vs {mb}")
    return {"mismatches": bad}


def torch_save(req):
    gen = torch.Generator().manual_seed(99)
    sd = {
        "encoder.weight": random_tensor(torch.float32, [4, 3], gen),
        "encoder.bias": random_tensor(torch.bfloat16, [4], gen),
        "position_ids": torch.arange(6).reshape(1, 6),
        "mask": random_tensor(torch.bool, [5], gen),
        "half": random_tensor(torch.float16, [2, 2], gen),
    }
    sd["transposed"] = sd["encoder.weight"].t()  # a view sharing storage
    torch.save({"model": sd, "epoch": 3}, req["path"])
    # a real module state dict (an OrderedDict with _metadata), as in pytorch_model.bin
    torch.manual_seed(5)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    net(torch.randn(8, 3))  # moves the BatchNorm running stats
    module_sd = net.state_dict()
    torch.save(module_sd, req["module_path"])
    return {
        "tensors": {f"model.{k}": describe(v) for k, v in sd.items()},
        "module": {k: describe(v) for k, v in module_sd.items()},
    }


def answer(req):
    op = req["op"]
    if op == "make":
        out = make(req)
    elif op == "check":
        out = check(req)
    elif op == "compare":
        out = compare(req)
    elif op == "read":
        tensors, metadata = read(req["path"])
        out = {"tensors": {k: describe(v) for k, v in tensors.items()}, "metadata": metadata}
    elif op == "torch_save":
        out = torch_save(req)
    elif op == "batch":
        out = {"answers": [answer(r) for r in req["requests"]]}
    else:
        raise ValueError(f"unknown op {op!r}")
    return out


def main():
    json.dump(answer(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()

"""Writes .npy fixtures for tests/data_datasets_test.ts.

stdin: {"dir": path}. Writes m.npy variants of one 4x3 matrix and prints {name: path, "values": [...]}.
"""

import json
import os
import sys

import numpy as np


def main():
    d = json.load(sys.stdin)["dir"]
    m = np.arange(12, dtype=np.float64).reshape(4, 3) / 7.0 - 0.5
    out = {"values": m.ravel().tolist()}
    variants = {
        "f8.npy": m,
        "f4.npy": m.astype(np.float32),
        "f8_fortran.npy": np.asfortranarray(m),
        "f8_big.npy": m.astype(">f8"),
        "i2.npy": (m * 100).astype(np.int16),
        "u1.npy": np.arange(12, dtype=np.uint8).reshape(4, 3),
        "f2.npy": m.astype(np.float16),
        "b1.npy": m > 0,
        "vec.npy": m.ravel(),
    }
    for name, a in variants.items():
        p = os.path.join(d, name)
        np.save(p, a)
        out[name] = p
    out["f4_values"] = m.astype(np.float32).astype(np.float64).ravel().tolist()
    out["i2_values"] = (m * 100).astype(np.int16).astype(np.float64).ravel().tolist()
    out["f2_values"] = m.astype(np.float16).astype(np.float64).ravel().tolist()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""Writes xlsa17/DSVA-style .mat fixtures for tests/data_mat_test.ts.

v5 files with scipy.io.savemat (compressed and not), v7.3 files with h5py laid out as MATLAB
writes them (an m x n variable as an (n, m) dataset, MATLAB_class attributes, cell arrays as
references into #refs#, a 512-byte "MATLAB 7.3 MAT-file" user block).

stdin: {"dir": path}. stdout: {"files": {name: path}, "expect": {...}} where expect holds the
0-based indices and the classes x attributes matrix the reader must return.
"""

import json
import os
import sys

import h5py
import numpy as np
import scipy.io

A, C, N = 4, 5, 12


def cellstr(xs):
    out = np.empty((len(xs), 1), dtype=object)
    for i, x in enumerate(xs):
        out[i, 0] = x
    return out


def write73(path, variables):
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        k = 0
        for name, (cls, value) in variables.items():
            if cls == "cell":
                ref_list = []
                for s in value:
                    chars = np.array([[ord(c) for c in s]], dtype=np.uint16).T  # (len, 1)
                    d = refs.create_dataset(f"r{k}", data=chars)
                    d.attrs["MATLAB_class"] = np.bytes_("char")
                    ref_list.append(d.ref)
                    k += 1
                ds = f.create_dataset(name, data=np.array([ref_list], dtype=h5py.ref_dtype))
                ds.attrs["MATLAB_class"] = np.bytes_("cell")
            else:
                arr = np.asarray(value)
                if arr.ndim == 1:
                    arr = arr[:, None]
                ds = f.create_dataset(name, data=arr.T)  # MATLAB m x n -> HDF5 (n, m)
                ds.attrs["MATLAB_class"] = np.bytes_(cls)
    with open(path, "r+b") as fh:
        head = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2026 HDF5 schema 1.00 ."
        fh.write(head.ljust(128, b" "))


def main():
    d = json.load(sys.stdin)["dir"]
    rng = np.random.default_rng(3)
    att = rng.random((A, C))  # attributes x classes, as xlsa17 stores it
    names = [f"class_{c}" for c in range(C)]
    labels = np.array([c % C + 1 for c in range(N)], dtype=np.float64)[:, None]
    files = [f"/data/img/{c % C}/{i}.jpg" for i, c in enumerate(range(N))]
    trainval = np.array([1, 2, 3, 6, 7], dtype=np.float64)[:, None]
    test_seen = np.array([8, 11], dtype=np.float64)[:, None]
    test_unseen = np.array([4, 5, 9, 10, 12], dtype=np.float64)[:, None]
    out = {}

    def p(n):
        out[n] = os.path.join(d, n)
        return out[n]

    splits = {
        "att": att,
        "original_att": att * 100,
        "allclasses_names": cellstr(names),
        "trainval_loc": trainval,
        "test_seen_loc": test_seen,
        "test_unseen_loc": test_unseen,
    }
    scipy.io.savemat(p("att_splits_v5.mat"), splits, do_compression=True)
    scipy.io.savemat(p("att_splits_v5u.mat"), splits, do_compression=False)
    images = {"labels": labels, "image_files": cellstr(files), "features": rng.random((3, N))}
    scipy.io.savemat(p("res101_v5.mat"), images, do_compression=True)
    dsva = {
        "att": att,
        "train_zsl_loc_0": trainval,
        "train_gzsl_loc_0": np.vstack([trainval, test_seen]),
        "test_seen_loc_0": test_seen,
        "test_unseen_loc_0": test_unseen,
    }
    scipy.io.savemat(p("dsva_splits_v5.mat"), dsva)
    write73(
        p("att_splits_v73.mat"),
        {
            "att": ("double", att),
            "allclasses_names": ("cell", names),
            "trainval_loc": ("double", trainval),
            "test_seen_loc": ("double", test_seen),
            "test_unseen_loc": ("double", test_unseen),
        },
    )
    write73(p("res101_v73.mat"), {"labels": ("double", labels), "image_files": ("cell", files)})
    expect = {
        "classesByAttributes": att.T.ravel().tolist(),
        "classes": names,
        "labels": (labels[:, 0] - 1).astype(int).tolist(),
        "imageFiles": files,
        "trainval": (trainval[:, 0] - 1).astype(int).tolist(),
        "testSeen": (test_seen[:, 0] - 1).astype(int).tolist(),
        "testUnseen": (test_unseen[:, 0] - 1).astype(int).tolist(),
        "gzslTrain": (np.vstack([trainval, test_seen])[:, 0] - 1).astype(int).tolist(),
    }
    json.dump({"files": out, "expect": expect}, sys.stdout)


if __name__ == "__main__":
    main()

"""Writes a tiny dataset in the official DSVA code's RSSDIVCS layout for tests/rssdivcs_test.ts.

stdin: {"dir": path}. Writes dir/files/43_images.mat (labels 1-based, image_files as a MATLAB char
matrix recorded under a foreign ".../RSSDIVCS/" prefix, as the official files are),
dir/files/ann_attr_finetune_43_splits.mat (train_zsl_loc_0 = every seen-class image, test-seen ones
included; train_gzsl_loc_0 = the seen training images only; test_seen_loc_0; test_unseen_loc_0; att
attributes x classes, not scaled; allclasses_names), dir/files/attri_group_3.json and 40x40 PNGs
under dir/images/<class>/. stdout: {"expect": {...}} with the 0-based lists and att.
"""

import json
import os
import sys

import numpy as np
import scipy.io
from PIL import Image

CLASSES = ["beach", "bridge", "desert", "forest", "harbor", "meadow"]
SEEN, UNSEEN = [0, 2, 3, 5], [1, 4]  # 0-based class ids
PER_CLASS, K = 4, 6

out = json.load(sys.stdin)["dir"]
rng = np.random.default_rng(0)
os.makedirs(os.path.join(out, "files"), exist_ok=True)
files, labels = [], []
for c, name in enumerate(CLASSES):
    os.makedirs(os.path.join(out, "images", name), exist_ok=True)
    base = rng.integers(0, 256, size=3)
    for i in range(PER_CLASS):
        px = np.clip(base + rng.integers(-40, 40, size=(40, 40, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(px).save(os.path.join(out, "images", name, f"{name}_{i}.png"))
        files.append(f"/data/elsewhere/RSSDIVCS/images/{name}/{name}_{i}.png")
        labels.append(c + 1)
n = len(files)
idx = np.arange(n)
cls = np.array(labels) - 1
seen_mask = np.isin(cls, SEEN)
test_seen = idx[seen_mask & (idx % PER_CLASS == PER_CLASS - 1)]
train_gzsl = idx[seen_mask & (idx % PER_CLASS != PER_CLASS - 1)]
train_zsl = idx[seen_mask]
test_unseen = idx[~seen_mask]
att = rng.uniform(0, 3, size=(K, len(CLASSES)))  # attributes x classes, values above 1: unscaled
col = lambda a: (a + 1).reshape(-1, 1)
scipy.io.savemat(os.path.join(out, "files", "43_images.mat"), {
    "features": np.zeros((4, n), np.float32),
    "labels": np.array(labels).reshape(-1, 1),
    "image_files": np.array(files),
})
scipy.io.savemat(os.path.join(out, "files", "ann_attr_finetune_43_splits.mat"), {
    "train_zsl_loc_0": col(train_zsl), "train_gzsl_loc_0": col(train_gzsl),
    "test_seen_loc_0": col(test_seen), "test_unseen_loc_0": col(test_unseen),
    "att": att, "allclasses_names": np.array([[c] for c in CLASSES], dtype=object),
})
json.dump({"functions": [0, 1], "materials": [2, 3], "surface_properties": [4, 5]},
          open(os.path.join(out, "files", "attri_group_3.json"), "w"))
print(json.dumps({"expect": {
    "classes": CLASSES, "seen": SEEN, "unseen": UNSEEN,
    "train_zsl": train_zsl.tolist(), "train_gzsl": train_gzsl.tolist(),
    "test_seen": test_seen.tolist(), "test_unseen": test_unseen.tolist(),
    "att_classes_by_attributes": att.T.tolist(),
}}))

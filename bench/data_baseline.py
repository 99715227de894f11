"""PyTorch DataLoader baseline for `deno task bench data` (bench/data.ts).

The DSVA training pipeline with Pillow, as torchvision runs it on PIL images (torchvision
itself is not needed): Resize(256) bilinear on the shorter side, RandomCrop(224),
RandomHorizontalFlip(0.5), ToTensor, Normalize(ImageNet); batches by a DataLoader with
`workers` worker processes.

stdin: {"paths": [...], "workers": int, "batch": int, "resize": int, "crop": int}
stdout: {"imagesPerSec": steady-state rate after the first batch, "firstBatchMs": float,
         "images": int, "cpuMsPerImage": CPU time of this process and its workers per image}
"""

import json
import resource
import random
import sys
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


class Files(Dataset):
    def __init__(self, paths, resize, crop):
        self.paths, self.resize, self.crop = paths, resize, crop

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        im = Image.open(self.paths[i]).convert("RGB")
        w, h = im.size
        s = self.resize
        nw, nh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
        im = im.resize((nw, nh), Image.BILINEAR)
        c = self.crop
        top, left = random.randint(0, nh - c), random.randint(0, nw - c)
        im = im.crop((left, top, left + c, top + c))
        if random.random() < 0.5:
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        a = (np.asarray(im, np.float32) / 255.0 - MEAN) / STD
        return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))), 0


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(1)
    dl = DataLoader(
        Files(req["paths"], req["resize"], req["crop"]),
        batch_size=req["batch"],
        shuffle=True,
        num_workers=req["workers"],
    )
    def cpu_s():  # this process and its reaped worker processes
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    c0 = cpu_s()
    t0 = time.perf_counter()
    n, first, t1 = 0, None, None
    for x, _ in dl:
        if first is None:
            t1 = time.perf_counter()
            first = x.shape[0]
        n += x.shape[0]
    t2 = time.perf_counter()
    del dl  # the workers have exited with the exhausted iterator; their CPU time is counted
    cpu = cpu_s() - c0
    json.dump(
        {
            "imagesPerSec": (n - first) / (t2 - t1),
            "firstBatchMs": (t1 - t0) * 1000,
            "images": n,
            "cpuMsPerImage": cpu * 1000 / n,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()

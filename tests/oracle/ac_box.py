"""Oracle for the Attention Concentration box step (tests/ac_box_test.ts).

mode "label": masks -> skimage.measure.label(mask, connectivity=2) + regionprops, and the box the
official DSVA code picks (`CLIP_proto.get_proposal.box`: largest area, `areas.index(max(areas))`,
bbox of `component_labels == max_idx + 1`, [0, 0, H, W] when there is no component).

mode "maps": random attention maps run through the official pipeline in torch float32: per image
3 group maps (7x7 or 14x14), optionally upsampled to 224x224 (bilinear, align_corners=True),
each min-max normalised, averaged, thresholded at `mean * thr` (strict >), then labelled as above.
Returns the averaged maps, torch's mean, the mask and the box.

stdin: JSON; stdout: JSON. Arrays travel as base64 (int32 labels, uint8 masks, float32 maps).
"""
import base64
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from skimage import measure


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def official_box(mask):
    h, w = mask.shape
    component_labels = measure.label(mask, connectivity=2)
    properties = measure.regionprops(component_labels)
    if len(properties) == 0:
        return component_labels, [], [], [0, 0, h, w], 0
    areas = [int(p.area) for p in properties]
    max_idx = areas.index(max(areas))
    prop = measure.regionprops((component_labels == (max_idx + 1)).astype(int))
    return component_labels, areas, [list(map(int, p.bbox)) for p in properties], \
        list(map(int, prop[0].bbox)), max_idx + 1


def label_mode(masks):
    out = []
    for m in masks:
        mask = np.frombuffer(base64.b64decode(m["bits"]), dtype=np.uint8).reshape(m["h"], m["w"])
        labels, areas, bboxes, box, label = official_box(mask.astype(bool))
        out.append({
            "labels": b64(labels.astype(np.int32)),
            "count": int(labels.max()),
            "areas": areas,
            "bboxes": bboxes,
            "box": box,
            "label": label,
        })
    return out


def maps_mode(cfg):
    torch.manual_seed(cfg["seed"])
    out = []
    for spec in cfg["specs"]:
        g, up, thr, kind = spec["grid"], spec["up"], spec["thr"], spec["kind"]
        att = torch.randn(1, 3, g, g)
        if kind == "relu":  # sparse maps: many exact zeros, so many pixels tie at the minimum
            att = att.clamp(min=0)
        if kind == "quant":  # few distinct levels: many pixels exactly at the same value
            att = torch.round(att * 2) / 2
        if up:
            att = F.interpolate(att, (up, up), mode="bilinear", align_corners=True)
        tmp_map = att[0].clone()
        for i in range(tmp_map.size(0)):
            tmp_map[i] -= torch.min(tmp_map[i])
            tmp_map[i] /= torch.max(tmp_map[i])
        tmp_map = torch.mean(tmp_map, dim=0, keepdim=False)
        a = torch.mean(tmp_map, dim=(0, 1))
        M = (tmp_map > a * thr).cpu().numpy()
        _, _, _, box, label = official_box(M)
        out.append({
            "map": b64(tmp_map.numpy().astype(np.float32)),
            "h": tmp_map.shape[0],
            "w": tmp_map.shape[1],
            "mean": float(a.item()),
            "mask": b64(M.astype(np.uint8)),
            "box": box,
        })
    return out


def main():
    cfg = json.load(sys.stdin)
    torch.set_num_threads(1)
    if cfg["mode"] == "label":
        json.dump(label_mode(cfg["masks"]), sys.stdout)
    else:
        json.dump(maps_mode(cfg), sys.stdout)


if __name__ == "__main__":
    main()

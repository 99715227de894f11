"""Oracle for tests/data_image_test.ts: decodes and transforms images with Pillow.

stdin: {"cases": [{"id", "path", "ops": [[name, *args], ...]}]} with ops
  ["resize", size]            torchvision Resize(size) (shorter side, bilinear, antialias)
  ["resize_exact", w, h, f]   Image.resize((w, h), filter name)
  ["center_crop", size]       torchvision CenterCrop(size)
  ["crop", top, left, h, w]   torchvision F.crop (zero padding outside)
  ["hflip"], ["vflip"]
stdout: {id: {"width", "height", "b64": raw RGB bytes} | {"error": str}}
"""

import base64
import json
import sys

from PIL import Image

FILTERS = {
    "box": Image.BOX,
    "bilinear": Image.BILINEAR,
    "hamming": Image.HAMMING,
    "bicubic": Image.BICUBIC,
    "lanczos": Image.LANCZOS,
}


def tv_resize(im, size):
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    if (nw, nh) == (w, h):
        return im
    return im.resize((nw, nh), Image.BILINEAR)


def tv_crop(im, top, left, h, w):
    return im.crop((left, top, left + w, top + h))


def tv_center_crop(im, size):
    w, h = im.size
    if w < size or h < size:
        pl, pt = (size - w) // 2 if size > w else 0, (size - h) // 2 if size > h else 0
        pr, pb = (size - w + 1) // 2 if size > w else 0, (size - h + 1) // 2 if size > h else 0
        canvas = Image.new("RGB", (w + pl + pr, h + pt + pb))
        canvas.paste(im, (pl, pt))
        im = canvas
        w, h = im.size
        if w == size and h == size:
            return im
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return tv_crop(im, top, left, size, size)


def run(case):
    im = Image.open(case["path"])
    im = im.convert("RGB")
    for op in case["ops"]:
        name, args = op[0], op[1:]
        if name == "resize":
            im = tv_resize(im, args[0])
        elif name == "resize_exact":
            im = im.resize((args[0], args[1]), FILTERS[args[2]])
        elif name == "center_crop":
            im = tv_center_crop(im, args[0])
        elif name == "crop":
            im = tv_crop(im, *args)
        elif name == "hflip":
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        elif name == "vflip":
            im = im.transpose(Image.FLIP_TOP_BOTTOM)
        else:
            raise ValueError(f"unknown op {name!r}")
    return {
        "width": im.size[0],
        "height": im.size[1],
        "b64": base64.b64encode(im.tobytes()).decode("ascii"),
    }


def main():
    req = json.load(sys.stdin)
    out = {}
    for case in req["cases"]:
        try:
            out[case["id"]] = run(case)
        except Exception as e:  # reported per case
            out[case["id"]] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

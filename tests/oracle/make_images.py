"""Writes image fixtures for tests/data_image_test.ts with Pillow and numpy.

stdin: {"dir": path}. Writes a set of files there and prints {name: path}.
"""

import json
import os
import sys

import numpy as np
from PIL import Image


def main():
    d = json.load(sys.stdin)["dir"]
    rng = np.random.default_rng(7)
    h, w = 45, 61
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 4 % 256, yy * 5 % 256, (xx + yy) * 3 % 256], -1).astype(np.uint8)
    rgb = np.clip(rgb.astype(int) + rng.integers(-20, 20, rgb.shape), 0, 255).astype(np.uint8)
    gray = rgb[..., 1]
    alpha = (xx * 255 // w).astype(np.uint8)
    out = {}

    def save(name, im, **kw):
        p = os.path.join(d, name)
        im.save(p, **kw)
        out[name] = p

    save("rgb.jpg", Image.fromarray(rgb), quality=90)
    save("rgb.png", Image.fromarray(rgb))
    save("gray.png", Image.fromarray(gray))
    save("gray.jpg", Image.fromarray(gray), quality=90)
    save("rgba.png", Image.fromarray(np.dstack([rgb, alpha])))
    save("la.png", Image.fromarray(np.dstack([gray, alpha]), "LA"))
    save("palette.png", Image.fromarray(rgb).quantize(32))
    save("rgb.tif", Image.fromarray(rgb))
    g16 = (gray.astype(np.uint16) * 257).astype(np.uint16)
    save("gray16.png", Image.fromarray(g16))
    save("gray16.tif", Image.fromarray(g16))
    cmyk = np.zeros((h, w, 4), np.uint8)
    cmyk[:, : w // 2, 0] = 255  # cyan left half
    cmyk[:, w // 2 :, 3] = 255  # black right half
    save("cmyk.jpg", Image.fromarray(cmyk, "CMYK"), quality=95)
    save("cmyk.tif", Image.fromarray(cmyk, "CMYK"))
    big = Image.fromarray(rgb).resize((300, 220), Image.BICUBIC)
    save("wide.jpg", big, quality=85)
    save("progressive.jpg", big, quality=85, progressive=True)
    save("rgb444.jpg", Image.fromarray(rgb), quality=95, subsampling=0)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

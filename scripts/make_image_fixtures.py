#!/usr/bin/python3
"""Generate the image decoding and transform fixtures of Strata's test suite.

Run with Debian's interpreter (python3-torch, python3-torchvision, python3-pil):

    /usr/bin/python3 scripts/make_image_fixtures.py

It writes into Tests/StrataCoreTests/Fixtures/images/:

- rgb.png, grey.png, rgba.png, rgb.jpg, grey.jpg: small images written by PIL;
- decoded.json: for each image file, the pixels PIL reads from it as "RGB" and as "L"
  (`Image.convert`), planar [C, H, W] bytes;
- transforms.json: one case per transform applied by torchvision to a seeded random 3x13x17
  image on the 0..255 float scale (`input`), each with its parameters and output `output`
  ([C, H, W] floats).
"""
import json
import os

import numpy as np
import torch
import torchvision.transforms.functional as F
from PIL import Image
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "StrataCoreTests", "Fixtures", "images")


def planar(img):
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[None]
    else:
        a = a.transpose(2, 0, 1)
    return {"shape": list(a.shape), "data": [int(v) for v in a.reshape(-1)]}


def floats(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(10)
    rgb = rng.integers(0, 256, size=(9, 11, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, size=(9, 11, 1), dtype=np.uint8)
    # A smooth image compresses to a JPEG whose decoding is stable.
    yy, xx = np.mgrid[0:16, 0:24]
    smooth = np.stack([(yy * 15) % 256, (xx * 10) % 256, ((yy + xx) * 6) % 256], axis=2).astype(np.uint8)
    files = {
        "rgb.png": lambda p: Image.fromarray(rgb, "RGB").save(p),
        "grey.png": lambda p: Image.fromarray(rgb[:, :, 0], "L").save(p),
        "rgba.png": lambda p: Image.fromarray(np.concatenate([rgb, alpha], axis=2), "RGBA").save(p),
        "rgb.jpg": lambda p: Image.fromarray(smooth, "RGB").save(p, quality=90),
        "grey.jpg": lambda p: Image.fromarray(smooth[:, :, 1], "L").save(p, quality=90),
    }
    decoded = {}
    for name, write in files.items():
        path = os.path.join(OUT, name)
        write(path)
        with Image.open(path) as img:
            decoded[name] = {"rgb": planar(img.convert("RGB")), "grey": planar(img.convert("L"))}
    with open(os.path.join(OUT, "decoded.json"), "w") as f:
        json.dump(decoded, f)

    torch.manual_seed(10)
    x = torch.randint(0, 256, (3, 13, 17)).float()
    bil = InterpolationMode.BILINEAR
    cases = [
        {"name": "resize_down", "kind": "resize", "size": [5, 7],
         "output": F.resize(x, [5, 7], bil, antialias=True)},
        {"name": "resize_up", "kind": "resize", "size": [20, 25],
         "output": F.resize(x, [20, 25], bil, antialias=True)},
        {"name": "resize_mixed", "kind": "resize", "size": [26, 6],
         "output": F.resize(x, [26, 6], bil, antialias=True)},
        {"name": "center_crop", "kind": "center_crop", "size": [8, 9], "output": F.center_crop(x, [8, 9])},
        {"name": "center_crop_odd", "kind": "center_crop", "size": [10, 10], "output": F.center_crop(x, [10, 10])},
        {"name": "center_crop_larger", "kind": "center_crop", "size": [16, 20], "output": F.center_crop(x, [16, 20])},
        {"name": "resized_crop", "kind": "resized_crop", "window": [2, 3, 7, 9], "size": [6, 6],
         "output": F.resized_crop(x, 2, 3, 7, 9, [6, 6], bil, antialias=True)},
        {"name": "resized_crop_up", "kind": "resized_crop", "window": [4, 1, 5, 6], "size": [11, 12],
         "output": F.resized_crop(x, 4, 1, 5, 6, [11, 12], bil, antialias=True)},
        # RandomCrop(padding=2) at corner (top 1, left 4) of the padded image.
        {"name": "pad_crop", "kind": "pad_crop", "pad": 2, "corner": [1, 4],
         "output": F.crop(F.pad(x, [2, 2, 2, 2], fill=0), 1, 4, 13, 17)},
        {"name": "hflip", "kind": "hflip", "output": F.hflip(x)},
        {"name": "normalize", "kind": "normalize", "mean": [0.4914, 0.4822, 0.4465], "std": [0.2470, 0.2435, 0.2616],
         "output": F.normalize(x / 255, [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])},
    ]
    out = {"input": floats(x), "cases": []}
    for case in cases:
        case = dict(case)
        case["output"] = floats(case["output"])
        out["cases"].append(case)
    with open(os.path.join(OUT, "transforms.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch parity fixtures for the layers of the vision plugin, in the format and with the options
of scripts/make_fixtures.py:

    /usr/bin/python3 scripts/make_zoo_layer_fixtures.py            # (re)write these fixtures
    /usr/bin/python3 scripts/make_zoo_layer_fixtures.py --check    # exit 1 if any would change

`bilinear_resize_*`: F.interpolate(x, size=(round(scale*H), round(scale*W)), mode="bilinear",
align_corners=False), the input `x`, the output `y`, a random `dy` and `dx`, the gradient of
sum(y * dy); config `scale`.
"""

import sys

import torch
from torch.nn import functional as F

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402  (the shared case registry, writer and command line)

mf.CASES.clear()  # only the cases of this file


def resize_case(shape, scale):
    x = mf.leaf(torch.randn(*shape))
    size = tuple(max(1, int(round(scale * n))) for n in shape[2:])
    y = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    dy, (dx,) = mf.layer_grads(y, [x])
    return "bilinear_resize", {"scale": scale}, {"x": x.detach(), "y": y.detach(), "dy": dy, "dx": dx}


@mf.case("bilinear_resize_shrink")
def bilinear_resize_shrink():
    # MobileNet's rho 4/7 on a 7x9 map: 4x5 (ratios 7/4 and 9/5, both taps inside)
    return resize_case((2, 3, 7, 9), 4 / 7)


@mf.case("bilinear_resize_grow")
def bilinear_resize_grow():
    # 1.6 on 5x4: 8x6 (6.4 rounds down), sources clamped at both edges
    return resize_case((2, 2, 5, 4), 1.6)


if __name__ == "__main__":
    sys.exit(mf.main())

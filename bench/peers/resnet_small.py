#!/usr/bin/python3
"""The small ResNet of examples/recipes/resnet-small-fashion.json, in PyTorch (fast.ai 2018
lesson 7, on 1x28x28):

  stem   Conv2d(1, 10, 5, padding=2)
  for w in 20, 40, 80, 160:
         BnLayer(prev, w, stride 2)        conv3x3 s2 p1 (no bias) -> ReLU -> BatchNorm2d
         ResnetLayer(w, w) x 2             x + BnLayer(w, w, stride 1)
  AdaptiveMaxPool2d(1), Flatten, Linear(160, 10)

Adam lr 1e-3, batch 256, cross-entropy, PyTorch's default init, pixels / 255 normalised with mean
0.286 and std 0.353 as the recipe does.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/resnet_small.py --threads 2
"""
import torch
from torch import nn
import torch.nn.functional as F

import common


class BnLayer(nn.Module):
    def __init__(self, ni, nf, stride=2, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv2d(ni, nf, kernel_size=kernel_size, stride=stride, bias=False, padding=1)
        self.bn = nn.BatchNorm2d(nf)

    def forward(self, x):
        return self.bn(F.relu(self.conv(x)))


class ResnetLayer(BnLayer):
    def forward(self, x):
        return x + super().forward(x)


class ResnetSmall(nn.Module):
    def __init__(self, widths=(10, 20, 40, 80, 160), classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, widths[0], kernel_size=5, stride=1, padding=2)
        self.layers = nn.ModuleList([BnLayer(widths[i], widths[i + 1]) for i in range(len(widths) - 1)])
        self.layers2 = nn.ModuleList([ResnetLayer(widths[i + 1], widths[i + 1], 1) for i in range(len(widths) - 1)])
        self.layers3 = nn.ModuleList([ResnetLayer(widths[i + 1], widths[i + 1], 1) for i in range(len(widths) - 1)])
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.out = nn.Linear(widths[-1], classes)

    def forward(self, x):
        x = self.conv1(x)
        for l1, l2, l3 in zip(self.layers, self.layers2, self.layers3):
            x = l3(l2(l1(x)))
        return self.out(torch.flatten(self.pool(x), 1))


def main():
    args = common.parse_args("small ResNet on Fashion-MNIST, measured as `strata bench` measures")
    common.setup(args)
    net = ResnetSmall()
    common.run("resnet_small", net, torch.optim.Adam(net.parameters(), lr=1e-3), args, mean=0.286, std=0.353)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""LeNet as in examples/recipes/lenet-fashion.json, in PyTorch: the d2l LeNet (sigmoid, average
pooling), Xavier-uniform weights, SGD lr 0.9, batch 256, cross-entropy, pixels / 255.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/lenet.py --threads 2
"""
import torch
from torch import nn

import common


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))


def main():
    args = common.parse_args("LeNet on Fashion-MNIST, measured as `strata bench` measures")
    common.setup(args)
    net = lenet()
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    common.run("lenet", net, torch.optim.SGD(net.parameters(), lr=0.9), args)


if __name__ == "__main__":
    main()

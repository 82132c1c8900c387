#!/usr/bin/python3
"""Multiply-accumulates and FLOPs per example of the two peer models, from the layer shapes.

Convention (the one `strata bench` uses for its "% of FMA peak" column): forward FLOPs = 2 x MACs
of the Conv2d and Linear layers (pooling, activations, BatchNorm, loss and optimiser not counted);
training = 3 x forward (forward, input gradient, weight gradient).

Run: /usr/bin/python3 bench/peers/flops.py
"""
import torch
from torch import nn

from lenet import lenet
from resnet_small import ResnetSmall


def macs_per_layer(net):
    rows = []

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs = out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        else:
            macs = m.in_features * m.out_features
        rows.append((m.__class__.__name__, tuple(out.shape[1:]), macs))

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 1, 28, 28))
    for h in hooks:
        h.remove()
    return rows


for name, net in (("lenet", lenet()), ("resnet_small", ResnetSmall())):
    rows = macs_per_layer(net)
    total = sum(r[2] for r in rows)
    print(f"== {name}")
    for kind, shape, macs in rows:
        print(f"  {kind:7s} out {str(shape):16s} MACs {macs:>10,d}")
    print(f"  MACs/example {total:,d}; forward {2 * total / 1e6:.3f} MFLOP; training (3 x forward) "
          f"{6 * total / 1e6:.3f} MFLOP")

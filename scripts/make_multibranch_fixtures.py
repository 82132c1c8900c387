#!/usr/bin/python3
"""PyTorch parity fixtures for the multi-branch networks of the vision plugin (GoogLeNet and
DenseNet), in the format and with the options of scripts/make_fixtures.py:

    /usr/bin/python3 scripts/make_multibranch_fixtures.py            # (re)write these fixtures
    /usr/bin/python3 scripts/make_multibranch_fixtures.py --check    # exit 1 if any would change

Each case builds a reduced network (small width or growth, small input) as its source defines it:
d2l's GoogLeNet and small DenseNet as the book's PyTorch code writes them (with a width
multiplier applied to GoogLeNet's channel counts), torchvision's DenseNet and GoogLeNet from
torchvision itself (GoogLeNet built by torchvision's own class with every channel count divided
by 32, auxiliary classifiers off, `transform_input=False`, dropout 0).
It writes `config` (the builder's options and `training`), the input `x`, every parameter and
buffer before the call as `p:<name>` (state-dict names), the logits `y`, a random upstream
gradient `dy`, and the gradients of sum(y * dy) with respect to the first and the last layer's
weight as `g:<name>`. Training mode uses batch statistics (and updates nothing the test reads);
evaluation mode uses running statistics, which the script sets to random values first.
"""

import math
import sys

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402  (the shared case registry, writer and command line)

mf.CASES.clear()  # only the cases of this file


# --------------------------------------------------------------------------
# d2l's GoogLeNet (Dive into Deep Learning, 8.4), channel counts times `width`


class Inception(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def d2l_googlenet(width, classes):
    def s(c):
        return max(1, int(math.floor(c * width + 0.5)))

    def inception(cin, c1, c2, c3, c4):
        block = Inception(cin, s(c1), (s(c2[0]), s(c2[1])), (s(c3[0]), s(c3[1])), s(c4))
        return block, s(c1) + s(c2[1]) + s(c3[1]) + s(c4)

    def stage(cin, specs, tail):
        blocks = []
        for spec in specs:
            block, cin = inception(cin, *spec)
            blocks.append(block)
        return nn.Sequential(*blocks, *tail), cin

    b1 = nn.Sequential(nn.Conv2d(1, s(64), kernel_size=7, stride=2, padding=3), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(nn.Conv2d(s(64), s(64), kernel_size=1), nn.ReLU(),
                       nn.Conv2d(s(64), s(192), kernel_size=3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    b3, c = stage(s(192), [(64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64)], [pool])
    b4, c = stage(c, [(192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64), (128, (128, 256), (24, 64), 64),
                      (112, (144, 288), (32, 64), 64), (256, (160, 320), (32, 128), 128)],
                  [nn.MaxPool2d(kernel_size=3, stride=2, padding=1)])
    b5, c = stage(c, [(256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128)],
                  [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()])
    return nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(c, classes))


# --------------------------------------------------------------------------
# d2l's small DenseNet (Dive into Deep Learning, 8.7)


def conv_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(),
                         nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, input_channels, num_channels):
        super().__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels * i + input_channels, num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(),
                         nn.Conv2d(input_channels, num_channels, kernel_size=1),
                         nn.AvgPool2d(kernel_size=2, stride=2))


def d2l_densenet(growth_rate, blocks, init, classes):
    b1 = nn.Sequential(nn.Conv2d(1, init, kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(init), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    num_channels = init
    blks = []
    for i, num_convs in enumerate(blocks):
        blks.append(DenseBlock(num_convs, num_channels, growth_rate))
        num_channels += num_convs * growth_rate
        if i != len(blocks) - 1:
            blks.append(transition_block(num_channels, num_channels // 2))
            num_channels = num_channels // 2
    return nn.Sequential(b1, *blks, nn.BatchNorm2d(num_channels), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)),
                         nn.Flatten(), nn.Linear(num_channels, classes))


def torchvision_densenet(growth_rate, blocks, init, bn_size, classes):
    from torchvision.models.densenet import DenseNet
    return DenseNet(growth_rate=growth_rate, block_config=tuple(blocks), num_init_features=init,
                    bn_size=bn_size, num_classes=classes)


def torchvision_googlenet(width, classes):
    """torchvision's GoogLeNet class with its channel counts times `width` (rounded as the builder
    rounds them): the blocks it is given scale their channel arguments, and `fc` is replaced."""
    from torchvision.models.googlenet import GoogLeNet, BasicConv2d, Inception as TVInception

    def s(c):
        return max(1, int(math.floor(c * width + 0.5)))

    # Blocks are made in order, so the channels flowing in are the last block's scaled output
    # (rounding each count makes the scaled sum differ from the scaled total).
    flowing = [3]

    def conv_block(cin, cout, **kw):
        block = BasicConv2d(flowing[0], s(cout), **kw)
        flowing[0] = s(cout)
        return block

    def inception_block(cin, c1, c2r, c2, c3r, c3, c4, conv_block=None):
        block = TVInception(flowing[0], s(c1), s(c2r), s(c2), s(c3r), s(c3), s(c4), conv_block=conv_block)
        flowing[0] = s(c1) + s(c2) + s(c3) + s(c4)
        return block

    model = GoogLeNet(num_classes=classes, aux_logits=False, transform_input=False, init_weights=True, dropout=0.0,
                      blocks=[conv_block, inception_block, None])
    model.fc = nn.Linear(flowing[0], classes)
    return model


# --------------------------------------------------------------------------


def network_case(model, config, input_shape, training, first, last):
    """Runs `model` once on a random input and records what the Swift test compares."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            # non-trivial affine parameters and running statistics
            with torch.no_grad():
                module.weight.copy_(1.0 + 0.2 * torch.randn_like(module.weight))
                module.bias.copy_(0.2 * torch.randn_like(module.bias))
                module.running_mean.copy_(0.2 * torch.randn_like(module.running_mean))
                module.running_var.copy_(0.5 + torch.rand_like(module.running_var))
    state = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    model.train(training)
    x = torch.randn(*input_shape)
    y = model(x)
    dy = torch.randn(y.shape)
    (y * dy).sum().backward()
    params = dict(model.named_parameters())
    tensors = {"x": x}
    for k, v in state.items():
        tensors["p:" + k] = v
    tensors.update(y=y, dy=dy)
    for name in (first, last):
        tensors["g:" + name] = params[name].grad
    config = dict(config, training=training, first=first, last=last)
    return "network", config, tensors


def googlenet_case(training):
    width, classes = 0.03125, 10
    model = d2l_googlenet(width, classes)
    return network_case(model, {"builder": "googlenet", "variant": "d2l", "width": width, "classes": classes},
                        (2, 1, 32, 32), training, "0.0.weight", "5.weight")


@mf.case("googlenet_d2l")
def googlenet_d2l():
    # no batch norm and no dropout: training and evaluation compute the same
    return googlenet_case(True)


def densenet_d2l_case(training):
    model = d2l_densenet(4, [2, 2], 8, 10)
    return network_case(model, {"builder": "densenet", "variant": "d2l", "growth_rate": 4, "num_init_features": 8,
                                "blocks": 2, "layers_per_block": 2, "classes": 10},
                        (2, 1, 16, 16), training, "0.0.weight", "8.weight")


def googlenet_torchvision_case(training):
    width, classes = 0.03125, 10
    model = torchvision_googlenet(width, classes)
    return network_case(model, {"builder": "googlenet", "variant": "torchvision", "width": width, "classes": classes,
                                "dropout": 0.0},
                        (4, 3, 40, 40), training, "conv1.conv.weight", "fc.weight")


@mf.case("googlenet_torchvision_train")
def googlenet_torchvision_train():
    # Batch statistics; dropout 0 on both sides (the builder's `dropout` option, declared in the
    # manifest), so the pass is deterministic.
    return googlenet_torchvision_case(True)


@mf.case("googlenet_torchvision_eval")
def googlenet_torchvision_eval():
    return googlenet_torchvision_case(False)


@mf.case("densenet_d2l_train")
def densenet_d2l_train():
    return densenet_d2l_case(True)


@mf.case("densenet_d2l_eval")
def densenet_d2l_eval():
    return densenet_d2l_case(False)


def densenet_torchvision_case(training):
    model = torchvision_densenet(4, [2, 2], 8, 2, 5)
    return network_case(model, {"builder": "densenet", "variant": "torchvision", "growth_rate": 4, "num_init_features": 8,
                                "bn_size": 2, "blocks": 2, "layers_per_block": 2, "classes": 5},
                        (2, 3, 16, 16), training, "features.conv0.weight", "classifier.weight")


@mf.case("densenet_torchvision_train")
def densenet_torchvision_train():
    return densenet_torchvision_case(True)


@mf.case("densenet_torchvision_eval")
def densenet_torchvision_eval():
    return densenet_torchvision_case(False)


if __name__ == "__main__":
    sys.exit(mf.main())

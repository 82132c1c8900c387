"""Shared pieces of the zoo peers (resnet18_96.py, mobilenet_v1.py): the networks as the source
documents write them, and the measurement of common.py on Fashion-MNIST resized to 96x96.

The resize is the network's first module, `nn.Upsample(96, bilinear)` (torchvision's Resize on a
28x28 tensor: upsampling, where antialiasing does nothing), so the peer holds the 28x28 images as
the Strata run does and pays for the resize per batch as its data pipeline does. The bench recipes
evaluate the first 1 000 test images (`test_limit`); so does the peer.
"""
import sys

import torch
from torch import nn
from torch.nn import functional as F

import common

SIZE = 96
TEST_LIMIT = 1000
BATCH = 64


class Residual(nn.Module):
    """d2l's residual block (8.6): convolutions with biases, a 1x1 projection `conv3` when asked."""

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    return [Residual(input_channels, num_channels, use_1x1conv=True, strides=2) if i == 0 and not first_block
            else Residual(num_channels, num_channels) for i in range(num_residuals)]


def d2l_resnet18(classes=10):
    b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(64), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    return nn.Sequential(b1, nn.Sequential(*resnet_block(64, 64, 2, first_block=True)),
                         nn.Sequential(*resnet_block(64, 128, 2)), nn.Sequential(*resnet_block(128, 256, 2)),
                         nn.Sequential(*resnet_block(256, 512, 2)),
                         nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, classes))


class DepthwiseSeparableConv(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=stride, padding=1,
                                   groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.relu1(self.bn1(self.depthwise(x)))
        return self.relu2(self.bn2(self.pointwise(x)))


class MobileNetV1(nn.Module):
    """MobileNet V1 as the CNN survey writes it (one input channel)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu1 = nn.ReLU(inplace=True)
        widths = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
                 [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
        self.layers = nn.Sequential(*[DepthwiseSeparableConv(i, o, s) for i, o, s in widths])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.avgpool(self.layers(x))
        return self.fc(x.view(x.size(0), -1))


def run(name, make_net, lr, description):
    """common.run on 96x96 inputs, batch 64 unless --batch-size is given, the first 1 000 test images."""
    args = common.parse_args(description)
    if not any(a.startswith("--batch-size") for a in sys.argv[1:]):
        args.batch_size = BATCH
    common.setup(args)
    load = common.load_fashion_mnist

    def limited(data_dir, mean=None, std=None):
        xtr, ytr, xte, yte = load(data_dir, mean, std)
        return xtr, ytr, xte[:TEST_LIMIT], yte[:TEST_LIMIT]
    common.load_fashion_mnist = limited
    net = nn.Sequential(nn.Upsample(size=(SIZE, SIZE), mode="bilinear", align_corners=False), make_net())
    common.run(name, net, torch.optim.SGD(net.parameters(), lr=lr), args)

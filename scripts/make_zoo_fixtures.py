#!/usr/bin/python3
"""Generate the PyTorch references of the vision plugin's model zoo.

Run with Debian's interpreter (python3-torch, python3-torchvision):

    /usr/bin/python3 scripts/make_zoo_fixtures.py            # (re)write every fixture
    /usr/bin/python3 scripts/make_zoo_fixtures.py resnet18   # only some cases
    /usr/bin/python3 scripts/make_zoo_fixtures.py --list

For each case it writes Tests/StrataCoreTests/Fixtures/zoo/<case>.safetensors holding, as float32:

    param.<name>   every parameter and buffer of the reference network before the calls
                   (num_batches_tracked left out), in the network's own order
    x              the input
    eval.y         the output in evaluation mode
    train.y        the output in training mode (batch statistics), then one backward of
    dy             sum(train.y * dy), dy random, giving
    grad.<name>    the gradients of the first layer's weight and the last layer's weight and bias

and in its metadata `model` (the recipe model object that builds the same network in Strata),
`names` ("exact": Strata's parameter names equal the reference's; "order": the reference is
written as its source document writes it and is matched parameter by parameter, shapes
checked), and `source`. Evaluation runs first, so the running statistics are those stored.
BatchNorm weights, biases and running statistics are randomised so evaluation mode means
something. Networks are reduced in width (and the fast.ai ones in input size) so each file
stays small; dropout is 0 in the reduced networks (PyTorch's random masks cannot be
reproduced), so training mode is deterministic.

It also writes Tests/StrataCoreTests/Fixtures/zoo/torchvision-names.json: for full-size
torchvision models (1000 classes), every state-dict name and shape, which the tests compare
with the networks Strata builds, so torchvision's weights load by name.
"""

import json
import struct
import sys
import zlib
from pathlib import Path

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError:  # pragma: no cover
    sys.exit("make_zoo_fixtures.py needs python3-torch and python3-torchvision: run it with /usr/bin/python3")

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests" / "StrataCoreTests" / "Fixtures" / "zoo"
CASES = {}


def case(name):
    def register(fn):
        CASES[name] = fn
        return fn
    return register


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, t in tensors:
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def randomise_batchnorm(net):
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)


def run(name, net, x_shape, model, names, source):
    torch.manual_seed(zlib.crc32(name.encode()))
    randomise_batchnorm(net)
    state = [(k, v.clone()) for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")]
    x = torch.randn(*x_shape)
    net.eval()
    with torch.no_grad():
        eval_y = net(x)
    net.train()
    y = net(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    trainable = [(k, p) for k, p in net.named_parameters()]
    # The first layer's weight (its bias, when a BatchNorm follows, has a gradient of zero up
    # to rounding) and the last layer's weight and bias.
    picked = trainable[:1] + trainable[-2:]
    tensors = [("param." + k, v) for k, v in state] + [("x", x), ("eval.y", eval_y), ("train.y", y), ("dy", dy)]
    tensors += [("grad." + k, p.grad) for k, p in picked]
    OUT.mkdir(parents=True, exist_ok=True)
    write_safetensors(OUT / f"{name}.safetensors", tensors,
                      {"model": json.dumps(model), "names": names, "source": source,
                       "grads": json.dumps([k for k, _ in picked])})


# ---------------------------------------------------------------- LeNet (survey, two classes)

class Leet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(1, 6, 5, 1, 2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))
        self.conv2 = nn.Sequential(nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.fc1 = nn.Sequential(nn.Linear(400, 120), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(120, 84), nn.ReLU())
        self.fc = nn.Linear(84, 2)

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        x = x.view(x.size()[0], -1)
        return self.fc(self.fc2(self.fc1(x)))


@case("lenet_bn")
def lenet_bn():
    torch.manual_seed(1)
    run("lenet_bn", Leet(), (4, 1, 28, 28), {"kind": "lenet_bn"}, "exact", "CNN survey, LeNet with BatchNorm")


# ---------------------------------------------------------------- AlexNet

@case("alexnet_d2l")
def alexnet_d2l():
    torch.manual_seed(2)
    c = [6, 16, 24, 24, 16]  # d2l's 96, 256, 384, 384, 256 divided by 16
    h = 64                   # 4096 / 64
    net = nn.Sequential(
        nn.Conv2d(1, c[0], kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c[0], c[1], kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c[1], c[2], kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c[2], c[3], kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c[3], c[4], kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(c[4] * 1 * 1, h), nn.ReLU(), nn.Dropout(p=0.0),
        nn.Linear(h, h), nn.ReLU(), nn.Dropout(p=0.0),
        nn.Linear(h, 10))
    run("alexnet_d2l", net, (2, 1, 67, 67),
        {"kind": "alexnet", "variant": "d2l", "width": 0.0625, "hidden": 1024, "dropout": 0}, "order", "d2l 8.1 at width 1/16 (hidden 64), 67x67")


def shrink_sequential(seq, div, first_in):
    """torchvision's layers with every channel count divided by div (the input's kept)."""
    out, channels = [], first_in
    for m in seq:
        if isinstance(m, nn.Conv2d):
            out.append(nn.Conv2d(channels, m.out_channels // div, m.kernel_size, m.stride, m.padding, bias=m.bias is not None))
            channels = m.out_channels // div
        elif isinstance(m, nn.BatchNorm2d):
            out.append(nn.BatchNorm2d(channels))
        elif isinstance(m, nn.Dropout):
            out.append(nn.Dropout(0.0))
        else:
            out.append(m)
    return nn.Sequential(*out), channels


def shrink_classifier(seq, div, in_features):
    out = []
    for m in seq:
        if isinstance(m, nn.Linear):
            last = m.out_features in (10,)
            out.append(nn.Linear(in_features, m.out_features if last else m.out_features // div))
            in_features = out[-1].out_features
        elif isinstance(m, nn.Dropout):
            out.append(nn.Dropout(0.0))
        else:
            out.append(m)
    return nn.Sequential(*out)


@case("alexnet_torchvision")
def alexnet_torchvision():
    torch.manual_seed(3)
    net = torchvision.models.AlexNet(num_classes=10)
    net.features, c = shrink_sequential(net.features, 16, 1)
    net.classifier = shrink_classifier(net.classifier, 64, c * 6 * 6)
    run("alexnet_torchvision", net, (1, 1, 224, 224),
        {"kind": "alexnet", "variant": "torchvision", "width": 0.0625, "hidden": 1024, "dropout": 0}, "exact",
        "torchvision AlexNet (its 6x6 adaptive pool included) at width 1/16 (hidden 64), 224x224")


# ---------------------------------------------------------------- VGG

@case("vgg_d2l")
def vgg_d2l():
    torch.manual_seed(4)

    def vgg_block(num_convs, in_channels, out_channels):
        layers = []
        for _ in range(num_convs):
            layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
            layers.append(nn.ReLU())
            in_channels = out_channels
        layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        return nn.Sequential(*layers)

    def vgg(conv_arch, hidden):
        conv_blks = []
        in_channels = 1
        for (num_convs, out_channels) in conv_arch:
            conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
            in_channels = out_channels
        return nn.Sequential(*conv_blks, nn.Flatten(),
                             nn.Linear(out_channels * 1 * 1, hidden), nn.ReLU(), nn.Dropout(0.0),
                             nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.0),
                             nn.Linear(hidden, 10))

    conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
    ratio = 16
    small_conv_arch = [(pair[0], pair[1] // ratio) for pair in conv_arch]
    run("vgg_d2l", vgg(small_conv_arch, 64), (2, 1, 32, 32),
        {"kind": "vgg", "config": "A", "ratio": 16, "hidden": 64, "dropout": 0}, "order", "d2l 8.2, ratio 16, 32x32")


@case("vgg13_bn_torchvision")
def vgg13_bn_torchvision():
    torch.manual_seed(5)
    net = torchvision.models.vgg13_bn(num_classes=10)
    net.features, c = shrink_sequential(net.features, 32, 1)
    net.classifier = shrink_classifier(net.classifier, 128, c * 7 * 7)
    run("vgg13_bn_torchvision", net, (1, 1, 224, 224),
        {"kind": "vgg", "config": "B", "batch_norm": True, "ratio": 32, "hidden": 32, "dropout": 0}, "exact",
        "torchvision vgg13_bn (its 7x7 adaptive pool included), channels / 32, hidden 32, 224x224")


# ---------------------------------------------------------------- NiN

@case("nin")
def nin():
    torch.manual_seed(6)

    def nin_block(in_channels, out_channels, kernel_size, strides, padding):
        return nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())

    net = nn.Sequential(
        nin_block(1, 6, kernel_size=11, strides=4, padding=0), nn.MaxPool2d(3, stride=2),
        nin_block(6, 16, kernel_size=5, strides=1, padding=2), nn.MaxPool2d(3, stride=2),
        nin_block(16, 24, kernel_size=3, strides=1, padding=1), nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.0),
        nin_block(24, 10, kernel_size=3, strides=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
    run("nin", net, (2, 1, 67, 67), {"kind": "nin", "width": 0.0625, "dropout": 0}, "exact", "d2l 8.3 at width 1/16, 67x67")


# ---------------------------------------------------------------- ResNet

class SmallResNet(torchvision.models.ResNet):
    """torchvision's ResNet with every stage's planes divided by div (its code otherwise)."""

    def __init__(self, block, layers, div, in_channels=1, **kw):
        self.div = div
        super().__init__(block, layers, **kw)
        self.inplanes = 64 // div
        self.conv1 = nn.Conv2d(in_channels, 64 // div, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64 // div)
        self.inplanes = 64 // div
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.fc = nn.Linear(512 // div * block.expansion, kw.get("num_classes", 1000))

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        return super()._make_layer(block, planes // getattr(self, "div", 1), blocks, stride, dilate)


@case("resnet18_torchvision")
def resnet18_torchvision():
    torch.manual_seed(7)
    net = SmallResNet(torchvision.models.resnet.BasicBlock, [2, 2, 2, 2], 16, num_classes=10)
    run("resnet18_torchvision", net, (4, 1, 64, 64), {"kind": "resnet", "depth": 18, "width": 0.0625}, "exact",
        "torchvision resnet18, planes / 16, 4x1x64x64")


@case("resnet50_torchvision")
def resnet50_torchvision():
    torch.manual_seed(8)
    net = SmallResNet(torchvision.models.resnet.Bottleneck, [3, 4, 6, 3], 16, num_classes=10)
    run("resnet50_torchvision", net, (4, 1, 64, 64), {"kind": "resnet", "depth": 50, "width": 0.0625}, "exact",
        "torchvision resnet50, planes / 16, 4x1x64x64")


@case("resnext50_torchvision")
def resnext50_torchvision():
    torch.manual_seed(9)
    # 32x4d at planes / 16 would leave less than one channel per group: 4 groups of 4 per 16 planes.
    net = SmallResNet(torchvision.models.resnet.Bottleneck, [3, 4, 6, 3], 16, num_classes=10, groups=4, width_per_group=16)
    run("resnext50_torchvision", net, (4, 1, 64, 64),
        {"kind": "resnet", "depth": 50, "width": 0.0625, "groups": 4, "width_per_group": 16}, "exact",
        "torchvision ResNeXt (resnext50 layout, groups 4, width per group 16), planes / 16, 4x1x64x64")


class D2LResidual(nn.Module):
    """d2l 8.6's Residual, its attributes named as torchvision's BasicBlock (conv3 -> downsample.0)."""

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.downsample = nn.Sequential(nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)) if use_1x1conv else None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.downsample:
            X = self.downsample(X)
        Y += X
        return F.relu(Y)


@case("resnet18_d2l")
def resnet18_d2l():
    torch.manual_seed(10)
    c = 4  # d2l's 64 / 16

    def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
        blk = []
        for i in range(num_residuals):
            if i == 0 and not first_block:
                blk.append(D2LResidual(input_channels, num_channels, use_1x1conv=True, strides=2))
            else:
                blk.append(D2LResidual(num_channels, num_channels))
        return nn.Sequential(*blk)

    net = nn.Sequential()
    net.add_module("conv1", nn.Conv2d(1, c, kernel_size=7, stride=2, padding=3))
    net.add_module("bn1", nn.BatchNorm2d(c))
    net.add_module("relu", nn.ReLU())
    net.add_module("maxpool", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    net.add_module("layer1", resnet_block(c, c, 2, first_block=True))
    net.add_module("layer2", resnet_block(c, 2 * c, 2))
    net.add_module("layer3", resnet_block(2 * c, 4 * c, 2))
    net.add_module("layer4", resnet_block(4 * c, 8 * c, 2))
    net.add_module("avgpool", nn.AdaptiveAvgPool2d((1, 1)))
    net.add_module("flatten", nn.Flatten())
    net.add_module("fc", nn.Linear(8 * c, 10))
    run("resnet18_d2l", net, (4, 1, 64, 64), {"kind": "resnet", "depth": 18, "width": 0.0625, "variant": "d2l"}, "exact",
        "d2l 8.6 ResNet-18, channels / 16, 4x1x64x64")


# ---------------------------------------------------------------- MobileNet V1 (survey)

class DepthwiseSeparableConv(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=stride, padding=1, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.relu1(self.bn1(self.depthwise(x)))
        return self.relu2(self.bn2(self.pointwise(x)))


class MobileNetV1(nn.Module):
    def __init__(self, num_classes=10, a=1.0):
        super().__init__()
        s = lambda c: max(1, round(c * a))
        self.conv1 = nn.Conv2d(1, s(32), kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(s(32))
        self.relu1 = nn.ReLU(inplace=True)
        spec = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
               [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
        self.layers = nn.Sequential(*[DepthwiseSeparableConv(s(i), s(o), st) for i, o, st in spec])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(s(1024), num_classes)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.layers(x)
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


@case("mobilenet_v1")
def mobilenet_v1():
    torch.manual_seed(11)
    run("mobilenet_v1", MobileNetV1(10, 0.0625), (4, 1, 64, 64), {"kind": "mobilenet_v1", "alpha": 0.0625}, "exact",
        "CNN survey MobileNet V1, alpha 1/16, 4x1x64x64")


# ---------------------------------------------------------------- fast.ai lesson 7

class SimpleNet(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(layers[i], layers[i + 1]) for i in range(len(layers) - 1)])

    def forward(self, x):
        x = x.view(x.size(0), -1)
        for l in self.layers:
            l_x = l(x)
            x = F.relu(l_x)
        return F.log_softmax(l_x, dim=-1)


class ConvNet(nn.Module):
    def __init__(self, layers, c):
        super().__init__()
        self.layers = nn.ModuleList([nn.Conv2d(layers[i], layers[i + 1], kernel_size=3, stride=2) for i in range(len(layers) - 1)])
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.out = nn.Linear(layers[-1], c)

    def forward(self, x):
        for l in self.layers:
            x = F.relu(l(x))
        x = self.pool(x)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.out(x), dim=-1)


class BnLayer(nn.Module):
    """The lesson's BnLayer with nn.BatchNorm2d (`bn`) in place of its hand-written statistics."""

    def __init__(self, ni, nf, stride=2, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv2d(ni, nf, kernel_size=kernel_size, stride=stride, bias=False, padding=1)
        self.bn = nn.BatchNorm2d(nf)

    def forward(self, x):
        return self.bn(F.relu(self.conv(x)))


class ResnetLayer(BnLayer):
    def forward(self, x):
        return x + super().forward(x)


class ConvBnNet(nn.Module):
    def __init__(self, layers, c):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, kernel_size=5, stride=1, padding=2)
        self.layers = nn.ModuleList([BnLayer(layers[i], layers[i + 1]) for i in range(len(layers) - 1)])
        self.out = nn.Linear(layers[-1], c)

    def forward(self, x):
        x = self.conv1(x)
        for l in self.layers:
            x = l(x)
        x = F.adaptive_max_pool2d(x, 1)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.out(x), dim=-1)


class Resnet(nn.Module):
    def __init__(self, layers, c):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, kernel_size=5, stride=1, padding=2)
        self.layers = nn.ModuleList([BnLayer(layers[i], layers[i + 1]) for i in range(len(layers) - 1)])
        self.layers2 = nn.ModuleList([ResnetLayer(layers[i + 1], layers[i + 1], 1) for i in range(len(layers) - 1)])
        self.layers3 = nn.ModuleList([ResnetLayer(layers[i + 1], layers[i + 1], 1) for i in range(len(layers) - 1)])
        self.out = nn.Linear(layers[-1], c)

    def forward(self, x):
        x = self.conv1(x)
        for l, l2, l3 in zip(self.layers, self.layers2, self.layers3):
            x = l3(l2(l(x)))
        x = F.adaptive_max_pool2d(x, 1)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.out(x), dim=-1)


class Resnet2(nn.Module):
    def __init__(self, layers, c, p=0.5):
        super().__init__()
        self.conv1 = BnLayer(3, 16, stride=1, kernel_size=7)
        self.layers = nn.ModuleList([BnLayer(layers[i], layers[i + 1]) for i in range(len(layers) - 1)])
        self.layers2 = nn.ModuleList([ResnetLayer(layers[i + 1], layers[i + 1], 1) for i in range(len(layers) - 1)])
        self.layers3 = nn.ModuleList([ResnetLayer(layers[i + 1], layers[i + 1], 1) for i in range(len(layers) - 1)])
        self.out = nn.Linear(layers[-1], c)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        x = self.conv1(x)
        for l, l2, l3 in zip(self.layers, self.layers2, self.layers3):
            x = l3(l2(l(x)))
        x = F.adaptive_max_pool2d(x, 1)
        x = x.view(x.size(0), -1)
        x = self.drop(x)
        return F.log_softmax(self.out(x), dim=-1)


@case("fastai_simplenet")
def fastai_simplenet():
    torch.manual_seed(12)
    run("fastai_simplenet", SimpleNet([3 * 8 * 8, 40, 10]), (4, 3, 8, 8), {"kind": "simplenet"}, "exact", "fast.ai lesson 7, 3x8x8")


@case("fastai_convnet")
def fastai_convnet():
    torch.manual_seed(13)
    run("fastai_convnet", ConvNet([3, 20, 40, 80], 10), (2, 3, 32, 32), {"kind": "convnet"}, "exact", "fast.ai lesson 7, 3x32x32")


@case("fastai_convbnnet")
def fastai_convbnnet():
    torch.manual_seed(14)
    run("fastai_convbnnet", ConvBnNet([10, 8, 16], 10), (2, 3, 16, 16), {"kind": "convbnnet", "widths": [8, 16]}, "exact",
        "fast.ai lesson 7, widths 8 16, 3x16x16")


@case("fastai_resnet")
def fastai_resnet():
    torch.manual_seed(15)
    run("fastai_resnet", Resnet([10, 8, 16], 10), (2, 3, 16, 16), {"kind": "fastai_resnet", "widths": [8, 16]}, "exact",
        "fast.ai lesson 7, widths 8 16, 3x16x16")


@case("fastai_resnet2")
def fastai_resnet2():
    torch.manual_seed(16)
    run("fastai_resnet2", Resnet2([16, 8, 16], 10, 0.0), (2, 3, 16, 16), {"kind": "fastai_resnet2", "widths": [8, 16], "p": 0},
        "exact", "fast.ai lesson 7, widths 8 16, dropout 0, 3x16x16")


# ---------------------------------------------------------------- full-size names

def torchvision_names():
    m = torchvision.models
    models = {
        "alexnet": ({"kind": "alexnet", "variant": "torchvision"}, m.alexnet),
        "vgg11": ({"kind": "vgg", "config": "A"}, m.vgg11),
        "vgg16_bn": ({"kind": "vgg", "config": "D", "batch_norm": True}, m.vgg16_bn),
        "resnet18": ({"kind": "resnet", "depth": 18}, m.resnet18),
        "resnet34": ({"kind": "resnet", "depth": 34}, m.resnet34),
        "resnet50": ({"kind": "resnet", "depth": 50}, m.resnet50),
        "resnet101": ({"kind": "resnet", "depth": 101}, m.resnet101),
        "resnet152": ({"kind": "resnet", "depth": 152}, m.resnet152),
        "resnext50_32x4d": ({"kind": "resnet", "depth": 50, "groups": 32, "width_per_group": 4}, m.resnext50_32x4d),
    }
    out = {}
    for name, (model, make) in models.items():
        model = dict(model, classes=1000)
        net = make()
        state = [[k, list(v.shape)] for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")]
        count = sum(p.numel() for p in net.parameters())
        out[name] = {"model": model, "parameters": count, "state": state}
    (OUT / "torchvision-names.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")


def main(argv):
    if "--list" in argv:
        print("\n".join(CASES))
        return
    torch.set_num_threads(1)
    names = [a for a in argv if not a.startswith("-")] or list(CASES)
    for n in names:
        if n == "names":
            continue
        CASES[n]()
    if not [a for a in argv if not a.startswith("-")] or "names" in argv:
        torchvision_names()


if __name__ == "__main__":
    main(sys.argv[1:])

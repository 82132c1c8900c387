#!/usr/bin/python3
"""Generate the PyTorch parity fixtures for Strata's test suite.

Run from anywhere, with Debian's interpreter (the one that has python3-torch):

    /usr/bin/python3 scripts/make_fixtures.py            # (re)write every fixture
    /usr/bin/python3 scripts/make_fixtures.py --check    # exit 1 if any file would change
    /usr/bin/python3 scripts/make_fixtures.py --list     # print the case names

It writes one JSON file per case to Tests/StrataCoreTests/Fixtures/parity/<case>.json:

    {"case": "<name>", "op": "<op kind>", "config": {...},
     "tensors": {"<name>": {"shape": [..], "data": [flat row-major floats]}}}

Every number in "data" is a float32 value written as the shortest decimal that
reads back as the same float64 (Python's repr of float(x)), so parsing it as a
Double and narrowing to Float gives back the exact float32 PyTorch computed.

Layer cases hold the input `x`, the parameters (`weight`, `bias`; for batch
norm also `running_mean`, `running_var`) as they were BEFORE the call, the
output `y`, a random upstream gradient `dy` (same shape as `y`), and the
gradients of sum(y * dy): `dx`, `dweight`, `dbias`. Batch norm in training
mode adds `running_mean_after` and `running_var_after`.
Loss cases hold `logits` (cross entropy) or `input` (nll, mse), `target`
(class indices stored as floats for cross entropy and nll), `loss` (shape [1])
and `dinput`, the gradient of the loss with respect to the logits or input.
Optimizer cases hold `param_0` (initial), `grad_1`..`grad_3` (the gradient set
before each step) and `param_1`..`param_3` (the parameter after each step);
the RMSprop cases run five steps (`grad_1`..`grad_5`, `param_1`..`param_5`).
Grouped optimizer cases (`*_groups`) run four steps on two parameters in two
parameter groups (config `a_lr_mult`, `a_weight_decay`, `b_lr_mult`, `b_weight_decay`): `a_0`,
`b_0`, then `grad_a_i`, `grad_b_i`, `a_i`, `b_i` for each step i.

Everything is float32 and computed on one CPU thread. Each case seeds torch
from a CRC32 of its own name, so adding a case does not change the others,
and rerunning the script reproduces the files byte for byte on the same
PyTorch build (written with python3-torch 1.13, Debian bookworm).
See docs/fixtures.md for how to add a case.
"""

import argparse
import json
import math
import sys
import zlib
from pathlib import Path

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - a wrong interpreter is the usual cause
    sys.exit("make_fixtures.py needs PyTorch: run it with /usr/bin/python3 "
             "(Debian's python3-torch), not another python3 on PATH")

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "Tests" / "StrataCoreTests" / "Fixtures" / "parity"

CASES = {}  # name -> function returning (op, config, tensors)


def case(name):
    """Register a generator function under a case name."""
    def register(fn):
        CASES[name] = fn
        return fn
    return register


# --------------------------------------------------------------------------
# helpers


def seed_for(name):
    torch.manual_seed(zlib.crc32(name.encode("utf-8")))


def distinct(*shape, low=-2.0, high=2.0):
    """Values with no two equal (a shuffled evenly spaced grid plus a small
    jitter), so max pooling has no ties and its gradient is unambiguous."""
    n = math.prod(shape)
    step = (high - low) / n
    grid = torch.randperm(n).to(torch.float32) * step + low
    jitter = torch.rand(n) * (0.25 * step)
    return (grid + jitter).reshape(shape)


def away_from_zero(*shape, margin=0.1):
    """Normal values pushed at least `margin` away from 0 (for relu)."""
    x = torch.randn(*shape)
    return torch.sign(x) * (x.abs() + margin)


def layer_grads(y, leaves):
    """Draw dy ~ N(0,1), backpropagate sum(y * dy), return dy and leaf grads."""
    dy = torch.randn(y.shape)
    (y * dy).sum().backward()
    return dy, [leaf.grad.detach().clone() for leaf in leaves]


def leaf(t):
    return t.detach().clone().requires_grad_(True)


# --------------------------------------------------------------------------
# linear and convolution


@case("linear")
def linear():
    n, fin, fout = 4, 7, 5
    x = leaf(torch.randn(n, fin))
    bound = 1.0 / math.sqrt(fin)
    w = leaf(torch.empty(fout, fin).uniform_(-bound, bound))
    b = leaf(torch.empty(fout).uniform_(-bound, bound))
    y = F.linear(x, w, b)
    dy, (dx, dw, db) = layer_grads(y, [x, w, b])
    config = {"in_features": fin, "out_features": fout, "bias": True}
    return "linear", config, dict(x=x, weight=w, bias=b, y=y, dy=dy,
                                  dx=dx, dweight=dw, dbias=db)


def conv2d_case(n, cin, h, w, cout, k, stride=1, padding=0, groups=1, bias=True,
                dilation=1):
    x = leaf(torch.randn(n, cin, h, w))
    fan_in = (cin // groups) * k * k
    bound = 1.0 / math.sqrt(fan_in)
    weight = leaf(torch.empty(cout, cin // groups, k, k).uniform_(-bound, bound))
    b = leaf(torch.empty(cout).uniform_(-bound, bound)) if bias else None
    y = F.conv2d(x, weight, b, stride=stride, padding=padding, groups=groups,
                 dilation=dilation)
    leaves = [x, weight] + ([b] if bias else [])
    dy, grads = layer_grads(y, leaves)
    tensors = dict(x=x, weight=weight)
    if bias:
        tensors["bias"] = b
    tensors.update(y=y, dy=dy, dx=grads[0], dweight=grads[1])
    if bias:
        tensors["dbias"] = grads[2]
    config = {"in_channels": cin, "out_channels": cout, "kernel_size": k,
              "stride": stride, "padding": padding, "groups": groups,
              "bias": bias}
    if dilation != 1:
        config["dilation"] = dilation
    return "conv2d", config, tensors


@case("conv2d_basic")
def conv2d_basic():
    return conv2d_case(2, 3, 6, 6, 4, 3, stride=1, padding=1)


@case("conv2d_stride2_nobias")
def conv2d_stride2_nobias():
    return conv2d_case(2, 3, 7, 7, 4, 3, stride=2, padding=1, bias=False)


@case("conv2d_k5_pad2")
def conv2d_k5_pad2():
    return conv2d_case(2, 1, 8, 8, 3, 5, stride=1, padding=2)


@case("conv2d_groups")
def conv2d_groups():
    return conv2d_case(2, 4, 5, 5, 6, 3, stride=1, padding=1, groups=2)


@case("conv2d_depthwise")
def conv2d_depthwise():
    return conv2d_case(2, 3, 5, 5, 3, 3, stride=2, padding=1, groups=3)


@case("conv2d_1x1")
def conv2d_1x1():
    return conv2d_case(2, 4, 4, 4, 5, 1)


@case("conv2d_depthwise_dilated")
def conv2d_depthwise_dilated():
    # the direct depthwise kernel with stride 1, dilation and a wide output
    return conv2d_case(2, 4, 12, 12, 4, 3, stride=1, padding=2, groups=4, dilation=2)


@case("conv2d_dilated")
def conv2d_dilated():
    return conv2d_case(2, 3, 9, 9, 4, 3, stride=1, padding=2, dilation=2)


@case("conv2d_dilated_stride2_narrow")
def conv2d_dilated_stride2_narrow():
    # 5x5 output: the gather path of narrow outputs
    return conv2d_case(2, 2, 10, 10, 3, 3, stride=2, padding=3, dilation=3)


# --------------------------------------------------------------------------
# pooling


def pool_case(op, shape, k, stride, padding, ceil_mode=False,
              count_include_pad=True):
    x = leaf(distinct(*shape))
    if op == "maxpool2d":
        y = F.max_pool2d(x, k, stride=stride, padding=padding,
                         ceil_mode=ceil_mode)
        config = {"kernel_size": k, "stride": stride, "padding": padding}
    else:
        y = F.avg_pool2d(x, k, stride=stride, padding=padding,
                         ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad)
        config = {"kernel_size": k, "stride": stride, "padding": padding,
                  "count_include_pad": count_include_pad}
    if ceil_mode:
        config["ceil_mode"] = True
    dy, (dx,) = layer_grads(y, [x])
    return op, config, dict(x=x, y=y, dy=dy, dx=dx)


@case("maxpool2d_k2s2")
def maxpool2d_k2s2():
    return pool_case("maxpool2d", (2, 3, 6, 6), 2, 2, 0)


@case("maxpool2d_k3s2p1")
def maxpool2d_k3s2p1():
    return pool_case("maxpool2d", (2, 2, 7, 7), 3, 2, 1)


@case("avgpool2d_k2s2")
def avgpool2d_k2s2():
    return pool_case("avgpool2d", (2, 3, 6, 6), 2, 2, 0)


@case("avgpool2d_k3s1p1")
def avgpool2d_k3s1p1():
    return pool_case("avgpool2d", (2, 3, 6, 6), 3, 1, 1)


@case("maxpool2d_k3s2_ceil")
def maxpool2d_k3s2_ceil():
    return pool_case("maxpool2d", (2, 2, 8, 8), 3, 2, 0, ceil_mode=True)


@case("avgpool2d_k3s2p1_ceil_exclude")
def avgpool2d_k3s2p1_ceil_exclude():
    return pool_case("avgpool2d", (2, 2, 8, 8), 3, 2, 1, ceil_mode=True,
                     count_include_pad=False)


@case("avgpool2d_k3s2_ceil_include")
def avgpool2d_k3s2_ceil_include():
    return pool_case("avgpool2d", (2, 2, 8, 8), 3, 2, 1, ceil_mode=True,
                     count_include_pad=True)


@case("avgpool2d_k2s2p1_exclude")
def avgpool2d_k2s2p1_exclude():
    return pool_case("avgpool2d", (2, 2, 7, 7), 2, 2, 1, count_include_pad=False)


def adaptive_sized_case(op, size):
    x = leaf(distinct(2, 3, 7, 5))
    if op == "adaptive_maxpool2d":
        y = F.adaptive_max_pool2d(x, size)
    else:
        y = F.adaptive_avg_pool2d(x, size)
    dy, (dx,) = layer_grads(y, [x])
    return op, {"output_height": size[0], "output_width": size[1]}, dict(
        x=x, y=y, dy=dy, dx=dx)


@case("adaptive_maxpool2d_3x2")
def adaptive_maxpool2d_3x2():
    return adaptive_sized_case("adaptive_maxpool2d", (3, 2))


@case("adaptive_avgpool2d_3x2")
def adaptive_avgpool2d_3x2():
    return adaptive_sized_case("adaptive_avgpool2d", (3, 2))


@case("adaptive_avgpool2d_upsample")
def adaptive_avgpool2d_upsample():
    # more outputs than inputs along the width: overlapping one-column windows
    return adaptive_sized_case("adaptive_avgpool2d", (4, 7))


def adaptive_global_case(op):
    x = leaf(distinct(2, 3, 5, 5))
    if op == "adaptive_maxpool2d":
        y = F.adaptive_max_pool2d(x, 1)
    else:
        y = F.adaptive_avg_pool2d(x, 1)
    dy, (dx,) = layer_grads(y, [x])
    return op, {"output_size": 1}, dict(x=x, y=y, dy=dy, dx=dx)


@case("adaptive_maxpool2d_global")
def adaptive_maxpool2d_global():
    return adaptive_global_case("adaptive_maxpool2d")


@case("adaptive_avgpool2d_global")
def adaptive_avgpool2d_global():
    return adaptive_global_case("adaptive_avgpool2d")


# --------------------------------------------------------------------------
# activations


def activation_case(op, fn, x):
    x = leaf(x)
    y = fn(x)
    dy, (dx,) = layer_grads(y, [x])
    return op, {}, dict(x=x, y=y, dy=dy, dx=dx)


@case("relu")
def relu():
    return activation_case("relu", F.relu, away_from_zero(2, 3, 4, 4))


@case("sigmoid")
def sigmoid():
    return activation_case("sigmoid", torch.sigmoid, 2.0 * torch.randn(2, 3, 4, 4))


@case("tanh")
def tanh():
    return activation_case("tanh", torch.tanh, 1.5 * torch.randn(2, 3, 4, 4))


def off_kinks(x, kinks, margin=0.05):
    """x with every value moved at least `margin` away from each kink."""
    for k in kinks:
        near = (x - k).abs() < margin
        x = torch.where(near, x + 2 * margin, x)
    return x


@case("relu6")
def relu6():
    return activation_case("relu6", F.relu6,
                           off_kinks(4.0 * torch.randn(2, 3, 4, 4), [0.0, 6.0]))


@case("hardswish")
def hardswish():
    return activation_case("hardswish", F.hardswish,
                           off_kinks(3.0 * torch.randn(2, 3, 4, 4), [-3.0, 3.0]))


@case("softmax")
def softmax():
    return activation_case("softmax", lambda x: F.softmax(x, dim=1),
                           2.0 * torch.randn(3, 7))


@case("softmax_channels")
def softmax_channels():
    return activation_case("softmax", lambda x: F.softmax(x, dim=1),
                           2.0 * torch.randn(2, 4, 3, 3))


@case("local_response_norm")
def local_response_norm():
    # AlexNet's settings (size 5, alpha 1e-4, beta 0.75, k 2) on larger activations, so the
    # normalisation is far from the identity
    x = leaf(10.0 * torch.randn(2, 7, 3, 3))
    y = F.local_response_norm(x, 5, alpha=1e-2, beta=0.75, k=2.0)
    dy, (dx,) = layer_grads(y, [x])
    return "local_response_norm", {"size": 5, "alpha": 1e-2, "beta": 0.75, "k": 2.0}, dict(
        x=x, y=y, dy=dy, dx=dx)


@case("local_response_norm_even")
def local_response_norm_even():
    x = leaf(3.0 * torch.randn(2, 6, 2, 2))
    y = F.local_response_norm(x, 4, alpha=0.5, beta=0.6, k=1.0)
    dy, (dx,) = layer_grads(y, [x])
    return "local_response_norm", {"size": 4, "alpha": 0.5, "beta": 0.6, "k": 1.0}, dict(
        x=x, y=y, dy=dy, dx=dx)


# --------------------------------------------------------------------------
# batch norm (momentum 0.1, eps 1e-5; PyTorch updates running_var with the
# unbiased batch variance, normalises with the biased one)


def batchnorm_case(op, shape, training):
    c = shape[1]
    stat_shape = [1, c] + [1] * (len(shape) - 2)
    offset = 0.5 * torch.randn(stat_shape)
    scale = 0.5 + torch.rand(stat_shape)
    x = leaf(torch.randn(shape) * scale + offset)
    weight = leaf(1.0 + 0.3 * torch.randn(c))
    bias = leaf(0.5 * torch.randn(c))
    running_mean = 0.2 * torch.randn(c)
    running_var = 0.5 + torch.rand(c)
    rm, rv = running_mean.clone(), running_var.clone()
    y = F.batch_norm(x, rm, rv, weight, bias, training=training,
                     momentum=0.1, eps=1e-5)
    dy, (dx, dw, db) = layer_grads(y, [x, weight, bias])
    tensors = dict(x=x, weight=weight, bias=bias, running_mean=running_mean,
                   running_var=running_var, y=y, dy=dy, dx=dx, dweight=dw,
                   dbias=db)
    if training:
        tensors.update(running_mean_after=rm, running_var_after=rv)
    config = {"num_features": c, "eps": 1e-5, "momentum": 0.1, "affine": True,
              "training": training}
    return op, config, tensors


@case("batchnorm2d_train")
def batchnorm2d_train():
    return batchnorm_case("batchnorm2d", (4, 3, 5, 5), training=True)


@case("batchnorm2d_eval")
def batchnorm2d_eval():
    return batchnorm_case("batchnorm2d", (4, 3, 5, 5), training=False)


@case("batchnorm1d_train")
def batchnorm1d_train():
    return batchnorm_case("batchnorm1d", (8, 5), training=True)


# --------------------------------------------------------------------------
# losses (mean reduction)


@case("cross_entropy")
def cross_entropy():
    n, classes = 6, 10
    logits = torch.randn(n, classes) * 2.0
    logits[3] = 80.0 + 20.0 * torch.rand(classes)  # large logits: stability
    target = torch.randint(0, classes, (n,))
    target[3] = int(torch.argmin(logits[3]))         # and a large loss there
    logits = leaf(logits)
    loss = F.cross_entropy(logits, target, reduction="mean")
    loss.backward()
    return "cross_entropy", {"reduction": "mean"}, dict(
        logits=logits, target=target.to(torch.float32), loss=loss.reshape(1),
        dinput=logits.grad)


@case("nll")
def nll():
    n, classes = 6, 10
    x = leaf(F.log_softmax(torch.randn(n, classes) * 2.0, dim=1))
    target = torch.randint(0, classes, (n,))
    loss = F.nll_loss(x, target, reduction="mean")
    loss.backward()
    return "nll", {"reduction": "mean"}, dict(
        input=x, target=target.to(torch.float32), loss=loss.reshape(1),
        dinput=x.grad)


@case("mse")
def mse():
    x = leaf(torch.randn(4, 3))
    target = torch.randn(4, 3)
    loss = F.mse_loss(x, target, reduction="mean")
    loss.backward()
    return "mse", {"reduction": "mean"}, dict(
        input=x, target=target, loss=loss.reshape(1), dinput=x.grad)


# --------------------------------------------------------------------------
# optimizers: three steps on one 12-element parameter with fixed gradients


def optimizer_case(op, make, config, steps=3):
    p = torch.nn.Parameter(torch.randn(12))
    grads = [torch.randn(12) for _ in range(steps)]
    opt = make([p])
    tensors = {"param_0": p.detach().clone()}
    for i, g in enumerate(grads, start=1):
        opt.zero_grad()
        p.grad = g.clone()
        opt.step()
        tensors[f"grad_{i}"] = g
        tensors[f"param_{i}"] = p.detach().clone()
    return op, config, tensors


def sgd_case(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    config = {"lr": lr, "momentum": momentum, "dampening": dampening,
              "weight_decay": weight_decay, "nesterov": nesterov}
    return optimizer_case("sgd", lambda ps: torch.optim.SGD(
        ps, lr=lr, momentum=momentum, dampening=dampening,
        weight_decay=weight_decay, nesterov=nesterov), config)


def adam_case(op, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    config = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
              "weight_decay": weight_decay}
    cls = torch.optim.AdamW if op == "adamw" else torch.optim.Adam
    return optimizer_case(op, lambda ps: cls(
        ps, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
        amsgrad=False), config)


@case("sgd_plain")
def sgd_plain():
    return sgd_case(lr=0.1)


@case("sgd_momentum")
def sgd_momentum():
    return sgd_case(lr=0.1, momentum=0.9, weight_decay=1e-2)


@case("sgd_nesterov")
def sgd_nesterov():
    return sgd_case(lr=0.1, momentum=0.9, dampening=0.0, nesterov=True)


@case("adam_default")
def adam_default():
    return adam_case("adam", lr=1e-3, weight_decay=0.0)


@case("adam_wd")
def adam_wd():
    return adam_case("adam", lr=1e-2, weight_decay=0.1)


@case("adamw")
def adamw():
    return adam_case("adamw", lr=1e-2, weight_decay=0.1)


def rmsprop_case(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """torch.optim.RMSprop over five steps; checked against the c-optimizers plugin."""
    config = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
              "momentum": momentum, "centered": centered}
    return optimizer_case("rmsprop", lambda ps: torch.optim.RMSprop(
        ps, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
        momentum=momentum, centered=centered), config, steps=5)


@case("rmsprop_plain")
def rmsprop_plain():
    return rmsprop_case(lr=1e-2)


@case("rmsprop_centered_momentum")
def rmsprop_centered_momentum():
    return rmsprop_case(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.9, centered=True)


@case("rmsprop_momentum")
def rmsprop_momentum():
    return rmsprop_case(lr=3e-3, alpha=0.95, eps=1e-4, momentum=0.5)


# --------------------------------------------------------------------------
# optimizers with parameter groups: four steps on two parameters, `a` (12 elements) in a
# group with the base rate and `b` (6 elements) in a group with lr * lr_mult and its own
# weight decay. Tensors: a_0, b_0, then grad_a_i, grad_b_i, a_i, b_i for each step i.


def grouped_case(op, make, config, groups, steps=4):
    a = torch.nn.Parameter(torch.randn(12))
    b = torch.nn.Parameter(torch.randn(6))
    grads = [(torch.randn(12), torch.randn(6)) for _ in range(steps)]
    lr = config["lr"]
    opt = make([{"params": [a], "lr": lr * groups[0]["lr_mult"], "weight_decay": groups[0]["weight_decay"]},
                {"params": [b], "lr": lr * groups[1]["lr_mult"], "weight_decay": groups[1]["weight_decay"]}])
    tensors = {"a_0": a.detach().clone(), "b_0": b.detach().clone()}
    for i, (ga, gb) in enumerate(grads, start=1):
        opt.zero_grad()
        a.grad = ga.clone()
        b.grad = gb.clone()
        opt.step()
        tensors[f"grad_a_{i}"] = ga
        tensors[f"grad_b_{i}"] = gb
        tensors[f"a_{i}"] = a.detach().clone()
        tensors[f"b_{i}"] = b.detach().clone()
    flat = {f"{name}_{key}": g[key] for name, g in zip("ab", groups) for key in ("lr_mult", "weight_decay")}
    return op, dict(config, steps=steps, **flat), tensors


GROUPS = [{"lr_mult": 1.0, "weight_decay": 0.01}, {"lr_mult": 0.1, "weight_decay": 0.0}]


@case("adam_amsgrad_groups")
def adam_amsgrad_groups():
    config = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "amsgrad": True}
    return grouped_case("adam", lambda gs: torch.optim.Adam(
        gs, lr=config["lr"], betas=(0.9, 0.99), eps=1e-8, amsgrad=True), config, GROUPS)


@case("adamw_amsgrad_groups")
def adamw_amsgrad_groups():
    config = {"lr": 1e-2, "beta1": 0.8, "beta2": 0.999, "eps": 1e-6, "amsgrad": True}
    return grouped_case("adamw", lambda gs: torch.optim.AdamW(
        gs, lr=config["lr"], betas=(0.8, 0.999), eps=1e-6, amsgrad=True), config,
        [{"lr_mult": 1.0, "weight_decay": 0.1}, {"lr_mult": 0.5, "weight_decay": 0.0}])


@case("sgd_groups")
def sgd_groups():
    config = {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": True}
    return grouped_case("sgd", lambda gs: torch.optim.SGD(
        gs, lr=0.1, momentum=0.9, nesterov=True), config, GROUPS)


@case("rmsprop_groups")
def rmsprop_groups():
    config = {"lr": 1e-2, "alpha": 0.9, "eps": 1e-6, "momentum": 0.5, "centered": True}
    return grouped_case("rmsprop", lambda gs: torch.optim.RMSprop(
        gs, lr=1e-2, alpha=0.9, eps=1e-6, momentum=0.5, centered=True), config, GROUPS)


# --------------------------------------------------------------------------
# output


def tensor_json(name, t):
    t = t.detach().to(torch.float32).contiguous()
    data = [float(v) for v in t.reshape(-1).tolist()]
    for i, v in enumerate(data):
        if not math.isfinite(v):
            raise ValueError(f"tensor {name!r} has a non-finite value at {i}")
    return ('{"shape": ' + json.dumps(list(t.shape)) +
            ', "data": ' + json.dumps(data, allow_nan=False) + '}')


def render(name):
    seed_for(name)
    op, config, tensors = CASES[name]()
    lines = ["{",
             f'  "case": {json.dumps(name)},',
             f'  "op": {json.dumps(op)},',
             f'  "config": {json.dumps(config, allow_nan=False)},',
             '  "tensors": {']
    items = list(tensors.items())
    for i, (tname, t) in enumerate(items):
        comma = "," if i + 1 < len(items) else ""
        lines.append(f"    {json.dumps(tname)}: {tensor_json(tname, t)}{comma}")
    lines += ["  }", "}", ""]
    text = "\n".join(lines)
    json.loads(text)  # the file must be valid JSON
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR,
                        help="output folder (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if any file differs")
    parser.add_argument("--list", action="store_true", help="print case names")
    parser.add_argument("cases", nargs="*", help="only these cases (default: all)")
    args = parser.parse_args()

    if args.list:
        print("\n".join(CASES))
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")

    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    stale = []
    if not args.check:
        args.out.mkdir(parents=True, exist_ok=True)
    for name in args.cases or CASES:
        text = render(name)
        path = args.out / f"{name}.json"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.write_text(text, encoding="utf-8")
    if args.check:
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        return 1 if stale else 0
    total = sum((args.out / f"{n}.json").stat().st_size for n in CASES
                if (args.out / f"{n}.json").exists())
    print(f"wrote {len(args.cases or CASES)} fixture(s) to {args.out} "
          f"({total} bytes in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

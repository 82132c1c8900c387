#!/usr/bin/python3
"""BoostResNet's reference training loop (docs/boostresnet.md §1, §3, §6) in current PyTorch, on
the CPU, as a peer to Strata's `boostresnet` scheme.

It runs the loop the reference code runs, on the network `cifar_resnet` builds (same graph,
same split: the stem, then one module per residual block with the ReLU before it), on
Fashion-MNIST (the first --train-limit / --test-limit examples, normalised with mean 0.286 and
std 0.353, 28x28 grown to 32x32 by the stem's padding 3):

- one round per module; the shared head (the network's own head with the later stride-2
  blocks in front of it), Softmax(dim=0) over the batch, loss exp(CrossEntropy(outputs)),
  every gradient element clamped to +-0.1, a fresh Adam(lr) per round;
- frozen modules recomputed for every batch from the raw images, in training mode (their
  BatchNorm statistics drift), as the reference does; the reference also back-propagates into
  them, computing gradients no optimizer reads: that changes no number and costs a backward pass
  through every frozen module, so it is off unless --frozen-grad asks for it;
- per step, a second forward for the running training accuracy and one test batch through all
  modules (the reference's logging passes, run without autograd since nothing differentiates
  them; --no-logging-passes drops them);
- batches of --batch indices drawn with replacement from 1..n-1 (np.random.random_integers(n-1));
- after the chunk: gamma rule "edge" (cost matrix from s, gamma-tilde = -sum(o*cost)/Z, signed
  gamma, alpha = atanh(gamma-tilde), s += alpha*o - 0) or "accuracy" (gamma = (a - a_prev)/(1 - a)
  from the training accuracy, s += log(o) when gamma >= threshold), gamma_first 0.5;
- evaluation over contiguous batches of the training set (the trailing n mod B examples kept,
  unlike the reference, so both sides score the same examples), the ensemble's test accuracy
  from s_test updated by the same rule.

Threads: --threads (default 2) sets torch's intra-op threads, one inter-op thread, and
OMP_NUM_THREADS before torch is imported (unset, OpenMP may start one thread per core whatever
torch.set_num_threads says later) and OMP_WAIT_POLICY=PASSIVE (OpenMP threads that spin while they
wait burn a shared machine's cores: on a loaded machine this halves the CPU time of a convolution).

Prints one JSON line per round (round, gamma_tilde, gamma, alpha, train_acc_module, test_acc,
iterations, train_seconds, examples_per_s, seconds) and a final line with the total time, the
gradient updates, the examples of each split and the threads torch used.
Run: /usr/bin/python3 bench/peers/boostresnet_reference.py --iters 20 --train-limit 2000
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time


def _threads_from_argv(default=2):
    """--threads N from the command line, read before torch is imported (see the docstring)."""
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return str(default)


os.environ.setdefault("OMP_NUM_THREADS", _threads_from_argv())
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion(directory, split, limit):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(f"{directory}/{prefix}-images-idx3-ubyte.gz")[:limit].astype(np.float32) / 255.0
    y = read_idx(f"{directory}/{prefix}-labels-idx1-ubyte.gz")[:limit].astype(np.int64)
    x = (x - 0.286) / 0.353
    return torch.from_numpy(x[:, None, :, :].copy()), y


class Residual(nn.Module):
    """body(x) + shortcut(x), as Strata's `residual` (the ReLU after the sum is the next sibling)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


def cifar_resnet_modules(depth, width, classes, stem_padding):
    """The modules of the split: [stem, (relu,) block 0, ..., (relu,) block 3n-1] and the head."""
    n = (depth - 2) // 6
    modules = [nn.Sequential(nn.Conv2d(1, width, 3, 1, stem_padding, bias=False), nn.BatchNorm2d(width), nn.ReLU())]
    first_of_stage = []
    cin = width
    for stage in range(3):
        cout = width << stage
        for b in range(n):
            stride = 2 if stage > 0 and b == 0 else 1
            block = Residual(cin, cout, stride)
            if stage > 0 and b == 0:
                first_of_stage.append(len(modules))
            modules.append(block if len(modules) == 1 else nn.Sequential(nn.ReLU(), block))
            cin = cout
    head = nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes))
    return modules, head, first_of_stage


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--iters", type=int, default=10000, help="steps per module (checkEvery = maxIters)")
    p.add_argument("--rounds", type=int, default=0, help="0: every module")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--gamma-rule", choices=["edge", "accuracy"], default="edge")
    p.add_argument("--gamma-first", type=float, default=0.5)
    p.add_argument("--gamma-thresh", type=float, default=-0.0001)
    p.add_argument("--train-limit", type=int, default=60000)
    p.add_argument("--test-limit", type=int, default=10000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-logging-passes", action="store_true")
    p.add_argument("--frozen-grad", action="store_true",
                   help="back-propagate into the frozen modules as the reference does (no number changes)")
    p.add_argument("--profile", action="store_true", help="per round: seconds in frozen forward, module "
                   "forward+backward, logging passes, optimizer, evaluation (one more JSON field)")
    opt = p.parse_args()
    torch.set_num_threads(opt.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(opt.seed)
    np.random.seed(opt.seed)
    start_all = time.time()

    xtr, ytr = fashion(opt.data, "train", opt.train_limit)
    xte, yte = fashion(opt.data, "test", opt.test_limit)
    ntr, nte, K, B = len(ytr), len(yte), 10, opt.batch
    blocks, head, first_of_stage = cifar_resnet_modules(opt.depth, opt.width, K, 3)
    rounds = opt.rounds or len(blocks)
    criterion = nn.CrossEntropyLoss()

    def through(n, x):
        for i in range(n):
            x = blocks[i](x)
        return x

    def performance(net, X, Y, n):
        """Module accuracy and outputs over contiguous batches (evaluation mode)."""
        for m in blocks + [head]:
            m.eval()
        out = np.zeros((len(Y), K))
        with torch.no_grad():
            for lo in range(0, len(Y), B):
                out[lo:lo + B] = net(through(n, X[lo:lo + B])).numpy()
        for m in blocks + [head]:
            m.train()
        return float(np.mean(out.argmax(1) == Y)), out

    s = np.zeros((ntr, K))
    s_test = np.zeros((nte, K))
    gamma_previous = opt.gamma_first
    a_previous = 0.0
    for n in range(rounds):
        round_start = time.time()
        # cost matrix and Z from s (vectorised; the reference loops in Python)
        diff = s - s[np.arange(ntr), ytr][:, None]
        cost = np.exp(diff)
        cost[np.arange(ntr), ytr] = 0
        Z = cost.sum()
        cost[np.arange(ntr), ytr] = -cost.sum(1)
        ci = head
        for j in reversed(first_of_stage):
            if n < j:
                ci = nn.Sequential(blocks[j], ci)
        model_tmp = nn.Sequential(blocks[n], ci, nn.Softmax(dim=0))
        optimizer = torch.optim.Adam(model_tmp.parameters(), lr=opt.lr)
        train_seconds = 0.0
        parts = {"frozen": 0.0, "module": 0.0, "logging": 0.0, "step": 0.0, "eval": 0.0}
        for step in range(opt.iters):
            t0 = time.time()
            optimizer.zero_grad()
            ints = np.random.random_integers(ntr - 1, size=B)
            # [B, 1, 28, 28] -> input of module n; frozen modules in training mode (BatchNorm drifts)
            with torch.set_grad_enabled(opt.frozen_grad):
                data = through(n, xtr[ints])
            t1 = time.time()
            output = model_tmp(data)  # [B, K], softmax over the batch
            loss = torch.exp(criterion(output, torch.from_numpy(ytr[ints])))
            loss.backward()
            t2 = time.time()
            if not opt.no_logging_passes:
                with torch.no_grad():
                    output = model_tmp(data)
                    _ = np.mean(output.argmax(1).numpy() == ytr[ints])
                    for m in blocks + [head]:
                        m.eval()
                    ti = np.random.random_integers(nte - 1, size=B)
                    _ = model_tmp(through(n, xte[ti]))
                    for m in blocks + [head]:
                        m.train()
            t3 = time.time()
            for q in model_tmp.parameters():
                if q.grad is not None:
                    q.grad.data.clamp_(-.1, .1)
            optimizer.step()
            t4 = time.time()
            train_seconds += t4 - t0
            parts["frozen"] += t1 - t0
            parts["module"] += t2 - t1
            parts["logging"] += t3 - t2
            parts["step"] += t4 - t3
        t_eval = time.time()
        a_current, o = performance(model_tmp, xtr, ytr, n)
        gamma_tilde = -np.sum(o * cost) / Z
        if opt.gamma_rule == "edge":
            g2 = (gamma_tilde ** 2 - gamma_previous ** 2) / (1 - gamma_previous ** 2)
            gamma = math.sqrt(g2) if g2 > 0 else -math.sqrt(-g2)
            gt = min(max(gamma_tilde, -1 + 1e-12), 1 - 1e-12)
            alpha = 0.5 * math.log((1 + gt) / (1 - gt))
            s += o * alpha
            _, o_test = performance(model_tmp, xte, yte, n)
            s_test += o_test * alpha
            gamma_previous = gamma_tilde
        else:
            a = min(a_current, 1 - 1e-12)
            gamma = (a - a_previous) / (1 - a)
            a_previous = a_current
            alpha = 1.0 if gamma >= opt.gamma_thresh else 0.0
            _, o_test = performance(model_tmp, xte, yte, n)
            if alpha:
                s += np.log(np.maximum(o, np.finfo(float).tiny))
                s_test += np.log(np.maximum(o_test, np.finfo(float).tiny))
        parts["eval"] = time.time() - t_eval
        line = {"round": n, "gamma_tilde": gamma_tilde, "gamma": gamma, "alpha": alpha,
                          "train_acc_module": a_current, "train_acc": float(np.mean(s.argmax(1) == ytr)),
                "test_acc": float(np.mean(s_test.argmax(1) == yte)), "iterations": opt.iters,
                          "train_seconds": train_seconds,
                          "examples_per_s": opt.iters * B / train_seconds if train_seconds > 0 else None,
                          "seconds": time.time() - round_start}
        if opt.profile:
            line["profile_seconds"] = parts
        print(json.dumps(line), flush=True)
    print(json.dumps({"final": True, "rounds": rounds, "gradient_updates": rounds * opt.iters,
                      "train_examples": len(xtr), "test_examples": len(xte),
                      "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
                      "seconds": time.time() - start_all}), flush=True)


if __name__ == "__main__":
    main()

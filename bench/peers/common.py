"""The measurement protocol of `strata bench`, for a PyTorch model on the CPU.

Same data (Fashion-MNIST from the IDX gz files, pixels / 255, optionally normalised as the Strata
recipe does), same batch (256), same threads (torch.set_num_threads; OpenBLAS, which Debian's
torch calls for Linear layers, is kept at one thread by the caller with OPENBLAS_NUM_THREADS=1),
same timing rules:

  training   examples/s over --batches batches of the shuffled training set after --warmup
             batches (forward, loss, backward, optimiser step; evaluation excluded)
  inference  evaluation mode, no_grad, the 10 000 test images in batches of 256: median of
             --infer-passes passes after a warm-up pass
  peak RSS   the process's maximum resident set size (getrusage), data included

With --epochs E it instead trains E full epochs and prints the test accuracy after each.
The last line of output is one JSON object with the figures (read by `strata bench --peer`).
"""
import argparse
import gzip
import json
import os
import platform
import resource
import time

import numpy as np
import torch
from torch import nn

DEFAULT_DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx_gz(path):
    """An IDX file (big-endian header: magic with the rank in its low byte, then the dimensions)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = int.from_bytes(data[0:4], "big") & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion_mnist(data_dir, mean=None, std=None):
    """(x_train [60000,1,28,28], y_train, x_test [10000,1,28,28], y_test) as float32 / int64."""
    def images(name):
        x = read_idx_gz(os.path.join(data_dir, name)).astype(np.float32) / 255.0
        if mean is not None:
            x = (x - mean) / std
        return torch.from_numpy(x).reshape(-1, 1, 28, 28).contiguous()

    def labels(name):
        return torch.from_numpy(read_idx_gz(os.path.join(data_dir, name)).astype(np.int64))
    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--batches", type=int, default=100, help="timed training batches")
    p.add_argument("--warmup", type=int, default=5, help="training batches before the clock starts")
    p.add_argument("--infer-passes", type=int, default=3)
    p.add_argument("--epochs", type=int, default=0, help="train this many full epochs instead (accuracy run)")
    p.add_argument("--data", default=DEFAULT_DATA, help="folder with the Fashion-MNIST *-idx?-ubyte.gz files")
    return p.parse_args()


def setup(args):
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)


def batches(n, bs, generator):
    """Index batches of one shuffled epoch; the last, short batch is kept."""
    perm = torch.randperm(n, generator=generator)
    return [perm[i:i + bs] for i in range(0, n, bs)]


@torch.no_grad()
def evaluate(net, x, y, bs):
    net.eval()
    correct = 0
    for i in range(0, x.shape[0], bs):
        correct += (net(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return correct / x.shape[0]


def train_step(net, opt, loss_fn, xb, yb):
    out = net(xb)
    loss = loss_fn(out, yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def run(name, net, opt, args, mean=None, std=None):
    setup_info = {"model": name, "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "batch_size": args.batch_size, "seed": args.seed, "python": platform.python_version()}
    print("# " + json.dumps(setup_info), flush=True)
    xtr, ytr, xte, yte = load_fashion_mnist(args.data, mean, std)
    loss_fn = nn.CrossEntropyLoss()
    bs = args.batch_size
    g = torch.Generator().manual_seed(args.seed)
    final = dict(setup_info)

    if args.epochs > 0:
        for epoch in range(1, args.epochs + 1):
            net.train()
            t0 = time.perf_counter()
            for idx in batches(xtr.shape[0], bs, g):
                train_step(net, opt, loss_fn, xtr[idx], ytr[idx])
            seconds = time.perf_counter() - t0
            acc = evaluate(net, xte, yte, bs)
            print(f"epoch {epoch}: test_acc {acc:.4f}  {xtr.shape[0] / seconds:.0f} ex/s", flush=True)
        final["test_acc"] = acc

    # Training throughput: warm-up batches, then the timed ones, continuing through epochs.
    net.train()
    order = []
    while len(order) < args.warmup + args.batches:
        order += batches(xtr.shape[0], bs, g)
    for idx in order[:args.warmup]:
        train_step(net, opt, loss_fn, xtr[idx], ytr[idx])
    timed = order[args.warmup:args.warmup + args.batches]
    t0 = time.perf_counter()
    for idx in timed:
        train_step(net, opt, loss_fn, xtr[idx], ytr[idx])
    seconds = time.perf_counter() - t0
    final["train"] = sum(len(idx) for idx in timed) / seconds

    # Inference throughput: median of the passes after a warm-up pass.
    rates = []
    with torch.no_grad():
        net.eval()
        for p in range(args.infer_passes + 1):
            t0 = time.perf_counter()
            for i in range(0, xte.shape[0], bs):
                net(xte[i:i + bs])
            if p > 0:
                rates.append(xte.shape[0] / (time.perf_counter() - t0))
    final["infer"] = float(np.median(rates)) if rates else float("nan")
    final["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"training {final['train']:.0f} ex/s, inference {final['infer']:.0f} ex/s, "
          f"peak RSS {final['rss'] / 2**20:.0f} MiB", flush=True)
    print(json.dumps(final), flush=True)
    return final

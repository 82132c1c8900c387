#!/usr/bin/env python3
"""Export Fashion-MNIST to PNG files in torchvision's ImageFolder layout.

    python3 scripts/export_fashion_mnist_pngs.py [OUT] [--source DIR] [--train N] [--valid N]

writes OUT/train/<class>/<index>.png (the first N training images, default all 60000) and
OUT/valid/<class>/<index>.png (the first N test images, default all 10000), 28x28 grey. OUT
defaults to data/fashion-mnist-png; DIR to /usr/share/datasets/fashion-mnist (Debian's
dataset-fashion-mnist). Class folders are "<label>_<name>" so that sorting them keeps the
labels in order. Only the standard library is used (gzip, zlib, struct).
"""
import argparse
import gzip
import os
import struct
import zlib

CLASSES = ["0_t-shirt-top", "1_trouser", "2_pullover", "3_dress", "4_coat",
           "5_sandal", "6_shirt", "7_sneaker", "8_bag", "9_ankle-boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return dims, data[4 + 4 * rank:]


def png(width, height, pixels):
    """An 8-bit grey PNG of `pixels` (row-major bytes)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def export(source, prefix, out, limit):
    def find(name):
        path = os.path.join(source, name)
        return path if os.path.exists(path) else path[:-3]
    (count, h, w), images = read_idx(find(prefix + "-images-idx3-ubyte.gz"))
    _, labels = read_idx(find(prefix + "-labels-idx1-ubyte.gz"))
    n = count if limit is None else min(limit, count)
    for name in CLASSES:
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for i in range(n):
        path = os.path.join(out, CLASSES[labels[i]], "%05d.png" % i)
        with open(path, "wb") as f:
            f.write(png(w, h, images[i * h * w:(i + 1) * h * w]))
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", default="data/fashion-mnist-png")
    p.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--train", type=int, default=None)
    p.add_argument("--valid", type=int, default=None)
    a = p.parse_args()
    n = export(a.source, "train", os.path.join(a.out, "train"), a.train)
    m = export(a.source, "t10k", os.path.join(a.out, "valid"), a.valid)
    print("wrote %d training and %d validation images under %s" % (n, m, a.out))


if __name__ == "__main__":
    main()

#!/opt/strata-venv/bin/python
"""Check Strata's safetensors files against the official `safetensors` package.

    check_safetensors.py FILE.safetensors   load FILE with safetensors.torch.load_file and
                                            print every tensor's name, dtype and shape, then
                                            the file's __metadata__; exit 1 if it cannot be loaded
    check_safetensors.py --write PATH        write a small reference file with the official
                                            package: features.0.weight float32 [2, 3],
                                            features.0.bias float32 [2], metadata {"format": "pt"}

The committed reference file is Tests/StrataCoreTests/Fixtures/checkpoint/reference.safetensors,
made with:

    /opt/strata-venv/bin/python scripts/check_safetensors.py \
        --write Tests/StrataCoreTests/Fixtures/checkpoint/reference.safetensors

Its values are fixed (weight = [[0.5, -1.25, 2.0], [3.0, 0.0, -0.125]], bias = [0.25, -4.0]),
so tests can check them exactly, and rewriting it gives the same bytes.

Getting the package. Debian bookworm has no python3-safetensors, so it comes from PyPI, into a
virtual environment that still sees Debian's python3-torch and python3-numpy:

    apt-get install -y python3-venv python3-torch      # once, as root
    /usr/bin/python3 -m venv --system-site-packages /opt/strata-venv
    /opt/strata-venv/bin/pip install safetensors

then run this script with /opt/strata-venv/bin/python (the shebang line). Written with
safetensors 0.8.0 and torch 1.13 on Debian 12.
"""

import argparse
import sys
from pathlib import Path

try:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file
except ImportError as error:  # pragma: no cover - environment problem
    sys.exit(f"check_safetensors.py: {error}. Run it with /opt/strata-venv/bin/python "
             "(see the instructions at the top of this file).")

REFERENCE_METADATA = {"format": "pt"}


def reference_tensors():
    return {
        "features.0.weight": torch.tensor([[0.5, -1.25, 2.0], [3.0, 0.0, -0.125]],
                                          dtype=torch.float32),
        "features.0.bias": torch.tensor([0.25, -4.0], dtype=torch.float32),
    }


def write_reference(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(reference_tensors(), str(path), metadata=REFERENCE_METADATA)
    tensors = load_file(str(path))  # read back what was written
    for name, expected in reference_tensors().items():
        if not torch.equal(tensors[name], expected):
            raise ValueError(f"{name} did not read back as written")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def check(path):
    tensors = load_file(str(path))
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    for name in sorted(tensors):
        tensor = tensors[name]
        dtype = str(tensor.dtype).removeprefix("torch.")
        print(f"{name}\t{dtype}\t{list(tensor.shape)}")
    print(f"__metadata__\t{metadata}")
    print(f"{len(tensors)} tensor(s) loaded from {path}")


def main():
    parser = argparse.ArgumentParser(
        description="Load a .safetensors file with the official package, or write a reference one.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("file", nargs="?", help=".safetensors file to load and list")
    group.add_argument("--write", metavar="PATH", help="write the reference file to PATH")
    args = parser.parse_args()
    try:
        if args.write:
            write_reference(args.write)
        else:
            check(args.file)
    except Exception as error:  # the package raises several types; any of them is a failure
        print(f"check_safetensors.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

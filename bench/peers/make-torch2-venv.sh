#!/usr/bin/env bash
# Creates a virtual environment with the CPU build of PyTorch 2.13 (oneDNN, MKL) for the peer
# scripts, and prints its interpreter (pass it to `strata bench --peer --peer-python PATH`).
# The CPU wheel (about 200 MB) comes from PyTorch's CPU index; PyPI's default `torch` wheel pulls
# about 2.5 GB of CUDA libraries that a CPU run does not use.
# Usage: bench/peers/make-torch2-venv.sh [VENV]      (default: bench/peers/.torch2)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${1:-${VENV:-$HERE/.torch2}}
PY=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  "$VENV/bin/pip" install -q numpy 'torch==2.13.0+cpu' ||
    "$VENV/bin/pip" install -q numpy 'torch==2.13.0+cpu' --extra-index-url https://download.pytorch.org/whl/cpu
fi
"$VENV/bin/python" -c 'import torch; print("torch", torch.__version__, "oneDNN", torch.backends.mkldnn.is_available(), file=__import__("sys").stderr)'
echo "$VENV/bin/python"

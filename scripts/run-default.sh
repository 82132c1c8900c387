#!/usr/bin/env bash
# Installs what is missing, builds in release mode, and trains the default recipe
# (d2l LeNet on real Fashion-MNIST). Extra arguments go to `strata run`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
swift build -c release
exec .build/release/strata run examples/recipes/lenet-fashion.json "$@"

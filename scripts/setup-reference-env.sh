#!/usr/bin/env bash
# Sets up what the reference scripts need, as root on Debian 12: Debian's CPU PyTorch and
# torchvision (for scripts/make_zoo_fixtures.py and
# scripts/make_fixtures.py, run with /usr/bin/python3) and a virtual environment at
# /opt/strata-venv that adds the official `safetensors` package from PyPI (for
# scripts/check_safetensors.py). The test suite itself needs none of this.
set -euo pipefail
missing=()
for p in python3-venv python3-torch python3-torchvision; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -x /opt/strata-venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages /opt/strata-venv
/opt/strata-venv/bin/python -c 'import safetensors' 2>/dev/null || /opt/strata-venv/bin/pip install -q safetensors
echo "ready: /usr/bin/python3 scripts/make_fixtures.py; /opt/strata-venv/bin/python scripts/check_safetensors.py FILE"

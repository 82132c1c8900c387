#!/usr/bin/env bash
# Installs the system packages Strata builds and runs with (Debian/Ubuntu, as root), only
# when one is missing: OpenBLAS, oneDNN (libdnnl2, convolutions; opened with dlopen), libffi, json-c, zlib, libpng, libjpeg-turbo, pkg-config, Fashion-MNIST,
# and librsvg's rsvg-convert (the plot tests render every SVG plot to PNG with it).
set -euo pipefail
packages=(libopenblas-dev libdnnl2 libffi-dev libjson-c-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev pkg-config dataset-fashion-mnist librsvg2-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
  for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$d/swift" ] && export PATH="$d:$PATH"
  done
fi
command -v swift >/dev/null 2>&1 || { echo "strata: a Swift 6 toolchain is needed (swift not found on PATH)" >&2; exit 1; }

#!/usr/bin/env bash
# Installs Assay's build and test dependencies from Debian 12 packages (idempotent).
# CUDA is optional: when /usr/local/cuda/bin/nvcc exists the CUDA backends are built too.
# Usage: install-deps.sh [--with-test-tools]
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libhwloc-dev hwloc libpapi-dev papi-tools libbenchmark-dev libfmt-dev
  libsqlite3-dev sqlite3 catch2 libcli11-dev nlohmann-json3-dev clang-format
  libopenblas-dev libblis-dev libdnnl-dev libtomlplusplus-dev
)

# Tools only the tests need (README command 2 / CI): headless Chromium renders the HTML
# comparison report in a browser test.
if [ "${1:-}" = "--with-test-tools" ]; then
  PACKAGES+=(chromium)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

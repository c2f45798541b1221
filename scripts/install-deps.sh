#!/usr/bin/env bash
# Installs Assay's build and test dependencies from Debian 12 packages (idempotent).
# CUDA is optional: when /usr/local/cuda/bin/nvcc exists the CUDA backends are built too.
# Usage: install-deps.sh [--with-test-tools]
set -euo pipefail

# Everything is listed explicitly: apt runs with --no-install-recommends, so a package that a
# dependency only *Recommends* is not installed (scripts/test-fresh-debian.sh proves the list on a
# fresh minbase root; a hand-prepared machine hides what is missing).
PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  libhwloc-dev hwloc libpapi-dev papi-tools libbenchmark-dev libfmt-dev
  libsqlite3-dev sqlite3 catch2 libcli11-dev nlohmann-json3-dev clang-format
  libopenblas-dev libblis-dev libdnnl-dev libtomlplusplus-dev
  # The hardware-counter code links libpfm4's event encoder (perf_event attributes by name).
  libpfm4-dev
  # RE2: user-supplied patterns (--filter, spec selectors) match in linear time.
  libre2-dev
  # oneDNN's CMake config (dnnl-config.cmake) calls find_package(OpenCL REQUIRED), but
  # libdnnl-dev only Recommends the OpenCL loader: without it every configure fails.
  ocl-icd-opencl-dev
)

# Tools only the tests need (README command 2 / CI): headless Chromium renders the HTML
# comparison report in a browser test; python3 runs helpers in scripts/test-slurm.sh.
case "${1:-}" in
  --with-test-tools) PACKAGES+=(chromium python3) ;;
  "") ;;
  *) echo "install-deps: unknown argument '$1' (usage: install-deps.sh [--with-test-tools])" >&2; exit 2 ;;
esac

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

#!/usr/bin/env bash
# Cross-builds Assay for aarch64 (Debian's crossbuild-essential-arm64 + arm64 multiarch -dev
# packages) and runs the unit tests under qemu-user twice: SVE at 256-bit vectors
# (Graviton3-like) and at 128-bit (Graviton4/Grace-like). Called by scripts/test.sh on x86-64.
#
# usage: scripts/test-aarch64.sh [--install-only]
#   --install-only  install the cross packages and run the cmake configure of the cross build,
#                   then exit 0 (scripts/test-fresh-debian.sh proves the install step this way).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
install_only=0
case "${1:-}" in
  --install-only) install_only=1 ;;
  "") ;;
  *) echo "test-aarch64: unknown argument '$1' (usage: test-aarch64.sh [--install-only])" >&2; exit 2 ;;
esac

# libpfm4-dev and libre2-dev are Multi-Arch: same, so the arm64 ones install beside the amd64 ones.
ARM_PACKAGES=(crossbuild-essential-arm64 qemu-user
  libhwloc-dev:arm64 libpapi-dev:arm64 libbenchmark-dev:arm64 libfmt-dev:arm64 libsqlite3-dev:arm64
  libpfm4-dev:arm64 libre2-dev:arm64 libopenblas0:arm64 libblis4:arm64)
# OpenBLAS and BLIS are loaded at run time (dlopen), so the arm64 runtime libraries are enough for
# their verification tests under qemu. libdnnl-dev is not multi-arch co-installable with the
# amd64 one (dnnl_config.h differs), so the cross-build has no oneDNN and its entries are skipped
# with that reason; a native aarch64 build (Graviton, Grace) installs libdnnl-dev and has it.
missing=()
for p in "${ARM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "test-aarch64: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Optimised as users build it, without debug information: nobody debugs the qemu run, and -g
# costs a fifth of the cross-build's time on a 2-core CI machine.
cmake -S . -B build/aarch64 -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DASSAY_WERROR=ON >/dev/null
if [ "$install_only" -eq 1 ]; then
  echo "test-aarch64: packages installed and build/aarch64 configured (--install-only)"
  exit 0
fi
cmake --build build/aarch64 -j"$jobs"
# Every unit test at 256-bit SVE; at 128-bit the suites whose code paths depend on the vector
# length (kernels and ISA probes: CTest label unit_vector_length, which `-L unit` also selects). The others (store, reports,
# statistics, ...) would only repeat themselves.
for bits in 256 128; do
  label=unit
  [ "$bits" = 256 ] || label=vector_length
  echo "== aarch64 tests under qemu, SVE ${bits}-bit (CTest label $label)"
  ASSAY_SVE_BITS=$bits ctest --test-dir build/aarch64 -L "$label" -j"$jobs" --output-on-failure
  ASSAY_SVE_BITS=$bits scripts/qemu-aarch64.sh build/aarch64/app/assay probe --no-gpu \
    | grep -E 'architecture|ISA features|SVE'
done

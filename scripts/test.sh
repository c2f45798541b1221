#!/usr/bin/env bash
# README command (2) and CI: install dependencies, then build and pass every test in
#   - a fresh Debian 12 root running README command (1) (scripts/test-fresh-debian.sh, as root),
#   - the developer build (warnings are errors; CUDA parts compiled when nvcc is present), and
#   - the ASan+UBSan build (CPU-only: it also proves a build without CUDA passes everything),
# the Slurm fleet-campaign test (scripts/test-slurm.sh), the aarch64 cross-build under qemu
# (scripts/test-aarch64.sh), and check formatting against .clang-format.
# Prints the wall time of every stage at the end (also when a stage fails).
#
# Compiles go through ccache when it is installed (install-deps.sh installs it): a repeated run
# on the same machine rebuilds only what changed. ASSAY_CCACHE=0 measures a cold build.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

stage_names=()
stage_seconds=()
run_start=$SECONDS
minutes() { echo "$(($1 / 60)).$((($1 % 60) * 10 / 60))"; }
print_stage_times() {
  local rc=$?
  echo "== stage times (wall, $(nproc) cores)"
  local i total=$((SECONDS - run_start))
  for i in "${!stage_names[@]}"; do
    printf '   %-62s %5d s  (%s min)\n' "${stage_names[$i]}" "${stage_seconds[$i]}" \
      "$(minutes "${stage_seconds[$i]}")"
  done
  printf '   %-62s %5d s  (%s min)%s\n' "total" "$total" "$(minutes "$total")" \
    "$([ "$rc" -eq 0 ] || echo "  FAILED (exit $rc)")"
  if command -v ccache >/dev/null && [ "${ASSAY_CCACHE:-1}" != 0 ]; then
    ccache --show-stats 2>/dev/null | grep -Ei 'hits|misses' | sed 's/^/   ccache: /' || true
  fi
}
trap print_stage_times EXIT

# stage NAME COMMAND...: runs one stage and records its wall time.
stage() {
  local name=$1
  shift
  echo "== $name"
  local t0=$SECONDS
  "$@"
  stage_names+=("$name")
  stage_seconds+=($((SECONDS - t0)))
}

format_check() {
  mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' 2>/dev/null || true)
  if [ ${#sources[@]} -gt 0 ]; then
    clang-format --dry-run --Werror "${sources[@]}"
  fi
}

build_preset() {
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j"$jobs"
}

stage "install dependencies" ./scripts/install-deps.sh --with-test-tools

if command -v ccache >/dev/null && [ "${ASSAY_CCACHE:-1}" != 0 ]; then
  # CMake reads these for build trees it configures for the first time. BASEDIR and NOHASHDIR
  # let clean clones in other folders (CI) share the cache.
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CMAKE_CUDA_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-6G}"
  ccache --zero-stats >/dev/null
fi

stage "format check (.clang-format)" format_check
# README command (1) on a root nobody prepared. It builds its own release binary inside the
# root, without this script's ccache settings (the environment is reset there).
stage "fresh Debian 12 root: README command (1)" ./scripts/test-fresh-debian.sh

stage "build: dev" build_preset dev
stage "test: dev" ctest --preset dev -j"$jobs"
stage "fleet campaign on a real Slurm" ./scripts/test-slurm.sh build/dev/app/assay
stage "build: asan" build_preset asan
stage "test: asan" ctest --preset asan -j"$jobs"

if [ "$(uname -m)" = "x86_64" ]; then
  stage "aarch64: cross-build + unit tests under qemu (SVE 256, 128)" ./scripts/test-aarch64.sh
fi

#!/usr/bin/env bash
# README command (2) and CI: install dependencies, then build and pass every test in
#   - the developer build (warnings are errors; CUDA parts compiled when nvcc is present), and
#   - the ASan+UBSan build (CPU-only: it also proves a build without CUDA passes everything),
# the Slurm fleet-campaign test (scripts/test-slurm.sh), and check formatting against .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

./scripts/install-deps.sh --with-test-tools

echo "== format check (.clang-format)"
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' 2>/dev/null || true)
if [ ${#sources[@]} -gt 0 ]; then
  clang-format --dry-run --Werror "${sources[@]}"
fi

for preset in dev asan; do
  echo "== build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  echo "== test: $preset"
  ctest --preset "$preset" -j"$jobs"
  if [ "$preset" = dev ]; then
    echo "== fleet campaign on a real Slurm (munged + slurmctld + 3 slurmd on localhost)"
    ./scripts/test-slurm.sh build/dev/app/assay
  fi
done

if [ "$(uname -m)" = "x86_64" ]; then
  echo "== aarch64: cross-build + unit tests under qemu (SVE 256 and 128)"
  ./scripts/test-aarch64.sh
fi

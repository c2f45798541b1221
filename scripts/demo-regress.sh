#!/usr/bin/env bash
# Demo of nightly regression tracking (issue 9's acceptance): builds a store of SIMULATED
# nightly history from REAL runs on this machine, injects a regression, and shows that
# `assay regress` finds it and exits 1.
#
#   ./scripts/demo-regress.sh [BUILD_DIR]     (default: $BUILD or ./build/release)
#
# 1. `assay run --suite quick` into a temporary store (real measurements, ~20-60 s).
# 2. make_synthetic_history copies that run into NIGHTS perturbed nights (1 % noise per result
#    and night, dates going back one night at a time), every copy tagged "synthetic" with a
#    status note naming the real run it came from; the last 2 nights of STREAM triad are made
#    10 % slower. (Night-to-night noise is simulated: two real runs on this shared 2-core VM
#    differ by up to ~20 %, far more than a dedicated nightly host.)
# 3. `assay regress` on the synthetic store: Markdown summary on stdout, exit code checked.
# Nothing is written outside a fresh temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-./build/release}}
NIGHTS=${NIGHTS:-40}
INJECT=${INJECT:-'^stream\.triad/:10:2'}
ASSAY="$BUILD/app/assay"
TOOL=$(find "$BUILD" -name make_synthetic_history -type f -perm -u+x 2>/dev/null | head -1)

if [ ! -x "$ASSAY" ] || [ -z "$TOOL" ]; then
  echo "building assay and make_synthetic_history in $BUILD ..." >&2
  cmake --build "$BUILD" --target assay make_synthetic_history
  TOOL=$(find "$BUILD" -name make_synthetic_history -type f -perm -u+x | head -1)
fi

dir=$(mktemp -d)
real="$dir/real.db"
synthetic="$dir/synthetic-history.db"
echo "== 1. a real quick run on this machine into $real" >&2
"$ASSAY" run --db "$real" --suite quick --no-progress --tag demo-source >/dev/null
"$ASSAY" report --db "$real" -o "$dir/real-report.md"
head -n 30 "$dir/real-report.md" >&2

echo "== 2. $NIGHTS synthetic nights (perturbed copies, tagged 'synthetic'), inject $INJECT" >&2
"$TOOL" perturb --from "$real" --to "$synthetic" --nights "$NIGHTS" --cv 0.01 --seed 7 \
  --inject "$INJECT"

echo "== 3. assay regress --db $synthetic --tag synthetic" >&2
set +e
"$ASSAY" regress --db "$synthetic" --tag synthetic
rc=$?
set -e
echo "== assay regress exit code: $rc (expected 1: regression)" >&2
if [ "$rc" -ne 1 ]; then
  echo "demo FAILED: the injected regression was not reported" >&2
  exit 1
fi
echo "demo OK: the injected regression was found (stores kept in $dir)" >&2

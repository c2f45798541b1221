#!/usr/bin/env bash
# Times the nightly `assay regress` query on a store with years of nightly history
# (issue 9: "365 nights x 2,000 series"). The store is SYNTHETIC (make_synthetic_history
# scale: one synthetic host, every run tagged "synthetic") and built once per invocation.
#
#   ./scripts/bench-history.sh [BUILD_DIR]   (default: $BUILD or ./build/release)
#   NIGHTS=365 SERIES=2000 ./scripts/bench-history.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-./build/release}}
NIGHTS=${NIGHTS:-365}
SERIES=${SERIES:-2000}
ASSAY="$BUILD/app/assay"
TOOL=$(find "$BUILD" -name make_synthetic_history -type f -perm -u+x 2>/dev/null | head -1)
if [ ! -x "$ASSAY" ] || [ -z "$TOOL" ]; then
  cmake --build "$BUILD" --target assay make_synthetic_history
  TOOL=$(find "$BUILD" -name make_synthetic_history -type f -perm -u+x | head -1)
fi
dir=$(mktemp -d)
db="$dir/history.db"
echo "== building $NIGHTS nights x $SERIES series in $db" >&2
"$TOOL" scale --to "$db" --nights "$NIGHTS" --series "$SERIES" --cv 0.01 --seed 1
ls -l "$db" >&2
for what in "--tag nightly" "--tag nightly --since 2026-10-01"; do
  echo "== assay regress $what (all series: load, change points, gate, BH, Markdown)" >&2
  start=$(date +%s.%N)
  set +e
  # shellcheck disable=SC2086
  "$ASSAY" regress --db "$db" $what --format json -o "$dir/regress.json"
  rc=$?
  set -e
  end=$(date +%s.%N)
  echo "exit $rc, wall $(echo "$end - $start" | bc) s" >&2
done
rm -rf "$dir"

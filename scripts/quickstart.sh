#!/usr/bin/env bash
# README command (1): install dependencies, build the release binary, probe this host, run the
# quick suite into ./assay.db and write a report (./assay-report.md, also printed).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"

ASSAY=./build/release/app/assay
echo "== assay probe"
"$ASSAY" probe
echo "== assay run --suite quick (results into ./assay.db)"
status=0
"$ASSAY" run --suite quick --db ./assay.db --progress || status=$?
echo "== assay report (also written to ./assay-report.md)"
"$ASSAY" report --db ./assay.db --last 1 -o ./assay-report.md
cat ./assay-report.md
exit "$status"

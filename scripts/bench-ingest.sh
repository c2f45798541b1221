#!/usr/bin/env bash
# Ingest throughput benchmark for fleet campaigns: makes N synthetic per-node DBs from one real
# run (copies with a new run uuid, hostname and machine id each, tagged "synthetic" and labelled
# in the hostname), times `assay ingest` of all of them into one fleet DB, and reports runs/s,
# results/s and DB bytes per run. The numbers feed the extrapolation in docs/fleet.md.
#
# usage: scripts/bench-ingest.sh [-n N] [-s SOURCE.db] [-b ASSAY_BINARY] [-k]
#   -n  number of synthetic node DBs (default 200)
#   -s  a DB holding one real run to copy (default: a fresh `assay run --suite quick`)
#   -b  assay binary (default build/dev/app/assay); -k keep the temp directory
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=200 source="" assay="$root/build/dev/app/assay" keep=0
while getopts "n:s:b:k" opt; do
    case $opt in
        n) n=$OPTARG ;; s) source=$OPTARG ;; b) assay=$OPTARG ;; k) keep=1 ;;
        *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
command -v sqlite3 >/dev/null || { echo "bench-ingest: needs the sqlite3 shell" >&2; exit 2; }
tmp=$(mktemp -d /tmp/assay-bench-ingest.XXXXXX)
[ "$keep" -eq 1 ] || trap 'rm -rf "$tmp"' EXIT

template="$tmp/template.db"
if [ -n "$source" ]; then
    sqlite3 "$source" "VACUUM INTO '$template'"
else
    echo "bench-ingest: measuring a template run (assay run --suite quick)"
    "$assay" run --db "$template" --suite quick --max-seconds 0.3 --max-working-set 48MiB \
        --no-progress >/dev/null
fi
# Only the newest run is kept in the template: one synthetic node DB = one node-night.
sqlite3 "$template" "PRAGMA foreign_keys=ON; DELETE FROM run WHERE id <> (SELECT max(id) FROM run);
    PRAGMA journal_mode=DELETE; VACUUM;" >/dev/null
results_per_run=$(sqlite3 "$template" "SELECT count(*) FROM result")
metrics_per_run=$(sqlite3 "$template" "SELECT count(*) FROM metric")

mkdir -p "$tmp/nodes"
for i in $(seq -f "%05g" 1 "$n"); do
    db="$tmp/nodes/synthetic-$i.db"
    cp "$template" "$db"
    sqlite3 "$db" "UPDATE run SET uuid = lower(hex(randomblob(16)));
        UPDATE host SET hostname = 'synthetic-$i', machine_id = 'synthetic-$i';
        INSERT OR IGNORE INTO run_tag (run_id, tag) SELECT id, 'synthetic' FROM run;"
done

fleet="$tmp/fleet.db"
start=$(date +%s.%N)
"$assay" ingest --db "$fleet" "$tmp"/nodes/*.db >/dev/null
end=$(date +%s.%N)
again_start=$(date +%s.%N)
"$assay" ingest --db "$fleet" "$tmp"/nodes/*.db | grep -c "ingested 0 runs" >/dev/null
again_end=$(date +%s.%N)
sqlite3 "$fleet" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
runs=$(sqlite3 "$fleet" "SELECT count(*) FROM run")
results=$(sqlite3 "$fleet" "SELECT count(*) FROM result")
bytes=$(stat -c %s "$fleet")
node_bytes=$(stat -c %s "$tmp/nodes/synthetic-00001.db")
python3 - "$n" "$runs" "$results" "$bytes" "$start" "$end" "$again_start" "$again_end" \
    "$results_per_run" "$metrics_per_run" "$node_bytes" <<'PY'
import sys
n, runs, results, size = map(int, sys.argv[1:5])
start, end, astart, aend = map(float, sys.argv[5:9])
rpr, mpr, node_bytes = map(int, sys.argv[9:12])
t = end - start
print(f"synthetic node DBs: {n} ({rpr} results, {mpr} metrics per run; {node_bytes/1024:.0f} KiB each)")
print(f"ingest: {runs} runs, {results} results in {t:.2f} s = {runs/t:.1f} runs/s, {results/t:.0f} results/s")
print(f"re-ingest (all present): {aend-astart:.2f} s = {n/(aend-astart):.1f} files/s")
print(f"fleet DB: {size/1e6:.1f} MB = {size/runs/1024:.1f} KiB per run")
nights = 10000 * 365
print(f"extrapolated 10,000 hosts x 365 nights: {nights*t/runs/3600:.1f} h of ingest per year "
      f"({10000*t/runs/60:.1f} min per nightly campaign), {nights*size/runs/1e9:.0f} GB")
PY

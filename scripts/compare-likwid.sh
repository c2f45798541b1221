#!/usr/bin/env bash
# Runs Assay's STREAM cases and likwid-bench (Debian's `likwid`) side by side on this host and
# prints Assay/likwid ratios (issue 5's peer check). x86-64 with AVX-512 only (the likwid kernels
# named below are AVX-512 ones). Both tools measure the same working set, pinned to the same
# cores, with the same byte convention (STREAM: no write-allocate bytes).
#
#   ./scripts/compare-likwid.sh [ASSAY_BINARY]       (default: ./build/release/app/assay)
#   STREAM_C=/path/to/stream.c ./scripts/compare-likwid.sh   also compares with McCalpin's STREAM
#
# McCalpin's stream.c is not packaged by Debian and must not be copied into this repository: give
# its path in STREAM_C (or let the script download it when the host has network access). It is
# built the way the issue asks (gcc -O3 -march=native -fopenmp) with arrays of Assay's size and
# run on the same number of threads, bound to cores; its Triad "Best Rate" is compared with
# Assay's best regular-store triad. Without the source the row says why it was skipped.
#
# likwid-bench reports one figure per run (bytes over all its iterations / time, i.e. a mean);
# each likwid case runs REPEAT times and the script shows its best and median run. For Assay,
# best = fastest sample, median = typical sample. Ratios are given for both.
set -euo pipefail
cd "$(dirname "$0")/.."
ASSAY=${1:-./build/release/app/assay}
REPEAT=${REPEAT:-5}

grep -qw avx512f /proc/cpuinfo || { echo "compare-likwid: needs AVX-512 (likwid *_avx512 kernels)" >&2; exit 2; }
command -v likwid-bench >/dev/null || {
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq likwid >/dev/null
}
[ -x "$ASSAY" ] || { cmake --preset release >/dev/null && cmake --build --preset release; }

db=$(mktemp -d)/compare.db
threads=$(nproc)
echo "== Assay (db $db)"
"$ASSAY" run --db "$db" --suite full --no-progress --no-telemetry \
  --filter '^(stream\.triad/dtype=f64,placement=all_cores,size=dram(,stores=nt)?|mem\.sweep/bytes=32768,kernel=sum,placement=one_core)@cpu:' \
  >/dev/null
"$ASSAY" report --db "$db" --format json > "${db%.db}.json"

# Assay's working set for the DRAM cases (3 arrays), so likwid streams the same bytes.
ws_bytes=$(python3 - "${db%.db}.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for r in doc["runs"][0]["results"]:
    if r["benchmark"] == "stream.triad":
        for m in r["metrics"]:
            if m["name"] == "working_set_bytes":
                print(int(m["value"])); sys.exit(0)
PY
)
ws_kb=$(( ws_bytes / 1000 ))

likwid() {  # likwid-bench test workgroup -> "best median" in GB/s over REPEAT runs
  local out=()
  for _ in $(seq "$REPEAT"); do
    out+=("$(likwid-bench -t "$1" -w "$2" 2>/dev/null | awk '/^MByte\/s:/ {print $2/1000}')")
  done
  printf '%s\n' "${out[@]}" | sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; print v[NR], m}'
}
echo "== likwid-bench (${REPEAT} runs each, working set ${ws_kb} kB on ${threads} threads)"
read -r nt_best nt_med < <(likwid stream_mem_avx512 "S0:${ws_kb}kB:${threads}")
read -r rg_best rg_med < <(likwid stream_avx512 "S0:${ws_kb}kB:${threads}")
read -r ld_best ld_med < <(likwid load_avx512 "S0:32kB:1")

# McCalpin's STREAM, when its source is at hand: Triad best rate in GB/s, else a reason.
stream_c=${STREAM_C:-}
stream_dir=$(dirname "$db")
if [ -z "$stream_c" ] && command -v curl >/dev/null &&
   curl -fsS --max-time 10 -o "$stream_dir/stream.c" \
     https://www.cs.virginia.edu/stream/FTP/Code/stream.c 2>/dev/null; then
  stream_c="$stream_dir/stream.c"
fi
if [ -n "$stream_c" ] && [ -f "$stream_c" ]; then
  elements=$(( ws_bytes / 3 / 8 ))
  gcc -O3 -march=native -fopenmp -DSTREAM_ARRAY_SIZE="$elements" -DNTIMES=20 \
    "$stream_c" -o "$stream_dir/stream" 2>/dev/null
  echo "== McCalpin STREAM ($stream_c, ${elements} elements per array, ${threads} threads)"
  stream_triad=$(OMP_NUM_THREADS=$threads OMP_PROC_BIND=spread OMP_PLACES=cores \
    "$stream_dir/stream" | awk '/^Triad:/ {print $2/1000}')
else
  stream_triad="skipped: stream.c not available (no network access here; set STREAM_C=/path/to/stream.c)"
fi

python3 - "${db%.db}.json" "$nt_best" "$nt_med" "$rg_best" "$rg_med" "$ld_best" "$ld_med" "$stream_triad" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
nt_b, nt_m, rg_b, rg_m, ld_b, ld_m = map(float, sys.argv[2:8])
assay = {}
for r in doc["runs"][0]["results"]:
    if r["status"] != "ok":
        continue
    h = r["headline"]
    assay[r["case_id"]] = (h["best"], h["median"])
rows = [
    ("all-core triad, non-temporal stores", "stream.triad/dtype=f64,placement=all_cores,size=dram,stores=nt",
     "stream_mem_avx512", nt_b, nt_m, 0.95),
    ("all-core triad, regular stores", "stream.triad/dtype=f64,placement=all_cores,size=dram",
     "stream_avx512", rg_b, rg_m, 0.95),
    ("1-thread read, 32 KiB", "mem.sweep/bytes=32768,kernel=sum,placement=one_core",
     "load_avx512", ld_b, ld_m, 0.90),
]
print(f"{'case':38} {'assay best/median GB/s':>24} {'likwid best/median GB/s':>25} {'ratio best':>10} {'ratio median':>12} target")
for label, case, kernel, lb, lm, target in rows:
    if case not in assay:
        print(f"{label:38} assay result missing (not run or not verified)")
        continue
    ab, am = assay[case]
    print(f"{label:38} {ab:11.1f} / {am:9.1f}  {lb:12.1f} / {lm:9.1f}  {ab/lb:10.2f} {am/lm:12.2f} >= {target} ({kernel})")
stream = sys.argv[8]
triad = assay.get("stream.triad/dtype=f64,placement=all_cores,size=dram")
try:
    rate = float(stream)
except ValueError:
    print(f"{'McCalpin stream.c, Triad':38} {stream}")
else:
    if triad is None:
        print(f"{'McCalpin stream.c, Triad':38} assay result missing")
    else:
        print(f"{'McCalpin stream.c, Triad':38} assay best {triad[0]:.1f} GB/s, stream.c best rate {rate:.1f} GB/s, ratio {triad[0]/rate:.2f} >= 1.0")
PY

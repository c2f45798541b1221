#!/usr/bin/env bash
# Assay's CPU GEMM against a minimal program calling the libraries directly (issue 6's peer
# check): fp32 and bf16 at 4096^3, NN, all cores. Prints per dtype the best Assay TFLOP/s (and
# the backend that won), the best peer TFLOP/s (and its library) and their ratio (target >= 0.9).
#
#   ./scripts/compare-gemm.sh [ASSAY_BINARY]    (default: $ASSAY or ./build/release/app/assay)
#
# Both sides run on the same CPUs (the first PU of every core, Assay's all_cores placement) with
# one library thread per core. TFLOP/s = 2*n^3 / fastest run (Assay: min sample; peer: best of
# REPEAT runs after a warm-up).
set -euo pipefail
cd "$(dirname "$0")/.."
ASSAY=${1:-${ASSAY:-}}
PEER=${GEMM_PEER:-}
REPEAT=${REPEAT:-5}
N=4096
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || { echo "compare-gemm.sh: REPEAT must be a positive integer, got '$REPEAT'" >&2; exit 2; }

# Build the release binaries only when none was named; a named one must exist.
if [ -z "$ASSAY" ]; then
  ASSAY=./build/release/app/assay
  [ -x "$ASSAY" ] || { cmake --preset release >/dev/null && cmake --build --preset release --target assay; }
fi
if [ -z "$PEER" ]; then
  PEER=./build/release/tools/gemm_peer/gemm_peer
  [ -x "$PEER" ] || { cmake --preset release >/dev/null && cmake --build --preset release --target gemm_peer; }
fi
for bin in "$ASSAY" "$PEER"; do
  [ -x "$bin" ] || { echo "compare-gemm.sh: '$bin' is not an executable" >&2; exit 2; }
done

# First PU of each core (what Assay's all_cores placement pins to).
cpus=$(for d in /sys/devices/system/cpu/cpu[0-9]*/topology/thread_siblings_list; do
         cut -d, -f1 "$d" | cut -d- -f1; done | sort -un | paste -sd, -)
threads=$(echo "$cpus" | tr ',' '\n' | wc -l)

db=$(mktemp -d)/compare-gemm.db
echo "== Assay (db $db), CPUs $cpus"
"$ASSAY" run --db "$db" --suite full --no-progress --no-telemetry \
  --filter "^gemm\.square/dtype=(f32|bf16),k=$N,layout=nn,m=$N,n=$N,placement=all_cores@cpu:" \
  >/dev/null
"$ASSAY" report --db "$db" --format json > "${db%.db}.json"

echo "== gemm_peer (${REPEAT} runs after a warm-up, $threads threads)"
peer_out=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads taskset -c "$cpus" \
           "$PEER" "$N" "$REPEAT")
echo "$peer_out"

python3 - "${db%.db}.json" "$N" <<PY
import json, sys
doc = json.load(open(sys.argv[1]))
n = float(sys.argv[2])
peer = {}
for line in """$peer_out""".splitlines():
    dtype, lib, tflops, _ = line.split()
    if float(tflops) > peer.get(dtype, (0, ""))[0]:
        peer[dtype] = (float(tflops), lib)
assay = {}
for r in doc["runs"][0]["results"]:
    dtype = r["params"].get("dtype")
    if r["status"] != "ok" or not r["verified"]:
        if r["status"] == "skipped":
            print(f"  assay {dtype} on {r['backend']}: skipped: {r['message']}")
        continue
    tflops = 2 * n**3 / r["time"]["min"] / 1e12
    if tflops > assay.get(dtype, (0, ""))[0]:
        assay[dtype] = (tflops, r["backend"])
print(f"{'dtype':6} {'assay best TFLOP/s':>20} {'(backend)':>10} {'peer best TFLOP/s':>18} {'(library)':>10} {'ratio':>6} target")
for dtype in ("f32", "bf16"):
    if dtype not in assay or dtype not in peer:
        print(f"{dtype:6} missing: assay={assay.get(dtype)} peer={peer.get(dtype)}")
        continue
    (a, ab), (p, pl) = assay[dtype], peer[dtype]
    print(f"{dtype:6} {a:20.3f} {ab:>10} {p:18.3f} {pl:>10} {a/p:6.2f} >= 0.9")
PY

#!/usr/bin/env bash
# End-to-end test of the Slurm fleet campaign (deploy/slurm) against a real Slurm: munged, one
# slurmctld and three slurmd (node1..node3, distinct ports) on localhost, all started here and
# stopped on exit. Submits a campaign over the three nodes with a tiny quick suite, makes node3
# fail, waits (bounded), and checks: the fleet DB holds the two good node runs, the reports
# exist, node3 is listed as failed in the campaign summary, and ingesting again adds nothing.
#
# usage: scripts/test-slurm.sh [ASSAY_BINARY]   (default build/dev/app/assay)
#        scripts/test-slurm.sh --install-only    install slurm-wlm and munge, then exit 0
#                                                (scripts/test-fresh-debian.sh proves the install)
# Skips (exit 0, with a message) when not root or when slurm-wlm/munge cannot be installed;
# with CI=true either is a failure.
set -euo pipefail
install_only=0
if [ "${1:-}" = "--install-only" ]; then
    install_only=1
    shift
fi
root=$(cd "$(dirname "$0")/.." && pwd)
# -m: a binary not built yet is reported by the check below, not by a silent readlink failure.
assay=$(readlink -m "${1:-${ASSAY_BIN:-$root/build/dev/app/assay}}")
deadline_seconds=${SLURM_TEST_TIMEOUT:-240}

# In CI (CI=true) the test must run: a reason to skip is a failure there.
skip() {
    if [ "${CI:-}" = "true" ]; then echo "test-slurm: FAILED (CI=true, cannot skip): $*" >&2; exit 1; fi
    echo "test-slurm: SKIPPED: $*"; exit 0
}
# dump_logs exists once the daemons' directory does (a failure before that has no logs).
fail() { echo "test-slurm: FAILED: $*" >&2; if declare -F dump_logs >/dev/null; then dump_logs; fi; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (starts munged, slurmctld and slurmd)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v munged >/dev/null; then
    if command -v apt-get >/dev/null; then
        # Quiet on success; on failure the end of apt's output says why. A machine whose package
        # lists were never downloaded (a fresh root) gets one `apt-get update` and a retry.
        apt_log=$(mktemp /tmp/assay-slurm-apt.XXXXXX)
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y -qq slurm-wlm munge >"$apt_log" 2>&1 &&
            ! { apt-get update -qq >>"$apt_log" 2>&1 &&
                apt-get install -y -qq slurm-wlm munge >>"$apt_log" 2>&1; }; then
            tail -n 20 "$apt_log" >&2
            rm -f "$apt_log"
            skip "could not install slurm-wlm and munge with apt-get"
        fi
        rm -f "$apt_log"
    else
        skip "slurm-wlm and munge are not installed and apt-get is not available"
    fi
fi
if [ "$install_only" -eq 1 ]; then
    echo "test-slurm: slurm-wlm and munge are installed (--install-only)"
    exit 0
fi
[ -x "$assay" ] || fail "assay binary '$assay' not found (build it first)"

tmp=$(mktemp -d /tmp/assay-slurm-test.XXXXXX)
chmod 755 "$tmp"
pids=()
dump_logs() {
    for f in "$tmp"/*.log "$tmp"/results/*/summary.md "$tmp"/results/*/slurm-*.out; do
        [ -f "$f" ] || continue
        echo "---- $f" >&2
        tail -n 30 "$f" >&2
    done
}
cleanup() {
    set +e
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
        scancel --quiet --user=root >/dev/null 2>&1
    fi
    for pidfile in "$tmp"/slurmd-*.pid "$tmp"/slurmctld.pid "$tmp"/munged.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 1
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# munge with its own key and socket, so nothing global is touched.
mungekey --create --keyfile="$tmp/munge.key" >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 600 "$tmp/munge.key"
munged --force --socket="$tmp/munge.sock" --key-file="$tmp/munge.key" \
    --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge.seed" ||
    skip "munged does not start here (see $tmp/munged.log)"

ctld_port=$(free_port)
ports=("$(free_port)" "$(free_port)" "$(free_port)")
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF="$tmp/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=assaytest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool/%n
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd-%n.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdParameters=config_overrides
SlurmdTimeout=60
KillWait=5
MinJobAge=600
NodeName=node1 NodeHostname=localhost NodeAddr=127.0.0.1 Port=${ports[0]} CPUs=1 State=UNKNOWN
NodeName=node2 NodeHostname=localhost NodeAddr=127.0.0.1 Port=${ports[1]} CPUs=1 State=UNKNOWN
NodeName=node3 NodeHostname=localhost NodeAddr=127.0.0.1 Port=${ports[2]} CPUs=1 State=UNKNOWN
PartitionName=assay Nodes=node[1-3] Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -i -f "$SLURM_CONF" >"$tmp/slurmctld.stdout.log" 2>&1 &
pids+=($!)
for n in node1 node2 node3; do
    slurmd -D -N "$n" -f "$SLURM_CONF" >"$tmp/slurmd-$n.stdout.log" 2>&1 &
    pids+=($!)
done

echo "test-slurm: waiting for node[1-3] to be idle"
ready=0
for _ in $(seq 1 60); do
    idle=$(sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l)
    if [ "$idle" -eq 3 ]; then ready=1; break; fi
    sleep 1
done
[ "$ready" -eq 1 ] || fail "the three slurmd never became idle: $(sinfo -N 2>&1 | tr '\n' ' ')"
sinfo -N

results="$tmp/results"
cd "$tmp"
export ASSAY_CAMPAIGN_FAIL_NODE=node3
submit=$("$root/deploy/slurm/submit-campaign.sh" -c ci -p assay -w 'node[1-3]' -r "$results" \
    -t 00:05:00 -b "$assay" -- --suite quick --filter '^stream\.triad/.*size=dram@cpu' \
    --max-seconds 0.2)
echo "$submit"
merge_job=$(sed -n 's/^merge job: //p' <<<"$submit")
[ -n "$merge_job" ] || fail "no merge job id in: $submit"

echo "test-slurm: waiting for the campaign (at most ${deadline_seconds}s)"
end=$((SECONDS + deadline_seconds))
while squeue -h -j "$merge_job" 2>/dev/null | grep -q .; do
    [ "$SECONDS" -lt "$end" ] || fail "campaign still running after ${deadline_seconds}s: $(squeue 2>&1 | tr '\n' ' ')"
    sleep 2
done

dir="$results/ci"
summary="$dir/summary.md"
[ -f "$summary" ] || fail "no campaign summary at $summary"
cat "$summary"
fleet_db="$dir/fleet.db"
[ -f "$fleet_db" ] || fail "no fleet DB"
[ -s "$dir/report.md" ] || fail "no run report"
runs=$("$assay" export --db "$fleet_db" --tag campaign:ci --format csv | tail -n +2 |
    cut -d, -f2 | sort -u | wc -l)
[ "$runs" -eq 2 ] || fail "fleet DB holds $runs campaign runs, expected 2 (node1, node2)"
for n in node1 node2; do
    grep -Eq "^\| [0-9]+ \| $n \| ok \|" "$summary" || fail "$n is not listed as ok"
done
grep -Eq "^\| [0-9]+ \| node3 \| failed \| 1 \|" "$summary" || fail "node3 is not listed as failed"
grep -q "Nodes without a successful run: node3" "$summary" || fail "node3 not listed as missing"

# Re-running the merge (a re-submitted campaign) adds nothing.
before=$(sqlite3 "$fleet_db" 'SELECT count(*) FROM run' 2>/dev/null || echo "?")
for db in "$dir"/node*.db; do
    "$assay" ingest --db "$fleet_db" "$db" | grep -q "ingested 0 runs" ||
        fail "re-ingesting $db added runs"
done
echo "test-slurm: PASSED (fleet DB runs: $before; node3 listed as failed)"

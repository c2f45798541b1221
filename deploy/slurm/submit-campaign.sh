#!/usr/bin/env bash
# Submits an Assay fleet campaign: a job array with one exclusive task per node
# (campaign.sbatch) and the merge step that depends on it (merge.sbatch, afterany). Prints the
# two job ids. See docs/fleet.md.
#
# usage: submit-campaign.sh -c NAME [-p PARTITION] [-C CONSTRAINT] [-w NODELIST] [-N COUNT]
#                           [-r RESULTS_DIR] [-s SPEC.toml] [-t TIME] [-b ASSAY_BIN]
#                           [-- ASSAY RUN ARGS...]
#   -c  campaign name (results go to RESULTS_DIR/NAME; runs are tagged campaign:NAME)
#   -p  partition; -C  node feature constraint; -w  node list (e.g. node[1-3])
#   -N  number of nodes (default: every node matching -p/-C/-w, from sinfo)
#   -r  shared results directory (default ./results); -s  qualification spec for the merge
#   -t  time limit per node (default 02:00:00); -b  assay binary (default: assay on PATH)
#   after --: arguments of `assay run` (default --suite quick)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
campaign="" partition="" constraint="" nodelist="" count="" results="results" spec=""
time_limit="02:00:00" assay_bin="${ASSAY_BIN:-assay}"
while getopts "c:p:C:w:N:r:s:t:b:h" opt; do
    case $opt in
        c) campaign=$OPTARG ;;
        p) partition=$OPTARG ;;
        C) constraint=$OPTARG ;;
        w) nodelist=$OPTARG ;;
        N) count=$OPTARG ;;
        r) results=$OPTARG ;;
        s) spec=$OPTARG ;;
        t) time_limit=$OPTARG ;;
        b) assay_bin=$OPTARG ;;
        *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
if [ -z "$campaign" ]; then
    echo "submit-campaign.sh: -c NAME is required" >&2
    exit 2
fi
case $campaign in *[!A-Za-z0-9._-]*)
    echo "submit-campaign.sh: campaign name '$campaign' may only hold letters, digits, . _ -" >&2
    exit 2 ;;
esac
mkdir -p "$results/$campaign/status"
results=$(cd "$results" && pwd)
dir="$results/$campaign"

# The nodes the campaign expects: what the summary compares the arrived results against.
sinfo_args=(-h -N -o "%N %f")
[ -n "$partition" ] && sinfo_args+=(-p "$partition")
[ -n "$nodelist" ] && sinfo_args+=(-n "$nodelist")
mapfile -t nodes < <(sinfo "${sinfo_args[@]}" | awk -v c="$constraint" \
    'c == "" || index("," $2 ",", "," c ",") { print $1 }' | sort -u)
if [ ${#nodes[@]} -eq 0 ]; then
    echo "submit-campaign.sh: no node matches (partition '$partition', constraint '$constraint', nodes '$nodelist')" >&2
    exit 2
fi
count=${count:-${#nodes[@]}}
printf '%s\n' "${nodes[@]}" >"$dir/expected_nodes.txt"

common=(--parsable --time="$time_limit")
[ -n "$partition" ] && common+=(--partition="$partition")
array_args=(--array="0-$((count - 1))" --job-name="assay-$campaign"
    --output="$dir/slurm-%A_%a.out")
[ -n "$constraint" ] && array_args+=(--constraint="$constraint")
if [ -n "$nodelist" ]; then
    # An array task cannot be pinned to one node of a list (--nodelist would ask for all of
    # them per task), so exclude every other node: exclusive tasks then spread one per node.
    mapfile -t others < <(sinfo -h -N -o %N ${partition:+-p "$partition"} | sort -u |
        grep -vxF -f "$dir/expected_nodes.txt" || true)
    if [ ${#others[@]} -gt 0 ]; then
        array_args+=(--exclude="$(IFS=,; echo "${others[*]}")")
    fi
fi
export ASSAY_CAMPAIGN="$campaign" ASSAY_RESULTS="$results" ASSAY_BIN="$assay_bin"
array_job=$(sbatch "${common[@]}" "${array_args[@]}" --export=ALL "$here/campaign.sbatch" "$@")
array_job=${array_job%%;*}
export ASSAY_ARRAY_JOB="$array_job" ASSAY_EXPECTED_TASKS="$count" ASSAY_SPEC="$spec"
merge_job=$(sbatch "${common[@]}" --dependency="afterany:$array_job" \
    --job-name="assay-$campaign-merge" --output="$dir/slurm-merge-%j.out" --export=ALL \
    "$here/merge.sbatch")
merge_job=${merge_job%%;*}
echo "campaign $campaign: $count nodes (${nodes[*]})"
echo "array job: $array_job"
echo "merge job: $merge_job"
echo "results:   $dir (summary: $dir/summary.md)"

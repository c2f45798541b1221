#!/usr/bin/env bash
# Proves README command (1) on a FRESH Debian 12 machine: builds a minbase bookworm root with
# debootstrap, copies a clean `git archive` of the commit into /root/assay there and runs
#   ./scripts/quickstart.sh
# inside it (chroot, as root) exactly as the README writes it. It passes when the command exits 0,
# ./assay.db holds a complete run with ok results (and no failed one) and ./assay-report.md is not
# empty. Then, in the same root, the install and configure steps of README command (2):
#   ./scripts/install-deps.sh --with-test-tools, ./scripts/test-slurm.sh --install-only,
#   ./scripts/test-aarch64.sh --install-only (x86-64 only) and `cmake --preset P` for every
#   configure preset in CMakePresets.json.
# Why: a machine prepared by hand (as CI's was) hides packages that install-deps.sh forgets, e.g.
# ocl-icd-opencl-dev, which oneDNN's CMake config requires but libdnnl-dev only Recommends.
#
# usage: scripts/test-fresh-debian.sh [--ref REF] [--no-cache] [--keep]
#   --ref REF   commit to test (default $ASSAY_FRESH_REF or HEAD of the repository holding this
#               script; empty = HEAD). Uncommitted work: --ref "$(git stash create)".
#   --no-cache  debootstrap from the mirror even when a cached root exists (the cache is refreshed)
#   --keep      keep the work directory (unmounted) for inspection
# Environment: ASSAY_FRESH_CACHE_DIR (default /var/cache/assay-fresh-debian),
#   ASSAY_FRESH_CACHE_DAYS (a cached root older than this is rebuilt, default 7), CI.
# Needs root, debootstrap (installed when missing) and the host's Debian mirror. Without root or
# when debootstrap cannot run it skips (exit 0, with a message); with CI=true that is a failure.
# Takes 15-25 minutes on a 2-core VM (the release build dominates); the summary lists each step.
set -euo pipefail
export LC_ALL=C   # decimal points in the timings, whatever the caller's locale

SUITE=bookworm
VARIANT=minbase
repo=$(cd "$(dirname "$0")/.." && pwd)
ref=${ASSAY_FRESH_REF:-HEAD}
use_cache=1
keep=0
cache_dir=${ASSAY_FRESH_CACHE_DIR:-/var/cache/assay-fresh-debian}
cache_days=${ASSAY_FRESH_CACHE_DAYS:-7}

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --ref) [ $# -ge 2 ] || { echo "test-fresh-debian: --ref needs a value" >&2; exit 2; }
               ref=$2; shift 2 ;;
        --ref=*) ref=${1#--ref=}; shift ;;
        --no-cache) use_cache=0; shift ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "test-fresh-debian: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
# An empty ref is HEAD: `git stash create` prints nothing when the working tree is clean.
ref=${ref:-HEAD}
[[ "$cache_days" =~ ^[0-9]+$ ]] ||
    { echo "test-fresh-debian: ASSAY_FRESH_CACHE_DAYS must be a whole number, got '$cache_days'" >&2; exit 2; }

log() { echo "test-fresh-debian: $*"; }
die() { echo "test-fresh-debian: FAILED: $*" >&2; exit 1; }
# In CI (CI=true) this stage must run: a reason to skip is a failure there.
skipped=0
skip() {
    if [ "${CI:-}" = "true" ]; then die "(CI=true, cannot skip) $*"; fi
    echo "test-fresh-debian: SKIPPED: $*"
    skipped=1
    exit 0
}

# ---------------------------------------------------------------------------------------------
# Step timing: every step appends "seconds<TAB>label"; the summary prints them and the total.
t_start=$EPOCHREALTIME
steps=()
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
record() { steps+=("$(elapsed "$2" "$3")"$'\t'"$1"); }   # record LABEL START END
summary() {
    local s label secs prefix
    echo "== test-fresh-debian: summary (${SUITE} ${VARIANT} root, ref ${ref_desc:-$ref}, mirror ${mirror:-?})"
    for s in "${steps[@]}"; do
        secs=${s%%$'\t'*}; label=${s#*$'\t'}
        printf '  %-68s %8.1f s  (%s)\n' "$label" "$secs" "$(mmss "$secs")"
    done
    # Sub-steps of README command (2) summed per kind.
    for prefix in "test-tool install" "configure"; do
        secs=$(printf '%s\n' "${steps[@]}" |
            awk -F'\t' -v p="$prefix: " 'index($2, p) == 1 { n++; t += $1 } END { if (n) printf "%.1f", t }')
        [ -z "$secs" ] || printf '  %-68s %8.1f s  (%s)\n' "$prefix (all of the above)" "$secs" "$(mmss "$secs")"
    done
    secs=$(elapsed "$t_start" "$(now)")
    printf '  %-68s %8.1f s  (%s)\n' "total" "$secs" "$(mmss "$secs")"
}
mmss() { awk -v s="$1" 'BEGIN { printf "%d:%02d", int(s / 60), int(s) % 60 }'; }

# ---------------------------------------------------------------------------------------------
# Preconditions: root, debootstrap, chroot and bind mounts.
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, bind mounts)"
command -v git >/dev/null || die "git is needed on the host to export the commit"
commit=$(git -C "$repo" rev-parse --verify --quiet "${ref}^{commit}") ||
    die "'$ref' is not a commit in $repo"
ref_desc=${commit:0:12}
[[ "$commit" == "$ref"* ]] || ref_desc="$ref = $ref_desc"
if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap on the host"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            debootstrap >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            debootstrap >/dev/null 2>&1 || skip "debootstrap is not installed and apt-get cannot install it"
    fi
fi
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] ||
    skip "no /usr/share/keyrings/debian-archive-keyring.gpg to verify the $SUITE archive with"

# The mirror: the first Debian archive entry for $SUITE with component main in the host's own apt
# sources (apt's order: sources.list, then sources.list.d/ alphabetically; one-line *.list and
# deb822 *.sources), never -security/-updates, never a third-party repository (a Signed-By other
# than Debian's archive keyring).
mirror_from_one_line() {   # FILE
    awk -v suite="$SUITE" '
        $1 != "deb" { next }
        {
            i = 2; opts = ""
            if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
            if ($(i + 1) != suite) next
            if (opts ~ /signed-by=/ && opts !~ /signed-by=[^ \]]*debian-archive/) next
            for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit }
        }' "$1"
}
mirror_from_deb822() {     # FILE
    awk -v suite="$SUITE" '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") &&
                (" " comps " ") ~ / main / && enabled != "no" && uris != "" &&
                (signed == "" || signed ~ /debian-archive/)) {
                split(uris, u, " "); print u[1]; done = 1; exit
            }
            types = suites = comps = uris = enabled = signed = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[^ \t]/ {
            key = tolower($1); sub(/:$/, "", key); $1 = ""; val = $0
            gsub(/^[ \t]+|[ \t]+$/, "", val)
            if (key == "types") types = val; else if (key == "uris") uris = val
            else if (key == "suites") suites = val; else if (key == "components") comps = val
            else if (key == "enabled") enabled = tolower(val); else if (key == "signed-by") signed = val
        }
        END { if (!done) flush() }' "$1"
}
host_mirror() {
    local f m
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
        [ -f "$f" ] || continue
        case $f in
            *.list) m=$(mirror_from_one_line "$f") ;;
            *.sources) m=$(mirror_from_deb822 "$f") ;;
            *) continue ;;
        esac
        if [ -n "$m" ]; then echo "$m"; return 0; fi
    done
    return 1
}
mirror=$(host_mirror) || die "no Debian '$SUITE' main entry in the host's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/)"
log "commit $ref_desc, mirror $mirror (from the host's apt sources)"

# ---------------------------------------------------------------------------------------------
# The work directory and everything mounted in it; the EXIT trap undoes it on every path.
work=$(mktemp -d /var/tmp/assay-fresh-debian.XXXXXX)
root="$work/root"
mounted=()      # mount points in mount order; unmounted in reverse
bg_pid=""       # the step running in the background (see in_root)

mounts_under() {   # mount points at or below DIR, deepest first (from /proc/mounts)
    awk -v d="$1" '{ p = $2; gsub(/\\040/, " ", p) } p == d || index(p, d "/") == 1 { print p }' \
        /proc/mounts | sort -r
}
kill_root_processes() {   # processes whose root directory is the chroot (started by our steps)
    local sig p pids
    for sig in TERM KILL; do
        pids=()
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && pids+=("${p#/proc/}")
        done
        [ ${#pids[@]} -gt 0 ] || return 0
        log "stopping processes left in the root (SIG$sig): ${pids[*]}"
        kill -s "$sig" "${pids[@]}" 2>/dev/null || true
        sleep 2
    done
}
cleanup() {
    local rc=$? i m left
    set +e
    trap - EXIT INT TERM
    [ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null
    kill_root_processes
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        m=${mounted[i]}
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
            echo "test-fresh-debian: cannot unmount $m" >&2
    done
    # Anything else mounted below the work dir (by a step in the root): deepest first.
    while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done < <(mounts_under "$work")
    summary
    left=$(mounts_under "$work")
    if [ -n "$left" ]; then
        echo "test-fresh-debian: still mounted, NOT removing $work: $(echo "$left" | tr '\n' ' ')" >&2
        [ "$rc" -ne 0 ] || rc=1
    elif [ "$keep" -eq 1 ]; then
        log "kept $work (--keep)"
    else
        # --one-file-system: even a mount that appeared after the check above is not descended.
        rm -rf --one-file-system "$work"
    fi
    if [ "$skipped" -eq 1 ]; then log "SKIPPED (see above)"
    elif [ "$rc" -eq 0 ]; then log "PASSED"; else echo "test-fresh-debian: FAILED (exit $rc)" >&2; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bind() {   # SOURCE TARGET-IN-ROOT
    mkdir -p "$root$2"
    mount --bind "$1" "$root$2" || die "cannot bind-mount $1 on $root$2"
    mounted+=("$root$2")
}

# Can this machine bind-mount and chroot at all (a container without CAP_SYS_ADMIN cannot)?
mkdir -p "$work/probe"
if ! mount --bind "$work/probe" "$work/probe" 2>/dev/null; then
    skip "cannot bind-mount here (no CAP_SYS_ADMIN?), so no chroot can be prepared"
fi
umount "$work/probe"
chroot / true 2>/dev/null || skip "chroot does not work here (no CAP_SYS_CHROOT?)"

# ---------------------------------------------------------------------------------------------
# 1. The minbase root: unpacked from the cache, or debootstrapped from the mirror (then cached).
arch=$(dpkg --print-architecture)
cache="$cache_dir/$SUITE-$VARIANT-$arch.tar.gz"
mkdir -p "$root"
from_cache=0
if [ "$use_cache" -eq 1 ] && [ -f "$cache" ]; then
    if [ -n "$(find "$cache" -mtime +"$cache_days" 2>/dev/null)" ]; then
        log "cached root $cache is older than $cache_days days: debootstrapping afresh"
    else
        t=$(now)
        if tar -xpzf "$cache" -C "$root" --numeric-owner --xattrs --xattrs-include='*' 2>"$work/unpack.log"; then
            from_cache=1
            record "debootstrap ($SUITE $VARIANT, unpacked from the cache)" "$t" "$(now)"
            log "minbase root unpacked from $cache"
        else
            log "cached root $cache does not unpack ($(tail -n 1 "$work/unpack.log")): removing it"
            rm -f "$cache"
            rm -rf --one-file-system "$root"
            mkdir -p "$root"
        fi
    fi
fi
if [ "$from_cache" -eq 0 ]; then
    log "debootstrap --variant=$VARIANT $SUITE from $mirror (log: $work/debootstrap.log)"
    t=$(now)
    if ! debootstrap --variant="$VARIANT" --arch="$arch" "$SUITE" "$root" "$mirror" \
            >"$work/debootstrap.log" 2>&1; then
        tail -n 15 "$work/debootstrap.log" >&2
        skip "debootstrap --variant=$VARIANT $SUITE $mirror failed (see the log lines above)"
    fi
    record "debootstrap ($SUITE $VARIANT from the mirror)" "$t" "$(now)"
    # Cache the pristine root (nothing mounted in it yet): written aside, then renamed into place,
    # so a concurrent or interrupted run never sees half a tarball.
    t=$(now)
    if mkdir -p "$cache_dir" &&
        tar -czf "$cache.tmp.$$" -C "$root" --numeric-owner --xattrs --xattrs-include='*' . &&
        mv -f "$cache.tmp.$$" "$cache"; then
        record "cache save ($(du -h "$cache" | cut -f1))" "$t" "$(now)"
        log "cached the minbase root in $cache"
    else
        rm -f "$cache.tmp.$$"
        log "warning: could not write the cache $cache (the test goes on)"
    fi
fi

# ---------------------------------------------------------------------------------------------
# 2. Make apt in the root behave like the host's: the same sources (the archive, bookworm-updates,
#    security), apt.conf.d snippets (e.g. a snapshot mirror needs Check-Valid-Until false), pinning,
#    trusted keys and any keyring a source names with Signed-By. And the host's DNS.
rm -f "$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*.list "$root"/etc/apt/sources.list.d/*.sources
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cp "$f" "$root/etc/apt/sources.list.d/"
done
for d in apt.conf.d preferences.d trusted.gpg.d; do
    [ -d "/etc/apt/$d" ] || continue
    mkdir -p "$root/etc/apt/$d"
    cp -rL "/etc/apt/$d/." "$root/etc/apt/$d/"
done
while read -r key; do
    [ -f "$key" ] && [ ! -e "$root$key" ] && { mkdir -p "$root$(dirname "$key")"; cp "$key" "$root$key"; }
done < <(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oiE '(signed-by=|^signed-by:[[:space:]]*)/[^] [:space:]]+' | sed -E 's/^[^/]*//')
rm -f "$root/etc/resolv.conf"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
[ -e "$root/etc/hosts" ] || cp -L /etc/hosts "$root/etc/hosts"
# Package maintainer scripts must not start daemons (munged, slurmctld, ...) in a chroot: they
# would run on this host, outlive the test and hold the root busy. 101 = "action forbidden".
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

bind /proc /proc
bind /sys /sys
bind /dev /dev
bind /dev/pts /dev/pts
# A private /dev/shm (the host's is a separate tmpfs, not part of the /dev bind).
mkdir -p "$root/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm" || die "cannot mount a tmpfs on $root/dev/shm"
mounted+=("$root/dev/shm")

# A clean export of the commit: no .git, no build/, no untracked or ignored files.
mkdir -p "$root/root/assay"
git -C "$repo" archive --format=tar "$commit" | tar -x -C "$root/root/assay" ||
    die "git archive $commit failed"

# ---------------------------------------------------------------------------------------------
# Running a command in the root: a clean environment, cwd /root/assay. The step runs in the
# background and is waited for, so INT/TERM reach the trap at once (not after a 15-minute build).
root_env=(HOME=/root LANG=C.UTF-8 TERM=dumb
          PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v:-}" ] && root_env+=("$v=${!v}")
done
in_root() {   # [--env NAME=VALUE]... COMMAND-STRING  (run by bash -c in /root/assay)
    local extra=()
    while [ "$1" = --env ]; do extra+=("$2"); shift 2; done
    chroot "$root" /usr/bin/env -i "${root_env[@]}" "${extra[@]}" /bin/bash -c "cd /root/assay && $1"
}
run_step() {   # LABEL [--env NAME=VALUE]... COMMAND-STRING
    local label=$1 t rc=0
    shift
    echo "== [fresh root] ${*: -1}"
    t=$(now)
    in_root "$@" &
    bg_pid=$!
    wait "$bg_pid" || rc=$?
    bg_pid=""
    record "$label" "$t" "$(now)"
    [ "$rc" -eq 0 ] || die "'${*: -1}' exited $rc in the fresh root"
}

# ---------------------------------------------------------------------------------------------
# 3. README command (1), exactly as written. Its output passes through stamp_lines, which notes
#    when quickstart.sh's phases begin (the first ninja line, "== assay probe", "== assay run",
#    "== assay report") so that install, build and quick suite can be timed separately.
stamp_lines() {   # TIMES-FILE
    local line build_seen=0
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s\n' "$line"
        case $line in
            "== assay probe"*) echo "probe $EPOCHREALTIME" >>"$1" ;;
            "== assay run"*) echo "run $EPOCHREALTIME" >>"$1" ;;
            "== assay report"*) echo "report $EPOCHREALTIME" >>"$1" ;;
            \[[0-9]*/[0-9]*\]*)
                if [ "$build_seen" -eq 0 ]; then build_seen=1; echo "build $EPOCHREALTIME" >>"$1"; fi ;;
        esac
    done
}
times="$work/quickstart.times"
: >"$times"
echo "== [fresh root] ./scripts/quickstart.sh   (README command 1)"
t_qs=$(now)
( set -o pipefail; in_root ./scripts/quickstart.sh 2>&1 | stamp_lines "$times" ) &
bg_pid=$!
qs_rc=0
wait "$bg_pid" || qs_rc=$?
bg_pid=""
t_qs_end=$(now)
mark() { awk -v k="$1" '$1 == k { print $2; exit }' "$times"; }
t_build=$(mark build); t_probe=$(mark probe); t_run=$(mark run); t_report=$(mark report)
if [ -n "$t_build" ]; then
    record "package install (install-deps.sh) + release configure" "$t_qs" "$t_build"
    [ -n "$t_probe" ] && record "build (release)" "$t_build" "$t_probe"
fi
[ -n "$t_probe" ] && [ -n "$t_run" ] && record "assay probe" "$t_probe" "$t_run"
[ -n "$t_run" ] && [ -n "$t_report" ] && record "quick suite (assay run --suite quick)" "$t_run" "$t_report"
[ -n "$t_report" ] && record "assay report" "$t_report" "$t_qs_end"
record "README command (1) in all: ./scripts/quickstart.sh" "$t_qs" "$t_qs_end"
[ "$qs_rc" -eq 0 ] || die "./scripts/quickstart.sh exited $qs_rc in the fresh root"

# Its results: the newest run in ./assay.db is complete, has ok results and no failed one.
sql() { in_root "sqlite3 -readonly -batch ./assay.db \"$1\""; }
[ -f "$root/root/assay/assay.db" ] || die "quickstart.sh exited 0 but wrote no ./assay.db"
run_status=$(sql "SELECT status FROM run ORDER BY id DESC LIMIT 1") || die "cannot read ./assay.db"
counts=$(sql "SELECT sum(status = 'ok'), sum(status = 'skipped'), sum(status = 'failed') FROM result WHERE run_id = (SELECT max(id) FROM run)")
IFS='|' read -r n_ok n_skipped n_failed <<<"$counts"
log "assay.db: newest run '$run_status', results ok=${n_ok:-0} skipped=${n_skipped:-0} failed=${n_failed:-0}"
[ "$run_status" = complete ] || die "the newest run in ./assay.db is '$run_status', not 'complete'"
[ "${n_ok:-0}" -gt 0 ] || die "the run in ./assay.db has no ok result"
[ "${n_failed:-0}" -eq 0 ] || die "the run in ./assay.db has ${n_failed} failed results"
[ -s "$root/root/assay/assay-report.md" ] || die "./assay-report.md is missing or empty"
log "README command (1) passed in the fresh root ($(wc -l <"$root/root/assay/assay-report.md") report lines)"

# ---------------------------------------------------------------------------------------------
# 4. README command (2)'s install and configure steps. CI=true: a test tool that cannot be
#    installed fails here instead of being skipped.
run_step "test-tool install: install-deps.sh --with-test-tools" "./scripts/install-deps.sh --with-test-tools"
run_step "test-tool install: test-slurm.sh --install-only" --env CI=true "./scripts/test-slurm.sh --install-only"
if [ "$arch" = amd64 ]; then
    run_step "test-tool install: test-aarch64.sh --install-only (+ its configure)" --env CI=true \
        "./scripts/test-aarch64.sh --install-only"
fi
# Every configure preset CMakePresets.json defines (hidden ones are not listed by cmake).
mapfile -t presets < <(in_root "cmake --list-presets=configure" | sed -n 's/^ *"\([^"]*\)".*/\1/p')
[ ${#presets[@]} -gt 0 ] || die "cmake --list-presets=configure listed no preset"
for p in "${presets[@]}"; do
    run_step "configure: cmake --preset $p" "cmake --preset $p"
done

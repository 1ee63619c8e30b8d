# Shared helpers of scripts/bench-peers.sh: which processes are this run's, bounded waits,
# memory, arithmetic. Sourced, not run.

# Every process this run starts carries this in its environment (the supervisors pass their
# environment on, circus with copy_env), so the cleanup finds exactly ours, orphans included,
# and nothing of anyone else's.
export BENCH_PEERS_RUN="bench-peers-$$-$RANDOM$RANDOM"

# The pids of this run's processes, the script itself and the calling subshell left out.
ours() {
    local p pid
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
        grep -qzx "BENCH_PEERS_RUN=$BENCH_PEERS_RUN" "$p/environ" 2>/dev/null && echo "$pid"
    done
    return 0
}

is_ours() { grep -qzx "BENCH_PEERS_RUN=$BENCH_PEERS_RUN" "/proc/$1/environ" 2>/dev/null; }

# This run's processes whose whole command line is the regular expression $1.
ours_matching() {
    local pid
    for pid in $(pgrep -x -f "$1"); do
        is_ours "$pid" && echo "$pid"
    done
    return 0
}

# SIGKILL every process of this run (by pid) that is still alive.
kill_ours() {
    local pids
    pids=$(ours)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    return 0
}

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
# calc EXPR [DECIMALS]
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
load() { awk '{ print $1, $2, $3 }' /proc/loadavg; }

# wait_until SECONDS COMMAND...: runs COMMAND every 50 ms until it succeeds; fails after SECONDS.
wait_until() {
    local deadline
    deadline=$(calc "$EPOCHREALTIME + $1" 3)
    shift
    until "$@" >/dev/null 2>&1; do
        if awk -v d="$deadline" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n > d) }'; then
            echo "  gave up after waiting for: $*" >&2
            return 1
        fi
        sleep 0.05
    done
}

# at_least N COMMAND...: whether COMMAND prints a number >= N.
at_least() {
    local n
    n=$("${@:2}" 2>/dev/null | head -n 1)
    [ "${n:-0}" -ge "$1" ]
}

# Whether pid $1 runs (a zombie does not: this shell's own children stay zombies until waited).
alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d ' ' -f 1)
    [ -n "$state" ] && [ "$state" != Z ]
}
not_alive() { ! alive "$1"; }

# Waits up to $2 seconds for pid $1 to end.
wait_gone() { wait_until "$2" not_alive "$1"; }

rss_kib() {
    awk '/^VmRSS/ { n = $2 } END { print n + 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# Memory a process holds alone (USS: private pages), in KiB.
private_kib() {
    awk '/^Private_(Clean|Dirty):/ { n += $2 } END { print n + 0 }' "/proc/$1/smaps_rollup" \
        2>/dev/null || echo 0
}

# The supervisor's own memory in KiB: its main process's resident set, plus what each helper
# it forks without exec (same executable: tend's guardian, honcho's per-program Python
# processes) holds alone (their pages shared with the main process are counted once). Its
# managed programs are not counted.
supervisor_rss_kib() {
    local main=$1 exe total pid
    exe=$(readlink "/proc/$main/exe")
    total=$(rss_kib "$main")
    for pid in $(descendants "$main"); do
        [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] &&
            total=$((total + $(private_kib "$pid")))
    done
    echo "$total"
}

descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            for (p in parent) {
                q = parent[p]
                for (hops = 0; q != "" && q != 0 && hops < 64; hops++) {
                    if (q == root) { print p; break }
                    q = parent[q]
                }
            }
        }'
}

# median and range of the numbers given as arguments: "MEDIAN MIN MAX".
stats() {
    [ $# = 0 ] && { echo "- - -"; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - -"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        print m, v[1], v[NR] }'
}

#!/usr/bin/env bash
# WebSocket fan-out (issue 17): the child's own run time printing 1,000,000 lines under a
# release `tend daemon` with 50 WebSocket subscribers on /api/v1/events, against the same child
# with none, in ROUNDS rounds (default 7). A round is RUNS runs of each arm (default 5), the
# arms alternating run by run and the order flipping every pair, so a change in machine load
# hits both alike; the round's figure per arm is its median run. Prints every run, each
# round's `RATIO` (goal: <= 1.10 in every round), then a summary line with met/MISSED.
#
#   scripts/bench-fanout.sh [ROUNDS] [RUNS]
#
# With TEND_BENCH_BINS=DIR it runs the `tend`, `tend-fixture` and `api_load` in DIR instead of
# building this tree's: to compare two builds, copy each one's binaries aside and run the
# script for each in turn, round by round (scripts/bench-fanout-ab.sh does).
#
# The subscribers (crates/tend-server/examples/api_load.rs) run on this machine at nice 19:
# they stand for clients elsewhere. Each reports what it received: every line, or `lagged`
# messages accounting for the rest. Release builds; Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
runs=${2:-5}
lines=1000000
subscribers=50
goal=1.10
if [ -n "${TEND_BENCH_BINS:-}" ]; then
    tend=$TEND_BENCH_BINS/tend
    fixture=$TEND_BENCH_BINS/tend-fixture
    load=$TEND_BENCH_BINS/api_load
else
    cargo build --quiet --release -p tend-cli -p tend-tests --bins
    cargo build --quiet --release -p tend-server --example api_load
    tend=$PWD/target/release/tend
    fixture=$PWD/target/release/tend-fixture
    load=$PWD/target/release/examples/api_load
fi
work=$(mktemp -d)
source scripts/lib/daemon.sh
trap 'stop_daemon; rm -rf "$work"' EXIT
start_daemon "$tend"

# One run: prints the child's run time in ms; the subscribers' summary goes to stderr.
run() {
    local out
    out=$(nice -n 19 "$load" ws "$url" "$token" "$1" "$fixture" lines "$lines")
    grep -v '^child ran' <<<"$out" | sed 's/^/    /' >&2
    sed -n 's/^child ran \([0-9]*\) ms.*/\1/p' <<<"$out"
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "fan-out: $lines lines, $subscribers subscribers vs none, $rounds rounds of $runs runs per arm; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
run 0 >/dev/null # warm-up: page cache, the daemon's first allocations
ratios=()
pair=0
for round in $(seq "$rounds"); do
    nones=()
    withs=()
    for _ in $(seq "$runs"); do
        pair=$((pair + 1))
        if [ $((pair % 2)) -eq 1 ]; then
            nones+=("$(run 0)")
            withs+=("$(run "$subscribers")")
        else
            withs+=("$(run "$subscribers")")
            nones+=("$(run 0)")
        fi
    done
    none=$(median "${nones[@]}")
    with=$(median "${withs[@]}")
    ratio=$(awk -v w="$with" -v n="$none" 'BEGIN {printf "%.3f", w / n}')
    ratios+=("$ratio")
    echo "RATIO fanout round $round: $subscribers subscribers $with ms (runs ${withs[*]}) / none $none ms (runs ${nones[*]}) = $ratio (load average $(cut -d' ' -f1 /proc/loadavg))"
done
worst=$(printf '%s\n' "${ratios[@]}" | sort -n | tail -n1)
best=$(printf '%s\n' "${ratios[@]}" | sort -n | head -n1)
verdict=$(awk -v w="$worst" -v g="$goal" 'BEGIN {print (w <= g) ? "met" : "MISSED"}')
echo "RATIO fanout_50_subscribers: $best-$worst over $rounds rounds (goal <= $goal in every round): $verdict"

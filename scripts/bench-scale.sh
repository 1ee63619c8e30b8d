#!/usr/bin/env bash
# The scale goals of issue 17, through a release `tend daemon` (one command; Linux, reads /proc):
#
#   * idle daemon RSS (fresh state dir, no processes)                     goal < 5 MB
#   * N (10,000) managed `sleep`s started through POST /api/v1/processes  goal >= 2,000 starts/s
#   * daemon RSS per managed process, (RSS with N - RSS before) / N       goal <= 16 KiB
#   * one /api/v1/events subscriber sees all N `started` events            goal: missed 0
#   * GET /api/v1/processes with the N records, held at 1,000 requests/s  goal p99 < 50 ms
#
# Load tool: h2load (Debian nghttp2-client, installed with apt-get when missing): it posts the
# starts (32 connections, keep-alive) and holds the GET rate (--rps per connection; a request
# that takes longer than its slot delays the next, so the rate it reached is printed and a
# rate below 95 % of the target counts as missed). Latencies come from its per-request log.
# The most GETs per second it answers (no rate set) is printed too, as a figure.
#
# Raw baseline: each round also starts the N `sleep`s with plain std::process::Command from one
# thread (benches/src/bin/bench-spawn.rs), and a RATIO line gives tend's start rate over it.
#
# Environment: N (10000), ROUNDS (3), RATE (1000), SECONDS_HELD (10), BASELINE=path to
# another `tend` binary to run interleaved, round by round, with this one (same figures);
# LIST=0 skips the GET figures; PERF=FILE records the daemon during the starts
# (`perf record -g`, into FILE.tend and FILE.baseline); PERF_LIST=FILE records it during the
# GETs held at RATE (into FILE.tend and FILE.baseline); BUILD=0 runs the release binaries
# already in target/ without building them first.
# Every line with a goal reads `FIGURE name value goal ... met|MISSED`; the last lines give
# the range over the rounds. About two minutes a round (each arm) on a loaded 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-1000}
SECONDS_HELD=${SECONDS_HELD:-10}
BASELINE=${BASELINE:-}
LIST=${LIST:-1}
PERF=${PERF:-}
PERF_LIST=${PERF_LIST:-}

# A managed `sleep` holds 3 descriptors in the daemon (its stdout and stderr pipes, a pidfd;
# its log file is opened at its first output, a silent process holds none; before that, 4):
# raise the limit (root may raise the hard one too). Where the hard limit stays too low for N
# (a container's 20,000 allows about 6,600), N is cut to what fits and the cut is reported as
# a missed figure. FDS_PER_PROCESS (3; 4 for a BASELINE from before the lazy log file) sets
# the count the cut assumes; the descriptors the daemon holds are measured and printed.
ulimit -Hn 1048576 2>/dev/null || ulimit -Hn 65536 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
wanted=$N
per=${FDS_PER_PROCESS:-3}
fits=$(( ($(ulimit -n) - 200) / per ))
if [ "$fits" -lt "$N" ]; then
    echo "FIGURE processes $fits (goal $wanted) MISSED: open-file limit $(ulimit -n) allows about $fits managed processes; N cut to $fits"
    N=$fits
fi

if ! command -v h2load >/dev/null; then
    echo "installing h2load (apt-get install nghttp2-client)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null
fi
if [ "${BUILD:-1}" != 0 ]; then
    cargo build --quiet --release -p tend-cli
    cargo build --quiet --release -p tend-server --example event_count
    cargo build --quiet --release -p tend-benches --bin bench-spawn
fi
tend=$PWD/target/release/tend
counter=$PWD/target/release/examples/event_count
raw_spawn=$PWD/target/release/bench-spawn

work=$(mktemp -d)
source scripts/lib/daemon.sh
sub=
# The round's event subscriber, then its daemon.
stop_round() {
    if [ -n "$sub" ]; then kill "$sub" 2>/dev/null || true; wait "$sub" 2>/dev/null || true; fi
    sub=
    stop_daemon
}
trap 'stop_round; rm -rf "$work"' EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# verdict VALUE OP GOAL: met or MISSED (awk does the floating-point comparison).
verdict() { awk -v v="$1" -v g="$3" "BEGIN { print (v $2 g) ? \"met\" : \"MISSED\" }"; }
# figure ARM NAME VALUE UNIT OP GOAL: one goal line, and the value kept for the range.
figure() {
    echo "FIGURE $2 $3 $4 (goal $5 $6) $(verdict "$3" "$5" "$6") [$1, load $(load)]"
    echo "$3" >>"$work/$1.$2"
}

# one_round ARM BINARY
one_round() {
    local arm=$1
    start_daemon "$2"
    sleep 1
    figure "$arm" idle_rss_mb "$(awk -v k="$(rss_kib)" 'BEGIN { printf "%.2f", k / 1024 }')" MB '<' 5

    "$counter" "$url" "$token" "$N" >"$work/events" &
    sub=$!
    for _ in $(seq 100); do grep -q subscribed "$work/events" && break; sleep 0.05; done
    sleep 0.2
    local before fds_before
    before=$(rss_kib)
    fds_before=$(ls "/proc/$pid/fd" | wc -l)
    printf '{"command":"sleep","args":["3600"]}' >"$work/start.json"
    local perf=
    if [ -n "$PERF" ]; then
        perf record -q -g -p "$pid" -o "$PERF.$arm" 2>/dev/null &
        perf=$!
        sleep 0.5
    fi
    h2load --h1 -n "$N" -c 32 -d "$work/start.json" -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $token" "$url/api/v1/processes" >"$work/starts" 2>&1 || true
    if [ -n "$perf" ]; then kill -INT "$perf"; wait "$perf" || true; fi
    local rate created
    rate=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$work/starts")
    created=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$work/starts")
    echo "  $N starts posted: ${created:-0} answered 201; $(grep '^finished' "$work/starts")"
    [ "${created:-0}" = "$N" ] || figure "$arm" starts_failed "$((N - ${created:-0}))" '' '==' 0
    figure "$arm" start_rate "${rate:-0}" starts/s '>=' 2000

    wait "$sub" || true
    sub=
    local seen missed
    seen=$(awk '/^started_seen/ {print $2}' "$work/events")
    missed=$(awk '/^started_seen/ {print $4}' "$work/events")
    echo "  events subscriber: $(grep started_seen "$work/events")"
    figure "$arm" started_events_missed "$(( N - ${seen:-0} ))" "of $N (lagged $missed)" '==' 0

    sleep 2
    local with
    with=$(rss_kib)
    echo "  RSS $before KiB -> $with KiB with $N processes; $(ls "/proc/$pid/fd" | wc -l) descriptors open"
    figure "$arm" fds_per_process \
        "$(awk -v a="$fds_before" -v b="$(ls "/proc/$pid/fd" | wc -l)" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')" \
        '' '<=' 3
    figure "$arm" rss_per_process_kib \
        "$(awk -v a="$before" -v b="$with" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')" \
        KiB '<=' 16

    if [ "$LIST" = 0 ]; then
        stop_round
        return
    fi
    local records bytes
    records=$(curl -s -H "Authorization: Bearer $token" "$url/api/v1/processes" |
        tee "$work/list.json" | grep -o '"id":' | wc -l)
    bytes=$(wc -c <"$work/list.json")
    echo "  GET /api/v1/processes: $records records, $bytes bytes"
    local clients=$((RATE / 100))
    rm -f "$work/get.log"
    local perf_list=
    if [ -n "$PERF_LIST" ]; then
        perf record -q -g -p "$pid" -o "$PERF_LIST.$arm" 2>/dev/null &
        perf_list=$!
    fi
    h2load --h1 -c "$clients" --rps 100 -D "$SECONDS_HELD" --warm-up-time 1 \
        --log-file "$work/get.log" -H "Authorization: Bearer $token" \
        "$url/api/v1/processes" >"$work/get" 2>&1 || true
    if [ -n "$perf_list" ]; then kill -INT "$perf_list"; wait "$perf_list" || true; fi
    local done_rate p50 p99 max bad
    done_rate=$(awk -v s="$SECONDS_HELD" 'END { printf "%.0f", NR / s }' "$work/get.log")
    # h2load's log: start time, status, microseconds per request.
    read -r p50 p99 max <<<"$(awk '{ print $3 / 1000 }' "$work/get.log" | sort -n | awk '
        function at(q,  i) { i = int(NR * q) + 1; if (i > NR) i = NR; return v[i] }
        { v[NR] = $1 }
        END { if (NR == 0) print "0 0 0"; else printf "%.1f %.1f %.1f", at(0.50), at(0.99), v[NR] }')"
    bad=$(awk '$2 != 200' "$work/get.log" | wc -l)
    echo "  held at $RATE/s for ${SECONDS_HELD}s: answered $done_rate/s, p50 $p50 ms, p99 $p99 ms, max $max ms, $bad not 200"
    [ "$bad" = 0 ] || echo "  not 200 (h2load's log: start, status, microseconds): $(awk '$2 != 200' "$work/get.log" | head -3 | tr '\n' ';')"
    figure "$arm" list_rate_reached "$done_rate" req/s '>=' "$((RATE * 95 / 100))"
    figure "$arm" list_p99_ms "$p99" ms '<' 50
    h2load --h1 -c 16 -D 5 -H "Authorization: Bearer $token" "$url/api/v1/processes" \
        >"$work/getmax" 2>&1 || true
    echo "  FIGURE list_max_rate $(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$work/getmax") req/s (16 connections, no rate set) [$arm, load $(load)]"
    echo "  RSS after the GETs: $(rss_kib) KiB (with $N processes before them: $with KiB)"
    stop_round
}

# raw_round: the start rate of plain std::process::Command, the same N `sleep`s with their
# output piped, from one thread (bench-spawn), for the RATIO line against it.
raw_round() {
    local line
    line=$("$raw_spawn" "$N" sleep 3600)
    echo "  $line"
    figure raw start_rate "$(awk '{print $2}' <<<"$line")" starts/s '>=' 2000
}

arms=(tend)
[ -n "$BASELINE" ] && arms+=(baseline)
arms+=(raw)
echo "N=$N rounds=$ROUNDS rate=$RATE/s; open-file limit $(ulimit -n); $(nproc) cores; load $(load)"
for round in $(seq "$ROUNDS"); do
    for arm in "${arms[@]}"; do
        echo "round $round, $arm:"
        case $arm in
        tend) one_round tend "$tend" ;;
        baseline) one_round baseline "$BASELINE" ;;
        raw) raw_round ;;
        esac
    done
done

echo "ranges over $ROUNDS rounds:"
for arm in "${arms[@]}"; do
    for name in idle_rss_mb start_rate rss_per_process_kib fds_per_process started_events_missed list_rate_reached list_p99_ms; do
        [ -f "$work/$arm.$name" ] || continue
        echo "RANGE $arm $name $(sort -g "$work/$arm.$name" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }')"
    done
done
# ratio NAME OTHER: the range of tend's figure over OTHER's, round by round.
ratio() {
    paste "$work/tend.$1" "$work/$2.$1" | awk -v n="$1" -v other="$2" '
        $2 > 0 { r = $1 / $2; lo = (NR == 1 || r < lo) ? r : lo; hi = (NR == 1 || r > hi) ? r : hi }
        END { printf "RATIO %s tend/%s %.2f–%.2f\n", n, other, lo, hi }'
}
if [ -n "$BASELINE" ]; then
    for name in idle_rss_mb start_rate rss_per_process_kib fds_per_process list_p99_ms; do
        [ -f "$work/tend.$name" ] && [ -f "$work/baseline.$name" ] || continue
        ratio "$name" baseline
    done
fi
ratio start_rate raw

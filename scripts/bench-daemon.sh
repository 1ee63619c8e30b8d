#!/usr/bin/env bash
# The daemon figures of BENCHMARKS.md: resident memory idle and with managed processes, start
# rates through the CLI and the API, WebSocket fan-out under a flood of lines, and `GET
# /api/v1/processes` under wrk. Release builds; Linux (reads /proc). Needs `wrk` for the
# last figure (apt-get install wrk). Takes about two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p tend-cli -p tend-tests --bins
cargo build --quiet --release -p tend-server --example api_load
tend=$PWD/target/release/tend
fixture=$PWD/target/release/tend-fixture
load=$PWD/target/release/examples/api_load
work=$(mktemp -d)
source scripts/lib/daemon.sh
trap 'stop_daemon; rm -rf "$work"' EXIT
# Settled for half a second, so that the idle figure is of an idle daemon.
start_tend() {
    start_daemon "$tend" --max-processes 10000
    sleep 0.5
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
now() { date +%s.%N; }

start_tend
echo "idle daemon RSS: $(rss_kib) KiB"
before=$(now)
for _ in $(seq 50); do
    "$tend" start --server "$url" --token "$token" --no-stdin -- sleep 600 >/dev/null
done
after=$(now)
echo "50 starts through the CLI: $(echo "$after - $before" | bc) s"
sleep 0.5
echo "RSS with 50 managed sleeps: $(rss_kib) KiB"
stop_daemon

start_tend
base=$(rss_kib)
"$load" start "$url" "$token" 2000 sleep 600
sleep 1
with=$(rss_kib)
echo "2000 managed sleeps: RSS $base -> $with KiB, $(( (with - base) * 1024 / 2000 )) bytes per process"
stop_daemon

start_tend
# The subscribers run on this machine too, at the lowest priority: they stand for clients
# elsewhere, and on a small machine they would otherwise compete with the child for the CPU.
for round in 1 2 3; do
    echo "round $round: 1,000,000 lines, no WebSocket subscriber:"
    nice -n 19 "$load" ws "$url" "$token" 0 "$fixture" lines 1000000
    echo "round $round: 1,000,000 lines, 50 WebSocket subscribers:"
    nice -n 19 "$load" ws "$url" "$token" 50 "$fixture" lines 1000000
done
stop_daemon

if command -v wrk >/dev/null; then
    start_tend
    "$load" start "$url" "$token" 1000 true >/dev/null
    sleep 1
    echo "GET /api/v1/processes with $(curl -s -H "Authorization: Bearer $token" "$url/api/v1/processes" | grep -o '"id"' | wc -l) records:"
    wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer $token" "$url/api/v1/processes" | grep -E 'Requests/sec|99%|Latency '
    stop_daemon
fi

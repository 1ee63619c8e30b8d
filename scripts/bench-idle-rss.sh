#!/usr/bin/env bash
# Idle daemon memory (issue 17): the resident size of a release `tend daemon` on a fresh state
# dir with no processes, 2 s after it serves, and the same daemon after real use: the web UI
# loaded (a login code redeemed, the page and every asset fetched), one WebSocket subscriber
# while a process runs, and 1,000 API requests (10 starts, then lists, gets, output pages,
# health, metrics, the OpenAPI document). Two arms in each of ROUNDS rounds (default 3),
# alternating which goes first: the daemon as shipped, which lets go of the pages of code its
# start ran once (`tend::release_code_pages`), and the same binary keeping them
# (`--keep-start-pages`, hidden, for this comparison). Prints every figure, then `FIGURE` lines
# with the goal (idle < 5 MB) and met/MISSED.
#
#   scripts/bench-idle-rss.sh [ROUNDS]
#
# Release builds (the real release profile decides the figure); Linux (reads /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
goal_kib=5120
cargo build --quiet --release -p tend-cli -p tend-tests --bins
cargo build --quiet --release -p tend-server --example api_load
tend=$PWD/target/release/tend
load=$PWD/target/release/examples/api_load
work=$(mktemp -d)
source scripts/lib/daemon.sh
trap 'stop_daemon; rm -rf "$work"' EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
parts() { awk '/^Rss(Anon|File)/ {printf "%s %s kB ", $1, $2}' "/proc/$pid/status"; }
last() { local values=($1); echo "${values[-1]}"; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# The UI a browser loads, then 1,000 API requests over one keep-alive connection.
use_daemon() {
    local auth="Authorization: Bearer $token" jar="$work/cookies" config="$work/requests" ids
    local code
    code=$(curl -sf -X POST -H "$auth" "$url/api/v1/ui/login-codes" | sed -n 's/.*"code":"\([^"]*\)".*/\1/p')
    curl -sf -c "$jar" -o /dev/null "$url/ui/login?code=$code"
    {
        printf 'url = "%s/ui/"\noutput = /dev/null\n' "$url"
        for asset in crates/tend-server/ui/*; do
            printf 'url = "%s/ui/%s"\noutput = /dev/null\n' "$url" "${asset##*/}"
        done
    } | curl -sf -b "$jar" -K -
    "$load" ws "$url" "$token" 1 sh -c 'echo ready' >/dev/null
    for _ in $(seq 10); do
        curl -sf -H "$auth" -H 'Content-Type: application/json' \
            -d '{"command":"sh","args":["-c","echo hello"]}' "$url/api/v1/processes"
        echo
    done >"$work/started"
    ids=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$work/started")
    : >"$config"
    local paths=(/api/v1/processes /health /metrics /api/v1/projects /api/v1/pipelines "/api/v1/hello?nonce=0123456789abcdef0123456789abcdef")
    for id in $ids; do paths+=("/api/v1/processes/$id" "/api/v1/processes/$id/output"); done
    paths+=(/api/v1/openapi.json)
    for i in $(seq 0 989); do
        printf 'url = "%s%s"\noutput = /dev/null\n' "$url" "${paths[i % ${#paths[@]}]}" >>"$config"
    done
    curl -s -H "$auth" -K "$config" -w '%{http_code}\n' | sort | uniq -c | sed 's/^/    HTTP/' >&2
}

echo "idle daemon RSS, $rounds rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A idle used
for round in $(seq "$rounds"); do
    arms=(shipped kept)
    [ $((round % 2)) -eq 0 ] && arms=(kept shipped)
    for arm in "${arms[@]}"; do
        if [ "$arm" = kept ]; then start_daemon "$tend" --keep-start-pages; else start_daemon "$tend"; fi
        sleep 2
        idle[$arm]+=" $(rss_kib)"
        echo "round $round, $arm: idle $(parts)"
        use_daemon
        sleep 0.5
        used[$arm]+=" $(rss_kib)"
        echo "round $round, $arm: after use $(parts)"
        echo "round $round, $arm: idle $(last "${idle[$arm]}") KiB, after use $(last "${used[$arm]}") KiB (load average $(cut -d' ' -f1 /proc/loadavg))"
        stop_daemon
    done
done 2>&1
for arm in shipped kept; do
    # shellcheck disable=SC2086
    echo "FIGURE idle_rss_$arm: median $(median ${idle[$arm]}) KiB (runs${idle[$arm]}), after use median $(median ${used[$arm]}) KiB (runs${used[$arm]})"
done
# shellcheck disable=SC2086
shipped=$(median ${idle[shipped]})
verdict=$( [ "$shipped" -lt "$goal_kib" ] && echo met || echo MISSED)
echo "FIGURE idle_daemon_rss: $shipped KiB (goal < $goal_kib KiB): $verdict"

#!/usr/bin/env bash
# Property-based API check: schemathesis (from PyPI) generates requests from the live
# daemon's /api/v1/openapi.json and fails on any 5xx or any response that violates the schema.
#
# The daemon runs with an empty PATH in a scratch directory, so the `command`s and `run`
# scripts schemathesis invents cannot find a program to execute.
#
# The document is generated from the wire types (crates/tend-server/src/openapi/); its paths
# are relative to the server `/api/v1`, except /health, /ready and /metrics, whose path items
# name the root as their server (schemathesis takes one base URL per run, so they get their
# own run).
#
# Phases, each failing the script on any failure:
#   1. every /api operation but the daemon stop, MAX_EXAMPLES (default 200) examples each, all
#      checks but `positive_data_acceptance` (see below). /events is in it: plain GETs (no
#      upgrade headers) must be refused with a documented 4xx. Then /health, /ready and
#      /metrics against the root.
#   2. scripts/api_checks.py handshake: the WebSocket handshake itself, which schemathesis
#      cannot express (it reports any 101 answer as a failure): real handshakes (101, the
#      right Sec-WebSocket-Accept, a clean close) over a spread of `since` and `token` values,
#      and malformed ones (no key, wrong version, no or wrong token, bad `since`, POST): a
#      documented 4xx with the API's JSON error, never a 5xx. Then the messages: a replay of
#      the whole event log (what phase 1 left, plus a pipeline and a process started for it)
#      must match the document's EventMessage schema (`x-websocket-message`).
#   3. the daemon stop route, last, so stopping the daemon under test cuts nothing short:
#      fuzzed against a throwaway registered daemon (the `daemon` example), which is then
#      stopped through the route (200, body as documented, the process exits), and finally
#      the daemon under test stops itself through its own route and must exit 0.
#
# `positive_data_acceptance` is left out: it expects every schema-valid request to succeed,
# and much of what the API checks is not expressible in the schema: the daemon runs with no
# PATH so every start is a 422 by design, durations are humantime strings with bounds,
# `dir` must exist, and `timeout`/`timeout_ms` (and the other string/`_ms` pairs) are
# exclusive. `negative_data_rejection` (schema-invalid requests must be refused) stays.
#
# Usage: scripts/schemathesis.sh [extra `st run` options for phase 1]
#        (MAX_EXAMPLES=N examples per operation, default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
started=$SECONDS

venv=${SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
examples=${MAX_EXAMPLES:-200}

# Waits (up to 10 s) until FILE has a line matching PATTERN.
wait_for_line() {
    for _ in $(seq 100); do
        grep -q "$1" "$2" 2>/dev/null && return
        sleep 0.1
    done
}

cargo build --quiet -p tend-cli --bin tend
cargo build --quiet -p tend --example daemon
mkdir -p "$work/cwd"
# --max-finished: thousands of fuzzed runs must not evict the processes the stateful phase
# links to; a 410 `evicted` is not one of the rejections schemathesis expects for bad input
# (eviction has its own e2e test, server_limits::a_process_the_table_forgot_answers_410_evicted).
(cd "$work/cwd" && PATH=/nonexistent exec "$root/target/debug/tend" daemon --listen 127.0.0.1:0 \
    --state-dir "$work/state" --registry-dir "$work/registry" --max-processes 50 \
    --max-finished 100000 \
    >"$work/out" 2>"$work/err") &
daemon_pid=$!
pids+=("$daemon_pid")
wait_for_line '^listening on ' "$work/out"
url=$(sed -n 's/^listening on //p' "$work/out")
[ -n "$url" ] || { echo "the daemon did not start:"; cat "$work/err"; exit 1; }
token=$(cat "$work/state/token")
export SCHEMATHESIS_URL=$url SCHEMATHESIS_TOKEN=$token

# Run from the scratch directory, where schemathesis leaves its `.schemathesis` cache.
cd "$work"
# st BASE [options]: schemathesis against the served document, requests under BASE.
st() {
    local base=$1
    shift
    "$venv/bin/st" run "$url/api/v1/openapi.json" \
        --url "$url$base" \
        --header "Authorization: Bearer $token" \
        --checks all \
        --exclude-checks positive_data_acceptance \
        --max-examples "$examples" \
        --request-timeout 30 \
        --no-color \
        "$@"
}
phase() { echo; echo "=== schemathesis phase $1 ($((SECONDS - started)) s so far)"; }

phase "1: every operation but the daemon stop"
root_paths='^/(health|ready|metrics)$'
st /api/v1 --exclude-path '/daemons/{code}/{daemon}/stop' --exclude-path-regex "$root_paths" "$@"
st "" --include-path-regex "$root_paths" "$@"

phase "2: the /events WebSocket handshake"
"$venv/bin/python" "$root/scripts/api_checks.py" handshake
"$venv/bin/python" "$root/scripts/api_checks.py" events

phase "3: the daemon stop route"
"$root/target/debug/examples/daemon" --registry-dir "$work/registry" --code soak --name victim \
    --pid-file "$work/victim.pid" >"$work/victim.out" 2>&1 &
victim_pid=$!
pids+=("$victim_pid")
wait_for_line '^health: ' "$work/victim.out"
st /api/v1 --include-path '/daemons/{code}/{daemon}/stop' --phases examples,coverage,fuzzing
"$venv/bin/python" "$root/scripts/api_checks.py" stop-daemon soak victim "$victim_pid"
"$venv/bin/python" "$root/scripts/api_checks.py" stop-self "$daemon_pid"
wait "$daemon_pid" || { echo "the daemon stopped through its route exited $?"; exit 1; }
pids=()
echo "schemathesis: all phases passed in $((SECONDS - started)) s"

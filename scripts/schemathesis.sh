#!/usr/bin/env bash
# Property-based API check: schemathesis (from PyPI) generates requests from the live
# daemon's /api/v1/openapi.json and fails on any 5xx or any response that violates the schema.
#
# The daemon runs with an empty PATH in a scratch directory, so the `command`s and `run`
# scripts schemathesis invents cannot find a program to execute.
#
# Usage: scripts/schemathesis.sh [extra `st run` options]   (MAX_EXAMPLES=N, default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

venv=${SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi

cargo build --quiet -p tend-cli --bin tend
mkdir -p "$work/cwd"
(cd "$work/cwd" && PATH=/nonexistent exec "$root/target/debug/tend" daemon --listen 127.0.0.1:0 \
    --state-dir "$work/state" --registry-dir "$work/registry" --max-processes 50 \
    >"$work/out" 2>"$work/err") &
daemon_pid=$!
for _ in $(seq 100); do
    grep -q '^listening on ' "$work/out" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/out")
[ -n "$url" ] || { echo "the daemon did not start:"; cat "$work/err"; exit 1; }
token=$(cat "$work/state/token")

# /events is a WebSocket: schemathesis speaks plain HTTP only. The daemon stop route is left
# out because the daemon is itself in the registry (`tend`/`supervisor`): a fuzzer that guesses
# those names stops the server under test (the e2e tests cover that route). Run from the
# scratch directory, where schemathesis leaves its `.schemathesis` cache.
cd "$work"
"$venv/bin/st" run "$url/api/v1/openapi.json" \
    --url "$url/api/v1" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance \
    --exclude-path /events \
    --exclude-path '/daemons/{code}/{daemon}/stop' \
    --max-examples "${MAX_EXAMPLES:-30}" \
    --request-timeout 30 \
    "$@"

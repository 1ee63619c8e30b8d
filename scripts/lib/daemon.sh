# A release `tend daemon` for the benchmark scripts (sourced; the caller sets `work` to a
# temporary directory and traps `stop_daemon` on exit).

pid=

# start_daemon BINARY [DAEMON OPTION...]: a fresh state dir each time; sets pid, url, token.
start_daemon() {
    local binary=$1
    shift
    rm -rf "$work/state" "$work/reg" "$work/out"
    "$binary" daemon --listen 127.0.0.1:0 --state-dir "$work/state" --registry-dir "$work/reg" \
        --grace 1s "$@" >"$work/out" 2>"$work/err" &
    pid=$!
    for _ in $(seq 200); do grep -q '^listening' "$work/out" 2>/dev/null && break; sleep 0.05; done
    url=$(sed -n 's/^listening on //p' "$work/out")
    [ -n "$url" ] || { echo "the daemon did not start:"; cat "$work/err"; exit 1; }
    token=$(cat "$work/state/token")
}

# stop_daemon: SIGTERM, then SIGKILL if it is still there after 60 s (stopping thousands of
# processes takes a while; never wait without end).
stop_daemon() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    pid=
}

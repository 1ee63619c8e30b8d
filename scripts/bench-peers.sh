#!/usr/bin/env bash
# The peers' side of BENCHMARKS.md's daemon table: pueue, supervisord and PM2 measured the way
# scripts/bench-daemon.sh measures tend — daemon resident memory idle and with 50 managed
# `sleep`s, 50 starts through each peer's own CLI (one command each), and N concurrent
# `sleep`s (default 2000; PM2 is left out there, it starts about four per second).
#
# Installs what is missing into target/peers: pip `supervisor`, npm `pm2`, cargo `pueue`
# (the last builds for several minutes). A peer that cannot be installed is skipped.
# Usage: scripts/bench-peers.sh [N [PEER...]]   (PEER: pueue, supervisord, pm2; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
many=${1:-2000}
shift || true
wanted=${*:-pueue supervisord pm2}
peers=$PWD/target/peers
mkdir -p "$peers"
work=$(mktemp -d)
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c" 2>/dev/null || true; done; rm -rf "$work"' EXIT

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# Waits (bounded) until `$1` (a command) prints a number >= $2.
wait_count() {
    for _ in $(seq 1200); do
        local n; n=$(eval "$1" 2>/dev/null | head -n 1 || true)
        [ "${n:-0}" -ge "$2" ] && return 0
        sleep 0.1
    done
    echo "gave up waiting for $2 ($1)" >&2
    return 1
}

install_peers() {
    command -v pueued >/dev/null || cargo install --locked --root "$peers" pueue >/dev/null 2>&1 || true
    [ -x "$peers/py/bin/supervisord" ] || python3 -m pip install --quiet --prefix "$peers/py" supervisor >/dev/null 2>&1 || true
    [ -x "$peers/node/node_modules/.bin/pm2" ] || npm install --silent --prefix "$peers/node" pm2 >/dev/null 2>&1 || true
}

bench_pueue() {
    command -v pueued >/dev/null || { echo "pueue: not installed, skipped"; return; }
    export HOME=$work/pueue XDG_CONFIG_HOME=$work/pueue/config XDG_DATA_HOME=$work/pueue/data \
        XDG_RUNTIME_DIR=$work/pueue/run
    mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
    pueued >/dev/null 2>&1 &
    local pid=$!
    cleanup+=("kill -TERM $pid; pkill -KILL -f 'sleep 601'")
    wait_count "pueue status --json >/dev/null && echo 1" 1
    pueue parallel "$((many + 50))" >/dev/null
    sleep 0.5
    echo "pueue: idle pueued RSS $(rss_kib $pid) KiB"
    local before; before=$(now)
    for _ in $(seq 50); do pueue add -- sleep 601 >/dev/null; done
    echo "pueue: 50 starts through the CLI: $(since "$before") s"
    wait_count "pgrep -fc 'sleep 601'" 50
    echo "pueue: RSS with 50 managed sleeps $(rss_kib $pid) KiB"
    local base; base=$(rss_kib $pid)
    before=$(now)
    for _ in $(seq "$many"); do pueue add -- sleep 601 >/dev/null; done
    wait_count "pgrep -fc 'sleep 601'" "$((many + 50))"
    local took; took=$(since "$before")
    sleep 1
    local with; with=$(rss_kib $pid)
    echo "pueue: $many more sleeps running after $took s; RSS $base -> $with KiB, $(( (with - base) * 1024 / many )) bytes per process"
    pueue kill --all >/dev/null 2>&1 || true
    kill -TERM $pid; wait $pid 2>/dev/null || true
    pkill -KILL -f 'sleep 601' || true
    unset HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_RUNTIME_DIR
}

# startsecs=0: `supervisorctl start` returns once the program is spawned, as `tend start` does
# (with the default 1 s it waits a second per program).
supervisor_conf() { # $1 = number of programs, $2 = autostart
    cat <<EOF
[unix_http_server]
file=$work/sv/sock
[supervisord]
logfile=$work/sv/log
pidfile=$work/sv/pid
childlogdir=$work/sv
nodaemon=true
minfds=16384
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://$work/sv/sock
EOF
    for i in $(seq "$1"); do
        printf '[program:s%s]\ncommand=sleep 602\nstartsecs=0\nautostart=%s\nstdout_logfile=NONE\nstderr_logfile=NONE\n' \
            "$i" "$2"
    done
}

bench_supervisord() {
    local bin=$peers/py/bin
    [ -x "$bin/supervisord" ] || { echo "supervisord: not installed, skipped"; return; }
    local site; site=$(echo "$peers"/py/lib/python3*/site-packages)
    export PYTHONPATH=$site
    mkdir -p "$work/sv"
    supervisor_conf 50 false >"$work/sv/conf"
    "$bin/supervisord" -c "$work/sv/conf" >/dev/null 2>&1 &
    local pid=$!
    cleanup+=("kill -TERM $pid; pkill -KILL -f 'sleep 602'")
    wait_count "$bin/supervisorctl -c $work/sv/conf status >/dev/null; [ -S $work/sv/sock ] && echo 1" 1
    sleep 0.5
    echo "supervisord: idle RSS $(rss_kib $pid) KiB"
    local before; before=$(now)
    for i in $(seq 50); do "$bin/supervisorctl" -c "$work/sv/conf" start "s$i" >/dev/null; done
    echo "supervisord: 50 starts through supervisorctl: $(since "$before") s"
    echo "supervisord: RSS with 50 managed sleeps $(rss_kib $pid) KiB"
    kill -TERM $pid; wait $pid 2>/dev/null || true

    supervisor_conf "$many" true >"$work/sv/conf"
    before=$(now)
    "$bin/supervisord" -c "$work/sv/conf" >/dev/null 2>&1 &
    pid=$!
    cleanup+=("kill -TERM $pid")
    wait_count "pgrep -fc 'sleep 602'" "$many"
    local took; took=$(since "$before")
    sleep 1
    echo "supervisord: $many autostarted sleeps running after $took s (daemon start included); RSS $(rss_kib $pid) KiB"
    kill -TERM $pid; wait $pid 2>/dev/null || true
    pkill -KILL -f 'sleep 602' || true
    unset PYTHONPATH
}

bench_pm2() {
    local pm2=$peers/node/node_modules/.bin/pm2
    [ -x "$pm2" ] || { echo "pm2: not installed, skipped"; return; }
    export PM2_HOME=$work/pm2
    "$pm2" ping >/dev/null
    cleanup+=("PM2_HOME=$work/pm2 $pm2 kill >/dev/null")
    sleep 1
    local pid; pid=$(cat "$PM2_HOME/pm2.pid")
    echo "pm2: idle God daemon RSS $(rss_kib "$pid") KiB"
    local before; before=$(now)
    for i in $(seq 50); do "$pm2" start sleep --name "p$i" --no-autorestart -- 603 >/dev/null; done
    echo "pm2: 50 starts through pm2 start: $(since "$before") s"
    sleep 1
    echo "pm2: RSS with 50 managed sleeps $(rss_kib "$pid") KiB"
    "$pm2" kill >/dev/null
    unset PM2_HOME
}

install_peers
for peer in $wanted; do "bench_$peer"; done

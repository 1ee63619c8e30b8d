#!/usr/bin/env bash
# tend side by side with the peers that install here (pueue, supervisord, PM2, circus, honcho),
# all in ONE run on the same workloads, each figure also given as a ratio to tend's:
#
#   idle supervisor memory; memory with 50 managed `sleep`s; 50 starts through each tool's CLI
#   (one command each, until all 50 run); N `sleep`s started the same way (time until all run,
#   memory per process); the wall time of a child printing 1,000,000 lines under the
#   supervisor divided by the same child's time writing them to a file; and how many
#   descendants a crash leaves: a managed `sh -c 'sleep 1001 & sleep 1002 & wait'`, the `sh`
#   SIGKILLed, the program stopped through the tool, the `sleep`s still alive 2 s later.
#
# Daemons (release `tend daemon`, pueued, supervisord, PM2, circusd) run every workload;
# honcho runs in the foreground only, so it is compared with `tend up` on the same Procfile
# and takes "—" in the daemon rows. Memory is the supervisor's resident set (its helpers
# forked without exec included, e.g. tend's guardian; its programs not). Restarts are off in
# every tool; output goes where each tool sends it by default.
#
# Installs what is missing into target/peers (pip supervisor, honcho, circus into a venv;
# npm pm2; cargo pueue, which builds for several minutes); a peer that does not install is
# skipped with a line saying so. Builds `tend` and `bench-child` (release).
#
# Usage: scripts/bench-peers.sh [N [TOOL...]]   N defaults to 100; TOOL: tend pueue
#   supervisord pm2 circus honcho (default all). ROUNDS (default 3) sets the rounds of the
#   repeated workloads, LINES (default 1000000) the child's lines. About 8 minutes on a
#   loaded 2-core machine.
# Prints one line per measurement, then the table and one `RATIO` line per peer figure.
# Every wait is bounded; on exit every process this run started is SIGKILLed (found by a
# marker in its environment), so no `sleep` is left behind.
set -u -o pipefail
cd "$(dirname "$0")/.."
root=$PWD
many=${1:-100}
shift || true
wanted=" ${*:-tend pueue supervisord pm2 circus honcho} "
rounds=${ROUNDS:-3}
lines=${LINES:-1000000}
peers=$root/target/peers
venv=$peers/venv
pm2=$peers/node/node_modules/.bin/pm2
tend=$root/target/release/tend
child=$root/target/release/bench-child
work=$(mktemp -d /tmp/bench-peers.XXXXXX)
. scripts/peers/lib.sh
. scripts/peers/tools.sh
. scripts/peers/workloads.sh
. scripts/peers/table.sh
trap 'kill_ours; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

install_peers() {
    mkdir -p "$peers"
    local pkg bin
    for pkg in supervisor:supervisord honcho:honcho circus:circusd; do
        bin=${pkg#*:}
        pkg=${pkg%:*}
        [ -x "$venv/bin/$bin" ] && continue
        echo "installing $pkg (pip, into $venv)"
        { [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; } >>"$peers/pip-install.log" 2>&1
        timeout 600 "$venv/bin/pip" install --quiet "$pkg" >>"$peers/pip-install.log" 2>&1 ||
            echo "$pkg: pip install failed (see $peers/pip-install.log), skipped"
    done
    if [ ! -x "$pm2" ]; then
        echo "installing pm2 (npm, into $peers/node)"
        timeout 600 npm install --silent --prefix "$peers/node" pm2 \
            >"$peers/npm-install.log" 2>&1 ||
            echo "pm2: npm install failed (see $peers/npm-install.log), skipped"
    fi
    if [ ! -x "$peers/bin/pueued" ]; then
        echo "installing pueue (cargo install, several minutes)"
        CARGO_TARGET_DIR=$peers/cargo-build timeout 1800 \
            cargo install --locked --root "$peers" pueue >"$peers/pueue-install.log" 2>&1 ||
            echo "pueue: cargo install failed (see $peers/pueue-install.log), skipped"
        rm -rf "$peers/cargo-build"
    fi
}

echo "building tend and bench-child (release)"
cargo build --quiet --release -p tend-cli -p tend-benches --bin tend --bin bench-child || exit 1
install_peers
daemons=()
fgs=()
for t in tend pueue supervisord pm2 circus; do
    [[ $wanted == *" $t "* ]] && "${t}_found" && daemons+=("$t")
done
[[ $wanted == *" tend "* ]] && fgs+=(tend)
[[ $wanted == *" honcho "* ]] && honcho_found && fgs+=(honcho)
echo "daemons: ${daemons[*]}; foreground: ${fgs[*]} (tend up)"
echo "N=$many, $rounds rounds, $lines lines"
echo "start: $(date -u +%FT%TZ), load average $(load)"

for r in $(seq "$rounds"); do
    for t in "${daemons[@]}"; do daemon_50 "$t" "$r"; done
    for t in "${fgs[@]}"; do fg_50 "$t" "$r"; done
done
for t in "${daemons[@]}"; do daemon_many "$t"; done
for t in "${fgs[@]}"; do fg_many "$t"; done
crash_and_lines
echo "end: $(date -u +%FT%TZ), load average $(load)"
print_table

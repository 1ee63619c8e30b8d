# The supervisors of scripts/bench-peers.sh behind one interface. Sourced, not run.
#
# A daemon tool T has: T_found (installed? else prints why not), T_up SPEC (start its daemon
# in a fresh directory under $work, knowing the programs of SPEC; sets the daemon's pid in
# pid_T), T_start NAME (one CLI command starting program NAME), T_stop NAME (one CLI command
# stopping it), T_down (stop the daemon, bounded, then SIGKILL what is left of it).
# SPEC is a file of lines `NAME<TAB>WORDS`, WORDS a command in shell quoting (single quotes
# only, which supervisord's and circus's shlex parsing read the same way).
# A foreground tool (honcho, `tend up`) has T_found and fg_T PROCFILE (runs it in the
# background, its output to /dev/null; sets fg_pid_T).
#
# Every call to a tool's CLI is bounded by `timeout`; restarts are off everywhere (a crashed
# program stays down), and output goes where each tool sends it by default (a log file, tend's
# memory ring and event log, honcho's and `tend up`'s terminal: /dev/null here).

cli_timeout=60
# found PATH TOOL HOW: whether PATH is installed, else a line saying why TOOL is skipped.
found() { [ -x "$1" ] || { echo "$2: not installed ($3 failed: see its log in $peers), skipped"; return 1; }; }
declare -A pid_ fg_pid_ pueue_id
words_of() { awk -F '\t' -v n="$2" '$1 == n { print $2 }' "$1"; }
names_of() { cut -f 1 "$1"; }

# A daemon's graceful stop through $1 (a command), then SIGKILL of pid $2 and of the
# descendants it had, whatever the tool did. (A program that left the daemon's tree is the
# workload's to count and kill.)
down_daemon() {
    local family
    [ -n "$2" ] && is_ours "$2" || return 0
    family=$(descendants "$2")
    timeout "$cli_timeout" sh -c "$1" >/dev/null 2>&1
    wait_gone "$2" 15 || { is_ours "$2" && kill -KILL "$2" 2>/dev/null; }
    wait "$2" 2>/dev/null
    [ -n "$family" ] && kill -KILL $family 2>/dev/null
    return 0
}

# --- tend (release `tend daemon`) ----------------------------------------------------------
tend_found() { found "$tend" tend "cargo build --release -p tend-cli"; }
tend_up() {
    tend_spec=$1
    pid_[tend]=
    local dir=$work/tend
    rm -rf "$dir"; mkdir -p "$dir"
    "$tend" daemon --listen 127.0.0.1:0 --state-dir "$dir/state" --registry-dir "$dir/reg" \
        --max-processes 100000 --grace 2s >"$dir/out" 2>"$dir/err" &
    pid_[tend]=$!
    wait_until 20 grep -q '^listening' "$dir/out" || return 1
    tend_url=$(sed -n 's/^listening on //p' "$dir/out")
    tend_token=$(cat "$dir/state/token")
}
tend_cli() {
    timeout "$cli_timeout" "$tend" "$1" --server "$tend_url" --token "$tend_token" "${@:2}"
}
tend_start() {
    local name=$1
    eval "set -- $(words_of "$tend_spec" "$name")"
    tend_cli start --name "$name" --no-stdin -- "$@" >/dev/null
}
tend_stop() { tend_cli stop "$1" >/dev/null 2>&1; }
tend_down() { down_daemon "kill -TERM ${pid_[tend]}" "${pid_[tend]}"; }

# --- pueue (cargo pueue: pueued + `pueue add`) ----------------------------------------------
pueue_found() { found "$peers/bin/pueued" pueue "cargo install pueue"; }
pq() {
    HOME=$work/pueue XDG_CONFIG_HOME=$work/pueue/config XDG_DATA_HOME=$work/pueue/data \
        XDG_RUNTIME_DIR=$work/pueue/run timeout "$cli_timeout" "$peers/bin/pueue" "$@"
}
pueue_up() {
    pueue_spec=$1
    pid_[pueue]=
    rm -rf "$work/pueue"; mkdir -p "$work/pueue/config" "$work/pueue/data" "$work/pueue/run"
    HOME=$work/pueue XDG_CONFIG_HOME=$work/pueue/config XDG_DATA_HOME=$work/pueue/data \
        XDG_RUNTIME_DIR=$work/pueue/run "$peers/bin/pueued" >"$work/pueue/out" 2>&1 &
    pid_[pueue]=$!
    wait_until 20 pq status || return 1
    pq parallel 100000 >/dev/null
}
pueue_start() {
    local id
    id=$(pq add --print-task-id --label "$1" -- "$(words_of "$pueue_spec" "$1")") || return 1
    pueue_id[$1]=$id
}
pueue_stop() { pq kill "${pueue_id[$1]}" >/dev/null 2>&1; }
pueue_down() { down_daemon "kill -TERM ${pid_[pueue]}" "${pid_[pueue]}"; }

# --- supervisord (pip supervisor: programs defined in its file, `supervisorctl start`) -------
supervisord_found() { found "$venv/bin/supervisord" supervisord "pip install supervisor"; }
supervisord_up() {
    local dir=$work/sv name
    pid_[supervisord]=
    rm -rf "$dir"; mkdir -p "$dir"
    {
        printf '[unix_http_server]\nfile=%s/sock\n' "$dir"
        printf '[supervisord]\nlogfile=%s/log\npidfile=%s/pid\n' "$dir" "$dir"
        printf 'childlogdir=%s\nnodaemon=true\nminfds=16384\n' "$dir"
        printf '[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = %s\n' \
            supervisor.rpcinterface:make_main_rpcinterface
        printf '[supervisorctl]\nserverurl=unix://%s/sock\n' "$dir"
        # startsecs=0: `supervisorctl start` returns once the program is spawned, as the others
        # do (with the default 1 s it waits a second per program).
        for name in $(names_of "$1"); do
            printf '[program:%s]\ncommand=%s\nautostart=false\nautorestart=false\nstartsecs=0\n' \
                "$name" "$(words_of "$1" "$name")"
        done
    } >"$dir/conf"
    "$venv/bin/supervisord" -c "$dir/conf" >"$dir/out" 2>&1 &
    pid_[supervisord]=$!
    wait_until 30 svctl pid || return 1
}
svctl() { timeout "$cli_timeout" "$venv/bin/supervisorctl" -c "$work/sv/conf" "$@"; }
supervisord_start() { svctl start "$1" >/dev/null; }
supervisord_stop() { svctl stop "$1" >/dev/null 2>&1; }
supervisord_down() { down_daemon "kill -TERM ${pid_[supervisord]}" "${pid_[supervisord]}"; }

# --- PM2 (npm pm2: `pm2 start PROGRAM -- ARGS`) -----------------------------------------------
pm2_found() { found "$pm2" pm2 "npm install pm2"; }
pm2_cli() { PM2_HOME=$work/pm2 timeout "$cli_timeout" "$pm2" "$@"; }
pm2_up() {
    pm2_spec=$1
    pid_[pm2]=
    rm -rf "$work/pm2"; mkdir -p "$work/pm2"
    pm2_cli ping >/dev/null || return 1
    wait_until 20 test -s "$work/pm2/pm2.pid" || return 1
    pid_[pm2]=$(cat "$work/pm2/pm2.pid")
}
pm2_start() {
    local name=$1
    eval "set -- $(words_of "$pm2_spec" "$name")"
    pm2_cli start "$1" --name "$name" --no-autorestart -- "${@:2}" >/dev/null
}
pm2_stop() { pm2_cli stop "$1" >/dev/null 2>&1; }
pm2_down() { down_daemon "PM2_HOME=$work/pm2 timeout $cli_timeout $pm2 kill" "${pid_[pm2]}"; }

# --- circus (pip circus: watchers defined in its file, `circusctl start`) -------------------
circus_found() { found "$venv/bin/circusd" circus "pip install circus"; }
circusctl() {
    timeout "$cli_timeout" "$venv/bin/circusctl" --endpoint "ipc://$work/circus/ctl" --timeout 30 "$@"
}
circus_up() {
    local dir=$work/circus name stream
    pid_[circus]=
    rm -rf "$dir"; mkdir -p "$dir"
    {
        printf '[circus]\nendpoint = ipc://%s/ctl\npubsub_endpoint = ipc://%s/pub\n' "$dir" "$dir"
        printf 'check_delay = 5\n'
        for name in $(names_of "$1"); do
            printf '[watcher:%s]\ncmd = %s\nautostart = false\nrespawn = false\ncopy_env = true\n' \
                "$name" "$(words_of "$1" "$name")"
            for stream in stdout stderr; do
                printf '%s_stream.class = FileStream\n%s_stream.filename = %s/%s.%s\n' \
                    "$stream" "$stream" "$dir" "$name" "$stream"
            done
        done
    } >"$dir/conf"
    "$venv/bin/circusd" "$dir/conf" >"$dir/out" 2>&1 &
    pid_[circus]=$!
    wait_until 30 circusctl status || return 1
}
circus_start() { circusctl start "$1" >/dev/null; }
circus_stop() { circusctl stop "$1" >/dev/null 2>&1; }
circus_down() { down_daemon "kill -TERM ${pid_[circus]}" "${pid_[circus]}"; }

# --- foreground: `tend up PROCFILE` and honcho ----------------------------------------------
honcho_found() { found "$venv/bin/honcho" honcho "pip install honcho"; }
fg_tend() {
    "$tend" up "$1" </dev/null >/dev/null 2>"$work/tend-up.err" &
    fg_pid_[tend]=$!
}
fg_honcho() {
    "$venv/bin/honcho" -f "$1" -d "$work" start </dev/null >/dev/null 2>"$work/honcho.err" &
    fg_pid_[honcho]=$!
}
# Ends a foreground run as Ctrl-C would (SIGINT), bounded; then SIGKILLs what is left.
fg_down() {
    local family
    family=$(descendants "$1")
    kill -INT "$1" 2>/dev/null
    wait_gone "$1" 15 || kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    [ -n "$family" ] && kill -KILL $family 2>/dev/null
    return 0
}

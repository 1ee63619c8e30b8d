# The workloads of scripts/bench-peers.sh. Sourced, not run. Each measurement is printed as
# it is taken (with the load average) and kept with `note ROW TOOL VALUE` for the table.

declare -A vals
note() { vals[$1,$2]="${vals[$1,$2]:-} $3"; }
fail() { echo "  $1: $2 failed, figure left out"; }

# The managed sleeps: an argument no one else uses, so counting them counts only ours.
sleep_arg=3600.$$
count_sleeps() { pgrep -c -x -f "(/usr/bin/)?sleep ${sleep_arg//./\\.}"; }
kill_sleeps() {
    local left
    left=$(ours_matching "(/usr/bin/)?sleep ${sleep_arg//./\\.}")
    [ -z "$left" ] && return 0
    echo "  $1: $(echo "$left" | wc -w) sleeps left after it stopped, killed"
    kill -KILL $left 2>/dev/null
    return 0
}
sleep_spec() { # COUNT -> a spec file
    local f=$work/spec.sleep.$1
    for i in $(seq "$1"); do printf 's%s\tsleep %s\n' "$i" "$sleep_arg"; done >"$f"
    echo "$f"
}
sleep_procfile() { # COUNT -> a Procfile
    local f=$work/Procfile.sleep.$1
    for i in $(seq "$1"); do printf 's%s: sleep %s\n' "$i" "$sleep_arg"; done >"$f"
    echo "$f"
}
mib() { calc "$1 / 1024" 1; }

# Idle memory, 50 starts through the CLI until all 50 run, memory with the 50.
daemon_50() {
    local t=$1 spec idle main before took rss i
    spec=$(sleep_spec 50)
    "${t}_up" "$spec" || { fail "$t" "starting the daemon"; "${t}_down"; return; }
    sleep 1
    idle=$(supervisor_rss_kib "${pid_[$t]}")
    main=$(rss_kib "${pid_[$t]}")
    before=$(now)
    for i in $(seq 50); do "${t}_start" "s$i" || { fail "$t" "start s$i"; break; }; done
    if wait_until 60 at_least 50 count_sleeps; then
        took=$(since "$before")
        sleep 1
        rss=$(supervisor_rss_kib "${pid_[$t]}")
        echo "round $2 $t: idle $(mib "$idle") MB (main process $(mib "$main")); 50 CLI starts" \
            "until all run $took s; with 50 sleeps $(mib "$rss") MB (load $(load))"
        note idle "$t" "$(mib "$idle")"
        note start50 "$t" "$took"
        note rss50 "$t" "$(mib "$rss")"
    else
        fail "$t" "50 starts"
    fi
    "${t}_down"
    kill_sleeps "$t"
}

# The same 50 sleeps as a Procfile run in the foreground: until all run, memory.
fg_50() {
    local t=$1 before took rss
    before=$(now)
    "fg_$t" "$(sleep_procfile 50)"
    if wait_until 60 at_least 50 count_sleeps; then
        took=$(since "$before")
        sleep 1
        rss=$(supervisor_rss_kib "${fg_pid_[$t]}")
        echo "round $2 $t (foreground): 50-line Procfile until all run $took s;" \
            "$(mib "$rss") MB (load $(load))"
        note fg_start50 "$t" "$took"
        note fg_rss50 "$t" "$(mib "$rss")"
    else
        fail "$t" "50-line Procfile"
    fi
    fg_down "${fg_pid_[$t]}"
    kill_sleeps "$t"
}

# N sleeps started through the CLI, one command each: until all run, memory per process.
daemon_many() {
    local t=$1 spec base before took rss i
    spec=$(sleep_spec "$many")
    "${t}_up" "$spec" || { fail "$t" "starting the daemon"; "${t}_down"; return; }
    sleep 1
    base=$(supervisor_rss_kib "${pid_[$t]}")
    before=$(now)
    for i in $(seq "$many"); do "${t}_start" "s$i" || { fail "$t" "start s$i"; break; }; done
    if wait_until $((many / 2 + 60)) at_least "$many" count_sleeps; then
        took=$(since "$before")
        sleep 1
        rss=$(supervisor_rss_kib "${pid_[$t]}")
        echo "$t: $many CLI starts until all run $took s; $(mib "$base") -> $(mib "$rss") MB," \
            "$(calc "($rss - $base) / $many" 1) KiB per process (load $(load))"
        note many_time "$t" "$took"
        note many_mem "$t" "$(calc "($rss - $base) / $many" 1)"
    else
        fail "$t" "$many starts"
    fi
    "${t}_down"
    kill_sleeps "$t"
}

# An N-line Procfile in the foreground; memory per process against the 50-line run's.
fg_many() {
    local t=$1 before took rss base
    before=$(now)
    "fg_$t" "$(sleep_procfile "$many")"
    if wait_until $((many / 2 + 60)) at_least "$many" count_sleeps; then
        took=$(since "$before")
        sleep 1
        rss=$(supervisor_rss_kib "${fg_pid_[$t]}")
        read -r base _ <<<"$(stats ${vals[fg_rss50,$t]:-})"
        echo "$t (foreground): $many-line Procfile until all run $took s; $(mib "$rss") MB" \
            "(load $(load))"
        note fg_many_time "$t" "$took"
        if [ "$many" -gt 50 ] && [ "$base" != - ]; then
            note fg_many_mem "$t" "$(calc "($rss - $base * 1024) / ($many - 50)" 1)"
        fi
    else
        fail "$t" "$many-line Procfile"
    fi
    fg_down "${fg_pid_[$t]}"
    kill_sleeps "$t"
}

# The child printing $lines lines with its stderr (where it reports its own wall time) sent
# to file $1.
child_words() { echo "sh -c 'exec $child lines $lines 2>$1'"; }
elapsed_ms() { sed -n 's/^elapsed_ns=//p' "$1" 2>/dev/null | awk '{ printf "%.1f", $1 / 1e6 }'; }
has_elapsed() { grep -q '^elapsed_ns=' "$1"; }
crash_words="sh -c 'sleep 1001 & sleep 1002 & wait'"

# Both the child's-wall-time rounds and the crash test, with every daemon up at once so that
# the rounds interleave the tools (and a baseline child writing to a file) round by round.
crash_and_lines() {
    local t r up=() spec f base took
    mkdir -p "$work/elapsed"
    for t in "${daemons[@]}"; do
        spec=$work/spec.lines.$t
        for r in $(seq "$rounds"); do
            printf 'c%s\t%s\n' "$r" "$(child_words "$work/elapsed/$t.$r")"
        done >"$spec"
        printf 'g\t%s\n' "$crash_words" >>"$spec"
        if "${t}_up" "$spec"; then up+=("$t"); else fail "$t" "starting the daemon"; "${t}_down"; fi
    done
    for r in $(seq "$rounds"); do
        f=$work/elapsed/file.$r
        sh -c "exec $child lines $lines 2>$f" >"$work/lines.out"
        base=$(elapsed_ms "$f")
        rm -f "$work/lines.out"
        echo "round $r: the child writing $lines lines to a file: $base ms (load $(load))"
        for t in "${up[@]}"; do
            f=$work/elapsed/$t.$r
            if ! { "${t}_start" "c$r" && wait_until 300 has_elapsed "$f"; }; then
                fail "$t" "the $lines-line child"
                continue
            fi
            took=$(elapsed_ms "$f")
            echo "round $r $t: the child's wall time $took ms, $(calc "$took / $base") x the file's" \
                "(load $(load))"
            note child "$t" "$(calc "$took / $base")"
            sleep 1 # the tool writes out what it still holds
        done
        for t in "${fgs[@]}"; do
            f=$work/elapsed/fg.$t.$r
            printf 'c: %s\n' "$(child_words "$f")" >"$work/Procfile.lines"
            "fg_$t" "$work/Procfile.lines"
            if wait_until 300 has_elapsed "$f"; then
                took=$(elapsed_ms "$f")
                echo "round $r $t (foreground): the child's wall time $took ms," \
                    "$(calc "$took / $base") x the file's (load $(load))"
                note fg_child "$t" "$(calc "$took / $base")"
            else
                fail "$t" "the $lines-line child"
            fi
            wait_gone "${fg_pid_[$t]}" 30
            fg_down "${fg_pid_[$t]}"
        done
    done
    for t in "${up[@]}"; do
        crash "$t" "${t}_start g" "${t}_stop g" && note crash "$t" "$survivors"
        "${t}_down"
    done
    printf 'g: %s\n' "$crash_words" >"$work/Procfile.crash"
    for t in "${fgs[@]}"; do
        crash "$t (foreground)" "fg_$t $work/Procfile.crash" "fg_stop" &&
            note fg_crash "$t" "$survivors"
    done
}

# SIGINT to the foreground tool just started (as Ctrl-C), bounded, without touching what it
# may have left.
fg_stop() {
    local pid=${fg_pid_[$fg_tool]}
    kill -INT "$pid" 2>/dev/null
    wait_gone "$pid" 15 || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

count_crash_sleeps() { ours_matching "(/usr/bin/)?sleep 100[12]" | wc -l; }

# crash LABEL START STOP: START the crash program, SIGKILL its `sh` as a crash would, STOP it
# through the tool, and count (in $survivors) its two sleeps alive 2 s later; then kill them.
crash() {
    local sleeps leader
    fg_tool=${1%% *}
    $2 || { fail "$1" "starting the crash program"; return 1; }
    if ! wait_until 20 at_least 2 count_crash_sleeps; then
        fail "$1" "the crash program's sleeps"
        $3
        return 1
    fi
    sleeps=$(ours_matching '(/usr/bin/)?sleep 100[12]')
    leader=$(ps -o ppid= -p "$(echo "$sleeps" | head -n 1)" | tr -d ' ')
    kill -KILL "$leader"
    sleep 0.5
    $3
    sleep 2
    survivors=0
    for pid in $sleeps; do alive "$pid" && survivors=$((survivors + 1)); done
    echo "$1: SIGKILL of the sh (pid $leader), then stopped: $survivors of 2 sleeps alive 2 s" \
        "later (load $(load))"
    kill -KILL $sleeps 2>/dev/null
    return 0
}

# The table of scripts/bench-peers.sh: each figure as median [min-max] over the rounds, and
# its ratio to tend's (tend's daemon in the daemon rows, `tend up` in the foreground rows).
# Sourced, not run.

rows=(
    "idle|idle supervisor memory (MB)"
    "rss50|memory with 50 managed sleeps (MB)"
    "start50|50 starts through the CLI, one command each, until all run (s)"
    "many_time|N sleeps started through the CLI until all run (s)"
    "many_mem|memory per managed sleep with N running (KiB)"
    "child|child printing the lines: its wall time / writing to a file"
    "crash|sleeps alive 2 s after the sh was SIGKILLed and the program stopped (of 2)"
    "fg_start50|foreground (tend up): 50-line Procfile until all run (s)"
    "fg_rss50|foreground (tend up): memory running a 50-line Procfile (MB)"
    "fg_many_time|foreground (tend up): N-line Procfile until all run (s)"
    "fg_many_mem|foreground (tend up): memory per process, N against 50 (KiB)"
    "fg_child|foreground (tend up): child printing the lines / writing to a file"
    "fg_crash|foreground (tend up): sleeps alive 2 s after the sh was SIGKILLed, run stopped (of 2)"
)
columns=(tend pueue supervisord pm2 circus honcho)
positive() { [ "$1" != - ] && awk -v v="$1" 'BEGIN { exit !(v > 0) }'; }

print_table() {
    local row key label t cell median lo hi tend_median ratio
    echo
    echo "N = $many, $rounds rounds, $lines lines; load average at the end $(load) ($(nproc) cores)"
    echo "Cells: median [min-max] over the rounds, then the ratio to tend's median."
    printf '\n| figure | tend | pueue | supervisord | PM2 | circus | honcho |\n'
    printf '|---|---|---|---|---|---|---|\n'
    for row in "${rows[@]}"; do
        key=${row%%|*}
        label=${row#*|}
        label=${label//N sleeps/$many sleeps}
        label=${label//N-line/$many-line}
        label=${label//N running/$many running}
        label=${label//N against/$many against}
        label=${label//the lines/$lines lines}
        read -r tend_median _ <<<"$(stats ${vals[$key,tend]:-})"
        printf '| %s |' "$label"
        for t in "${columns[@]}"; do
            read -r median lo hi <<<"$(stats ${vals[$key,$t]:-})"
            if [ "$median" = - ]; then
                cell="—"
            else
                cell=$median
                [ "$lo" != "$hi" ] && cell="$cell [$lo–$hi]"
                if [ "$t" != tend ] && positive "$tend_median"; then
                    cell="$cell (**$(calc "$median / $tend_median")×**)"
                fi
            fi
            printf ' %s |' "$cell"
        done
        echo
    done
    echo
    for row in "${rows[@]}"; do
        key=${row%%|*}
        read -r tend_median _ <<<"$(stats ${vals[$key,tend]:-})"
        for t in "${columns[@]:1}"; do
            read -r median _ <<<"$(stats ${vals[$key,$t]:-})"
            [ "$median" = - ] && continue
            if [ "$tend_median" = - ]; then
                echo "RATIO $key $t/tend = - ($t $median, tend not measured)"
            elif positive "$tend_median"; then
                ratio=$(calc "$median / $tend_median")
                echo "RATIO $key $t/tend = $ratio ($t $median, tend $tend_median)"
            else
                echo "FIGURE $key $t $median (tend $tend_median)"
            fi
        done
    done
}

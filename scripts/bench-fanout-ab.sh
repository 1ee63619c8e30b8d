#!/usr/bin/env bash
# Two builds' fan-out rounds interleaved (A B B A A B ...), so a change in machine load hits
# both alike: each round is one `scripts/bench-fanout.sh 1 RUNS` with that build's binaries.
#
#   scripts/bench-fanout-ab.sh DIR_A DIR_B [ROUNDS] [RUNS]
#
# Each DIR holds a release `tend`, `tend-fixture` and `api_load` (from target/release and
# target/release/examples). Prints every round's RATIO line prefixed with A or B.
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1
b=$2
rounds=${3:-7}
runs=${4:-5}
for round in $(seq "$rounds"); do
    order="A B"
    if [ $((round % 2)) -eq 0 ]; then order="B A"; fi
    for side in $order; do
        if [ "$side" = A ]; then dir=$a; else dir=$b; fi
        TEND_BENCH_BINS=$dir scripts/bench-fanout.sh 1 "$runs" 2>/dev/null |
            sed -n "s/^RATIO fanout round 1:/$side round $round:/p"
    done
done

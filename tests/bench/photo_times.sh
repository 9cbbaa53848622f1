#!/usr/bin/env bash
# make bench-photo: what a photographer waits for on this machine.  The
# dialog's Draft (512 px, 200 iterations) and Final (the photo's own size,
# coarse-to-fine: 200 iterations at the coarsest level, an eighth as many
# at each finer one) on rainier.jpg (2048 x 1365, 2.8 MP) and on it enlarged
# to 6000 x 4000 (24 MP), run with the command line, which does the dialog's
# work.  Final on 24 MP is given as the engine's estimate
# (NS_BENCH_FINAL24=1 measures it: an hour or more); NS_BENCH_QUICK=1 also
# estimates Final on 2.8 MP from Draft.  Writes build/bench/photo-times.md
# (the README's table).
set -euo pipefail
BUILD=${1:-build}
source "$(dirname "$0")/common.sh"
[ -f "$OUT/photo24.jpg" ] || convert "$EX/rainier.jpg" -resize '6000x4000!' -quality 92 "$OUT/photo24.jpg"

run() { # label photo size
    local log=$OUT/photo-$1.log
    /usr/bin/time -v "$BUILD/neural-style" --quiet --weights "$W" --device cpu --content "$2" \
        --style "$EX/autumn-oak.jpg" --output "$OUT/photo-$1.png" --size "$3" --iterations 200 2>"$log"
    local s mb
    s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); v = 0; for (i = 1; i <= n; i++) v = v * 60 + t[i]; print v}' "$log")
    mb=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$log")
    echo "$s $mb"
}
fmt() { awk -v s="$1" 'BEGIN { if (s < 3600) printf "%d min %02d s", s / 60, s % 60; else printf "%d h %02d min", s / 3600, (s % 3600) / 60 }'; }

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
    echo "Restyling rainier.jpg after autumn-oak.jpg, $(nproc) cores ($CPU), test weights (VGG-19 conv1_1..conv3_4)."
    echo
    echo "| photo | quality | restyled at | time | peak memory |"
    echo "|---|---|---|---|---|"
    read -r s mb < <(run draft-2mp "$EX/rainier.jpg" 512)
    draft2=$s
    echo "| 2048 × 1365 (2.8 MP) | Draft | 512 × 341 | $(fmt "$s") | $mb MB |"
    read -r s mb < <(run draft-24mp "$OUT/photo24.jpg" 512)
    echo "| 6000 × 4000 (24 MP) | Draft | 512 × 341 | $(fmt "$s") | $mb MB |"
    # the estimates start from the measured run nearest to them
    past=(2048 1365 512 "$draft2")
    if [ -n "${NS_BENCH_QUICK:-}" ]; then
        "$BUILD/bench/bench" --weights "$W" --iterations 200 --estimate-final "${past[@]}" 2048 1365 |
            sed 's/^/| 2048 × 1365 (2.8 MP) | Final | /'
    else
        read -r s mb < <(run final-2mp "$EX/rainier.jpg" 0)
        past=(2048 1365 0 "$s")
        echo "| 2048 × 1365 (2.8 MP) | Final | 2048 × 1365 (3 levels: 200, 25, 7 steps) | $(fmt "$s") | $mb MB |"
    fi
    if [ -n "${NS_BENCH_FINAL24:-}" ]; then
        read -r s mb < <(run final-24mp "$OUT/photo24.jpg" 0)
        echo "| 6000 × 4000 (24 MP) | Final | 6000 × 4000 | $(fmt "$s") | $mb MB |"
    else
        "$BUILD/bench/bench" --weights "$W" --iterations 200 --estimate-final "${past[@]}" 6000 4000 |
            sed 's/^/| 6000 × 4000 (24 MP) | Final | /'
    fi
} | tee "$OUT/photo-times.md"

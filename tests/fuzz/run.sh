#!/usr/bin/env bash
# make test-fuzz: the weights loader under libFuzzer (ASan + UBSan) for
# SECONDS (60 by default; CI's share), from a corpus that the runs keep in
# BUILD/fuzz/corpus.  A crash, a leak, undefined behaviour or a refusal
# without a sentence fails, and leaves the input in BUILD/fuzz.
#   usage: run.sh BUILD SECONDS
set -uo pipefail
BUILD=$1 SECONDS_TO_RUN=${2:-60}
F=$BUILD/fuzz
if [ ! -x "$F/fuzz_weights" ]; then
    echo "SKIP fuzzing: clang with libFuzzer is missing (make test-deps installs it)"
    exit 0
fi
mkdir -p "$F/corpus"
"$F/write_seeds" "$F/corpus" || exit 1
cd "$F" && ./fuzz_weights -max_total_time="$SECONDS_TO_RUN" -max_len=16384 -rss_limit_mb=2048 \
    -print_final_stats=1 corpus >fuzz.log 2>&1
rc=$?
runs=$(awk '/stat::number_of_executed_units/ {print $NF}' fuzz.log)
if [ $rc -ne 0 ]; then
    tail -40 fuzz.log
    echo "fuzzing the weights loader: FAILED after ${runs:-?} inputs (the input is in $F)"
    exit 1
fi
echo "fuzzing the weights loader: ${runs:-?} inputs in ${SECONDS_TO_RUN} s, $(ls corpus | wc -l) in the corpus, no finding"

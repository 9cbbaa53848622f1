#!/usr/bin/env bash
# make test: each step in turn, then how long each took, so that CI's log
# shows where the budget (60 minutes on a fresh 2-core machine) goes.
#   run_steps.sh MAKE STEP...
set -uo pipefail
MAKE=$1
shift
times=()
start=$SECONDS
for step in "$@"; do
    t=$SECONDS
    $MAKE --no-print-directory "$step" || { echo "make test: $step failed after $((SECONDS - t)) s"; exit 1; }
    times+=("$(printf '%6d s  %s' $((SECONDS - t)) "$step")")
done
echo "== make test: $((SECONDS - start)) s"
printf '%s\n' "${times[@]}"

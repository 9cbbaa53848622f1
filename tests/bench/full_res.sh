#!/usr/bin/env bash
# make bench-full: full resolution on this machine, per coarse-to-fine level
# and in total: seconds, peak RSS, and the tiles and L-BFGS history each
# level chose.  Rows: rainier.jpg at the default 512 px (the reference), and
# at its own 2048 x 1365 with the default budget and with --max-memory 1.
# NS_BENCH_24MP=1 adds a 6000 x 4000 photo (rainier enlarged) with the test
# weights and with a full-depth random VGG-19, at the default budget and at
# --max-memory 2 and 3 (hours on a few cores; the full VGG-19 does not fit
# in 2 GB at 24 MP and is refused).  NS_BENCH_ITERATIONS sets
# --iterations (default 300).  Writes build/bench/full-res.md.
set -euo pipefail
BUILD=${1:-build}
PY=${2:-python3}
source "$(dirname "$0")/common.sh"
ITERS=${NS_BENCH_ITERATIONS:-300}

# row LABEL WEIGHTS PHOTO ARGS...: one table row per level and one in total
row() {
    local label=$1 weights=$2 photo=$3 log
    shift 3
    log=$OUT/full-$(echo "$label" | tr -c 'a-zA-Z0-9\n' - | tr -s -)
    /usr/bin/time -v "$BUILD/neural-style" --quiet --weights "$weights" --device cpu --content "$photo" \
        --style "$EX/autumn-oak.jpg" --output "$log.png" --iterations "$ITERS" --log-json "$log.jsonl" \
        "$@" 2>"$log.time" || {
        echo "| $label | refused | | $(grep -m1 'error:' "$log.time" | sed 's/.*error: //') | | |"
        return 0
    }
    "$PY" - "$label" "$log.jsonl" "$log.time" <<'PYEOF'
import json, re, sys
label, rows = sys.argv[1], [json.loads(l) for l in open(sys.argv[2])]
timing = open(sys.argv[3]).read()
wall = re.search(r"Elapsed \(wall clock\).*: (.*)", timing).group(1).split(":")
seconds = 0.0
for part in wall:
    seconds = seconds * 60 + float(part)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1)) / 1024
levels = sorted({r["level"] for r in rows})
before = 0.0
for lv in levels:
    at = [r for r in rows if r["level"] == lv]
    end = max(r["seconds"] for r in at)
    r = at[-1]
    how = "whole" if not r["tile"] else "tiles of %d px" % r["tile"]
    print("| %s | level %d: %d x %d | %d | %s, history %d | %.0f | %.0f |"
          % (label, lv + 1, r["width"], r["height"], len(at) - (lv == 0), how, r["history"], end - before,
             max(x["peak_mb"] for x in at)))
    before = end
print("| %s | **total** | %d | | **%.0f** | **%.0f** |" % (label, len(rows) - 1, seconds, rss))
PYEOF
}

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
    echo "rainier.jpg after autumn-oak.jpg, --iterations $ITERS, $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GB."
    echo "Seconds per level are the log's (the first level includes the targets); peak RSS per level is the"
    echo "process's peak so far (VmHWM); the totals are /usr/bin/time's."
    echo
    echo "| run | level | steps | computed | seconds | peak RSS MB |"
    echo "|---|---|---|---|---|---|"
    row "2.8 MP, 512 px (default)" "$W" "$EX/rainier.jpg"
    row "2.8 MP, own size" "$W" "$EX/rainier.jpg" --size 0
    row "2.8 MP, own size, --max-memory 1" "$W" "$EX/rainier.jpg" --size 0 --max-memory 1
    if [ -n "${NS_BENCH_24MP:-}" ]; then
        [ -f "$OUT/photo24.jpg" ] || convert "$EX/rainier.jpg" -resize '6000x4000!' -quality 92 "$OUT/photo24.jpg"
        FULL="$OUT/vgg19-random.safetensors"
        [ -f "$FULL" ] || "$BUILD/bench/bench" --write-random-vgg19 "$FULL"
        for budget in 0 2 3; do
            row "24 MP, test weights, --max-memory $budget" "$W" "$OUT/photo24.jpg" --size 0 --max-memory $budget
            row "24 MP, full VGG-19, --max-memory $budget" "$FULL" "$OUT/photo24.jpg" --size 0 --max-memory $budget
        done
    fi
} | tee "$OUT/full-res.md"

#!/usr/bin/env bash
# make bench: CPU seconds per L-BFGS iteration (median) and peak memory, the
# engine and PyTorch side by side on the same objective, layers, sizes and
# thread count.  Writes build/bench/results.md (the README's table).
#   networks: the real test weights (conv1_1..conv3_4; content relu3_2,
#             style relu1_1,relu2_1,relu3_1) and a full-depth VGG-19 with
#             random weights generated here (content relu4_2, style reluB_1).
#   NS_BENCH_SIZES="256 512"  NS_BENCH_ITERS=6  NS_BENCH_THREADS=$(nproc)
set -euo pipefail
BUILD=${1:-build}
PY=${2:-/usr/bin/python3}
source "$(dirname "$0")/common.sh"
SIZES=${NS_BENCH_SIZES:-256 512}
ITERS=${NS_BENCH_ITERS:-6}
THREADS=${NS_BENCH_THREADS:-$(nproc)}
REAL=$W
FULL="$OUT/vgg19-random.safetensors"
[ -f "$FULL" ] || "$BUILD/bench/bench" --write-random-vgg19 "$FULL"
HAVE_TORCH=1
"$PY" -c 'import torch' 2>/dev/null || HAVE_TORCH=0

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
SGEMM=$("$BUILD/bench/bench" --sgemm "$THREADS") # GFLOP/s: the yardstick
{
    echo "CPU seconds per L-BFGS iteration (median of $ITERS), $THREADS threads, $CPU."
    echo "Same objective, layers, start image and thread count on both sides; peak RSS of the whole process."
    echo "OpenBLAS sgemm on a 2048^2 product, $THREADS threads: $SGEMM GFLOP/s. \"× sgemm / FLOPs\": the engine's seconds"
    echo "per iteration times that rate over the iteration's FLOPs counted as direct convolution (below 1: fewer"
    echo "multiplies than direct convolution could do at sgemm's rate)."
    echo
    echo "| network | size | engine s/iter | PyTorch s/iter | engine / PyTorch | engine peak MB | PyTorch peak MB | engine, direct convolution s/iter | its peak MB | × sgemm / FLOPs |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$OUT/results.md"

run_case() { # name weights content_layers style_layers size
    local name=$1 w=$2 cl=$3 sl=$4 n=$5
    local e d t="{}"
    engine() { "$BUILD/bench/bench" --weights "$w" --size "$n" --iterations "$ITERS" --threads "$THREADS" \
        --content-layers "$cl" --style-layers "$sl"; }
    e=$(engine)
    d=$(NS_CPU_CONV=direct engine) # the same without Winograd (docs/engine.md, "Winograd")
    if [ $HAVE_TORCH -eq 1 ]; then
        t=$("$PY" "$ROOT/tests/reference.py" time --weights "$w" --size "$n" --iterations "$ITERS" \
            --threads "$THREADS" --content-layers "$cl" --style-layers "$sl")
    fi
    "$PY" - "$name" "$n" "$e" "$t" "$d" "$SGEMM" <<'EOF' | tee -a "$OUT/results.md"
import json, sys
name, n, e, t, d = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
yard = e["median"] * float(sys.argv[6]) * 1e9 / e["flops_per_iter"]
tm = "%.3f" % t["median"] if t else "n/a"
ratio = "%.2f" % (e["median"] / t["median"]) if t else "n/a"
tp = "%.0f" % t["peak_rss_mb"] if t else "n/a"
print("| %s | %s px | %.3f | %s | %s | %.0f | %s | %.3f | %.0f | %.2f |" % (name, n, e["median"], tm, ratio, e["peak_rss_mb"],
                                                               tp, d["median"], d["peak_rss_mb"], yard))
EOF
}

echo "engine backend: $("$BUILD/bench/bench" --weights "$REAL" --size 64 --iterations 2 | sed 's/.*"backend":"\([^"]*\)".*/\1/')"
for n in $SIZES; do
    if [ -f "$REAL" ]; then
        run_case "VGG-19 conv1_1-conv3_4 (real)" "$REAL" relu3_2 relu1_1,relu2_1,relu3_1 "$n"
    fi
    run_case "VGG-19 full depth (random)" "$FULL" relu4_2 relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 "$n"
done
[ $HAVE_TORCH -eq 1 ] || echo "(PyTorch columns empty: $PY cannot import torch)" | tee -a "$OUT/results.md"
echo
echo "written to $OUT/results.md"

#!/usr/bin/env bash
# make bench-fast: a fast style (TransformerNet, random weights) on rainier
# at 512 px and at its own 2048 x 1365 (2.8 MP): the engine (neural-style
# --model, whole command: decode, network, encode) and PyTorch's forward
# pass alone, side by side on the same threads.  Seconds and peak RSS.
# Writes build/bench/fast.md.
set -euo pipefail
BUILD=${1:-build}
PY=${2:-/usr/bin/python3}
source "$(dirname "$0")/common.sh"
THREADS=${NS_BENCH_THREADS:-2}
M="$OUT/fast-random.safetensors"
PYTHONPATH="$ROOT/tests" "$PY" "$ROOT/tests/fast_reference.py" model "$M"
{
    echo "| photo | engine s | engine peak MB | PyTorch s (forward only) | PyTorch peak MB |"
    echo "|---|---|---|---|---|"
    for size in 512 2048; do
        convert "$EX/rainier.jpg" -resize "${size}x${size}" "$OUT/fast-$size.ppm"
        dims=$(identify -format '%wx%h' "$OUT/fast-$size.ppm")
        /usr/bin/time -f "%e %M" -o "$OUT/fast-time" "$BUILD/neural-style" --quiet --device cpu --threads "$THREADS" \
            --model "$M" --content "$OUT/fast-$size.ppm" --output "$OUT/fast-$size-out.ppm"
        read -r es ekb <"$OUT/fast-time"
        read -r ts tmb < <(PYTHONPATH="$ROOT/tests" "$PY" "$ROOT/tests/fast_reference.py" time "$M" \
            "$OUT/fast-$size.ppm" "$THREADS")
        echo "| rainier $dims | $es | $((ekb / 1024)) | $ts | $tmb |"
    done
} | tee "$OUT/fast.md"

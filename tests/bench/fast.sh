#!/usr/bin/env bash
# make bench-fast: a fast style (TransformerNet, random weights) on rainier
# at 512 px, at its own 2048 x 1365 (2.8 MP) and enlarged to 6000 x 4000
# (24 MP, with --max-memory 2): the engine (neural-style --model, whole
# command: decode, network, encode) and PyTorch's forward pass alone, side
# by side on the same threads.  Seconds and peak RSS.  Then the 2048 px run
# forced into bands of 64 rows against the run in memory, in 8-bit levels,
# and the GIMP dialog's preview (tests/bench/fast_preview.c).
# Writes build/bench/fast.md.  NS_BENCH_24MP=0 leaves out the 24 MP row
# (about 3 minutes for the engine, and PyTorch needs about 9 GB for it).
set -euo pipefail
BUILD=${1:-build}
PY=${2:-/usr/bin/python3}
source "$(dirname "$0")/common.sh"
THREADS=${NS_BENCH_THREADS:-2}
M="$OUT/fast-random.safetensors"
FR() { PYTHONPATH="$ROOT/tests" "$PY" "$ROOT/tests/fast_reference.py" "$@"; }
FR model "$M"
sizes="512 2048"
[ "${NS_BENCH_24MP:-1}" = 1 ] && sizes="$sizes 6000"
{
    echo "| photo | engine s | engine peak MB | PyTorch s (forward only) | PyTorch peak MB |"
    echo "|---|---|---|---|---|"
    for size in $sizes; do
        if [ "$size" = 6000 ]; then
            convert "$EX/rainier.jpg" -resize "6000x4000!" "$OUT/fast-$size.ppm"
            limit="--max-memory 2"
        else
            convert "$EX/rainier.jpg" -resize "${size}x${size}" "$OUT/fast-$size.ppm"
            limit=""
        fi
        dims=$(identify -format '%wx%h' "$OUT/fast-$size.ppm")
        /usr/bin/time -f "%e %M" -o "$OUT/fast-time" "$BUILD/neural-style" --quiet --device cpu --threads "$THREADS" \
            $limit --model "$M" --content "$OUT/fast-$size.ppm" --output "$OUT/fast-$size-out.ppm"
        read -r es ekb <"$OUT/fast-time"
        if ts_tmb=$(FR time "$M" "$OUT/fast-$size.ppm" "$THREADS" 2>/dev/null); then
            read -r ts tmb <<<"$ts_tmb"
        else
            ts="did not finish" tmb="-"
        fi
        echo "| rainier $dims${limit:+ ($limit)} | $es | $((ekb / 1024)) | $ts | $tmb |"
    done
    "$BUILD/neural-style" --quiet --device cpu --threads "$THREADS" --tile 64 --model "$M" \
        --content "$OUT/fast-2048.ppm" --output "$OUT/fast-2048-bands.ppm"
    echo
    echo "2048 px in bands of 64 rows against in memory: $(FR compare "$OUT/fast-2048-bands.ppm" "$OUT/fast-2048-out.ppm" 2 2)"
    echo
    echo "| GIMP's Neural Style (Fast) dialog, on rainier 2048 x 1365 | median of 5 |"
    echo "|---|---|"
    convert "$EX/rainier.jpg" "$OUT/fast-rainier.ppm"
    "$BUILD/bench/fast_preview" "$M" "$OUT/fast-rainier.ppm" "$THREADS" 448 320
} | tee "$OUT/fast.md"

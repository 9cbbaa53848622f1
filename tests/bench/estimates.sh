#!/usr/bin/env bash
# make bench-estimates / make bench-preview: the dialog's estimates against
# measured runs, and the preview's seconds, on an idle machine and with two
# other busy threads (tests/bench/estimates.c).  Writes build/bench/*.md.
set -euo pipefail
BUILD=${1:-build}
WHAT=${2:-estimates}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
EX=${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}
W=${NS_TEST_WEIGHTS:-$ROOT/../shared/weights/vgg19-conv1_1-conv3_4.safetensors}
OUT=$BUILD/bench
mkdir -p "$OUT"
[ -f "$OUT/rainier.ppm" ] || convert "$EX/rainier.jpg" "$OUT/rainier.ppm"
[ -f "$OUT/oak.ppm" ] || convert "$EX/autumn-oak.jpg" "$OUT/oak.ppm"
# Final on a 768 x 512 crop (0.4 MP): two levels, 384 and 768 px
[ -f "$OUT/final.ppm" ] || convert "$EX/rainier.jpg" -resize 1152x -gravity center -crop 768x512+0+0 +repage "$OUT/final.ppm"
if [ "$WHAT" = preview ]; then
    {
        echo "| preview | machine | seconds |"
        echo "|---|---|---|"
        "$BUILD/bench/estimates" --preview "$W" "$OUT/rainier.ppm" "$OUT/oak.ppm"
        "$BUILD/bench/estimates" --preview "$W" "$OUT/rainier.ppm" "$OUT/oak.ppm" busy
    } | tee "$OUT/preview.md"
else
    {
        echo "| case | restyled at | iterations | machine | estimated s | measured s | error |"
        echo "|---|---|---|---|---|---|---|"
        "$BUILD/bench/estimates" "$W" "$OUT/rainier.ppm" "$OUT/oak.ppm" "$OUT/final.ppm" | grep '^| [CDF]'
        "$BUILD/bench/estimates" "$W" "$OUT/rainier.ppm" "$OUT/oak.ppm" "$OUT/final.ppm" busy | grep '^| [CDF]'
    } | tee "$OUT/estimates.md"
fi

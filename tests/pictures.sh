#!/usr/bin/env bash
# make pictures: the README's and the help's pictures, small JPEGs in
# docs/images, made from ../shared/examples (CC BY-SA 4.0, d2l-ai/d2l-en):
#   before-after.jpg  the photo, the painting, the dialog's Draft result
#                     (the command line with the dialog's defaults: 512 px,
#                     200 iterations)
#   dialog.jpg, dialog-ja.jpg  the dialog after Preview, from a GUI session
#                     (tests/gimp/gui.sh; GIMP 2.10, English and Japanese)
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EX=${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}
W=${NS_TEST_WEIGHTS:-$ROOT/../shared/weights/vgg19-conv1_1-conv3_4.safetensors}
OUT=$ROOT/docs/images
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT"

"$BUILD/neural-style" --quiet --weights "$W" --device cpu --content "$EX/rainier.jpg" \
    --style "$EX/autumn-oak.jpg" --output "$T/draft.png" --size 512 --iterations 200
for f in "$EX/rainier.jpg" "$EX/autumn-oak.jpg" "$T/draft.png"; do
    convert "$f" -resize x260 "$T/$(basename "${f%.*}").png"
done
convert "$T/rainier.png" "$T/autumn-oak.png" "$T/draft.png" -bordercolor white -border 4 +append \
    -quality 85 "$OUT/before-after.jpg"

for lang in en ja; do
    NS_WEIGHTS=$W NS_BUILD=$BUILD bash "$ROOT/tests/gimp/gui.sh" 2 "$lang" "$T/gui-$lang" >/dev/null 2>&1 || true
done
convert "$T/gui-en/dialog-window.png" -quality 88 "$OUT/dialog.jpg"
convert "$T/gui-ja/dialog-window.png" -quality 88 "$OUT/dialog-ja.jpg"
ls -la "$OUT"

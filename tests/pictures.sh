#!/usr/bin/env bash
# make pictures: the README's and the help's pictures, small JPEGs in
# docs/images, made from ../shared/examples (CC BY-SA 4.0, d2l-ai/d2l-en):
#   before-after.jpg  the photo, the painting, the dialog's Draft result
#                     (the command line with the dialog's defaults: 512 px,
#                     200 iterations)
#   draft-final.jpg   the same 600 x 400 px of the photo at 1:1, from Draft
#                     (512 px, enlarged to 2048 x 1365 as the plug-in does)
#                     and from Final (its own 2048 x 1365, --max-memory 1),
#                     both with the command line's defaults (300 iterations)
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

# Draft against Final, 1:1 (NS_PICTURES_FINAL=DIR reuses DIR/draft.png and
# DIR/final.png from an earlier run of these two commands: Final takes minutes)
F=${NS_PICTURES_FINAL:-}
if [ -z "$F" ]; then
    F=$T
    "$BUILD/neural-style" --quiet --weights "$W" --device cpu --content "$EX/rainier.jpg" \
        --style "$EX/autumn-oak.jpg" --output "$F/draft.png"
    "$BUILD/neural-style" --quiet --weights "$W" --device cpu --content "$EX/rainier.jpg" \
        --style "$EX/autumn-oak.jpg" --output "$F/final.png" --size 0 --max-memory 1
fi
CROP=600x400+900+380
convert "$F/draft.png" -filter Lanczos -resize 2048x1365 -crop $CROP +repage "$T/draft-crop.png"
convert "$F/final.png" -crop $CROP +repage "$T/final-crop.png"
convert "$T/draft-crop.png" "$T/final-crop.png" -bordercolor white -border 4 +append -quality 85 \
    "$OUT/draft-final.jpg"

for lang in en ja; do
    NS_WEIGHTS=$W NS_BUILD=$BUILD bash "$ROOT/tests/gimp/gui.sh" 2 "$lang" "$T/gui-$lang" >/dev/null 2>&1 || true
done
convert "$T/gui-en/dialog-window.png" -quality 88 "$OUT/dialog.jpg"
convert "$T/gui-ja/dialog-window.png" -quality 88 "$OUT/dialog-ja.jpg"
ls -la "$OUT"

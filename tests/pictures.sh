#!/usr/bin/env bash
# make pictures: the README's and the help's pictures, small JPEGs in
# docs/images, made from ../shared/examples (CC BY-SA 4.0, d2l-ai/d2l-en):
#   before-after.jpg  the photo, the painting, the dialog's Draft result
#                     (the command line with the dialog's defaults: 512 px,
#                     200 iterations)
#   draft-final.jpg   GIMP 2.10's canvas at 1:1, the same part of the
#                     photo: the photo, Draft (512 px, enlarged to the
#                     layer's 2048 x 1365) and Final (the layer's own size),
#                     each run from the dialog with its defaults
#                     (tests/gimp/gui.sh's final session; about 15 min)
#   tiles.jpg         rainier at 512 px (100 iterations) computed whole and in
#                     tiles of 128 px (--tile 128), each at 1:1 with the
#                     tiles' cuts marked in the border; the mean |Laplacian|
#                     on the cut rows and columns against elsewhere printed
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

# Draft against Final in GIMP, 1:1 (NS_PICTURES_FINAL=DIR reuses an earlier
# final session's screenshots: Final takes minutes)
G=${NS_PICTURES_FINAL:-}
if [ -z "$G" ]; then
    G=$T/gui-final
    NS_WEIGHTS=$W NS_BUILD=$BUILD bash "$ROOT/tests/gimp/gui.sh" 2 final "$G" >"$T/gui-final.log" 2>&1 || {
        cat "$T/gui-final.log"
        exit 1
    }
fi
CANVAS=460x620+544+238   # inside GIMP's canvas on gui.sh's 1400 x 1000 screen
for shot in photo draft final; do
    convert "$G/$shot-1to1.png" -crop $CANVAS +repage "$T/$shot-crop.png"
done
convert "$T/photo-crop.png" "$T/draft-crop.png" "$T/final-crop.png" -bordercolor white -border 4 +append \
    -quality 85 "$OUT/draft-final.jpg"
grep seconds "$G/facts"

# Whole against tiles: the same picture, no seams.  The cuts lie at
# multiples of the tile on the level's canvas, --margin (8) px outside the photo
for tile in 0 128; do
    "$BUILD/neural-style" --quiet --weights "$W" --device cpu --content "$EX/rainier.jpg" \
        --style "$EX/autumn-oak.jpg" --output "$T/tile-$tile.ppm" --size 512 --iterations 100 --tile $tile
done
"${PYTHON:-/usr/bin/python3}" - "$T" "$ROOT/tests" <<'PYEOF'
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from reference import abs_laplacian, read_ppm
t, tile, margin = sys.argv[1], 128, 8
whole, tiled = (read_ppm("%s/tile-%d.ppm" % (t, k)) for k in (0, tile))
h, w = whole.shape[1:]
cuts = lambda n: [c for c in range(tile - margin, n, tile)]
def band(lo, hi):
    """the pixels lo..hi-1 rows or columns away from a cut (0: either side of it)"""
    m = np.zeros((h, w), bool)
    for d in range(lo, hi):
        for c in cuts(h):
            m[max(c - 1 - d, 0), :] = m[min(c + d, h - 1), :] = True
        for c in cuts(w):
            m[:, max(c - 1 - d, 0)] = m[:, min(c + d, w - 1)] = True
    return m[1:-1, 1:-1]
on, near = band(0, 1), band(3, 7) & ~band(0, 3)
for name, a in (("whole", whole), ("tiles of 128", tiled)):
    lap = abs_laplacian(a)
    print("%s: mean |Laplacian| %.4f on the cut rows and columns, %.4f 3 to 6 px from them, %.4f elsewhere"
          % (name, lap[on].mean(), lap[near].mean(), lap[~on].mean()))
print("mean |whole - tiles| %.4f" % np.abs(whole - tiled).mean())
with open("%s/cuts" % t, "w") as f:
    f.writelines("line %d,0 %d,5\n" % (c + 6, c + 6) for c in cuts(w))
    f.writelines("line 0,%d 5,%d\n" % (c + 6, c + 6) for c in cuts(h))
PYEOF
draw=()
while read -r line; do draw+=(-draw "$line"); done <"$T/cuts"
for tile in 0 128; do
    # a 6 px white border, the cuts as short black ticks in it
    convert "$T/tile-$tile.ppm" -bordercolor white -border 6 -stroke black "${draw[@]}" "$T/tile-$tile.png"
done
convert "$T/tile-0.png" "$T/tile-128.png" +append -quality 88 "$OUT/tiles.jpg"

for lang in en ja; do
    NS_WEIGHTS=$W NS_BUILD=$BUILD bash "$ROOT/tests/gimp/gui.sh" 2 "$lang" "$T/gui-$lang" >/dev/null 2>&1 || true
done
convert "$T/gui-en/dialog-window.png" -quality 88 "$OUT/dialog.jpg"
convert "$T/gui-ja/dialog-window.png" -quality 88 "$OUT/dialog-ja.jpg"
ls -la "$OUT"

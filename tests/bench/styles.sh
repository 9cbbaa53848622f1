#!/usr/bin/env bash
# make bench-styles: two paintings in one fast style (conditional instance
# norm, Dumoulin et al. 2017) against a model for each, on the CPU.
#   - the paintings: the d2l autumn oaks, and a charcoal sketch made here
#     from python3-skimage's astronaut (NASA, public domain) with
#     ImageMagick's -charcoal;
#   - the photos: python3-skimage's other sample photos; rainier is held
#     out and judged;
#   - the models: one per painting at STEPS steps, both paintings in one at
#     2 x STEPS (the same work as the two) and at STEPS (half of it);
#   - judged: rainier at 256 px through each model (and each style of the
#     combined ones), the exact objective's iteration-0 style term against
#     each painting over the photo's own, and the content term;
#   - the blends: rainier at 512 px through the combined model at --mix
#     1,0 3,1 1,1 1,3 0,1, their style terms against both paintings, and
#     the five side by side (build/bench/styles-blend.jpg).
# NS_STYLES_STEPS (400) and NS_STYLES_SIZE (128) set the training; the
# models are kept in build/bench/styles and reused.  Writes
# build/bench/styles.md.
set -euo pipefail
BUILD=${1:-build}
PY=${2:-/usr/bin/python3}
. "$(dirname "$0")/common.sh"
NS=$BUILD/neural-style
STEPS=${NS_STYLES_STEPS:-400}
SIZE=${NS_STYLES_SIZE:-128}
M=$OUT/styles
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$M"

SK=$("$PY" -c 'import os, skimage.data; print(os.path.dirname(skimage.data.__file__))') ||
    { echo "python3-skimage is missing (apt-get install python3-skimage)"; exit 1; }
command -v convert >/dev/null || { echo "ImageMagick's convert is missing"; exit 1; }
OAK=$EX/autumn-oak.jpg
SKETCH=$M/charcoal.png
[ -s "$SKETCH" ] || convert "$SK/astronaut.png" -charcoal 1.5 "$SKETCH"
mkdir -p "$T/photos"
for f in chelsea.png coffee.png rocket.jpg motorcycle_left.png motorcycle_right.png retina.jpg \
         hubble_deep_field.jpg; do cp "$SK/$f" "$T/photos/"; done

train() { # NAME STEPS PAINTING...
    local name=$1 steps=$2 t0=$SECONDS
    shift 2
    if [ ! -s "$M/$name.safetensors" ]; then
        local styles=()
        for p in "$@"; do styles+=(--style "$p"); done
        echo "training $name: $steps steps at $SIZE px"
        "$NS" train --quiet --weights "$W" --device cpu "${styles[@]}" --photos "$T/photos" --steps "$steps" \
            --size "$SIZE" --output "$M/$name.safetensors"
        echo "$((SECONDS - t0))" >"$M/$name.s"
    fi
}
train oak "$STEPS" "$OAK"
train sketch "$STEPS" "$SKETCH"
train both "$((2 * STEPS))" "$OAK" "$SKETCH"
train both-half "$STEPS" "$OAK" "$SKETCH"

convert "$EX/rainier.jpg" -resize 256x256 "$T/held.png"
judge() { # TAG FAST-RESULT: its terms against each painting
    local tag=$1 img=$2 k=0
    for p in "$OAK" "$SKETCH"; do
        "$NS" --quiet --weights "$W" --device cpu --content "$T/held.png" --style "$p" --size 256 \
            --iterations 0 --init image --init-image "$img" --log-json "$T/$tag-$k.jsonl" --output "$T/x.png"
        k=$((k + 1))
    done
}
judge photo "$T/held.png"
fast() { # TAG MODEL [--mix W,W]
    local tag=$1 model=$2
    shift 2
    "$NS" --quiet --device cpu --model "$M/$model.safetensors" "$@" --content "$T/held.png" --output "$T/$tag.png"
    judge "$tag" "$T/$tag.png"
}
fast oak oak
fast sketch sketch
for model in both both-half; do
    fast "$model-1" "$model" --mix 1,0
    fast "$model-2" "$model" --mix 0,1
done
MIXES="1,0 3,1 1,1 1,3 0,1"
convert "$EX/rainier.jpg" -resize 512x512 "$T/held512.png"
tiles=()
for mix in $MIXES; do
    fast "mix-$mix" both --mix "$mix"
    "$NS" --quiet --device cpu --model "$M/both.safetensors" --mix "$mix" --content "$T/held512.png" \
        --output "$T/blend-$mix.png"
    tiles+=("$T/blend-$mix.png")
done
montage "${tiles[@]}" -tile 5x1 -geometry +4+0 -quality 90 "$OUT/styles-blend.jpg"

"$PY" - "$T" "$M" "$STEPS" "$SIZE" "$MIXES" <<'PYEOF' | tee "$OUT/styles.md"
import json, os, sys
t, m, steps, size, mixes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5].split()
def terms(tag, k):
    return json.loads(open(f"{t}/{tag}-{k}.jsonl").readline())
own = [terms("photo", k)["style"] for k in (0, 1)]
def secs(name):
    return int(open(f"{m}/{name}.s").read()) if os.path.exists(f"{m}/{name}.s") else None
def mb(name):
    return os.path.getsize(f"{m}/{name}.safetensors") / 1e6
print(f"Two paintings in one fast style (`make bench-styles`): {size} px crops, batch 4, on the CPU; rainier held")
print("out, at 256 px: its exact-objective style term through the style, over the photo's own, against the")
print(f"style's painting (the photo's own: oaks {own[0]:.3g}, charcoal {own[1]:.3g}); lower is more of the style.\n")
print("| model | steps | training s | file MB | oaks | charcoal | content |\n|---|---|---|---|---|---|---|")
rows = [("oaks alone", "oak", steps, [("oak", 0)]), ("charcoal alone", "sketch", steps, [("sketch", 1)]),
        ("both in one", "both", 2 * steps, [("both-1", 0), ("both-2", 1)]),
        ("both in one, half the steps", "both-half", steps, [("both-half-1", 0), ("both-half-2", 1)])]
for label, name, n, judged in rows:
    cells = ["", ""]
    content = []
    for tag, k in judged:
        cells[k] = f"{terms(tag, k)['style'] / own[k]:.3f}"
        content.append(f"{terms(tag, k)['content']:.3g}")
    s = secs(name)
    print(f"| {label} | {n} | {s if s is not None else 'kept'} | {mb(name):.2f} | {cells[0]} | {cells[1]} | "
          f"{' / '.join(content)} |")
print("\nBlends of the combined model (--mix oaks,charcoal): style terms over the photo's own against each\n")
print("| --mix | oaks | charcoal | content |\n|---|---|---|---|")
for mix in mixes:
    a, b = terms(f"mix-{mix}", 0), terms(f"mix-{mix}", 1)
    print(f"| {mix} | {a['style'] / own[0]:.3f} | {b['style'] / own[1]:.3f} | {a['content']:.3g} |")
PYEOF
echo "the blends side by side: $OUT/styles-blend.jpg"

#!/usr/bin/env bash
# make examples: the README's side-by-side pictures of the presets and options,
# small JPEG strips in docs/images/examples, made from ../shared/examples
# (CC BY-SA 4.0, d2l-ai/d2l-en) with the small test weights (conv1_1..conv3_4)
# at 256 px and 80 iterations, one run after the other on the CPU (about
# six minutes on two free cores): they are for comparing options with each
# other, not for judging final quality.
#   presets.jpg  the photo, then --preset gatys2016, improved, faithful,
#                balanced, painterly
#   options.jpg  the defaults, then --activation-shift -1, --layer-weights
#                geometric, --correlation-chain, --style-layers all, --pooling avg
#   colours.jpg  the painting, then --colors off (the default), keep, match
#   regions.jpg  the photo, the painting, a hue-rotated copy of it (green
#                leaves, pink sky), the two masks, and
#                --style oak:left-half --style green:right-third
#   brush.jpg    a fast style (TransformerNet with random weights: no trained
#                style can be downloaded here) on rainier at 2.8 MP and
#                enlarged to 24 MP, --brush-size 1, 2 and 4: the same 384 x 256
#                px of each at 1:1 (about four minutes)
#   trained.jpg  a style trained from the painting on python3-skimage's
#                sample photos and rainier (400 steps at 256 px, about half
#                an hour), rainier at 2.8 MP through it beside the exact
#                method's Final (about ten minutes)
# Each run's exact command is printed before it runs, its seconds after.
# NS_EXAMPLES_SIZE and NS_EXAMPLES_ITERATIONS change the size and iterations;
# NS_EXAMPLES_ONLY="trained brush" makes only those pictures (colours needs
# options' run of the defaults).
set -euo pipefail
BUILD=$(realpath -m "${1:-build}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
rel() { realpath -m --relative-to="$ROOT" "$1"; }
NS=$(rel "$BUILD/neural-style")
EX=$(rel "${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}")
W=$(rel "${NS_TEST_WEIGHTS:-$ROOT/../shared/weights/vgg19-conv1_1-conv3_4.safetensors}")
SIZE=${NS_EXAMPLES_SIZE:-256}
ITER=${NS_EXAMPLES_ITERATIONS:-80}
OUT=docs/images/examples
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT"
PHOTO=$EX/rainier.jpg
OAK=$EX/autumn-oak.jpg

# run NAME OPTION...: the photo restyled after the painting (unless OPTIONs
# give --style) into $T/NAME.png, the command printed first
run() {
    local name=$1; shift
    local style=(--style "$OAK")
    case " $* " in *" --style "*) style=() ;; esac
    local cmd=("$NS" --quiet --weights "$W" --device cpu --size "$SIZE" --iterations "$ITER"
               --content "$PHOTO" "${style[@]}" "$@" --output "$T/$name.png")
    echo "${cmd[*]}"
    local t0=$SECONDS
    "${cmd[@]}"
    echo "  ($((SECONDS - t0)) s)"
}

# tile IN CAPTION: IN at the results' height H, framed in grey, with CAPTION
# (LINES lines, split by \n) under it, as $T/tile-N.png; the tiles so far are
# in TILES
TILES=()
LINES=1
tile() {
    local out=$T/tile-${#TILES[@]}.png
    convert "$1" -resize "x$((H - 2))" -bordercolor gray60 -border 1 \
        -background white -gravity south -splice "0x$((6 + 14 * LINES))" \
        -gravity north -font DejaVu-Sans -pointsize 12 -fill black -annotate "+0+$((H + 3))" "$2" "$out"
    TILES+=("$out")
}

want() { [ -z "${NS_EXAMPLES_ONLY:-}" ] || [[ " $NS_EXAMPLES_ONLY " == *" $1 "* ]]; }

# strip NAME: the tiles side by side into $OUT/NAME.jpg, and a fresh TILES
strip() {
    convert "${TILES[@]}" -bordercolor white -border 3 +append -strip -quality 85 "$OUT/$1.jpg"
    TILES=()
}

if want presets; then
echo "== presets.jpg"
for p in gatys2016 improved faithful balanced painterly; do
    run "preset-$p" --preset "$p"
done
H=$(identify -format %h "$T/preset-balanced.png")
tile "$PHOTO" "the photo"
for p in gatys2016 improved faithful balanced painterly; do
    tile "$T/preset-$p.png" "--preset $p"
done
strip presets

fi

if want options; then
echo "== options.jpg"
run default
run shift --activation-shift -1
run geometric --layer-weights geometric
run chain --correlation-chain
run all --style-layers all
run avg --pooling avg
tile "$T/default.png" "the defaults"
tile "$T/shift.png" "--activation-shift -1"
tile "$T/geometric.png" "--layer-weights geometric"
tile "$T/chain.png" "--correlation-chain"
tile "$T/all.png" "--style-layers all"
tile "$T/avg.png" "--pooling avg"
strip options

fi

if want colours; then
echo "== colours.jpg (--colors off is the defaults' run above)"
run keep --colors keep
run match --colors match
tile "$OAK" "the painting"
tile "$T/default.png" "--colors off (the default)"
tile "$T/keep.png" "--colors keep"
tile "$T/match.png" "--colors match"
strip colours

fi

if want regions; then
echo "== regions.jpg"
# a second painting: autumn-oak with its hue rotated; masks at the photo's size
echo "convert $OAK -modulate 100,120,170 $T/green.jpg"
convert "$OAK" -modulate 100,120,170 "$T/green.jpg"
read -r PW PH < <(identify -format '%w %h\n' "$PHOTO")
convert -size "${PW}x$PH" xc:black -fill white -draw "rectangle 0,0 $((PW / 2 - 1)),$((PH - 1))" \
    -colorspace Gray -depth 8 "PNG8:$T/left-half.png"
convert -size "${PW}x$PH" xc:black -fill white -draw "rectangle $((PW * 2 / 3)),0 $((PW - 1)),$((PH - 1))" \
    -colorspace Gray -depth 8 "PNG8:$T/right-third.png"
run regions --style "$OAK:$T/left-half.png" --style "$T/green.jpg:$T/right-third.png"
LINES=2
tile "$PHOTO" "the photo"
tile "$OAK" "oak: autumn-oak.jpg"
tile "$T/green.jpg" "green: autumn-oak.jpg hue-rotated\n(convert -modulate 100,120,170)"
tile "$T/left-half.png" "left-half mask (for oak)"
tile "$T/right-third.png" "right-third mask (for green)"
tile "$T/regions.png" "--style oak:left-half\n--style green:right-third"
strip regions

fi

if want brush; then
echo "== brush.jpg"
# the same part of the scene (a little right of the middle, the lodge's
# hillside) at 1:1 in each result: 384 x 256 px of the 2.8 MP one, and the
# 24 MP one's pixels at the same place scaled up 2.93 times
M=$T/fast.safetensors
PYTHONPATH=tests "${PYTHON:-/usr/bin/python3}" tests/fast_reference.py model "$M" --seed 1
convert "$PHOTO" -resize "6000x4000!" "$T/rainier-24mp.ppm"
for b in 1 2 4; do
    for mp in 2.8 24; do
        in=$PHOTO limit=""
        [ "$mp" = 24 ] && in=$T/rainier-24mp.ppm limit="--max-memory 2"
        cmd=("$NS" --quiet --device cpu $limit --model "$M" --brush-size "$b" --content "$in" --output "$T/brush-$mp-$b.ppm")
        echo "${cmd[*]}"
        t0=$SECONDS
        "${cmd[@]}"
        echo "  ($((SECONDS - t0)) s)"
    done
done
H=258 LINES=1
for mp in 2.8 24; do
    for b in 1 2 4; do
        if [ "$mp" = 24 ]; then crop=384x256+3516+2344; else crop=384x256+1200+800; fi
        convert "$T/brush-$mp-$b.ppm" -crop "$crop" +repage "$T/crop-$mp-$b.png"
        tile "$T/crop-$mp-$b.png" "$mp MP, --brush-size $b"
    done
    strip "brush-$mp"
done
convert "$OUT/brush-2.8.jpg" "$OUT/brush-24.jpg" -append -strip -quality 85 "$OUT/brush.jpg"
rm -f "$OUT/brush-2.8.jpg" "$OUT/brush-24.jpg"

fi

if want trained; then
echo "== trained.jpg"
# a style trained here from the painting, on Debian's python3-skimage sample
# photos (astronaut, chelsea, coffee, rocket, motorcycle: public domain or
# CC0 / CC BY as skimage/data/__init__.py gives them) and rainier itself,
# for the README's Quick (400 steps at 256 px; about half an hour); then
# rainier at its own 2.8 MP through it, beside the exact method's Final
SK=$("${PYTHON:-/usr/bin/python3}" -c 'import os, skimage.data; print(os.path.dirname(skimage.data.__file__))' 2>/dev/null) ||
    { echo "python3-skimage is missing (apt-get install python3-skimage): trained.jpg not made"; ls -l "$OUT"; exit 0; }
mkdir -p "$T/photos"
cp "$SK/astronaut.png" "$SK/chelsea.png" "$SK/coffee.png" "$SK/rocket.jpg" "$SK/motorcycle_left.png" "$PHOTO" "$T/photos/"
STEPS=${NS_EXAMPLES_TRAIN_STEPS:-400}
cmd=("$NS" train --weights "$W" --device cpu --style "$OAK" --photos "$T/photos" --steps "$STEPS"
     --name "autumn-oak (make examples)" --output "$T/oak.safetensors")
echo "${cmd[*]}"
t0=$SECONDS
"${cmd[@]}" 2>&1 | grep -E "photos|step $STEPS/|wrote"
TRAIN_S=$((SECONDS - t0))
echo "  ($TRAIN_S s)"
cmd=("$NS" --quiet --device cpu --model "$T/oak.safetensors" --content "$PHOTO" --output "$T/trained-fast.png")
echo "${cmd[*]}"
t0=$SECONDS
"${cmd[@]}"
FAST_S=$((SECONDS - t0))
echo "  ($FAST_S s)"
cmd=("$NS" --quiet --weights "$W" --device cpu --size 0 --content "$PHOTO" --style "$OAK" --output "$T/trained-exact.png")
echo "${cmd[*]}"
t0=$SECONDS
"${cmd[@]}"
EXACT_S=$((SECONDS - t0))
echo "  ($EXACT_S s)"
H=300 LINES=2
tile "$OAK" "the painting"
tile "$T/trained-fast.png" "the style trained here ($STEPS steps, $((TRAIN_S / 60)) min)\n2.8 MP in $FAST_S s"
tile "$T/trained-exact.png" "the exact method (Final)\n2.8 MP in $((EXACT_S / 60)) min"
strip trained-whole
for k in fast exact; do
    convert "$T/trained-$k.png" -crop 600x300+1100+650 +repage "$T/crop-$k.png"
done
tile "$T/crop-fast.png" "the trained style at 1:1"
tile "$T/crop-exact.png" "the exact method at 1:1"
strip trained-crop
convert "$OUT/trained-whole.jpg" "$OUT/trained-crop.jpg" -append -strip -quality 85 "$OUT/trained.jpg"
rm -f "$OUT/trained-whole.jpg" "$OUT/trained-crop.jpg"

fi
ls -l "$OUT"

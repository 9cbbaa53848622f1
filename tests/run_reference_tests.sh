#!/usr/bin/env bash
# The engine against an independent PyTorch implementation of docs/design.md on
# the real VGG-19 weights and the d2l examples:
#  1. iteration-0 loss terms agree within 1e-3 relative; with the published
#     objective options (activation shift, geometric layer weights,
#     correlation chain, every relu layer, average pooling) within 1e-4;
#     with two paintings in two regions (masked Grams) within 1e-6;
#  2. after the same number of L-BFGS iterations (same objective, history,
#     start) the engine's loss is no worse than 1.1x torch.optim.LBFGS's.
# Inputs are 8-bit PPMs written by the CLI, so both sides read identical pixels.
set -euo pipefail
BUILD=${1:-build}
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
W=${NS_TEST_WEIGHTS:-$ROOT/../shared/weights/vgg19-conv1_1-conv3_4.safetensors}
EX=${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}
NS="$BUILD/neural-style"

if [ ! -f "$W" ] || [ ! -f "$EX/rainier.jpg" ]; then
    echo "SKIP reference tests: real weights or examples not found (../shared/weights, ../shared/examples)"
    exit 0
fi
if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "SKIP reference tests: $PY cannot import torch (./install.sh installs python3-torch)"
    exit 0
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SIZE=160
LAYERS=(--content-layers relu3_2 --style-layers relu1_1,relu2_1,relu3_1,relu3_4)
WEIGHTS=(--content-weight 1 --style-weight 1000 --tv-weight 10)
# the objective of docs/design.md on the image itself, without the mirrored canvas
NO_MARGIN=(--margin 0)

"$NS" --quiet --weights "$W" --content "$EX/rainier.jpg" --style "$EX/rainier.jpg" --output "$T/content.ppm" \
    --iterations 0 --size $SIZE
"$NS" --quiet --weights "$W" --content "$EX/autumn-oak.jpg" --style "$EX/autumn-oak.jpg" --output "$T/style.ppm" \
    --iterations 0 --size $SIZE
# a start point away from the content, so that every term is non-zero
"$PY" - "$T" "$HERE" <<'EOF'
import sys, numpy as np
sys.path.insert(0, sys.argv[2])
from reference import read_ppm, write_ppm
c = read_ppm(sys.argv[1] + "/content.ppm")
rng = np.random.default_rng(7)
write_ppm(sys.argv[1] + "/start.ppm", 0.6 * c + 0.4 * rng.random(c.shape))
# regions: a second painting (the first's channels reversed), a soft mask
# (a ramp from left to right) and a hard one (the right 60 %)
s = read_ppm(sys.argv[1] + "/style.ppm")
write_ppm(sys.argv[1] + "/style2.ppm", s[::-1])
h, w = c.shape[1:]
ramp = np.tile(np.linspace(0, 1, w), (h, 1))
write_ppm(sys.argv[1] + "/mask1.ppm", np.stack([ramp] * 3))
right = (np.arange(w) >= 0.4 * w)[None, :] * np.ones((h, 1))
write_ppm(sys.argv[1] + "/mask2.ppm", np.stack([right] * 3))
EOF

# compare.py ENGINE.jsonl REF.json TOL: the engine's iteration-0 record against the reference's terms
cat >"$T/compare.py" <<'EOF'
import json, sys
ours = json.loads(open(sys.argv[1]).readline())
ref = json.load(open(sys.argv[2]))
tol = float(sys.argv[3])
bad = 0
for k in ("loss", "content", "style", "tv"):
    rel = abs(ours[k] - ref[k]) / abs(ref[k])
    print("  %-8s engine %.9g  torch %.9g  relative difference %.1e" % (k, ours[k], ref[k], rel))
    bad += rel > tol
sys.exit(1 if bad else 0)
EOF

# iter0 NAME TOL ARGS..: the terms at the start image, engine and reference given the same ARGS
# (layers, weights, objective options); status 1 if any term differs by more than TOL relative
# (the paintings: STYLES, --style FILE[:MASK] each)
STYLES=(--style "$T/style.ppm")
iter0() {
    local name=$1 tol=$2
    shift 2
    "$NS" --quiet --weights "$W" --content "$T/content.ppm" "${STYLES[@]}" --output "$T/$name-out.png" \
        --size 0 --iterations 0 --init image --init-image "$T/start.ppm" "$@" "${NO_MARGIN[@]}" \
        --log-json "$T/$name.jsonl" || return 1
    "$PY" "$HERE/reference.py" terms --weights "$W" --content "$T/content.ppm" "${STYLES[@]}" \
        --image "$T/start.ppm" "$@" >"$T/$name-ref.json" || return 1
    "$PY" "$T/compare.py" "$T/$name.jsonl" "$T/$name-ref.json" "$tol"
}

fail=0
echo "== iteration-0 loss terms: engine vs PyTorch (float64), real weights, ${SIZE}px"
iter0 iter0 1e-3 "${LAYERS[@]}" "${WEIGHTS[@]}" || fail=1

echo "== iteration-0 terms with the published options: engine vs PyTorch (float64), ${SIZE}px, limit 1e-4"
S3="--style-layers relu1_1,relu2_1,relu3_1"
OPTIONS=(
    "$S3 --activation-shift -1"
    "$S3 --layer-weights geometric"
    "$S3 --correlation-chain"
    "$S3 --activation-shift -1 --layer-weights geometric --correlation-chain"
    "--style-layers all --correlation-chain --activation-shift -1 --pooling avg"
)
k=0
for opts in "${OPTIONS[@]}"; do
    k=$((k + 1))
    echo " -- ${opts#"$S3 "}"
    # shellcheck disable=SC2086  # the options split into words on purpose
    iter0 "opt$k" 1e-4 --content-layers relu3_2 $opts "${WEIGHTS[@]}" || { fail=1; echo "  FAILED: $opts"; }
done

echo "== iteration-0 terms with two paintings in two regions (masked Grams): engine vs PyTorch, limit 1e-6"
STYLES=(--style "$T/style.ppm:$T/mask1.ppm" --style "$T/style2.ppm:$T/mask2.ppm")
iter0 regions 1e-6 --content-layers relu3_2 $S3 "${WEIGHTS[@]}" || { fail=1; echo "  FAILED: regions"; }
echo " -- with the activation shift -1"
iter0 regions-shift 1e-6 --content-layers relu3_2 $S3 --activation-shift -1 "${WEIGHTS[@]}" ||
    { fail=1; echo "  FAILED: regions with the shift"; }
STYLES=(--style "$T/style.ppm")

ITERS=${NS_REF_ITERATIONS:-100}
echo "== final loss after $ITERS L-BFGS iterations (history 20, from the content): engine vs torch.optim.LBFGS"
"$NS" --quiet --weights "$W" --content "$T/content.ppm" --style "$T/style.ppm" --output "$T/ours.png" \
    --size 0 --iterations "$ITERS" --lbfgs-history 20 "${LAYERS[@]}" "${WEIGHTS[@]}" "${NO_MARGIN[@]}" --log-json "$T/ours.jsonl"
"$PY" "$HERE/reference.py" lbfgs --weights "$W" --content "$T/content.ppm" --style "$T/style.ppm" \
    --iterations "$ITERS" --history 20 "${LAYERS[@]}" "${WEIGHTS[@]}" >"$T/torch.json"
"$PY" "$HERE/reference.py" lbfgs --weights "$W" --content "$T/content.ppm" --style "$T/style.ppm" \
    --iterations "$ITERS" --history 20 --line-search "${LAYERS[@]}" "${WEIGHTS[@]}" >"$T/torch-wolfe.json"
"$PY" - "$T/ours.jsonl" "$T/torch.json" "$T/torch-wolfe.json" <<'EOF' || fail=1
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1])][-1]
plain, wolfe = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
print("  engine                          loss %.6g  (%d iterations)" % (ours["loss"], ours["iter"]))
print("  torch LBFGS, no line search     loss %.6g  (%d evaluations)" % (plain["loss"], plain["evaluations"]))
print("  torch LBFGS, strong Wolfe       loss %.6g  (%d evaluations)" % (wolfe["loss"], wolfe["evaluations"]))
best = min(plain["loss"], wolfe["loss"])
ratio = ours["loss"] / best
print("  engine / best torch = %.3f (limit 1.1)" % ratio)
sys.exit(0 if ratio <= 1.1 else 1)
EOF

echo "== a fast style (TransformerNet, random weights): neural-style --model vs PyTorch, 8-bit levels"
PYTHONPATH="$HERE" "$PY" "$HERE/fast_reference.py" model "$T/fast.safetensors"
for size in 320x240 400x300; do
    convert "$EX/rainier.jpg" -resize "$size!" "$T/fast-in.ppm"
    "$NS" --quiet --device cpu --model "$T/fast.safetensors" --content "$T/fast-in.ppm" --output "$T/fast-ours.ppm"
    PYTHONPATH="$HERE" "$PY" "$HERE/fast_reference.py" run "$T/fast.safetensors" "$T/fast-in.ppm" "$T/fast-torch.ppm"
    echo -n "  $size: "
    PYTHONPATH="$HERE" "$PY" "$HERE/fast_reference.py" compare "$T/fast-ours.ppm" "$T/fast-torch.ppm" 1 2 || fail=1
done

echo "== one training step of a fast style against PyTorch (at ${SECONDS}s)"
# two 64 px crops of the photo, the painting's top-left 64 x 48 (the
# training size: the engine uses it as it is), a grey-output network
"$PY" - "$T" "$HERE" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from reference import read_ppm, write_ppm
c, s = read_ppm(sys.argv[1] + "/content.ppm"), read_ppm(sys.argv[1] + "/style.ppm")
write_ppm(sys.argv[1] + "/crop0.ppm", c[:, :64, :64])
write_ppm(sys.argv[1] + "/crop1.ppm", c[:, 30:94, 90:154])
write_ppm(sys.argv[1] + "/paint64.ppm", s[:, :48, :64])
EOF
PYTHONPATH="$HERE" "$PY" "$HERE/fast_reference.py" start "$T/start.safetensors" 4
"$BUILD/tests/train_step" "$W" "$T/paint64.ppm" "$T" "$T/start.safetensors" "$T/crop0.ppm" "$T/crop1.ppm" \
    >"$T/train-terms.json" || fail=1
"$PY" "$HERE/train_reference.py" "$W" "$T/paint64.ppm" "$T" "$T/train-terms.json" "$T/start.safetensors" \
    "$T/crop0.ppm" "$T/crop1.ppm" || fail=1

echo "== ONNX import: torch.onnx.export at opsets 8, 9 and 11 (traced at 96 x 128), run at other sizes, vs PyTorch"
FR() { PYTHONPATH="$HERE" "$PY" "$HERE/fast_reference.py" "$@" 2>/dev/null; }
for opset in 8 9 11; do FR export "$T/fast.safetensors" "$T/fast-$opset.onnx" $opset || fail=1; done
for size in 320x240 401x299; do
    convert "$EX/rainier.jpg" -resize "$size!" "$T/fast-in.ppm"
    FR run "$T/fast.safetensors" "$T/fast-in.ppm" "$T/fast-torch.ppm"
    for opset in 8 9 11; do
        "$NS" --quiet --device cpu --model "$T/fast-$opset.onnx" --size 0 --content "$T/fast-in.ppm" \
            --output "$T/fast-onnx.ppm" || fail=1
        echo -n "  $size, opset $opset: "
        FR compare "$T/fast-onnx.ppm" "$T/fast-torch.ppm" 1 2 || fail=1
    done
done
# other ways of exporting: dynamic sides, and pads left to the graph (Shape, Gather, Sub...)
FR export "$T/fast.safetensors" "$T/fast-dyn.onnx" 9 --dynamic || fail=1
FR export "$T/fast.safetensors" "$T/fast-nofold.onnx" 11 --no-folding || fail=1
for v in dyn nofold; do
    "$NS" --quiet --device cpu --model "$T/fast-$v.onnx" --size 0 --content "$T/fast-in.ppm" --output "$T/fast-onnx-$v.ppm" || fail=1
    echo -n "  401x299, $( [ $v = dyn ] && echo "opset 9, dynamic sides" || echo "opset 11, no constant folding"): "
    FR compare "$T/fast-onnx-$v.ppm" "$T/fast-torch.ppm" 1 2 || fail=1
done
# ns-weights import gives the same network, with the metadata asked for
"$BUILD/ns-weights" import "$T/fast-9.onnx" "$T/imported.safetensors" --name "Test style" --license CC0 \
    --source "tests" >/dev/null || fail=1
"$NS" --quiet --device cpu --model "$T/imported.safetensors" --size 0 --content "$T/fast-in.ppm" --output "$T/fast-imp.ppm"
if cmp -s "$T/fast-imp.ppm" "$T/fast-onnx.ppm"; then echo "  ns-weights import: the same result as --model FILE.onnx"
else echo "  ns-weights import: FAILED (a different result from --model FILE.onnx)"; fail=1; fi
# the painting's thumbnail, given at import or later with describe; a
# painting that cannot be read leaves the model as it was
"$BUILD/ns-weights" describe "$T/imported.safetensors" --name "Autumn oaks" --thumbnail "$EX/autumn-oak.jpg" >/dev/null
cp "$T/imported.safetensors" "$T/described.safetensors"
rc=0
"$BUILD/ns-weights" describe "$T/imported.safetensors" --thumbnail "$T/nothing.jpg" 2>"$T/err" || rc=$?
"$BUILD/ns-weights" info "$T/imported.safetensors" >"$T/info"
"$NS" --quiet --device cpu --model "$T/imported.safetensors" --size 0 --content "$T/fast-in.ppm" --output "$T/fast-desc.ppm"
if grep -q "'Autumn oaks'" "$T/info" && grep -q "thumbnail: 128 x 8[0-9]" "$T/info" && [ $rc -eq 1 ] &&
    grep -q "nothing.jpg" "$T/err" && cmp -s "$T/imported.safetensors" "$T/described.safetensors" &&
    cmp -s "$T/fast-desc.ppm" "$T/fast-onnx.ppm"; then
    echo "  ns-weights describe: the name and a 128 px thumbnail of the painting set, the network unchanged;"
    echo "    an unreadable painting refused in a sentence, the file untouched"
else
    echo "  ns-weights describe: FAILED ($(cat "$T/info" "$T/err"))"; fail=1
fi
echo "== ./install.sh --styles DIR: checked by sha256, converted, installed with its attribution, once"
mkdir -p "$T/zoo"
cp "$T/fast-9.onnx" "$T/zoo/test-9.onnx"
printf "test-style %s 0 test-9.onnx\nother-style %s 0 other-9.onnx\n" "$(sha256sum "$T/zoo/test-9.onnx" | cut -d' ' -f1)" \
    0000 >"$T/zoo/list.txt"
cp "$T/fast-9.onnx" "$T/zoo/other-9.onnx"  # not the file the list names
export XDG_DATA_HOME=$T/data XDG_CACHE_HOME=$T/cache
inst() { NS_STYLES_LIST="$T/zoo/list.txt" "$ROOT/install.sh" --no-deps --no-plugin --weights "$W" --styles "$T/zoo" >"$T/inst.log" 2>&1; }
inst && { echo "  FAILED: a style whose sha256 differs was not reported"; fail=1; }
if grep -q "other-9.onnx: missing, or not the zoo's file" "$T/inst.log" && grep -q "1 of the 2 fast styles" "$T/inst.log" &&
    "$NS" --list-styles | grep -q "^test-style .*BSD-3-Clause; ONNX model zoo"; then
    echo "  installed test-style, refused other-style (sha256), exit 1 with how to finish"
else echo "  FAILED:"; tail -5 "$T/inst.log"; fail=1; fi
inst || true
grep -q "style already installed: test-style" "$T/inst.log" && echo "  run again: test-style already installed" ||
    { echo "  FAILED: a second run did not skip test-style"; fail=1; }
unset XDG_DATA_HOME XDG_CACHE_HOME
echo "== ONNX import refuses other graphs and broken files in one sentence, writing nothing"
FR variants "$T/fast.safetensors" "$T"
head -c 3000000 "$T/fast-9.onnx" >"$T/truncated.onnx"
refuse() {  # FILE PATTERN
    rm -f "$T/refused.png"
    if "$NS" --quiet --device cpu --model "$T/$1" --content "$T/fast-in.ppm" --output "$T/refused.png" 2>"$T/refusal.txt"; then
        echo "  $1: FAILED (accepted)"; fail=1
    elif [ "$(wc -l <"$T/refusal.txt")" -eq 1 ] && grep -q "$2" "$T/refusal.txt" && [ ! -e "$T/refused.png" ]; then
        echo "  $1: $(cat "$T/refusal.txt")"
    else echo "  $1: FAILED: $(cat "$T/refusal.txt")"; fail=1; fi
}
refuse zero-padding.onnx "operation 1 (Conv .*) stands where transformer-net has Pad"
refuse four-blocks.onnx "operation 45 (Upsample .*) stands where transformer-net has Pad"
refuse 5x5.onnx "operation 5 (Pad .*) pads by 2, 2, 2 and 2 where transformer-net pads each side by 1"
refuse crafted.onnx "holds 7776 values where its shape needs 15552"
refuse crafted-huge.onnx "has an impossible size"
refuse truncated.onnx "not an ONNX model"

if [ $fail -ne 0 ]; then
    echo "reference tests FAILED"
    exit 1
fi
echo "reference tests passed"

#!/usr/bin/env bash
# make bench-warm: the exact method started from a fast style's result
# (--init model) against started from the photo, on rainier after the d2l
# painting, on the CPU:
#   - 512 px on one level (--scales 1), 200 L-BFGS iterations each: the
#     iterations each start needs to reach a loss;
#   - 2 MP (--size 1732) coarse to fine as a photographer runs it: 300
#     iterations from the photo against 300, 150 and 75 from the fast
#     style, the final loss and the time of each.
# The style: NS_WARM_MODEL, or one trained here on python3-skimage's sample
# photos (600 steps at 128 px, about 8 minutes; kept in build/bench and
# reused).  Writes build/bench/warm.md.
set -euo pipefail
BUILD=${1:-build}
PY=${2:-/usr/bin/python3}
. "$(dirname "$0")/common.sh"
NS=$BUILD/neural-style
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT


MODEL=${NS_WARM_MODEL:-$OUT/warm-oak.safetensors}
if [ ! -s "$MODEL" ]; then
    SK=$("$PY" -c 'import os, skimage.data; print(os.path.dirname(skimage.data.__file__))') ||
        { echo "python3-skimage is missing (apt-get install python3-skimage), or set NS_WARM_MODEL"; exit 1; }
    mkdir -p "$T/photos"
    # rainier is left out: the measurement is on a photo the style never saw
    for f in astronaut.png chelsea.png coffee.png rocket.jpg motorcycle_left.png motorcycle_right.png \
             retina.jpg hubble_deep_field.jpg; do cp "$SK/$f" "$T/photos/"; done
    echo "training the style: 600 steps at 128 px on 8 sample photos"
    "$NS" train --weights "$W" --device cpu --style "$EX/autumn-oak.jpg" --photos "$T/photos" --steps 600 \
        --size 128 --quiet --output "$MODEL"
fi

run() { # TAG SIZE ITERATIONS [options]
    local tag=$1 size=$2 it=$3 t0=$SECONDS
    shift 3
    "$NS" --quiet --weights "$W" --device cpu --content "$EX/rainier.jpg" --style "$EX/autumn-oak.jpg" \
        --size "$size" --iterations "$it" "$@" --log-json "$T/$tag.jsonl" --output "$T/$tag.png"
    echo "$((SECONDS - t0))" >"$T/$tag.s"
    echo "  $tag: $((SECONDS - t0)) s"
}
echo "512 px, one level"
run photo-512 512 200 --scales 1
run fast-512 512 200 --scales 1 --init "model:$MODEL"
echo "2 MP, coarse to fine"
run photo-2mp 1732 300
for it in 300 150 75; do run "fast-2mp-$it" 1732 "$it" --init "model:$MODEL"; done

"$PY" - "$T" "$MODEL" <<'PYEOF' | tee "$OUT/warm.md"
import json, os, sys
t, model = sys.argv[1], sys.argv[2]
def log(tag):
    return [json.loads(l) for l in open(f"{t}/{tag}.jsonl") if l.startswith("{")]
def secs(tag):
    return int(open(f"{t}/{tag}.s").read())
print(f"Warm start (`make bench-warm`), style {os.path.basename(model)}, on the CPU\n")
print("512 px, one level, L-BFGS: iterations to reach a loss (- = not within 200)\n")
print("| loss | from the photo | from the fast style |\n|---|---|---|")
runs = {k: [r for r in log(f"{k}-512") if "loss" in r] for k in ("photo", "fast")}
for target in (10, 5, 3, 2, 1.5, 1.3):
    cells = [next((str(r["iter"]) for r in runs[k] if r["loss"] <= target), "-") for k in ("photo", "fast")]
    print(f"| {target} | {cells[0]} | {cells[1]} |")
print(f"| start | {runs['photo'][0]['loss']:.3g} | {runs['fast'][0]['loss']:.3g} |")
print(f"| end (200) | {runs['photo'][-1]['loss']:.4g} | {runs['fast'][-1]['loss']:.4g} |")
print("\n2 MP (1732 x 1154), coarse to fine: the finest level's last loss\n")
print("| start | iterations (coarsest level) | final loss | content | style | seconds |\n|---|---|---|---|---|---|")
for tag, label, it in [("photo-2mp", "the photo", 300)] + [(f"fast-2mp-{n}", "the fast style", n) for n in (300, 150, 75)]:
    rs = [r for r in log(tag) if "loss" in r]
    last = rs[-1]
    print(f"| {label} | {it} | {last['loss']:.4g} | {last['content']:.3g} | {last['style']:.3g} | {secs(tag)} |")
PYEOF

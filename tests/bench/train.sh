#!/usr/bin/env bash
# make bench-train: one training step of a fast style at 256 px, batch 4,
# on 2 threads, the engine against PyTorch's same step (the network, the
# exact objective per crop through VGG, backward, Adam; float32), the
# median of a few steps each.  Writes build/bench/train.txt.
set -euo pipefail
BUILD=${1:-build}
PY=${2:-/usr/bin/python3}
. "$(dirname "$0")/common.sh"
STEPS=${NS_BENCH_STEPS:-5}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/photos"
for i in 0 1 2 3 4 5; do
    convert "$EX/rainier.jpg" -crop "$((700 + i * 100))x$((500 + i * 60))+$((i * 150))+$((i * 50))" +repage "$T/photos/p$i.jpg"
done
# the engine: its own per-step timing, the first step left out
"$BUILD/neural-style" train --weights "$W" --style "$EX/autumn-oak.jpg" --photos "$T/photos" --threads 2 \
    --size 256 --batch 4 --steps $((STEPS + 1)) --output "$T/m.safetensors" --quiet --log-steps "$T/steps.txt"
ours=$(tail -n "$STEPS" "$T/steps.txt" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
# PyTorch: the same step on 256 px crops of the same photos
convert "$EX/autumn-oak.jpg" -resize 256x256 "$T/paint.ppm"
for i in 0 1 2 3; do convert "$T/photos/p$i.jpg" -resize 256x256^ -gravity center -extent 256x256 "$T/c$i.ppm"; done
PYTHONPATH="$ROOT/tests" "$PY" "$ROOT/tests/fast_reference.py" start "$T/start.safetensors" 1
theirs=$(PYTHONPATH="$ROOT/tests" "$PY" - "$W" "$T" "$STEPS" <<'PYEOF'
import sys, time, torch
from fast_reference import TransformerNet, load_safetensors
from reference import Objective, Vgg, parse_layers, read_ppm
torch.set_num_threads(2)
w, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
vgg = Vgg(w, dtype=torch.float32)
style = torch.tensor(read_ppm(d + "/paint.ppm"), dtype=torch.float32)
crops = [torch.tensor(read_ppm(f"{d}/c{i}.ppm"), dtype=torch.float32) for i in range(4)]
net = TransformerNet()
net.load_state_dict(load_safetensors(d + "/start.safetensors"))
cl, sl = parse_layers("relu3_2", vgg), parse_layers("relu1_1,relu2_1,relu3_1", vgg)
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
times = []
for k in range(n + 1):
    t = time.perf_counter()
    opt.zero_grad()
    for x in crops:  # one crop at a time, as the engine: the same memory
        obj = Objective(vgg, x, style, cl, sl, 1.0, 100.0, 10.0)
        (obj.terms(net((255 * x).unsqueeze(0))[0] / 255)[0] / 4).backward()
    opt.step()
    times.append(time.perf_counter() - t)
times = sorted(times[1:])
print(f"{times[len(times) // 2]:.2f}")
PYEOF
)
{
    echo "one training step, 256 px, batch 4, 2 threads ($(date -u +%F), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
    echo "  engine   ${ours} s"
    echo "  PyTorch  ${theirs} s"
    awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "  ratio    %.2f\n", a / b}'
} | tee "$OUT/train.txt"

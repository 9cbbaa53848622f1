#!/usr/bin/env bash
# make bench-gpu: seconds per iteration and peak GPU memory of the CUDA
# backend at 512, 1024 and 2048 px for L-BFGS and Adam, float32, TF32 and
# bfloat16 storage (the floor then uses the TF32 rate, an upper bound), on
# a full-depth VGG-19 with random weights (content relu4_2, style reluB_1),
# beside the same objective in PyTorch on the same GPU and the floor that the
# FLOP count allows at the measured matrix-multiply rate.  Also the whole
# 500-iteration L-BFGS run at 512 px.  Writes build/bench/results-gpu.md.
#   NS_BENCH_SIZES="512 1024 2048"  NS_BENCH_ITERS=20  NS_BENCH_WHOLE=1 (the 500-iteration runs)
#   NS_BENCH_LIBRARY=build/libns-cuda-emu.so tries the script on the emulator
set -euo pipefail
BUILD=${1:-build}
PY=${2:-python3}
source "$(dirname "$0")/common.sh"
SIZES=${NS_BENCH_SIZES:-512 1024 2048}
ITERS=${NS_BENCH_ITERS:-20}
LIB=${NS_BENCH_LIBRARY:-$BUILD/libns-cuda.so}
if [ ! -f "$LIB" ]; then
    echo "make bench-gpu: $LIB was not built (needs nvcc and cuDNN; see the README)"
    exit 0
fi
export NS_CUDA_LIBRARY=$LIB
FULL="$OUT/vgg19-random.safetensors"
[ -f "$FULL" ] || "$BUILD/bench/bench" --write-random-vgg19 "$FULL"
if ! probe=$("$BUILD/bench/bench" --weights "$FULL" --size 64 --iterations 2 --device cuda 2>&1); then
    echo "make bench-gpu: skipped, no usable GPU: $probe"
    exit 0
fi
HAVE_TORCH=1
"$PY" -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null || HAVE_TORCH=0
CL=relu4_2
SL=relu1_1,relu2_1,relu3_1,relu4_1,relu5_1
rate() { [ $HAVE_TORCH -eq 1 ] && "$PY" "$ROOT/tests/reference.py" matmul "$@" || echo '{}'; }
tflops() { echo "$1" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("%.1f" % r["tflops"] if r else "n/a")'; }
R32=$(rate)
R19=$(rate --tf32)
GPU=$(echo "$probe" | sed 's/.*"backend":"\([^"]*\)".*/\1/')
{
    echo "$GPU; full-depth VGG-19 (random weights), content $CL, style $SL."
    echo "Median seconds per iteration over $ITERS; GPU memory: the engine's peak allocation plus its cuDNN workspace,"
    echo "PyTorch's torch.cuda.max_memory_allocated. Floor: FLOPs per iteration / measured 8192^3 matrix-multiply rate"
    echo "($(tflops "$R32") TFLOP/s float32, $(tflops "$R19") TFLOP/s TF32)."
    echo
    echo "| optimiser | precision | size | engine s/iter | PyTorch s/iter | PyTorch / engine | floor s/iter | engine GPU MB | PyTorch GPU MB |"
    echo "|---|---|---|---|---|---|---|---|---|"
} >"$OUT/results-gpu.md"

run_case() { # optimizer precision size
    local opt=$1 prec=$2 n=$3 e t="{}" tf=""
    # PyTorch's side of bf16 is its TF32 mode: it has no bfloat16-storage L-BFGS
    [ "$prec" != fp32 ] && tf=--tf32
    e=$("$BUILD/bench/bench" --weights "$FULL" --device cuda --precision "$prec" --optimizer "$opt" --size "$n" \
        --iterations "$ITERS" --content-layers $CL --style-layers $SL)
    if [ $HAVE_TORCH -eq 1 ]; then
        t=$("$PY" "$ROOT/tests/reference.py" time --device cuda $tf --optimizer "$opt" --size "$n" \
            --iterations "$ITERS" --content-layers $CL --style-layers $SL --style-weight 100) || t="{}"
    fi
    "$PY" - "$opt" "$prec" "$n" "$e" "$t" "$([ "$prec" = fp32 ] && echo "$R32" || echo "$R19")" <<'EOF' | tee -a "$OUT/results-gpu.md"
import json, sys
opt, prec, n = sys.argv[1:4]
e, t, r = (json.loads(a) for a in sys.argv[4:7])
tm = "%.4f" % t["median"] if t else "n/a"
ratio = "%.2f" % (t["median"] / e["median"]) if t else "n/a"
floor = "%.4f" % (e["flops_per_iter"] / (r["tflops"] * 1e12)) if r else "n/a"
tp = "%.0f" % t["peak_gpu_mb"] if t else "n/a"
print("| %s | %s | %s px | %.4f | %s | %s | %s | %.0f | %s |" % (opt, prec, n, e["median"], tm, ratio, floor,
                                                               e["peak_device_mb"], tp))
EOF
}

for n in $SIZES; do
    for opt in lbfgs adam; do
        for prec in fp32 tf32 bf16; do
            run_case $opt $prec "$n"
        done
    done
done
# the issue's yardstick: a whole 500-iteration L-BFGS run at 512 px
[ "${NS_BENCH_WHOLE:-1}" = 1 ] && for prec in fp32 tf32 bf16; do
    e=$("$BUILD/bench/bench" --weights "$FULL" --device cuda --precision $prec --size 512 --iterations 500 \
        --content-layers $CL --style-layers $SL)
    echo "$e" | "$PY" -c 'import json,sys; e=json.load(sys.stdin); print("500 L-BFGS iterations at 512 px, %s: %.2f s for the iterations, %.2f s for the whole ns_run (model upload and algorithm search included)" % (sys.argv[1], e["total"], e["run"]))' $prec |
        tee -a "$OUT/results-gpu.md"
done

#!/usr/bin/env bash
# Runs the CUDA tests and the GPU benchmark from an unpacked gpu-bundle (see
# make_bundle.sh) and copies the logs and tables to OUTDIR.
#   bash /tmp/nsg/tests/gpu/on_device.sh OUTDIR [python3]
set -uo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
OUTDIR=${1:-/tmp/nsg-out}
PY=${2:-python3}
mkdir -p "$OUTDIR"
cd "$HERE"
# cuDNN 9 and cuBLAS 13: the system's, else a Python venv's nvidia-* wheels
dirs=$HERE/lib
sites=$("$PY" -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null)
for name in libcudnn.so.9 libcublas.so.13 libcublasLt.so.13; do
    # shellcheck disable=SC2086 # sites is a list
    hit=$( (ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n {print $NF; exit}'
            find /usr/local/cuda*/lib64 /usr/lib/x86_64-linux-gnu $sites -name "$name" 2>/dev/null) | head -1)
    [ -n "$hit" ] && dirs="$dirs:$(dirname "$hit")"
done
export LD_LIBRARY_PATH=$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export NS_CUDA_LIBRARY=$HERE/build/libns-cuda.so NS_TEST_VERBOSE=1
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$OUTDIR/gpu.txt"
W=$(ls weights/*.safetensors 2>/dev/null | head -1)
build/tests/test_cuda $W 2>&1 | tee "$OUTDIR/test_cuda.log"
echo "test_cuda exit: ${PIPESTATUS[0]}" | tee -a "$OUTDIR/test_cuda.log"
bash tests/bench/run_gpu.sh build "$PY" 2>&1 | tee "$OUTDIR/bench_gpu.log"
cp build/bench/results-gpu.md "$OUTDIR/" 2>/dev/null
exit 0

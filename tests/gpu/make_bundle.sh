#!/usr/bin/env bash
# Packs what the GPU tests and benchmark need into build/gpu-bundle.tar.xz, so
# that they run on a GPU machine that has an NVIDIA driver, cuDNN 9 and cuBLAS
# 13 (system-wide or in a Python venv's nvidia-* wheels) but none of this
# project's build dependencies: the binaries built here, the non-system
# shared libraries they load (OpenBLAS, json-glib, babl, GLib...), the test
# weights when ../shared has them, and the scripts.  Then, there:
#   tar -xJf build/gpu-bundle.tar.xz -C /tmp && bash /tmp/nsg/tests/gpu/on_device.sh OUTDIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
cd "$ROOT"
make --no-print-directory all "$BUILD/tests/test_cuda" "$BUILD/bench/bench" BUILD="$BUILD" >/dev/null
[ -f "$BUILD/libns-cuda.so" ] || { echo "make_bundle: $BUILD/libns-cuda.so was not built (nvcc and cuDNN needed)"; exit 1; }
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
D=$STAGE/nsg
mkdir -p "$D/build/tests" "$D/build/bench" "$D/lib" "$D/weights" "$D/tests/bench" "$D/tests/gpu"
cp "$BUILD/tests/test_cuda" "$D/build/tests/"
cp "$BUILD/bench/bench" "$D/build/bench/"
cp "$BUILD/libns-cuda.so" "$D/build/"
strip "$D/build/tests/test_cuda" "$D/build/bench/bench"
cp tests/reference.py "$D/tests/"
cp tests/bench/run_gpu.sh tests/bench/common.sh "$D/tests/bench/"
cp tests/gpu/on_device.sh "$D/tests/gpu/"
W=../shared/weights/vgg19-conv1_1-conv3_4.safetensors
[ -f "$W" ] && cp "$W" "$D/weights/"
# every library the binaries load except the C runtime, which the machine has
for f in "$D/build/tests/test_cuda" "$D/build/bench/bench"; do
    ldd "$f" | awk '/=> \//{print $3}'
done | sort -u | grep -Ev '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$D/lib/"; done
tar -cJf "$BUILD/gpu-bundle.tar.xz" -C "$STAGE" nsg
echo "wrote $BUILD/gpu-bundle.tar.xz ($(du -h "$BUILD/gpu-bundle.tar.xz" | cut -f1))"

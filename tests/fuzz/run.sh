#!/usr/bin/env bash
# make test-fuzz: the weights loader (fuzz_weights), the Keras .h5
# importer (fuzz_keras), the command line's image decoders (fuzz_images) and
# the fast styles' model loader and ONNX importer (fuzz_styles) under
# libFuzzer (ASan + UBSan), SECONDS in all (60 by default, CI's share: a
# quarter each), from corpora that the runs keep in BUILD/fuzz/corpus,
# corpus-keras, corpus-images and corpus-styles.  A crash, a leak, undefined behaviour, a
# refusal without a one-line sentence (naming the file, for images) or (for
# the importer) an HDF5 handle left open fails, and leaves the input in
# BUILD/fuzz.
#   usage: run.sh BUILD SECONDS
set -uo pipefail
BUILD=$1 SECONDS_TO_RUN=${2:-60}
F=$BUILD/fuzz
targets=()
for t in fuzz_weights fuzz_keras fuzz_images fuzz_styles; do
    if [ -x "$F/$t" ]; then
        targets+=("$t")
    else
        echo "SKIP $t: clang with libFuzzer (make test-deps installs it) or a library it needs is missing"
    fi
done
[ ${#targets[@]} -eq 0 ] && exit 0
mkdir -p "$F/corpus" "$F/corpus-keras" "$F/corpus-images" "$F/corpus-styles"
"$F/write_seeds" "$F/corpus" "$F/corpus-keras" || exit 1
# image seeds: a small photo in every format the command line writes
if [ -z "$(ls -A "$F/corpus-images")" ]; then
    S=$(mktemp -d)
    "${PYTHON:-/usr/bin/python3}" "$(dirname "$0")/../make_fixtures.py" "$S" >/dev/null &&
        for ext in png tif exr webp ppm jpg; do
            "$BUILD/neural-style" --quiet --weights "$S/small.safetensors" --style "$S/style.png" \
                --content "$S/rgb8.png" --size 16 --iterations 0 --output "$F/corpus-images/seed.$ext"
        done
    command -v convert >/dev/null && convert "$S/rgb8.png" -resize 16x16 "$F/corpus-images/seed.gif"
    rm -rf "$S"
fi
# style seeds: torch.onnx exports' graphs and a cut-down model file (PyTorch
# and onnx from make test-deps; without them the fuzzer starts from nothing)
if [ -z "$(ls -A "$F/corpus-styles")" ]; then
    "${PYTHON:-/usr/bin/python3}" "$(dirname "$0")/../fast_reference.py" seeds "$F/corpus-styles" >/dev/null 2>&1 ||
        echo "fuzz_styles: no seeds (PyTorch or python3-onnx missing); starting from an empty corpus"
fi
share=$(( SECONDS_TO_RUN / ${#targets[@]} ))
[ "$share" -lt 1 ] && share=1
failed=0
for t in "${targets[@]}"; do
    case $t in
    fuzz_weights) what="the weights loader" corpus=corpus max_len=16384 ;;
    fuzz_keras) what="the Keras importer" corpus=corpus-keras max_len=512 ;;
    fuzz_images) what="the image decoders" corpus=corpus-images max_len=4096 ;;
    fuzz_styles) what="the style model loader and ONNX importer" corpus=corpus-styles max_len=262144 ;;
    esac
    # a recipe that builds 18 datasets of VGG's largest kernel takes seconds
    (cd "$F" && "./$t" -max_total_time="$share" -max_len=$max_len -rss_limit_mb=2048 -timeout=60 \
        -print_final_stats=1 -artifact_prefix="$t-" $corpus >"$t.log" 2>&1)
    rc=$?
    runs=$(awk '/stat::number_of_executed_units/ {print $NF}' "$F/$t.log")
    if [ $rc -ne 0 ]; then
        tail -40 "$F/$t.log"
        echo "fuzzing $what: FAILED after ${runs:-?} inputs (the input is in $F, $t-*)"
        failed=1
        continue
    fi
    echo "fuzzing $what: ${runs:-?} inputs in ${share} s, $(ls "$F/$corpus" | wc -l) in the corpus, no finding"
done
exit $failed

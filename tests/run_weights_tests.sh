#!/usr/bin/env bash
# The weights tool on crafted files (always; the .h5 ones where h5py is),
# then tests with the real pretrained weights in ../shared/weights (skipped
# with a message where that folder is absent): the loader reads them as
# published, and the d2l examples restyle at a small size with the loss
# going down and the colours moving toward the painting's.
set -euo pipefail
BUILD=${1:-build}
PY=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
W=${NS_TEST_WEIGHTS:-$ROOT/../shared/weights/vgg19-conv1_1-conv3_4.safetensors}
EX=${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}
NSW=$BUILD/ns-weights
T=$(mktemp -d)
MNT=$T/mnt
trap 'mountpoint -q "$MNT" && umount "$MNT"; rm -rf "$T"' EXIT
fails=0

# refuse WHAT NEEDLE FILE CMD...: CMD exits 1 (no signal) with one line on
# stderr that names FILE and says NEEDLE, and leaves no $T/out*
refuse() {
    local what=$1 needle=$2 file=$3 rc=0
    shift 3
    "$@" >/dev/null 2>"$T/err" || rc=$?
    if [ $rc -ne 1 ] || [ "$(wc -l <"$T/err")" -ne 1 ] || ! grep -qF -- "'$file'" "$T/err" ||
        ! grep -qF -- "$needle" "$T/err" || compgen -G "$T/out*" >/dev/null; then
        echo "FAIL $what: exit $rc, want 1 and one line naming '$file' that says '$needle'; got:"
        sed 's/^/    /' "$T/err"
        ls "$T" | grep '^out' | sed 's/^/    left: /' || true
        fails=$((fails + 1))
    else
        echo "ok   $what: $(cat "$T/err")"
    fi
}

"$PY" "$HERE/crafted_weights.py" "$T"
echo "== crafted safetensors headers"
refuse "arrays 100000 deep" "more than 64 levels deep" "$T/deep.safetensors" \
    "$NSW" info "$T/deep.safetensors"
refuse "objects 100000 deep" "more than 64 levels deep" "$T/deep-objects.safetensors" \
    "$NSW" info "$T/deep-objects.safetensors"
refuse "depth behind a single quote" "not valid JSON" "$T/hidden.safetensors" \
    "$NSW" info "$T/hidden.safetensors"
refuse "a newline in a tensor name" "header entry 'conv1_1.weight?rm -rf /' is not an object" \
    "$T/newline.safetensors" "$NSW" info "$T/newline.safetensors"
# the manifest install.sh reads: the project's own, and crafted ones
head -c 100000 /dev/zero | tr '\0' '[' >"$T/deep.json"
refuse "a manifest 100000 deep" "is not a weights manifest" "$T/deep.json" "$NSW" manifest "$T/deep.json"
echo '{"files": [{"file": "x.h5", "md5": 5, "urls": ["u"]}]}' >"$T/md5.json"
refuse "a manifest with a number for a string" "is not a weights manifest" "$T/md5.json" \
    "$NSW" manifest "$T/md5.json"
if "$NSW" manifest "$ROOT/weights/manifest.json" | grep -q '^vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 '; then
    echo "ok   the project's manifest is read"
else
    echo "FAIL the project's manifest is not read"
    fails=$((fails + 1))
fi
# the same through the command line, by --weights and by NS_WEIGHTS
{ printf 'P6\n8 8\n255\n'; head -c 192 /dev/zero; } >"$T/photo.ppm"
refuse "neural-style --weights, arrays 100000 deep" "more than 64 levels deep" "$T/deep.safetensors" \
    "$BUILD/neural-style" --weights "$T/deep.safetensors" --content "$T/photo.ppm" --style "$T/photo.ppm" \
    --output "$T/out.png"
refuse "NS_WEIGHTS, arrays 100000 deep" "more than 64 levels deep" "$T/deep.safetensors" \
    env NS_WEIGHTS="$T/deep.safetensors" "$BUILD/neural-style" --content "$T/photo.ppm" --style "$T/photo.ppm" \
    --output "$T/out.png"

if [ -f "$T/huge.h5" ]; then
    echo "== crafted Keras .h5 files"
    while IFS='|' read -r name needle what; do
        refuse "$what" "$needle" "$T/$name" "$NSW" import-keras "$T/$name" "$T/out.safetensors"
    done <<'EOF'
huge.h5|is [2147483648,2147483648,1,1], VGG's conv1_1 kernel (HWIO) is [3,3,3,64]|a 2^31 x 2^31 x 1 x 1 kernel
huge-bias.h5|is [4611686018427387904], VGG's conv1_1 bias is [64]|a bias of 2^62
channels.h5|is [3,3,3,63]|63 output channels
bias-length.h5|is [63], VGG's conv1_1 bias is [64]|a bias of 63
rank.h5|lacks a kernel of rank 4|a kernel of rank 2
ints.h5|does not hold 32- or 64-bit IEEE floats|an integer kernel
nan.h5|NaN or infinite|a NaN in the kernel
no-names.h5|has no weight_names attribute|no weight_names
many-names.h5|not a list of at most 8 names|nine weight_names
newline.h5|'block1_conv1/block1_conv1/kernel?rm -rf /', named in weight_names, is not a dataset|a newline in a name
group-is-dataset.h5|'block1_conv1' is not a group|a layer that is a dataset
external-link.h5|is a link to another file: refused|a link to another file
external-data.h5|is stored outside the file|data kept in another file
heap.h5|libhdf5 failed on it|a file that crashes libhdf5
EOF
    if "$NSW" import-keras "$T/one.h5" "$T/one.safetensors" >/dev/null &&
        "$NSW" info "$T/one.safetensors" | grep -q "1 conv layers"; then
        echo "ok   a good file is imported"
    else
        echo "FAIL a good file is not imported"
        fails=$((fails + 1))
    fi

    echo "== ns-weights import-keras onto a full disk"
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP full disk: mounting a tmpfs needs root"
    elif ! mkdir "$MNT" || ! mount -t tmpfs -o size=256k tmpfs "$MNT" 2>"$T/err"; then
        echo "SKIP full disk: cannot mount a tmpfs ($(cat "$T/err"))"
    else
        # a previous output (8 KB) outlives an import of 1 MB that does not fit
        cp "$T/one.safetensors" "$MNT/out.safetensors"
        refuse "a previous output there" "no space left on the device; the file there is unchanged" \
            "$MNT/out.safetensors" "$NSW" import-keras "$T/four.h5" "$MNT/out.safetensors"
        refuse "no previous output" "no space left on the device" \
            "$MNT/new.safetensors" "$NSW" import-keras "$T/four.h5" "$MNT/new.safetensors"
        if cmp -s "$T/one.safetensors" "$MNT/out.safetensors" && [ "$(ls -A "$MNT")" = out.safetensors ]; then
            echo "ok   the previous output is byte-identical, nothing beside it"
        else
            echo "FAIL the previous output changed, or something is left beside it: $(ls -A "$MNT" | tr '\n' ' ')"
            fails=$((fails + 1))
        fi
        umount "$MNT"
    fi
else
    echo "SKIP crafted Keras files and the full disk: python3-h5py is missing"
fi
if [ $fails -ne 0 ]; then
    echo "crafted weights files: $fails FAILED"
    exit 1
fi
echo "crafted weights files: passed"

if [ ! -f "$W" ] || [ ! -f "$EX/rainier.jpg" ]; then
    echo "SKIP real-weight tests: $W or $EX not found (data that lives beside the checkout, never committed)"
    exit 0
fi

echo "== loader on the real weights"
"$BUILD/ns-weights" info "$W" | tee "$T/info"
grep -q "VGG-19, 8 conv layers (conv1_1 .. conv3_4), input BGR 0..255" "$T/info"
# the published conv1_1 bias, read by an independent reader of the file
"$PY" - "$W" <<'EOF'
import json, struct, sys
import numpy as np
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    h = json.loads(f.read(n))
    data = f.read()
lo, hi = h["conv1_1.bias"]["data_offsets"]
b = np.frombuffer(data[lo:hi], "<f4")
want = [0.7301776, 0.0649363, 0.0342885, 0.8260386]
assert np.allclose(b[:4], want, atol=1e-6), b[:4]
print("conv1_1 bias begins", ", ".join("%.7f" % v for v in b[:4]), "as published")
EOF

echo "== restyle the d2l examples at 128 px"
"$BUILD/neural-style" --quiet --weights "$W" --content "$EX/rainier.jpg" --style "$EX/autumn-oak.jpg" \
    --output "$T/out.ppm" --size 128 --iterations 40 --log-json "$T/log.jsonl"
"$BUILD/neural-style" --quiet --weights "$W" --content "$EX/rainier.jpg" --style "$EX/rainier.jpg" \
    --output "$T/content.ppm" --size 128 --iterations 0
"$BUILD/neural-style" --quiet --weights "$W" --content "$EX/autumn-oak.jpg" --style "$EX/autumn-oak.jpg" \
    --output "$T/style.ppm" --size 128 --iterations 0
"$PY" - "$T" "$HERE" <<'EOF'
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from reference import read_ppm
t = sys.argv[1]
out, content, style = (read_ppm(t + "/%s.ppm" % n) for n in ("out", "content", "style"))
log = [json.loads(l) for l in open(t + "/log.jsonl")]
assert out.shape == content.shape, (out.shape, content.shape)
diff = np.abs(out - content).mean()
mean = lambda a: a.reshape(3, -1).mean(1)
d_content = np.linalg.norm(mean(content) - mean(style))
d_out = np.linalg.norm(mean(out) - mean(style))
print("loss %.4g -> %.4g; mean |out - content| %.3f; distance of mean colour to the painting's %.3f -> %.3f"
      % (log[0]["loss"], log[-1]["loss"], diff, d_content, d_out))
assert log[-1]["loss"] < 0.25 * log[0]["loss"], "the loss did not fall enough"
assert diff > 0.03, "the result is too close to the photo"
assert d_out < 0.7 * d_content, "the colours did not move toward the painting's"
EOF
echo "real-weight tests passed"

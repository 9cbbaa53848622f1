#!/usr/bin/env bash
# Tests with the real pretrained weights in ../shared/weights (skipped with a
# message where that folder is absent): the loader reads them as published,
# and the d2l examples restyle at a small size with the loss going down and
# the colours moving toward the painting's.
set -euo pipefail
BUILD=${1:-build}
PY=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
W=${NS_TEST_WEIGHTS:-$ROOT/../shared/weights/vgg19-conv1_1-conv3_4.safetensors}
EX=${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}

if [ ! -f "$W" ] || [ ! -f "$EX/rainier.jpg" ]; then
    echo "SKIP real-weight tests: $W or $EX not found (data that lives beside the checkout, never committed)"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

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

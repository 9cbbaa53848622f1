# Sourced by the bench scripts after BUILD is set: the project's root, the
# examples and the test weights (../shared beside the project, or
# NS_TEST_EXAMPLES / NS_TEST_WEIGHTS), and OUT, build/bench, made.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EX=${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}
W=${NS_TEST_WEIGHTS:-$ROOT/../shared/weights/vgg19-conv1_1-conv3_4.safetensors}
OUT=$BUILD/bench
mkdir -p "$OUT"

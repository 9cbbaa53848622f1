#!/usr/bin/env bash
# What only the tests need, installed by `make test` itself (./install.sh
# installs what the plug-in and the command line need):
#   PyTorch and NumPy for the independent reference, onnx for its opset 8
#   and crafted ONNX files, h5py for the Keras
#   importer's test file, debootstrap for the GIMP 3.0 chroot, Xvfb, a window
#   manager, xdotool and ImageMagick's import for the GUI tests, a Japanese
#   font for their screenshots.
# Without root or sudo it says what is missing, and the tests that need it
# say SKIP.
set -euo pipefail
PACKAGES=(python3-torch python3-numpy python3-h5py python3-onnx debootstrap xvfb xauth xdotool openbox imagemagick procps shared-mime-info
          fonts-ipafont-gothic bc)
# libFuzzer for make test-fuzz: Debian 12's clang is 14, its fuzzer in libclang-rt
if apt-cache show libclang-rt-14-dev >/dev/null 2>&1; then PACKAGES+=(clang libclang-rt-14-dev); fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
        echo "test-deps: not installed (needs root): ${missing[*]}; the tests that need them will SKIP"
        exit 0
    fi
    SUDO=sudo
fi
if ! command -v apt-get >/dev/null; then
    echo "test-deps: no apt-get; install the equivalents of: ${missing[*]}"
    exit 0
fi
echo "==> installing what the tests need: ${missing[*]}"
$SUDO apt-get update -q >/dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null

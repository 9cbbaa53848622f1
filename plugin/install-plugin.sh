#!/usr/bin/env bash
# Installs the built plug-in(s) into the user's GIMP plug-in folders:
#   ~/.config/GIMP/2.10/plug-ins/neural-style/   (GIMP 2.10)
#   ~/.config/GIMP/3.0/plug-ins/neural-style/    (GIMP 3.0: one folder per plug-in)
# each with its translations (locale/), its help pages (help/), the command
# line (bin/neural-style, for training) and, when built, the CUDA backend.
# Usage: plugin/install-plugin.sh [BUILD_DIR] [CONFIG_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
CONFIG=${2:-${XDG_CONFIG_HOME:-$HOME/.config}}
installed=0
for v in 2.10:gimp2 3.0:gimp3; do
    ver=${v%%:*}
    bin="$BUILD/plugin/${v##*:}/neural-style"
    [ -x "$bin" ] || continue
    dest="$CONFIG/GIMP/$ver/plug-ins/neural-style"
    mkdir -p "$dest"
    install -m 755 "$bin" "$dest/neural-style.new" && mv "$dest/neural-style.new" "$dest/neural-style"
    if [ -d "$BUILD/locale" ]; then
        rm -rf "$dest/locale"
        cp -r "$BUILD/locale" "$dest/locale"
    fi
    # the help the dialog's Help button opens: pages per language, pictures shared
    rm -rf "$dest/help"
    cp -r "$ROOT/plugin/help" "$dest/help"
    mkdir -p "$dest/help/images"
    cp "$ROOT"/docs/images/before-after.jpg "$ROOT"/docs/images/dialog.jpg "$dest/help/images/" 2>/dev/null || true
    # the command line, which Train Neural Style... runs (in bin/: GIMP runs
    # only the folder's own neural-style as a plug-in)
    if [ -x "$BUILD/neural-style" ]; then
        mkdir -p "$dest/bin"
        install -m 755 "$BUILD/neural-style" "$dest/bin/neural-style.new" && mv "$dest/bin/neural-style.new" "$dest/bin/neural-style"
    fi
    # the CUDA backend when built; never a stale one from an earlier build
    if [ -f "$BUILD/libns-cuda.so" ]; then
        install -m 644 "$BUILD/libns-cuda.so" "$dest/libns-cuda.so.new" && mv "$dest/libns-cuda.so.new" "$dest/libns-cuda.so"
    else
        rm -f "$dest/libns-cuda.so"
    fi
    echo "==> GIMP $ver plug-in installed: $dest (Filters > Artistic > Neural Style...)"
    installed=1
done
if [ $installed -eq 0 ]; then
    echo "==> no GIMP plug-in built: install GIMP and its development files (libgimp2.0-dev or libgimp-3.0-dev), then run ./install.sh again"
fi

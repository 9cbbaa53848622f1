#!/usr/bin/env bash
# Neural Style for GIMP - one-command set-up on Debian/Ubuntu.
#
#   ./install.sh                      packages, build, VGG-19 weights (downloaded
#                                     and checked), GIMP plug-in(s)
#   ./install.sh --weights FILE       use a local weights file instead of downloading
#                                     (.safetensors, or the Keras .h5 which is converted)
#   ./install.sh --no-deps            do not touch system packages
#   ./install.sh --no-plugin          do not install the GIMP plug-in
#
# Safe to run again: it skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

WEIGHTS_FILE=""
DEPS=1
PLUGIN=1
while [ $# -gt 0 ]; do
    case "$1" in
        --weights) WEIGHTS_FILE=${2:?--weights needs a file}; shift 2 ;;
        --weights=*) WEIGHTS_FILE=${1#--weights=}; shift ;;
        --no-deps) DEPS=0; shift ;;
        --no-plugin) PLUGIN=0; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option '$1' (see ./install.sh --help)" >&2; exit 2 ;;
    esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# ---- 1. packages ----
# What the plug-in and the command line need; `make test` installs what only
# the tests need (tests/install-deps.sh).
PACKAGES=(
    build-essential pkg-config gettext curl ca-certificates
    libopenblas-dev libjson-glib-dev libgegl-dev libbabl-dev libhdf5-dev libjpeg-dev
    libpng-dev libtiff-dev libwebp-dev libgif-dev libopenexr-dev libgexiv2-dev
    protobuf-c-compiler libprotobuf-c-dev libonnx-dev
    gimp GIMP_DEV
)
# GIMP 3.0's development files where the distribution has them (Debian 13,
# Ubuntu 25.04+), else GIMP 2.10's (Debian 12, Ubuntu 24.04)
gimp_dev() {
    if apt-cache show libgimp-3.0-dev >/dev/null 2>&1; then echo libgimp-3.0-dev; else echo libgimp2.0-dev; fi
}
# GIMP 2.10's themes draw with GTK 2's pixmap engine (the plug-in's dialog too)
[ "$(gimp_dev)" = libgimp2.0-dev ] && PACKAGES+=(gtk2-engines-pixbuf)
missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        [ "$p" = GIMP_DEV ] && p=$(gimp_dev)
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}
if [ $DEPS -eq 1 ]; then
    missing=($(missing_packages))
    if [ ${#missing[@]} -gt 0 ]; then
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null || die "run as root or install sudo; missing packages: ${missing[*]}"
            SUDO=sudo
        fi
        command -v apt-get >/dev/null || die "no apt-get: install the equivalents of: ${missing[*]}"
        $SUDO apt-get update -q
        missing=($(missing_packages))
        say "installing packages: ${missing[*]}"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        say "packages already installed"
    fi
fi

# ---- 2. build ----
say "building"
make -j"$(nproc)" all
if [ $PLUGIN -eq 1 ] && grep -q '^plugins:' Makefile; then make -j"$(nproc)" plugins; fi

# ---- 3. weights ----
DATA_DIR=${XDG_DATA_HOME:-$HOME/.local/share}/neural-style
DEST="$DATA_DIR/vgg19.safetensors"
mkdir -p "$DATA_DIR"
install_safetensors() {  # $1 = a .safetensors file the engine accepts
    "$ROOT/build/ns-weights" info "$1" >/dev/null || die "'$1' is not usable weights (see the message above)"
    if [ -f "$DEST" ] && cmp -s "$1" "$DEST"; then
        say "weights already installed: $DEST"
    else
        cp "$1" "$DEST.partial" && mv "$DEST.partial" "$DEST"
        say "weights installed: $DEST"
    fi
    "$ROOT/build/ns-weights" info "$DEST"
}
import_h5() {  # $1 = Keras .h5
    "$ROOT/build/ns-weights" import-keras "$1" "$DEST.partial.safetensors" || die "cannot convert '$1'"
    mv "$DEST.partial.safetensors" "$DEST"
    say "weights installed: $DEST"
    "$ROOT/build/ns-weights" info "$DEST"
}
weights_help() {
    cat >&2 <<EOF

install.sh: the VGG-19 weights could not be downloaded (this machine cannot reach the sources below).
Everything else is installed. To finish, on any machine with internet download one of:
$(./build/ns-weights manifest weights/manifest.json | awk '{print "    " $3}')
(file $(./build/ns-weights manifest weights/manifest.json | awk 'NR==1{print $1 ", md5 " $2}'), about 80 MB), copy it here and run:
    ./install.sh --weights /path/to/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
A VGG .safetensors file works too: ./install.sh --weights FILE.safetensors
EOF
    exit 1
}
if [ -n "$WEIGHTS_FILE" ]; then
    [ -f "$WEIGHTS_FILE" ] || die "--weights: '$WEIGHTS_FILE' does not exist"
    case "$WEIGHTS_FILE" in
        *.h5|*.hdf5) say "converting $WEIGHTS_FILE"; import_h5 "$WEIGHTS_FILE" ;;
        *) install_safetensors "$WEIGHTS_FILE" ;;
    esac
elif [ -f "$DEST" ] && "$ROOT/build/ns-weights" info "$DEST" >/dev/null 2>&1; then
    say "weights already installed: $DEST"
else
    CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/neural-style
    mkdir -p "$CACHE"
    got=""
    while read -r file md5 url; do
        [ -n "$got" ] && break
        if [ -f "$CACHE/$file" ] && [ "$(md5sum "$CACHE/$file" | cut -d' ' -f1)" = "$md5" ]; then got="$CACHE/$file"; break; fi
        say "downloading $url"
        if curl -fL -sS --retry 1 --connect-timeout 15 -o "$CACHE/$file.partial" "$url"; then
            if [ "$(md5sum "$CACHE/$file.partial" | cut -d' ' -f1)" = "$md5" ]; then
                mv "$CACHE/$file.partial" "$CACHE/$file"
                got="$CACHE/$file"
            else
                echo "install.sh: $url: checksum mismatch, trying the next source" >&2
                rm -f "$CACHE/$file.partial"
            fi
        else
            rm -f "$CACHE/$file.partial"
        fi
    done < <(./build/ns-weights manifest weights/manifest.json)
    [ -n "$got" ] || weights_help
    import_h5 "$got"
fi

# ---- 4. GIMP plug-in ----
if [ $PLUGIN -eq 1 ] && [ -x "$ROOT/plugin/install-plugin.sh" ]; then
    "$ROOT/plugin/install-plugin.sh"
fi

say "done. Test with: make test"

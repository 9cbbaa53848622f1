#!/usr/bin/env bash
# Neural Style for GIMP - one-command set-up on Debian/Ubuntu.
#
#   ./install.sh                      packages, build, VGG-19 weights (downloaded
#                                     and checked), GIMP plug-in(s)
#   ./install.sh --weights FILE       use a local weights file instead of downloading
#                                     (.safetensors, or the Keras .h5 which is converted)
#   ./install.sh --styles             also the five public fast styles (the ONNX
#                                     model zoo's, BSD-3), downloaded, checked
#                                     and converted
#   ./install.sh --styles DIR         the same from NAME-9.onnx files in DIR
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
STYLES=0
STYLES_DIR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --styles) STYLES=1; shift
                  if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then STYLES_DIR=$1; shift; fi ;;
        --styles=*) STYLES=1; STYLES_DIR=${1#--styles=}; shift ;;
        --weights) WEIGHTS_FILE=${2:?--weights needs a file}; shift 2 ;;
        --weights=*) WEIGHTS_FILE=${1#--weights=}; shift ;;
        --no-deps) DEPS=0; shift ;;
        --no-plugin) PLUGIN=0; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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
MISSING=""
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
    MISSING="$MISSING weights"
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
    if [ -n "$got" ]; then import_h5 "$got"; else weights_help; fi
fi

# ---- 4. GIMP plug-in ----
if [ $PLUGIN -eq 1 ] && [ -x "$ROOT/plugin/install-plugin.sh" ]; then
    "$ROOT/plugin/install-plugin.sh"
fi

# ---- 5. fast styles (--styles) ----
STYLE_DIR="$DATA_DIR/styles"
ZOO=https://github.com/onnx/models/raw/main/validated/vision/style_transfer/fast_neural_style/model
ZOO_LFS=https://media.githubusercontent.com/media/onnx/models/main/validated/vision/style_transfer/fast_neural_style/model
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }
install_style() {  # NAME FILE.onnx: converted with its attribution, written whole
    "$ROOT/build/ns-weights" import "$2" "$STYLE_DIR/$1.partial.safetensors" --name "$1" --license "BSD-3-Clause" \
        --source "ONNX model zoo (github.com/onnx/models), fast_neural_style/$(basename "$2"), trained with pytorch/examples' fast_neural_style" \
        >/dev/null || return 1
    mv "$STYLE_DIR/$1.partial.safetensors" "$STYLE_DIR/$1.safetensors"
    say "style installed: $1 ($STYLE_DIR/$1.safetensors)"
}
if [ $STYLES -eq 1 ]; then
    mkdir -p "$STYLE_DIR"
    CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/neural-style
    mkdir -p "$CACHE"
    unreachable=()
    while read -r name sha bytes file; do
        case "$name" in ''|'#'*) continue ;; esac
        if "$ROOT/build/ns-weights" info "$STYLE_DIR/$name.safetensors" >/dev/null 2>&1; then
            say "style already installed: $name"; continue
        fi
        src=""
        if [ -n "$STYLES_DIR" ]; then
            if sha_ok "$STYLES_DIR/$file" "$sha"; then src="$STYLES_DIR/$file"
            else echo "install.sh: $STYLES_DIR/$file: missing, or not the zoo's file (its sha256 differs)" >&2; fi
        elif sha_ok "$CACHE/$file" "$sha"; then
            src="$CACHE/$file"
        elif [ ${#unreachable[@]} -eq 0 ]; then  # after one style failed to come, the rest are only listed
            for url in "$ZOO/$file" "$ZOO_LFS/$file"; do
                say "downloading $url"
                if curl -fL -sS --retry 1 --connect-timeout 15 -o "$CACHE/$file.partial" "$url" &&
                    [ "$(stat -c %s "$CACHE/$file.partial")" = "$bytes" ] && sha_ok "$CACHE/$file.partial" "$sha"; then
                    mv "$CACHE/$file.partial" "$CACHE/$file"; src="$CACHE/$file"; break
                fi
                rm -f "$CACHE/$file.partial"
            done
        fi
        if [ -z "$src" ] || ! install_style "$name" "$src"; then unreachable+=("$file"); fi
    done <"${NS_STYLES_LIST:-$ROOT/weights/styles.txt}"  # the tests give their own list
    if [ ${#unreachable[@]} -gt 0 ]; then
        cat >&2 <<EOF

install.sh: ${#unreachable[@]} of the $(grep -cv '^#' "${NS_STYLES_LIST:-$ROOT/weights/styles.txt}") fast styles could not be installed (this machine cannot reach github.com, or the files given were not the zoo's).
Everything else is installed. To finish, on any machine with internet download
$(for f in "${unreachable[@]}"; do echo "    $ZOO/$f"; done)
(6728029 bytes each; they are git LFS files, so take these links rather than a clone),
put them in one folder, copy it here and run:
    ./install.sh --styles /path/to/that/folder
EOF
        MISSING="$MISSING styles"
    fi
fi

if [ -n "$MISSING" ]; then
    say "done, except:$MISSING (see above)"
    exit 1
fi
say "done. Test with: make test"

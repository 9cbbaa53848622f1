#!/usr/bin/env bash
# GIMP 3.0 for the tests. Debian 12 has only GIMP 2.10, so this builds a
# Debian 13 (trixie) chroot with debootstrap, installs GIMP 3.0 and the build
# tools in it, builds the engine and the GIMP 3 plug-in there and installs
# the plug-in into the chroot's GIMP.
#   gimp3-chroot.sh prepare SRC_ROOT            (about 7 minutes the first time)
#   gimp3-chroot.sh run OUT CASE EXAMPLES WEIGHTS [VAR=value ...]
# The chroot lives in build/gimp3-root, or $NS_GIMP3_ROOT.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC_DEFAULT=$(dirname "$(dirname "$HERE")")
ROOTFS=${NS_GIMP3_ROOT:-$SRC_DEFAULT/build/gimp3-root}
MIRROR=${NS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# the command line too: Train Neural Style... runs it (its image libraries)
PACKAGES="gimp libgimp-3.0-dev gcc make pkg-config libopenblas-dev libjson-glib-dev libgegl-dev libbabl-dev gettext ca-certificates locales fonts-ipafont-gothic protobuf-c-compiler libprotobuf-c-dev libonnx-dev libjpeg-dev libpng-dev libtiff-dev libwebp-dev libgif-dev libopenexr-dev libgexiv2-dev"

mounted=0
mount_proc() {
    if ! mountpoint -q "$ROOTFS/proc"; then
        mount -t proc proc "$ROOTFS/proc"
        mounted=1
    fi
}
cleanup() { if [ $mounted -eq 1 ]; then umount "$ROOTFS/proc" 2>/dev/null || umount -l "$ROOTFS/proc"; fi; }
trap cleanup EXIT
in_root() { chroot "$ROOTFS" env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

prepare() {
    local src=$1
    [ "$(id -u)" -eq 0 ] || { echo "building the chroot needs root (debootstrap, chroot)"; return 1; }
    command -v debootstrap >/dev/null || { echo "debootstrap is not installed (./install.sh installs it)"; return 1; }
    if ! [ -x "$ROOTFS/usr/bin/gimp-console-3.0" ]; then
        if ! [ -f "$ROOTFS/etc/debian_version" ]; then
            echo "debootstrap trixie into $ROOTFS"
            rm -rf "$ROOTFS"
            debootstrap --variant=minbase trixie "$ROOTFS" "$MIRROR" >"$ROOTFS.debootstrap.log" 2>&1 ||
                { tail -5 "$ROOTFS.debootstrap.log"; return 1; }
        fi
        mount_proc
        in_root apt-get update -q >/dev/null
        in_root DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES \
            >"$ROOTFS.apt.log" 2>&1 || { tail -5 "$ROOTFS.apt.log"; return 1; }
    fi
    mount_proc
    # packages added since the chroot was built
    local missing=""
    for p in $PACKAGES; do
        in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        in_root apt-get update -q >/dev/null
        in_root DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
            >"$ROOTFS.apt.log" 2>&1 || { tail -5 "$ROOTFS.apt.log"; return 1; }
    fi
    # Japanese glyphs for the GUI tests' screenshots (their X server is this machine's)
    [ -d "$ROOTFS/usr/share/fonts/opentype/ipafont-gothic" ] ||
        in_root DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-ipafont-gothic \
            >/dev/null 2>&1
    # a Japanese session for the translation test (GIMP 3 takes its language from the locale)
    if ! in_root locale -a 2>/dev/null | grep -q '^ja_JP.utf8$'; then
        [ -x "$ROOTFS/usr/sbin/locale-gen" ] ||
            in_root DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends locales >/dev/null 2>&1
        echo "ja_JP.UTF-8 UTF-8" >>"$ROOTFS/etc/locale.gen"
        in_root locale-gen >/dev/null
    fi
    # the project's tracked files, built inside the chroot against GIMP 3.0
    rm -rf "$ROOTFS/opt/ns-src"
    mkdir -p "$ROOTFS/opt/ns-src"
    (cd "$src" && git ls-files -z | xargs -0 tar cf - 2>/dev/null) | tar xf - -C "$ROOTFS/opt/ns-src"
    # files not committed yet (a developer's working tree) travel too
    if [ -n "$(cd "$src" && git ls-files --others --exclude-standard)" ]; then
        (cd "$src" && git ls-files -z --others --exclude-standard | xargs -0 tar cf - 2>/dev/null) |
            tar xf - -C "$ROOTFS/opt/ns-src"
    fi
    in_root make -C /opt/ns-src -j2 plugins /opt/ns-build/neural-style BUILD=/opt/ns-build >"$ROOTFS.build.log" 2>&1 ||
        { tail -20 "$ROOTFS.build.log"; return 1; }
    [ -x "$ROOTFS/opt/ns-build/plugin/gimp3/neural-style" ] || { echo "the GIMP 3 plug-in was not built"; return 1; }
    in_root /opt/ns-src/plugin/install-plugin.sh /opt/ns-build /root/.config >/dev/null
    echo "GIMP 3.0 chroot ready: $ROOTFS ($(in_root gimp-console-3.0 --version | head -1))"
}

run() {
    local out=$1 case=$2 examples=$3 weights=$4
    shift 4
    mkdir -p "$ROOTFS/opt/ns-data/examples" "$ROOTFS/opt/ns-data/weights" "$out"
    cp -u "$examples"/rainier.jpg "$examples"/autumn-oak.jpg "$ROOTFS/opt/ns-data/examples/"
    cp -u "$weights" "$ROOTFS/opt/ns-data/weights/vgg19.safetensors"
    local inside=/opt/ns-out/$case
    rm -rf "$ROOTFS$inside"
    mkdir -p "$ROOTFS$inside"
    # an image a GUI session saved, for the inspect cases
    if [ -f "$out/result.xcf" ]; then cp "$out/result.xcf" "$ROOTFS$inside/"; fi
    sed -e "s|@EXAMPLES@|/opt/ns-data/examples|g" -e "s|@OUT@|$inside|g" -e "s|@CASE@|case-$case|g" \
        "$HERE/gimp3.scm" >"$out/script.scm"
    mount_proc
    set +e
    local fonts=-f
    [[ "$case" = states* || "$case" = group-text ]] && fonts=  # it makes a text layer
    in_root NS_WEIGHTS=/opt/ns-data/weights/vgg19.safetensors "$@" timeout 600 \
        gimp-console-3.0 -i -d $fonts --batch-interpreter=plug-in-script-fu-eval -b "$(cat "$out/script.scm")" --quit
    local rc=$?
    set -e
    echo "gimp-console-3.0 exit status $rc"
    cp -r "$ROOTFS$inside"/. "$out"/ 2>/dev/null || true
}

case "${1:-}" in
    prepare) prepare "${2:?source folder}" ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 prepare SRC | run OUT CASE EXAMPLES WEIGHTS [VAR=value ...]" >&2; exit 2 ;;
esac

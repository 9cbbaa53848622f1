#!/usr/bin/env bash
# End-to-end tests in the real GIMP, headless: GIMP 2.10 natively and GIMP 3.0
# in a Debian 13 chroot (tests/gimp/gimp3-chroot.sh builds it).  A Script-Fu
# batch opens rainier.jpg, adds autumn-oak.jpg as a layer, calls
# plug-in-neural-style and reports facts that check_results.py verifies.
# Then GUI sessions (gui.sh) drive the real GIMP through its menus.
#   usage: run_gimp_tests.sh BUILD_DIR [2|3|all] [batch|gui|both]
set -uo pipefail
BUILD=$(cd "${1:-build}" && pwd)
WHICH=${2:-all}
KIND=${3:-both}
# every GUI step's screenshot is kept here (the test's artefacts)
SHOTS=${NS_GUI_SHOTS:-$BUILD/gui-screenshots}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
PY=${PYTHON:-/usr/bin/python3}
W=${NS_TEST_WEIGHTS:-$ROOT/../shared/weights/vgg19-conv1_1-conv3_4.safetensors}
EX=${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}
fails=0

if [ ! -f "$W" ] || [ ! -f "$EX/rainier.jpg" ]; then
    echo "SKIP GIMP tests: real weights or examples not found (../shared)"
    exit 0
fi
W=$(cd "$(dirname "$W")" && pwd)/$(basename "$W")
EX=$(cd "$EX" && pwd)

# One batch run of CASE; prints the log path.  $1 version, $2 case, rest: env
run_case() {
    local ver=$1 case=$2 out="$T/$1-$2"
    shift 2
    mkdir -p "$out"
    if [ "$ver" = 2 ]; then
        # the CPU (1) unless NS_GIMP_DEVICE says auto (0)
        sed -e "s|@EXAMPLES@|$EX|g" -e "s|@OUT@|$out|g" -e "s|@CASE@|case-$case|g" \
            -e "s|@DEVICE@|${NS_GIMP_DEVICE:-1}|g" "$HERE/gimp2.scm" >"$out/script.scm"
        local fonts=-f
        [[ "$case" = states* || "$case" = group-text ]] && fonts=  # it makes a text layer
        env XDG_CONFIG_HOME="$T/config2" NS_WEIGHTS="$W" "$@" \
            timeout 600 gimp-console-2.10 -i -d $fonts -b "$(cat "$out/script.scm")" -b '(gimp-quit 0)' \
            >"$out/log" 2>&1
    else
        "$HERE/gimp3-chroot.sh" run "$out" "$case" "$EX" "$W" "$@" >"$out/log" 2>&1
    fi
    echo "$out"
}

check() { # description, command...
    local what=$1
    shift
    if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; fails=$((fails + 1)); fi
}
check_last() { # description, after a compound condition: whether it held
    local rc=$?
    if [ $rc -eq 0 ]; then echo "  ok   $1"; else echo "  FAIL $1"; fails=$((fails + 1)); fi
}

suite() { # version
    local v=$1 d
    echo "== GIMP $v: restyle rainier.jpg after autumn-oak.jpg"
    d=$(run_case "$v" basic)
    check "success, new layer same size/offsets, above the content, pixels moved toward the style" \
        "$PY" "$HERE/check_results.py" basic "$d"
    d=$(run_case "$v" selection)
    check "with a selection only the selected part changes" "$PY" "$HERE/check_results.py" selection "$d"
    # the second region: a channel (2.10), the painting layer's mask, which
    # covers only that layer (1717 x 1200 at 37,11; 3.0)
    d=$(run_case "$v" regions)
    local second="1536 1754 11 1211"
    [ "$v" = 2 ] && second="1536 2048 0 1365"
    # shellcheck disable=SC2086
    check "two paintings in two regions: each takes its own, the rest stays the photo's pixels" \
        "$PY" "$HERE/check_results.py" regions "$d" $second
    d=$(run_case "$v" final)
    check "Final on a 768 x 512 photo: a layer at the photo's size, as sharp as the photo, not Draft enlarged" \
        "$PY" "$HERE/check_results.py" final "$d"
    d=$(run_case "$v" group-text)
    check "a layer group as the photo, a text layer as the painting" "$PY" "$HERE/check_results.py" group-text "$d"
    d=$(run_case "$v" gray)
    check "a grayscale image gives a grayscale layer" "$PY" "$HERE/check_results.py" gray "$d"
    d=$(run_case "$v" float)
    check "a 32-bit float image keeps its precision" "$PY" "$HERE/check_results.py" float "$d" "$BUILD" "$W"
    if [ -f "$STYLE" ]; then
        if [ "$v" = 2 ]; then
            d=$(run_case 2 fast XDG_DATA_HOME="$T/xdg")
        else
            mkdir -p "$CHROOT/opt/ns-data/neural-style/styles"
            # the style the case trains, not an earlier run's (which it would refuse to replace)
            rm -rf "$CHROOT/opt/ns-data/neural-style/styles/script-oak."* "$CHROOT/opt/ns-data/neural-style/styles/training"
            cp "$STYLE" "$CHROOT/opt/ns-data/neural-style/styles/"
            d=$(run_case 3 fast XDG_DATA_HOME=/opt/ns-data)
        fi
        check "Neural Style (Fast) from a script: an unknown style says how to install, the style through a selection; Train Neural Style from a script, its style applied" \
            "$PY" "$HERE/check_results.py" fast "$d"
    fi
    if [ "$v" = 2 ] && [ -f "$BUILD/libns-cuda-emu.so" ]; then
        # auto mode on the emulated GPU, which runs out of memory at once
        d=$(NS_GIMP_DEVICE=0 run_case 2 basic NS_CUDA_LIBRARY="$BUILD/libns-cuda-emu.so" NS_CUDA_TEST_ALLOC_LIMIT=100000)
        "$PY" "$HERE/check_results.py" basic "$d" &&
            grep -q "Neural Style goes on on the CPU .*The GPU does not have enough memory" "$d/log"
        check_last "GPU out of memory in auto mode: finished on the CPU, with a message"
    fi
    echo "== GIMP $v: errors leave the image as it was"
    d=$(run_case "$v" other-image)
    check "a painting from another image: calling error" "$PY" "$HERE/check_results.py" error "$d" calling "same image"
    d=$(run_case "$v" same-layer)
    check "photo and painting the same layer: calling error" "$PY" "$HERE/check_results.py" error "$d" calling "another layer"
    d=$(run_case "$v" indexed)
    check "indexed image: calling error" "$PY" "$HERE/check_results.py" error "$d" calling "indexed"
    if [ "$v" = 2 ]; then d=$(run_case 2 same-layer LANGUAGE=ja LC_ALL=C.UTF-8); else d=$(run_case 3 same-layer LANG=ja_JP.UTF-8); fi
    check "...and says so in Japanese in a Japanese session" \
        "$PY" "$HERE/check_results.py" error "$d" calling "絵には写真以外のレイヤーを選んでください"
    d=$(run_case "$v" memory)
    check "not enough memory: execution error saying to choose a lower quality" \
        "$PY" "$HERE/check_results.py" error "$d" execution "choose a lower Quality"
    d=$(run_case "$v" weights NS_WEIGHTS=/nonexistent/vgg19.safetensors)
    check "missing weights: execution error saying how to install, no layer added" \
        "$PY" "$HERE/check_results.py" error "$d" execution "install.sh" same-layers
}

# A GUI session on the XCF that CASE-xcf makes, then its saved image
# inspected and checked: version, case, what it checks
xcf_session() {
    local v=$1 case=$2 what=$3 d g xcf
    d=$(run_case "$v" "$case-xcf")
    xcf=$d/$case.xcf
    [ "$v" = 3 ] && xcf=/opt/ns-out/$case-xcf/$case.xcf
    g=$T/gui-$v-$case
    NS_WEIGHTS=$W NS_BUILD=$BUILD bash "$HERE/gui.sh" "$v" "$case" "$g" "$xcf" >"$g.log" 2>&1
    d=$T/$v-inspect-$case
    mkdir -p "$d"
    cp "$g/result.xcf" "$d/" 2>/dev/null
    d=$(run_case "$v" "inspect-$case")
    check "$what" "$PY" "$HERE/check_gui.py" "$case" "$g" "$d"
    rm -rf "${SHOTS:?}/$v-$case" && mkdir -p "$SHOTS/$v-$case" && cp "$g"/*.png "$SHOTS/$v-$case/" 2>/dev/null
}

# The photographer's path: the real GUI, a fresh profile, the real menus.
gui_suite() { # version
    local v=$1 lang g d
    if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null || ! command -v openbox >/dev/null; then
        echo "  skip GUI tests: Xvfb, xdotool or openbox is missing (make test-deps installs them)"
        return
    fi
    for lang in en ja; do
        echo "== GIMP $v GUI ($lang): Filters > Artistic > Neural Style... from the menu, fresh profile"
        g=$T/gui-$v-$lang
        NS_WEIGHTS=$W NS_BUILD=$BUILD bash "$HERE/gui.sh" "$v" "$lang" "$g" >"$g.log" 2>&1
        d=$T/$v-inspect-$lang
        mkdir -p "$d"
        cp "$g/result.xcf" "$d/" 2>/dev/null
        d=$(run_case "$v" "inspect-$lang")
        if [ "$lang" = en ]; then
            what="one layer: a message; painting active: the right guess; Cancel; OK twice: results in view"
        else
            what="in Japanese: the dialog, OK, the result named in Japanese and in view"
        fi
        check "$what" "$PY" "$HERE/check_gui.py" "$lang" "$g" "$d"
        rm -rf "$SHOTS/$v-$lang" && mkdir -p "$SHOTS/$v-$lang" && cp "$g"/*.png "$SHOTS/$v-$lang/" 2>/dev/null
    done
    if [ -f "$STYLE" ]; then
        echo "== GIMP $v GUI: Filters > Artistic > Neural Style (Fast)... from the menu, a style installed; Train Neural Style..."
        g=$T/gui-$v-fast
        NS_TEST_STYLES="$T/gallery/oaks.safetensors $T/gallery/random.safetensors" NS_WEIGHTS=$W NS_BUILD=$BUILD bash "$HERE/gui.sh" "$v" fast "$g" >"$g.log" 2>&1
        d=$T/$v-inspect-fast
        mkdir -p "$d"
        cp "$g/result.xcf" "$d/" 2>/dev/null
        d=$(run_case "$v" inspect-fast)
        check "the gallery, the preview following Strength and Brush size, OK: the photo restyled whole, in view; a style trained from the menu, then applied" \
            "$PY" "$HERE/check_gui.py" fast "$g" "$d"
        rm -rf "${SHOTS:?}/$v-fast" && mkdir -p "$SHOTS/$v-fast" && cp "$g"/*.png "$SHOTS/$v-fast/" 2>/dev/null
    fi
    echo "== GIMP $v GUI: the photo in a layer group with a mask, a text layer, the painting; then grayscale"
    xcf_session "$v" states "the guess, a result inside the group with the photo's mask, a grayscale image: no crash"
    echo "== GIMP $v GUI: two paintings in two regions chosen in the dialog (the selection, a layer mask)"
    xcf_session "$v" regions "each region after its own painting, the band between them the photo's pixels"
}

T=$(mktemp -d)
trap '[ -n "${NS_KEEP_TEST_DIR:-}" ] || rm -rf "$T"' EXIT
CHROOT=${NS_GIMP3_ROOT:-$BUILD/gimp3-root}
# fast styles for Neural Style (Fast): a network with random weights, and
# the same as "Autumn oaks" with a thumbnail of its painting
STYLE=$T/xdg/neural-style/styles/random.safetensors
mkdir -p "$(dirname "$STYLE")" "$T/gallery"
if PYTHONPATH="$ROOT/tests" "$PY" "$ROOT/tests/fast_reference.py" model "$STYLE" >/dev/null 2>&1; then
    cp "$STYLE" "$T/gallery/random.safetensors"
    cp "$STYLE" "$T/gallery/oaks.safetensors"
    "$BUILD/ns-weights" describe "$T/gallery/oaks.safetensors" --name "Autumn oaks" \
        --thumbnail "$EX/autumn-oak.jpg" >/dev/null
else
    echo "  (python3-torch is missing: the Neural Style (Fast) cases are skipped; make test-deps installs it)"
fi

if [ "$WHICH" = all ] || [ "$WHICH" = 2 ]; then
    if command -v gimp-console-2.10 >/dev/null && [ -x "$BUILD/plugin/gimp2/neural-style" ]; then
        "$ROOT/plugin/install-plugin.sh" "$BUILD" "$T/config2" >/dev/null
        rm -rf "$T/config2/GIMP/3.0"
        [ "$KIND" = gui ] || suite 2
        [ "$KIND" = batch ] || gui_suite 2
    else
        echo "SKIP GIMP 2.10 tests: gimp-console-2.10 or the 2.10 plug-in is missing (./install.sh installs both)"
    fi
fi
if [ "$WHICH" = all ] || [ "$WHICH" = 3 ]; then
    if why=$("$HERE/gimp3-chroot.sh" prepare "$ROOT" 2>&1); then
        [ "$KIND" = gui ] || suite 3
        [ "$KIND" = batch ] || gui_suite 3
    else
        echo "SKIP GIMP 3.0 tests: the Debian 13 chroot could not be built:"
        echo "$why" | tail -5 | sed 's/^/    /'
    fi
fi

if [ $fails -ne 0 ]; then
    echo "GIMP tests: $fails FAILED (logs were in $T)"
    exit 1
fi
echo "GIMP tests passed (screenshots of every GUI step: $SHOTS)"

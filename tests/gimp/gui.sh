#!/usr/bin/env bash
# The plug-in as a photographer meets it: the real GIMP GUI under Xvfb with a
# fresh profile, driven through its real menus with synthesized keys
# (xdotool), screenshots of every step.  One session per call:
#
#   gui.sh 2|3 LANG OUT           LANG: en or ja
#   gui.sh 2|3 states OUT XCF     XCF as GIMP sees it (gimp2/3.scm's states-xcf)
#   gui.sh 2|3 regions OUT XCF    two paintings in two regions (regions-xcf)
#   gui.sh 2|3 final OUT          Draft, then Final, each seen at 1:1 (for
#                                 make pictures: Final takes minutes)
#   gui.sh 2|3 fast OUT           Neural Style (Fast)... on the photo with
#                                 the styles $NS_TEST_STYLES installed: the
#                                 gallery, the last style chosen, a hover,
#                                 Strength and Brush size in the preview, OK
#                                 at full size; then Train Neural Style... on
#                                 the painting added as a layer (photos in
#                                 ~/Pictures), and the new style applied;
#                                 Neural Style... from a fast style's result
#
# GIMP 2.10 runs here; GIMP 3.0 in the Debian 13 chroot (gimp3-chroot.sh),
# on this machine's X server.  The session:
#   1. opens rainier.jpg (the photo) alone and chooses Filters > Artistic >
#      Neural Style...: a message says how to add a painting (en only);
#   2. File > Open as Layers... autumn-oak.jpg (the painting, now active);
#   3. opens the filter, looks at the dialog, presses Help (the page the
#      plug-in installs opens), shows every tab, Draft and Custom, noting
#      the dialog's geometry on the 1366 x 768 screen (dialog_fits), Cancel
#      (en only; Help and dialog_fits also in ja, in step 4);
#   4. opens it again, Preview, Quality Custom 96 px, OK: the new layer;
#   5. selects the photo, opens the filter, OK (en only): a second result;
#      Edit > Undo from the menu (after step 4's run in ja): no message
#      window, the title and the screen as before the run; Edit > Redo;
#   6. saves the image as OUT/result.xcf for check_gui.py.
# The states session opens XCF instead (the photo in a group with a mask, a
# text layer, the painting on top: active in 2.10, both selected in 3.0),
# restyles, converts the image to grayscale (Image > Mode > Grayscale) and
# opens the dialog again.
# Facts go to OUT/facts ("key value" lines), screenshots to OUT/*.png.
set -uo pipefail
VER=$1 LANG_CASE=$2 OUT=$3 IMAGE=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
EX=${NS_TEST_EXAMPLES:-$ROOT/../shared/examples}
BUILD=${NS_BUILD:-$ROOT/build}
CHROOT=${NS_GIMP3_ROOT:-$BUILD/gimp3-root}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
FACTS=$OUT/facts
: >"$FACTS"
fact() { echo "$*" >>"$FACTS"; }
log() { echo "[gui $VER $LANG_CASE] $*"; }

# A stand-in web browser, the desktop's default for HTML: the Help button's
# page is noted in opened-url.
fake_browser() { # HOME_DIR SCRIPT_PATH_AS_GIMP_SEES_IT SCRIPT_PATH_HERE URL_FILE_AS_GIMP_SEES_IT
    mkdir -p "$1/.local/share/applications"
    printf '#!/bin/sh\necho "$1" >>%s\n' "$4" >"$3"
    chmod +x "$3"
    printf '[Desktop Entry]\nType=Application\nName=Test browser\nExec=%s %%u\nMimeType=text/html;\nNoDisplay=true\n' \
        "$2" >"$1/.local/share/applications/ns-test-browser.desktop"
    printf '[Default Applications]\ntext/html=ns-test-browser.desktop\n' >"$1/.local/share/applications/mimeapps.list"
}

# ---- X server, window manager ----
# a laptop's screen: the dialog must fit it with every tab shown
SCREEN_W=1366 SCREEN_H=768
for n in $(seq 40 99); do [ -e "/tmp/.X11-unix/X$n" ] || { DISPLAY_NUM=$n; break; }; done
export DISPLAY=:$DISPLAY_NUM
Xvfb "$DISPLAY" -screen 0 ${SCREEN_W}x${SCREEN_H}x24 -ac -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
XVFB=$!
for _ in $(seq 100); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
openbox >"$OUT/openbox.log" 2>&1 &
WM=$!
GIMP_PID=
cleanup() {
    [ -n "$GIMP_PID" ] && kill "$GIMP_PID" 2>/dev/null
    pkill -f "plug-ins/neural-style/neural-style" 2>/dev/null
    pkill -f "plug-ins/neural-style/bin/neural-style train" 2>/dev/null  # a training left going
    sleep 1
    [ -n "$GIMP_PID" ] && kill -9 "$GIMP_PID" 2>/dev/null
    kill "$WM" "$XVFB" 2>/dev/null
    if [ "$VER" = 3 ] && mountpoint -q "$CHROOT/tmp/.X11-unix"; then umount "$CHROOT/tmp/.X11-unix"; fi
    if [ "$VER" = 3 ] && mountpoint -q "$CHROOT/proc"; then umount "$CHROOT/proc" 2>/dev/null; fi
}
trap cleanup EXIT

# the pointer out of the way (no tooltips), then the whole screen
shot() { xdotool mousemove $((SCREEN_W - 5)) $((SCREEN_H - 5)); sleep 0.3; import -window root "$OUT/$1.png" 2>/dev/null; }
# wait_window REGEX [SECONDS]: the id of a visible window whose name matches
wait_window() {
    local w
    for _ in $(seq $((${2:-30} * 4))); do
        w=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | tail -1)
        [ -n "$w" ] && { echo "$w"; return 0; }
        sleep 0.25
    done
    return 1
}
gone() { # gone REGEX [SECONDS]
    for _ in $(seq $((${2:-30} * 4))); do
        xdotool search --onlyvisible --name "$1" >/dev/null 2>&1 || return 0
        sleep 0.25
    done
    return 1
}
keys() { # keys WINDOW KEY...: focus the window, then the keys one by one
    local w=$1
    shift
    xdotool windowactivate --sync "$w" >/dev/null 2>&1 || xdotool windowfocus --sync "$w"
    for k in "$@"; do xdotool key --clearmodifiers "$k"; sleep 0.4; done
}
# the plug-in's dialog: the window of the neural-style process
plugin_window() {
    local pid w
    for _ in $(seq $((${1:-60} * 4))); do
        for pid in $(pgrep -f "plug-ins/neural-style/neural-style"); do
            w=$(xdotool search --onlyvisible --pid "$pid" 2>/dev/null | tail -1)
            [ -n "$w" ] && { echo "$w"; return 0; }
        done
        sleep 0.25
    done
    return 1
}
plugin_running() { pgrep -f "plug-ins/neural-style/neural-style" >/dev/null; }
# GIMP asks whether to convert an image with an embedded profile: Convert
convert_profile() {
    local w
    if w=$(wait_window "${PROFILE_TITLE}" "${1:-8}"); then keys "$w" Return; fi
}
image_window() { wait_window "$1.*GIMP" 60; }
# Filters > Artistic > Neural Style..., through the menus' mnemonics
open_filter() {
    keys "$1" alt+r a n
}
# open_dialog STEP: the filter's dialog from image window $W, the menu tried
# twice (a key can be lost while GIMP is still busy with the last command)
open_dialog() {
    local p
    open_filter "$W"
    if ! p=$(plugin_window 30) && ! plugin_running; then
        shot "retry-$1"
        keys "$W" Escape
        open_filter "$W"
    fi
    [ -n "$p" ] || p=$(plugin_window 60) || step_failed "$1"
    echo "$p"
}

# ---- GIMP, fresh profile ----
if [ "$LANG_CASE" = ja ] && [ "$VER" = 2 ]; then
    # this machine may lack the ja_JP locale; gettext honours LANGUAGE in C.UTF-8
    LOCALE_ENV=(LANGUAGE=ja LC_ALL=C.UTF-8)
elif [ "$LANG_CASE" = ja ]; then
    LOCALE_ENV=(LANGUAGE=ja LANG=ja_JP.UTF-8 LC_ALL=ja_JP.UTF-8)
fi
if [ "$LANG_CASE" = ja ]; then
    PROFILE_TITLE="Working Space|作業"
else
    LOCALE_ENV=(LANGUAGE=en LANG=C.UTF-8 LC_ALL=C.UTF-8)
    PROFILE_TITLE="Convert to RGB Working Space|Keep the Embedded Working Space"
fi
if [ "$VER" = 2 ]; then
    PHOTO=$EX/rainier.jpg PAINTING=$EX/autumn-oak.jpg XCF=$OUT/result.xcf
    CFG=$OUT/profile
    HOME_DIR=$OUT/home
    URLS=$OUT/opened-url
    fake_browser "$OUT/home" "$OUT/browser" "$OUT/browser" "$URLS"
    "$ROOT/plugin/install-plugin.sh" "$BUILD" "$CFG" >/dev/null
    rm -rf "$CFG/GIMP/3.0"
    env "${LOCALE_ENV[@]}" XDG_CONFIG_HOME="$CFG" HOME="$OUT/home" NS_WEIGHTS="${NS_WEIGHTS:?}" \
        gimp-2.10 --no-splash "${IMAGE:-$PHOTO}" >"$OUT/gimp.log" 2>&1 &
    GIMP_PID=$!
else
    inside=/opt/ns-out/gui-$LANG_CASE
    rm -rf "$CHROOT$inside"
    mkdir -p "$CHROOT$inside" "$CHROOT/tmp/.X11-unix"
    mountpoint -q "$CHROOT/tmp/.X11-unix" || mount --bind /tmp/.X11-unix "$CHROOT/tmp/.X11-unix"
    mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc"
    mkdir -p "$CHROOT/opt/ns-data/examples" "$CHROOT/opt/ns-data/weights"
    cp -u "$EX/rainier.jpg" "$EX/autumn-oak.jpg" "$CHROOT/opt/ns-data/examples/"
    cp -u "${NS_WEIGHTS:?}" "$CHROOT/opt/ns-data/weights/vgg19.safetensors"
    PHOTO=/opt/ns-data/examples/rainier.jpg PAINTING=/opt/ns-data/examples/autumn-oak.jpg XCF=$inside/result.xcf
    HOME_DIR=$CHROOT$inside/home
    URLS=$CHROOT$inside/opened-url
    fake_browser "$CHROOT$inside/home" "$inside/browser" "$CHROOT$inside/browser" "$inside/opened-url"
    # a fresh profile with the plug-in installed into it
    chroot "$CHROOT" /opt/ns-src/plugin/install-plugin.sh /opt/ns-build "$inside/profile" >/dev/null
    chroot "$CHROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$inside/home" DISPLAY="$DISPLAY" \
        XDG_CONFIG_HOME="$inside/profile" NS_WEIGHTS=/opt/ns-data/weights/vgg19.safetensors "${LOCALE_ENV[@]}" \
        gimp-3.0 --no-splash "${IMAGE:-$PHOTO}" >"$OUT/gimp.log" 2>&1 &
    GIMP_PID=$!
fi

# what a failed step leaves behind: the screen, the visible windows, GIMP's log
step_failed() {
    local w
    fact "failed $1"
    shot "failed-$1"
    for w in $(xdotool search --onlyvisible --name . 2>/dev/null); do
        fact "window $(xdotool getwindowname "$w" 2>/dev/null)"
    done
    plugin_running && fact "plug-in running"
    log "FAILED at $1; GIMP's log ends:" >&2
    tail -n 15 "$OUT/gimp.log" >&2 2>/dev/null
    exit 1
}

# the photographer's photos, where Train Neural Style... looks first
if [ "$LANG_CASE" = fast ]; then
    mkdir -p "$HOME_DIR/Pictures"
    k=0
    for g in 400x300+0+0 400x300+600+200 300x300+1200+100 500x400+300+500 350x250+1500+700; do
        k=$((k + 1))
        convert "$EX/rainier.jpg" -crop "$g" -resize 96x96 "$HOME_DIR/Pictures/rainier-$k.jpg"
    done
fi
convert_profile 60
# GIMP 3 welcomes a fresh profile
if [ "$VER" = 3 ] && w=$(wait_window "Welcome|ようこそ" 5); then
    shot 0-welcome
    for _ in 1 2 3; do
        keys "$w" alt+F4
        gone "Welcome|ようこそ" 3 && break
    done
fi
TITLE=rainier; [ -n "$IMAGE" ] && TITLE=$LANG_CASE
W=$(image_window "$TITLE") || step_failed start
sleep 2
shot 1-photo
fact "started 1"

wait_run() { # MINUTES: until the plug-in's run ends; false if it has not
    for _ in $(seq $(($1 * 120))); do plugin_running || return 0; sleep 0.5; done
    ! plugin_running
}
run_ok() { # the open dialog $1: Quality Custom 96 px, OK, wait for the run
    keys "$1" alt+t Tab ctrl+a
    xdotool type "96"
    keys "$1" Tab
    sleep 1
    keys "$1" alt+o
    wait_run 5 || step_failed run-ends
    sleep 2
}
add_painting() { # File > Open as Layers... the painting
    local d
    keys "$W" ctrl+alt+o
    d=$(wait_window "Open Image as Layers|レイヤーとして" 20) || step_failed open-as-layers
    sleep 1
    xdotool type --delay 15 "$PAINTING"
    sleep 0.5
    keys "$d" Return
    convert_profile 10
    gone "Open Image as Layers|レイヤーとして" 10
    sleep 2
}

save_as() { # File > Save As... $XCF
    local s
    keys "$W" shift+ctrl+s
    s=$(wait_window "Save Image|保存" 20) || step_failed save-dialog
    sleep 1
    keys "$s" ctrl+a
    xdotool type --delay 15 "$XCF"
    keys "$s" Return
    for _ in $(seq 60); do
        if [ "$VER" = 2 ]; then [ -s "$XCF" ] && break; else [ -s "$CHROOT$XCF" ] && break; fi
        sleep 0.5
    done
    sleep 2
    [ "$VER" = 3 ] && cp "$CHROOT$XCF" "$OUT/result.xcf" 2>/dev/null
    [ -s "$OUT/result.xcf" ] || step_failed save
    fact "saved 1"
}

# before_run STEP: the title (with the layer count) and the screen before a
# run that undo_redo takes back
before_run() {
    shot "$1-before"
    BEFORE_SHOT=$OUT/$1-before.png BEFORE_TITLE=$(xdotool getwindowname "$W")
}
windows_now() { xdotool search --onlyvisible --name . 2>/dev/null | sort; }
# undo_redo STEP: Edit > Undo from the menu (its first item, which the
# keyboard opens selected) after the run, then Edit > Redo (ctrl+y) to go
# on.  Facts: the windows that appeared after the undo (GIMP's message box,
# such as "Can't undo Attach Parasite to Item" when the plug-in marked its
# layer after inserting it), whether the title and the screen are as before
# the run, a message in GIMP's log, whether Redo brought the result back
undo_redo() {
    local step=$1 after_run menu new="" w lines
    after_run=$(xdotool getwindowname "$W")
    lines=$(wc -l <"$OUT/gimp.log")
    keys "$W" alt+e
    sleep 0.5
    shot "$step-undo-menu"
    menu=$(windows_now)
    xdotool key Return
    for _ in $(seq 40); do [ "$(xdotool getwindowname "$W")" != "$after_run" ] && break; sleep 0.25; done
    sleep 2 # a message box is up well before this
    shot "$step-undone"
    for w in $(windows_now | comm -13 <(echo "$menu") -); do new="${new}[$(xdotool getwindowname "$w")]"; done
    fact "undo-$step-new-windows ${new:-none}"
    fact "undo-$step-titles $BEFORE_TITLE | $after_run | $(xdotool getwindowname "$W")"
    [ "$(xdotool getwindowname "$W")" = "$BEFORE_TITLE" ] && fact "undo-$step-title-as-before 1"
    fact "undo-$step-screen-diff $(compare -metric AE "$BEFORE_SHOT" "$OUT/$step-undone.png" null: 2>&1)"
    tail -n +$((lines + 1)) "$OUT/gimp.log" | grep -qi "can't undo\|元に戻せません" && fact "undo-$step-log-message 1"
    for w in $(windows_now | comm -13 <(echo "$menu") -); do keys "$w" Return; done
    keys "$W" ctrl+y
    for _ in $(seq 40); do [ "$(xdotool getwindowname "$W")" = "$after_run" ] && break; sleep 0.25; done
    [ "$(xdotool getwindowname "$W")" = "$after_run" ] && fact "redo-$step 1"
    sleep 1
    shot "$step-redone"
}

# The regions session: in the XCF of case-regions-xcf, the painting on the
# selection (the left half) and "sea" in its layer mask (the right quarter),
# chosen in the dialog with the keys a photographer would use
if [ "$LANG_CASE" = regions ]; then
    P=$(open_dialog regions-dialog) || exit 1
    sleep 3
    keys "$P" alt+x
    sleep 1
    # Painting 2: the first layer (sea); Painting 1's region (before it in
    # the focus chain): the selection; sea's region: its layer mask
    keys "$P" alt+2 Down shift+Tab Down Tab Tab Tab Down Down
    sleep 2
    shot r1-dialog-regions
    import -window "$P" "$OUT/dialog-regions.png" 2>/dev/null
    run_ok "$P"
    shot r2-result
    fact "run-1 done"
    save_as
    grep -q "Plug-in crashed\|fatal error" "$OUT/gimp.log" && fact "crashed 1"
    log "done"
    exit 0
fi

if [ "$LANG_CASE" = states ]; then
    P=$(open_dialog states-dialog) || exit 1
    sleep 3
    shot s1-dialog
    run_ok "$P"
    shot s1-result
    fact "run-1 done"
    keys "$W" alt+i m g   # Image > Mode > Grayscale..., which asks about the profile
    if G=$(wait_window "Grayscale" 10); then keys "$G" Return; fi
    for _ in $(seq 40); do xdotool getwindowname "$W" | grep -qi "gray" && break; sleep 0.25; done
    xdotool getwindowname "$W" | grep -qi "gray" && fact "grayscale 1"
    sleep 2
    P=$(open_dialog gray-dialog) || exit 1
    sleep 3
    shot s2-dialog-gray
    fact "gray-dialog 1"
    keys "$P" Escape
    for _ in $(seq 40); do plugin_running || break; sleep 0.25; done
    save_as
    grep -q "Plug-in crashed\|fatal error" "$OUT/gimp.log" && fact "crashed 1"
    log "done"
    exit 0
fi

# The fast session: Filters > Artistic > Neural Style (Fast)... on the photo
# alone; the dialog as it opens (the gallery's thumbnails: a painting, the
# photo through a style; the preview), End in the gallery chooses the last
# style, the first one's hover text, Help, Strength 30 (the preview at
# once), Brush size 2 (the network again), OK: the whole layer restyled
if [ "$LANG_CASE" = fast ]; then
    # none installed yet: the dialog says how to get styles, and OK does nothing
    keys "$W" alt+r a t
    P=$(plugin_window 60) || step_failed fast-no-styles
    sleep 3
    shot f0-no-styles
    keys "$P" alt+o
    sleep 2
    plugin_running && fact "no-styles-ok-refused 1"
    keys "$P" Escape
    for _ in $(seq 40); do plugin_running || break; sleep 0.25; done
    # the styles, where a photographer's ./install.sh --styles puts them
    mkdir -p "$HOME_DIR/.local/share/neural-style/styles"
    # shellcheck disable=SC2086
    cp $NS_TEST_STYLES "$HOME_DIR/.local/share/neural-style/styles/"
    keys "$W" alt+r a t
    P=$(plugin_window 60) || step_failed fast-dialog
    sleep 5
    shot f1-dialog
    fact "dialog-title $(xdotool getwindowname "$P")"
    keys "$P" End
    sleep 4
    shot f1-last-style
    import -window "$P" "$OUT/fast-dialog-1.png" 2>/dev/null
    keys "$P" F1
    for _ in $(seq 40); do [ -s "$URLS" ] && break; sleep 0.25; done
    fact "help $(head -1 "$URLS" 2>/dev/null)"
    if M=$(wait_window "GIMP Message" 1); then shot f1-help-error; keys "$M" Return; fi
    eval "$(xdotool getwindowgeometry --shell "$P" 2>/dev/null | grep -E '^(X|Y)=')"
    xdotool mousemove $((X + 70)) $((Y + 90))
    sleep 2.5
    import -window root "$OUT/f2-hover.png" 2>/dev/null
    keys "$P" alt+t ctrl+a
    xdotool type "30"
    keys "$P" Tab
    sleep 1.5
    shot f3-strength-30
    import -window "$P" "$OUT/fast-dialog-2.png" 2>/dev/null
    keys "$P" alt+b ctrl+a
    xdotool type "2"
    keys "$P" Tab
    sleep 5
    shot f4-brush-2
    import -window "$P" "$OUT/fast-dialog-3.png" 2>/dev/null
    fact "preview-strength-diff $(compare -metric AE "$OUT/fast-dialog-1.png" "$OUT/fast-dialog-2.png" null: 2>&1)"
    fact "preview-brush-diff $(compare -metric AE "$OUT/fast-dialog-2.png" "$OUT/fast-dialog-3.png" null: 2>&1)"
    grep -i "mnemonic" "$OUT/gimp.log" | head -3 | while read -r line; do fact "mnemonic-twice $line"; done
    keys "$P" alt+o
    wait_run 5 || step_failed fast-run-ends
    sleep 2
    shot f5-result
    fact "run-1 done"
    # Train Neural Style... on the painting just added (active): the photos
    # in ~/Pictures (the dialog's default), 150 steps at 32 px; its window
    # closed at once: the plug-in ends, the training goes on; the dialog
    # again: the same name, OK follows the run until the style is in the
    # styles folder
    add_painting
    keys "$W" alt+r a u
    P=$(plugin_window 60) || step_failed train-dialog
    sleep 3
    fact "train-dialog-title $(xdotool getwindowname "$P")"
    keys "$P" ctrl+a
    xdotool type "trained-oak"
    keys "$P" alt+t ctrl+a
    xdotool type "150"
    keys "$P" Tab alt+z ctrl+a
    xdotool type "32"
    keys "$P" Tab
    sleep 1
    shot t1-train-dialog
    keys "$P" alt+o
    TRAINED=$HOME_DIR/.local/share/neural-style/styles/trained-oak.safetensors
    TW=$(wait_window "Training 'trained-oak'" 30) || step_failed training-window
    sleep 1
    shot t2-training
    keys "$TW" Escape
    for _ in $(seq 40); do plugin_running || break; sleep 0.25; done
    if ! plugin_running && pgrep -f "plug-ins/neural-style/bin/neural-style train" >/dev/null && [ ! -e "$TRAINED" ]; then
        fact "background 1"
    fi
    keys "$W" alt+r a u
    P=$(plugin_window 60) || step_failed train-dialog-again
    sleep 2
    shot t3-train-again
    keys "$P" alt+o
    TW=$(wait_window "Training 'trained-oak'" 30) || step_failed training-window-again
    for _ in $(seq 240); do [ -s "$TRAINED" ] && break; sleep 0.5; done
    [ -s "$TRAINED" ] || step_failed trained
    sleep 2
    shot t4-trained
    fact "trained 1"
    keys "$TW" Escape
    for _ in $(seq 40); do plugin_running || break; sleep 0.25; done
    # Neural Style (Fast)... on the photo (Layer > Stack > Select Bottom
    # Layer): the new style, last by name
    keys "$W" End
    keys "$W" alt+r a t
    P=$(plugin_window 60) || step_failed fast-trained-dialog
    sleep 4
    keys "$P" End
    sleep 4
    shot f6-trained-style
    keys "$P" alt+o
    wait_run 5 || step_failed fast-trained-run-ends
    sleep 2
    shot f7-trained-result
    fact "run-2 done"
    # Neural Style... on the photo (Select Bottom Layer again), started from
    # a fast style's result: Advanced, Start from (the row after the
    # optimizer) A fast style's result, the first style by name, Custom
    # 96 px, OK: a new layer above the photo
    keys "$W" End
    P=$(open_dialog warm-dialog) || exit 1
    sleep 3
    keys "$P" alt+a alt+z Tab space Down Down Return
    sleep 2
    shot w1-fast-start
    import -window "$P" "$OUT/warm-dialog.png" 2>/dev/null
    run_ok "$P"
    shot w2-warm-result
    fact "run-3 done"
    grep -i "mnemonic" "$OUT/gimp.log" | head -3 | while read -r line; do fact "mnemonic-twice $line"; done
    save_as
    grep -q "Plug-in crashed\|fatal error" "$OUT/gimp.log" && fact "crashed 1"
    log "done"
    exit 0
fi

# The final session (make pictures): the photo at 1:1; the painting added
# as a layer, Draft with the painting active, the same view; then the photo
# active, Final, the same view.  The dialog's other settings are its defaults.
run_quality() { # STEP KEY MINUTES: the dialog, the Quality's mnemonic, OK, the run
    local p start
    p=$(open_dialog "$1") || exit 1
    sleep 3
    keys "$p" "$2"
    sleep 2
    shot "$1-dialog"
    start=$(date +%s)
    keys "$p" alt+o
    wait_run "$3" || step_failed "$1-run-ends"
    fact "$1-seconds $(($(date +%s) - start))"
    sleep 3
}
if [ "$LANG_CASE" = final ]; then
    keys "$W" 1   # View > Zoom > 1:1, around the canvas's centre (the pointer is off it)
    sleep 3
    shot photo-1to1
    add_painting
    run_quality draft alt+d 30
    shot draft-1to1
    keys "$W" Page_Down Page_Down
    run_quality final alt+f 90
    sleep 2
    shot final-1to1
    save_as
    grep -q "Plug-in crashed\|fatal error" "$OUT/gimp.log" && fact "crashed 1"
    log "done"
    exit 0
fi

# dialog_fits STEP: the open dialog $P on each tab and on Draft and Custom,
# a screenshot of each; facts: the dialog's geometry on each ("geometry-NAME
# X Y W H", the window without its frame: OK and Cancel are its last row),
# the screen's size, mnemonics the plug-in found used twice
dialog_fits() {
    local name key
    fact "screen $SCREEN_W $SCREEN_H"
    geometry() {
        local X Y WIDTH HEIGHT
        eval "$(xdotool getwindowgeometry --shell "$P" 2>/dev/null | grep -E '^(X|Y|WIDTH|HEIGHT)=')"
        fact "geometry-$1 $X $Y $WIDTH $HEIGHT"
    }
    geometry style
    for name in paintings:alt+x advanced:alt+a draft:alt+d custom:alt+t style:alt+y; do
        key=${name#*:} name=${name%:*}
        keys "$P" "$key"
        sleep 1.5
        geometry "$name"
        shot "$1-dialog-$name"
        [ "$name" = advanced ] && import -window "$P" "$OUT/dialog-expanded.png" 2>/dev/null
    done
    keys "$P" alt+d   # back to Draft
    sleep 1
    grep -i "mnemonic" "$OUT/gimp.log" | head -3 | while read -r line; do fact "mnemonic-twice $line"; done
}

# 1. one layer: a message, no dialog, no crash
if [ "$LANG_CASE" = en ]; then
    open_filter "$W"
    if M=$(wait_window "GIMP Message|Neural Style" 30); then
        shot 1-one-layer-message
        fact "one-layer-window $(xdotool getwindowname "$M")"
        keys "$M" Return
        gone "GIMP Message" 10
    fi
fi

# 2. the painting as a layer
add_painting
shot 2-painting-added

# 3. the dialog, then Cancel
if [ "$LANG_CASE" = en ]; then
    P=$(open_dialog dialog-cancel) || exit 1
    sleep 3
    shot 3-dialog
    fact "dialog-title $(xdotool getwindowname "$P")"
    keys "$P" F1
    for _ in $(seq 40); do [ -s "$URLS" ] && break; sleep 0.25; done
    fact "help $(head -1 "$URLS" 2>/dev/null)"
    if M=$(wait_window "GIMP Message" 1); then shot 3-help-error; keys "$M" Return; fi
    # every tab, Draft and Custom, on a laptop's screen
    dialog_fits 3
    keys "$P" Escape
    for _ in $(seq 40); do plugin_running || break; sleep 0.25; done
    plugin_running && step_failed cancel-closes
    fact "cancelled 1"
fi

# 4. the dialog with the painting active: Custom 96 px, OK
[ "$LANG_CASE" = ja ] && before_run 4
P=$(open_dialog dialog-ok) || exit 1
sleep 3
shot 4-dialog
if [ "$LANG_CASE" = ja ]; then
    keys "$P" F1
    for _ in $(seq 40); do [ -s "$URLS" ] && break; sleep 0.25; done
    fact "help $(head -1 "$URLS" 2>/dev/null)"
    if M=$(wait_window "GIMP Message" 1); then shot 4-help-error; keys "$M" Return; fi
    dialog_fits 4
fi
# Preview: done when the plug-in notes its speed (the estimate learns from it)
TIMINGS=$HOME_DIR/.cache/neural-style/timings.ini
start=$(date +%s.%N)
keys "$P" alt+v
for _ in $(seq 240); do [ -s "$TIMINGS" ] && break; sleep 0.25; done
[ -s "$TIMINGS" ] || step_failed preview
fact "preview-seconds $(echo "$(date +%s.%N) - $start" | bc)"
sleep 1
shot 4-preview
import -window "$P" "$OUT/dialog-window.png" 2>/dev/null
run_ok "$P"
shot 4-result
fact "run-1 done"
# Japanese: Edit > Undo, no message, the painting visible again; Redo
[ "$LANG_CASE" = ja ] && undo_redo 4

# 5. the photo active (Page Down selects the layer below), OK again
if [ "$LANG_CASE" = en ]; then
    keys "$W" Page_Down Page_Down
    before_run 5
    P=$(open_dialog dialog-photo) || exit 1
    sleep 3
    shot 5-dialog-photo-active
    keys "$P" alt+o
    wait_run 5
    sleep 2
    shot 5-result
    fact "run-2 done"
    # Edit > Undo: the second result gone, no message; Redo
    undo_redo 5
fi

# 6. File > Save As... result.xcf
save_as
grep -q "Plug-in crashed\|fatal error" "$OUT/gimp.log" && fact "crashed 1"
log "done"

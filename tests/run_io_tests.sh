#!/usr/bin/env bash
# Nothing lost, nothing wrong (issue 21), as a careful tester meets the
# command line: every format read and written, files cut short, corrupt or
# unreadable refused with one line, a full disk that leaves the previous
# output byte-identical with no temp file, the EXIF orientation, memory
# limits, and messages that name the option.  Root for the tmpfs and the
# ordinary user (setpriv); those checks say SKIP without it.
set -uo pipefail
BUILD=${1:-build}
PY=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
NS="$BUILD/neural-style"
T=$(mktemp -d)
FULL="$T/full"
cleanup() { mountpoint -q "$FULL" 2>/dev/null && umount "$FULL"; rm -rf "$T"; }
trap cleanup EXIT
. "$HERE/checks.sh"
fixtures "$T"
W="$T/small.safetensors"
RUN=("$NS" --quiet --weights "$W" --style "$T/style.png")
# `same` = the photo's pixels through a run that changes nothing
SAME=(--size 0 --iterations 0)

# refused CASE NEEDLE ARGS...: exit 1, one line saying NEEDLE
refused() {
    local what=$1 needle=$2
    shift 2
    timeout 60 "$@" >"$T/err" 2>&1
    local rc=$?
    check "$what: exit 1, one line" test $rc -eq 1 -a "$(wc -l <"$T/err")" -eq 1
    grep -qF -- "$needle" "$T/err" || { echo "       said: $(head -c 300 "$T/err")"; false; }
    check "...saying '$needle'" test $? -eq 0
}

echo "== every format written and read back (at ${SECONDS}s)"
"${RUN[@]}" --content "$T/rgb8.png" --output "$T/ref.ppm" "${SAME[@]}"
for ext in png tif exr webp ppm jpg; do
    "${RUN[@]}" --content "$T/rgb8.png" --output "$T/rt.$ext" "${SAME[@]}" &&
        "${RUN[@]}" --content "$T/rt.$ext" --output "$T/back-$ext.ppm" "${SAME[@]}"
    check ".$ext written and read back" test $? -eq 0 -a -s "$T/back-$ext.ppm"
done
for ext in png tif ppm; do
    cmp -s "$T/ref.ppm" "$T/back-$ext.ppm"; check ".$ext round trip: the same pixels" test $? -eq 0
done
# OpenEXR holds linear float: read back as 16 bits, within half an 8-bit level
"$PY" - "$T/ref.ppm" "$T/back-exr.ppm" <<'PYEOF'
import sys
import numpy as np
def ppm(p):
    _, size, maxval, data = open(p, "rb").read().split(b"\n", 3)
    w, h = map(int, size.split())
    return np.frombuffer(data, ">u2" if int(maxval) > 255 else "u1").reshape(h, w, 3) / float(maxval)
sys.exit(int(np.abs(ppm(sys.argv[1]) - ppm(sys.argv[2])).max() > 0.5 / 255))
PYEOF
check ".exr round trip: float, within half a level" test $? -eq 0
"${RUN[@]}" --content "$T/rgb16.png" --output "$T/rt16.tif" "${SAME[@]}" &&
    "${RUN[@]}" --content "$T/rt16.tif" --output "$T/rt16.png" "${SAME[@]}"
check "16-bit TIFF in: 16-bit PNG out" test "$("$PY" -c 'import sys; print(open(sys.argv[1],"rb").read(25)[24])' "$T/rt16.png")" = 16
if command -v convert >/dev/null; then
    convert "$T/rgb8.png" "$T/g.gif"
    convert "$T/rgb8.png" -colors 16 "PNG8:$T/pal.png"
    convert "$T/rgb8.png" -colorspace Gray "$T/grey.png"
    convert "$T/rgb16.png" -interlace PNG "$T/interlaced16.png"
    convert "$T/rgb8.png" -define tiff:tile-geometry=16x16 "$T/tiled.tif"
    convert "$T/rgb8.png" -colorspace Gray "$T/grey.tif"
    for f in g.gif pal.png grey.png interlaced16.png tiled.tif grey.tif; do
        "${RUN[@]}" --content "$T/$f" --output "$T/o-$f.png" "${SAME[@]}" 2>"$T/err"
        check "reads $f (40 x 30)" test $? -eq 0 -a "$("$PY" -c 'import sys,struct; print(*struct.unpack(">II", open(sys.argv[1],"rb").read(24)[16:24]))' "$T/o-$f.png")" = "40 30"
    done
    "${RUN[@]}" --content "$T/interlaced16.png" --output "$T/il.ppm" "${SAME[@]}" &&
        "${RUN[@]}" --content "$T/rgb16.png" --output "$T/nil.ppm" "${SAME[@]}"
    cmp -s "$T/il.ppm" "$T/nil.ppm"; check "an interlaced PNG: the same pixels as the plain one" test $? -eq 0
else
    echo "  SKIP GIF, palette, grey, interlaced and tiled inputs: no ImageMagick"
fi

echo "== files cut short, corrupt, unreadable or of another kind (at ${SECONDS}s)"
cut_half() { "$PY" -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d[:len(d) // 2])' "$1" "$2"; }
for f in rt.png rt.tif rt.exr rt.webp rt.ppm ${G:-}; do
    cut_half "$T/$f" "$T/half-$f"
    refused "$f cut in half" "'$T/half-$f'" "${RUN[@]}" --content "$T/half-$f" --output "$T/x.png"
done
if [ -f "$T/g.gif" ]; then
    cut_half "$T/g.gif" "$T/half.gif"
    refused "a GIF cut in half" "cannot read '$T/half.gif'" "${RUN[@]}" --content "$T/half.gif" --output "$T/x.png"
fi
"$PY" - "$T/rt.png" "$T/crc.png" <<'PYEOF'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.index(b"IDAT")
d[i + 8] ^= 0x55  # a byte of the compressed pixels: the chunk's CRC no longer matches
open(sys.argv[2], "wb").write(bytes(d))
PYEOF
refused "a PNG with a bad CRC" "cannot read '$T/crc.png': not a readable PNG" "${RUN[@]}" --content "$T/crc.png" --output "$T/x.png"
printf 'BM\0\0\0\0' >"$T/x.bmp"
refused "a BMP" "not a JPEG, PNG, TIFF, WebP, GIF, OpenEXR or PPM file" "${RUN[@]}" --content "$T/x.bmp" --output "$T/x.png"
mkdir "$T/folder"
refused "a folder as --content" "'$T/folder': it is a folder" "${RUN[@]}" --content "$T/folder" --output "$T/x.png"
refused "a folder as --output" "'$T/folder': it is a folder" "${RUN[@]}" --content "$T/rgb8.png" --output "$T/folder"
test ! -e "$T/x.png"; check "none of them wrote an output" test $? -eq 0

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    U=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    mkdir "$T/user" && chmod 1777 "$T/user" && chmod 755 "$T"
    cp "$W" "$T/style.png" "$T/user/" && chmod 644 "$T/user/"*
    for f in rt.png rt.tif rt.webp g.gif; do
        [ -f "$T/$f" ] || continue
        cp "$T/$f" "$T/user/locked-$f" && chmod 600 "$T/user/locked-$f"
        refused "$f without read permission (an ordinary user)" "cannot read '$T/user/locked-$f': permission denied" \
            "${U[@]}" "$NS" --quiet --weights "$T/user/small.safetensors" --style "$T/user/style.png" \
            --content "$T/user/locked-$f" --output "$T/user/o.png"
    done
    test ! -e "$T/user/o.png"; check "...and wrote nothing" test $? -eq 0
else
    echo "  SKIP unreadable files: not root or no setpriv"
fi

echo "== the photo as it is seen: EXIF orientation (at ${SECONDS}s)"
"$PY" - "$T/rt.jpg" "$T/exif6.jpg" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
# APP1 Exif: a big-endian TIFF with one entry, Orientation (0x0112) SHORT = 6
tiff = b"MM\0\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
app1 = b"Exif\0\0" + tiff
open(sys.argv[2], "wb").write(d[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + d[2:])
PYEOF
"${RUN[@]}" --content "$T/rt.jpg" --output "$T/stored.ppm" "${SAME[@]}" &&
    "${RUN[@]}" --content "$T/exif6.jpg" --output "$T/upright.ppm" "${SAME[@]}"
"$PY" - "$T/stored.ppm" "$T/upright.ppm" <<'PYEOF'
import sys
import numpy as np
def ppm(p):
    _, size, _, data = open(p, "rb").read().split(b"\n", 3)
    w, h = map(int, size.split())
    return np.frombuffer(data, "u1").reshape(h, w, 3)
a, b = ppm(sys.argv[1]), ppm(sys.argv[2])
assert a.shape == (30, 40, 3) and b.shape == (40, 30, 3), (a.shape, b.shape)
assert np.array_equal(np.rot90(a, -1), b)  # Orientation 6: turned 90 degrees clockwise
PYEOF
check "a 40 x 30 JPEG with Orientation 6 is restyled upright, 30 x 40, turned clockwise" test $? -eq 0

echo "== a full disk: exit 1, the previous output byte-identical, no temp file (at ${SECONDS}s)"
if [ "$(id -u)" -eq 0 ] && mkdir -p "$FULL" && mount -t tmpfs -o size=1m tmpfs "$FULL" 2>/dev/null; then
    # noise, 128 x 128 at 16 bits: every format's file is well over 4 KB
    "$PY" -c 'import sys, zlib, struct, numpy as np
a = np.random.default_rng(1).integers(0, 65536, (128, 128, 3)).astype(">u2")
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
rows = b"".join(b"\0" + r.tobytes() for r in a)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 128, 128, 16, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))' "$T/noise.png"
    for ext in png jpg tif exr webp ppm; do
        "${RUN[@]}" --content "$T/style.png" --output "$FULL/out.$ext" "${SAME[@]}"
    done
    chmod 640 "$FULL/out.png"
    (cd "$FULL" && md5sum out.* >"$T/before.md5")
    # leave 4 KB, then nothing
    for left in 4 0; do
        avail=$(df -k --output=avail "$FULL" | tail -1)
        dd if=/dev/zero of="$FULL/fill" bs=1k count=$((avail - left)) 2>/dev/null
        for ext in png jpg tif exr webp ppm; do
            refused "$left KB free, .$ext" "cannot write '$FULL/out.$ext': no space left on the device" \
                "${RUN[@]}" --content "$T/noise.png" --output "$FULL/out.$ext" "${SAME[@]}"
        done
        (cd "$FULL" && md5sum -c --quiet "$T/before.md5"); check "$left KB free: every previous output byte-identical" test $? -eq 0
        check "$left KB free: no temp file left" test "$(ls -A "$FULL" | grep -vc '^out\.\|^fill$')" -eq 0
        [ $left -eq 0 ] && refused "$left KB free, --log-json" "--log-json: cannot write '$FULL/log.jsonl': no space left" \
            "${RUN[@]}" --content "$T/rgb8.png" --output "$T/lj.png" --size 32 --iterations 2 --log-json "$FULL/log.jsonl"
        rm -f "$FULL/fill"
    done
    check "an existing output keeps its permissions (640)" test "$(stat -c %a "$FULL/out.png")" = 640
    "${RUN[@]}" --content "$T/rgb8.png" --output "$FULL/out.png" "${SAME[@]}"
    check "...also when it is replaced" test "$(stat -c %a "$FULL/out.png")" = 640
    umount "$FULL"
else
    echo "  SKIP full disk: not root, or no tmpfs"
fi
echo "victim" >"$T/victim.txt"
mkdir "$T/out" && ln -s "$T/victim.txt" "$T/out/o.png"
"${RUN[@]}" --content "$T/rgb8.png" --output "$T/out/o.png" "${SAME[@]}"
check "an output that is a symbolic link: replaced by the image, its target outside untouched" \
    test "$(cat "$T/victim.txt")" = victim -a ! -L "$T/out/o.png" -a -s "$T/out/o.png"
check "...and nothing else in the folder" test "$(ls -A "$T/out")" = o.png

echo "== memory that cannot be had: a sentence within seconds (at ${SECONDS}s)"
for kb in 400000 150000; do
    start=$SECONDS
    refused "ulimit -v $kb" "not enough memory" bash -c "ulimit -v $kb; exec $(printf '%q ' "${RUN[@]}") --content $T/rgb8.png --output $T/oom.png --size 64 --iterations 5"
    check "...within 20 s" test $((SECONDS - start)) -le 20
done
test ! -e "$T/oom.png"; check "...and wrote nothing" test $? -eq 0

echo "== messages that name the option or the file (at ${SECONDS}s)"
refused "--style-weight -1" "--style-weight: '-1' is not a number, 0 or more" "${RUN[@]}" --content "$T/rgb8.png" --output "$T/x.png" --style-weight -1
refused "--iterations 200000" "--iterations: '200000' is not a whole number from 0 to 100000" "${RUN[@]}" --content "$T/rgb8.png" --output "$T/x.png" --iterations 200000
refused "--style-scale 9" "--style-scale: '9' is not a number from 0.05 to 8" "${RUN[@]}" --content "$T/rgb8.png" --output "$T/x.png" --style-scale 9
refused "--log-json in a missing folder" "--log-json: cannot write '$T/no/log.jsonl'" "${RUN[@]}" --content "$T/rgb8.png" --output "$T/x.png" --log-json "$T/no/log.jsonl"
"$NS" --content --style "$T/style.png" --output "$T/x.png" >"$T/err" 2>&1; rc=$?
test $rc -eq 2 && grep -q -- "--content needs a value" "$T/err"
check_last "--content with no value: exit 2 saying so"
"$PY" - "$W" "$T/huge.safetensors" <<'PYEOF'
import struct, sys
import numpy as np
d = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", d[:8])[0]
body = np.frombuffer(d[8 + n:], "<f4") * np.float32(1e18)  # finite, but the features overflow float32
open(sys.argv[2], "wb").write(d[:8 + n] + body.astype("<f4").tobytes())
PYEOF
refused "weights too large for float32" "before the first step: the weights file" "$NS" --quiet --weights "$T/huge.safetensors" --style "$T/style.png" --content "$T/rgb8.png" --output "$T/x.png" --size 32 --iterations 2
test ! -e "$T/x.png"; check "none of them wrote an output" test $? -eq 0

checks_done "robustness tests"

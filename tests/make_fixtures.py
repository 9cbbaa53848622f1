#!/usr/bin/python3
"""Writes the files the command-line tests read, into the folder given:
small random VGG weights (safetensors), PNGs of 8 and 16 bits with and
without alpha, and Keras-layout .h5 files for the importer."""
import json
import struct
import sys
import zlib

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(1)
BLOCKS = [2, 2, 4, 4, 4]
CHANNELS = [64, 128, 256, 512, 512]


def vgg_layers(n):
    layers, cin = [], 3
    for b, count in enumerate(BLOCKS, 1):
        for i in range(1, count + 1):
            if len(layers) == n:
                return layers
            cout = CHANNELS[b - 1]
            w = (rng.standard_normal((cout, cin, 3, 3)) * (2.0 / (9 * cin)) ** 0.5).astype("<f4")
            layers.append(("conv%d_%d" % (b, i), b, i, w, (rng.standard_normal(cout) * 0.05).astype("<f4")))
            cin = cout
    return layers


def write_safetensors(path, layers):
    header = {"__metadata__": {"architecture": "vgg19", "input_channel_order": "BGR", "input_range": "0..255",
                               "input_mean": "103.939,116.779,123.68", "input_std": "1,1,1"}}
    blobs, off = [], 0
    for name, _, _, w, b in layers:
        for part, t in (("weight", w), ("bias", b)):
            header["%s.%s" % (name, part)] = {"dtype": "F32", "shape": list(t.shape),
                                              "data_offsets": [off, off + t.nbytes]}
            blobs.append(t.tobytes())
            off += t.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_png(path, a, bits):
    """a: H x W x C array (C = 3 or 4) of integers in range of `bits`."""
    h, w, c = a.shape
    dtype = ">u2" if bits == 16 else "u1"
    rows = b"".join(b"\0" + a[y].astype(dtype).tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", w, h, bits, 6 if c == 4 else 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def image(h, w, maxval, alpha):
    y, x = np.mgrid[0:h, 0:w]
    r = (x / (w - 1)) * maxval
    g = (y / (h - 1)) * maxval
    b = ((x + y) % 7 / 6.0) * maxval
    chans = [r, g, b] + ([np.full((h, w), maxval * 0.5)] if alpha else [])
    return np.rint(np.stack(chans, -1)).astype(np.int64)


def write_keras_h5(path, layers, variable_length):
    import h5py
    with h5py.File(path, "w") as f:
        names = [("block%d_conv%d" % (b, i)).encode() for _, b, i, _, _ in layers]
        f.attrs["layer_names"] = np.array([b"input_1"] + names)
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        for (name, b, i, w, bias), g in zip(layers, names):
            grp = f.create_group(g.decode())
            kernel, bname = "%s/kernel:0" % g.decode(), "%s/bias:0" % g.decode()
            wn = [kernel, bname]
            if variable_length:
                grp.attrs.create("weight_names", wn, dtype=h5py.string_dtype())
            else:
                grp.attrs["weight_names"] = np.array([s.encode() for s in wn])
            grp.create_dataset(kernel, data=w.transpose(2, 3, 1, 0))  # OIHW -> HWIO
            grp.create_dataset(bname, data=bias)


layers = vgg_layers(3)
write_safetensors(out + "/small.safetensors", layers)
write_png(out + "/rgb8.png", image(30, 40, 255, False), 8)
write_png(out + "/rgb16.png", image(30, 40, 65535, False), 16)
write_png(out + "/rgba8.png", image(30, 40, 255, True), 8)
write_png(out + "/style.png", np.flip(image(36, 36, 255, False), 1).copy(), 8)
try:
    keras = vgg_layers(4)
    write_keras_h5(out + "/keras-vlen.h5", keras, True)
    write_keras_h5(out + "/keras-fixed.h5", keras, False)
    for name, _, _, w, b in keras:
        np.save("%s/keras-%s-w.npy" % (out, name), w)
        np.save("%s/keras-%s-b.npy" % (out, name), b)
except ImportError:
    print("h5py missing: importer fixtures not written", file=sys.stderr)

"""Crafted weights files for tests/run_weights_tests.sh: safetensors headers
that would overflow json-glib's stack, and Keras .h5 files whose every
dataset is wrong in one way (a kernel of 2^31 x 2^31 x 1 x 1, data kept in
another file, a global-heap object that crashes libhdf5 itself...), plus
good ones of one layer and of four (1 MB).

    usage: crafted_weights.py DIR    (the .h5 files only where h5py is)
"""
import struct
import sys

import numpy as np

out = sys.argv[1]


def safetensors(name, header):
    with open("%s/%s" % (out, name), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)


safetensors("deep.safetensors", b"[" * 100000 + b"]" * 100000)
safetensors("deep-objects.safetensors", b'{"a":' * 100000 + b"1" + b"}" * 100000)
# a quote json-glib would take as a string, hiding the brackets from a count
# that knows only JSON's strings
safetensors("hidden.safetensors", b"['\"'," + b"[" * 100000 + b"]" * 100001)
safetensors("newline.safetensors", b'{"conv1_1.weight\\nrm -rf /":5}')

try:
    import h5py
except ImportError:
    sys.exit(0)

rng = np.random.default_rng(1)
K = rng.standard_normal((3, 3, 3, 64)).astype("f4")
B = np.zeros(64, "f4")
NAMES = ("block1_conv1/kernel:0", "block1_conv1/bias:0")


def keras(name, kernel=None, bias=None, names=NAMES, fix=None):
    """block1_conv1 as Keras writes it; kernel a shape: stored in chunks,
    never written (the file stays small)."""
    with h5py.File("%s/%s" % (out, name), "w") as f:
        g = f.create_group("block1_conv1")
        if names is not None:
            g.attrs.create("weight_names", list(names), dtype=h5py.string_dtype())
        if isinstance(kernel, tuple):
            g.create_dataset(NAMES[0], shape=kernel, dtype="f4", chunks=(1,) * len(kernel))
        elif kernel is not None:
            g.create_dataset(NAMES[0], data=kernel)
        if bias is not None:
            g.create_dataset(NAMES[1], data=bias)
        if fix:
            fix(f, g)


keras("huge.h5", (2**31, 2**31, 1, 1), B)
keras("huge-bias.h5", K, None,
      fix=lambda f, g: g.create_dataset(NAMES[1], shape=(2**62,), dtype="f4", chunks=(1,)))
keras("channels.h5", K[:, :, :, :63], B)
keras("bias-length.h5", K, np.zeros(63, "f4"))
keras("rank.h5", K.reshape(27, 64), B)
keras("ints.h5", K.astype("i4"), B)
nan = K.copy()
nan[1, 1, 1, 1] = np.nan
keras("nan.h5", nan, B)
keras("no-names.h5", K, B, names=None)
keras("many-names.h5", K, B, names=[NAMES[0]] * 9)
keras("newline.h5", K, B, names=["block1_conv1/kernel\nrm -rf /", NAMES[1]])
with h5py.File("%s/group-is-dataset.h5" % out, "w") as f:
    f.create_dataset("block1_conv1", data=np.zeros(3))
# reading these would read another file: a link to one, data kept in one
with h5py.File("%s/other.h5" % out, "w") as f:
    f.create_dataset("kernel", data=K)
keras("external-link.h5", None, B,
      fix=lambda f, g: g.__setitem__(NAMES[0], h5py.ExternalLink("other.h5", "/kernel")))
K.tofile("%s/raw.bin" % out)
keras("external-data.h5", None, B,
      fix=lambda f, g: g.create_dataset(NAMES[0], shape=K.shape, dtype="f4",
                                        external=[("raw.bin", 0, K.nbytes)]))
# libhdf5 1.10 itself segfaults (H5HG_read) on a global-heap object that
# claims 2^63 bytes; the variable-length weight_names live in one
keras("heap.h5", K, B)
with open("%s/heap.h5" % out, "rb") as f:
    d = bytearray(f.read())
first = d.find(b"GCOL") + 16  # the collection's header, then its objects
size = int.from_bytes(d[first + 8:first + 16], "little")
d[first + 16 + (size + 7) // 8 * 8 + 15] = 0xFB  # the second object's size, top byte
with open("%s/heap.h5" % out, "wb") as f:
    f.write(bytes(d))

keras("one.h5", K, B)
with h5py.File("%s/four.h5" % out, "w") as f:
    cin = 3
    for name, cout in (("block1_conv1", 64), ("block1_conv2", 64), ("block2_conv1", 128), ("block2_conv2", 128)):
        g = f.create_group(name)
        g.attrs["weight_names"] = np.array([("%s/kernel:0" % name).encode(), ("%s/bias:0" % name).encode()])
        g.create_dataset(name + "/kernel:0", data=rng.standard_normal((3, 3, cin, cout)).astype("f4"))
        g.create_dataset(name + "/bias:0", data=np.zeros(cout, "f4"))
        cin = cout

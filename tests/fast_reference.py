#!/usr/bin/env python3
"""PyTorch's side of the fast-style tests: pytorch/examples' fast_neural_style
TransformerNet (BSD-3), written out here as the tests' own independent
reference, with random weights scaled so that its output spans 0..255.

  fast_reference.py model OUT.safetensors [--seed N]
      a random network, written as the engine's model file
  fast_reference.py run MODEL.safetensors IN.ppm OUT.ppm
      the network on a photo (R'G'B' 0..255 in and out, clamped), 8-bit PPM,
      its top-left part at the photo's size
  fast_reference.py time MODEL.safetensors IN.ppm THREADS
      seconds of the forward pass alone (no file reading), and peak RSS MB
  fast_reference.py export MODEL.safetensors OUT.onnx OPSET [--dynamic] [--no-folding]
      the network exported by torch.onnx.export at OPSET, traced at 96 x 128
      (with dynamic height and width; without constant folding, so that
      the pads are computed by the graph)
      (opset 8, which this PyTorch cannot write, through onnx's converter
      from 9, as the zoo's opset 8 files were made)
  fast_reference.py variants MODEL.safetensors DIR
      ONNX files the importer must refuse: other architectures, and a
      tensor whose size is crafted
  fast_reference.py seeds DIR
      small inputs for the fuzzer (make test-fuzz): the exports' graphs at
      opsets 8, 9 and 11 with one-value weights past the first convolution,
      and a model file cut down
      to its first tensor
  fast_reference.py compare A.ppm B.ppm MEAN MAX
      exit 1 unless the mean and max absolute differences in 8-bit levels
      are within MEAN and MAX
"""
import json
import struct
import sys

import numpy as np
import torch

from reference import read_ppm, write_ppm


class ConvLayer(torch.nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(k // 2)
        self.conv2d = torch.nn.Conv2d(cin, cout, k, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = ConvLayer(c, c, 3, 1)
        self.in1 = torch.nn.InstanceNorm2d(c, affine=True)
        self.conv2 = ConvLayer(c, c, 3, 1)
        self.in2 = torch.nn.InstanceNorm2d(c, affine=True)

    def forward(self, x):
        y = torch.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(y)) + x


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, cin, cout, k, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = torch.nn.ReflectionPad2d(k // 2)
        self.conv2d = torch.nn.Conv2d(cin, cout, k, stride)

    def forward(self, x):
        if self.upsample:
            x = torch.nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 32, 9, 1)
        self.in1 = torch.nn.InstanceNorm2d(32, affine=True)
        self.conv2 = ConvLayer(32, 64, 3, 2)
        self.in2 = torch.nn.InstanceNorm2d(64, affine=True)
        self.conv3 = ConvLayer(64, 128, 3, 2)
        self.in3 = torch.nn.InstanceNorm2d(128, affine=True)
        for i in range(1, 6):
            setattr(self, "res%d" % i, ResidualBlock(128))
        self.deconv1 = UpsampleConvLayer(128, 64, 3, 1, upsample=2)
        self.in4 = torch.nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = UpsampleConvLayer(64, 32, 3, 1, upsample=2)
        self.in5 = torch.nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = ConvLayer(32, 3, 9, 1)

    def forward(self, x):
        y = torch.relu(self.in1(self.conv1(x)))
        y = torch.relu(self.in2(self.conv2(y)))
        y = torch.relu(self.in3(self.conv3(y)))
        for i in range(1, 6):
            y = getattr(self, "res%d" % i)(y)
        y = torch.relu(self.in4(self.deconv1(y)))
        y = torch.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def random_net(seed):
    torch.manual_seed(seed)
    net = TransformerNet()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.startswith("in") or ".in" in name:
                p.uniform_(0.8, 1.2) if name.endswith("weight") else p.uniform_(-0.2, 0.2)
        # the last convolution: about 128 +- 60 out of unit-scale features
        net.deconv3.conv2d.weight.mul_(60 * 3 ** 0.5)
        net.deconv3.conv2d.bias.uniform_(100, 150)
    return net.eval()


def load_net(path):
    net = TransformerNet()
    net.load_state_dict(load_safetensors(path))
    return net.eval()


def export(net, path, opset, dynamic=False, folding=True):
    x = torch.rand(1, 3, 96, 128) * 255
    axes = {"input1": {2: "h", 3: "w"}, "output1": {2: "h", 3: "w"}} if dynamic else None
    if opset >= 9:
        torch.onnx.export(net, x, path, opset_version=opset, input_names=["input1"], output_names=["output1"],
                          dynamic_axes=axes, do_constant_folding=folding)
        return
    import onnx
    from onnx import version_converter
    export(net, path, 9)
    onnx.save(version_converter.convert_version(onnx.load(path), opset), path)


class ZeroPadConv(torch.nn.Module):
    """A convolution padded with zeros: another architecture."""
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv2d = torch.nn.Conv2d(cin, cout, k, stride, padding=k // 2)

    def forward(self, x):
        return self.conv2d(x)


def variants(net, out):
    import onnx
    zero = TransformerNet()
    zero.conv1 = ZeroPadConv(3, 32, 9, 1)
    export(zero.eval(), out + "/zero-padding.onnx", 9)
    short = TransformerNet()
    short.res5 = torch.nn.Identity()
    export(short.eval(), out + "/four-blocks.onnx", 9)
    wide = TransformerNet()
    wide.conv2 = ConvLayer(32, 64, 5, 2)
    export(wide.eval(), out + "/5x5.onnx", 9)
    export(net, out + "/crafted.onnx", 9)
    m = onnx.load(out + "/crafted.onnx")
    m.graph.initializer[0].dims[0] *= 2   # more values than the file holds
    onnx.save(m, out + "/crafted.onnx")
    m.graph.initializer[0].dims[0] = 1 << 40
    onnx.save(m, out + "/crafted-huge.onnx")


def seeds(out):
    import os
    import tempfile
    import onnx
    net = random_net(1)
    with tempfile.TemporaryDirectory() as tmp:
        for opset in (8, 9, 11):
            export(net, tmp + "/m.onnx", opset)
            m = onnx.load(tmp + "/m.onnx")
            for t in m.graph.initializer:   # the first convolution stays whole
                if len(t.raw_data) <= 4 * 8192:
                    continue
                del t.dims[:]
                t.dims.append(1)
                t.raw_data = t.raw_data[:4]
            onnx.save(m, os.path.join(out, "graph-%d.onnx" % opset))
    state = net.state_dict()
    first = next(iter(state))
    save_safetensors(os.path.join(out, "model.safetensors"), {first: state[first]},
                     {"architecture": "transformer-net", "name": "seed"})


def save_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        a = np.frombuffer(data[8 + n + b:8 + n + end], dtype=np.float32).reshape(e["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out


def main():
    cmd = sys.argv[1]
    torch.set_num_threads(2)
    if cmd == "model":
        seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
        save_safetensors(sys.argv[2], random_net(seed).state_dict(),
                         {"architecture": "transformer-net", "name": "random test style",
                          "license": "CC0", "source": "tests/fast_reference.py"})
    elif cmd == "start":
        # PyTorch's first weights, the output grey: where training starts
        # (tests/train_reference.py)
        torch.manual_seed(int(sys.argv[3]))
        net = TransformerNet()
        with torch.no_grad():
            net.deconv3.conv2d.bias.fill_(128)
        save_safetensors(sys.argv[2], net.state_dict(), {"architecture": "transformer-net"})
    elif cmd == "export":
        export(load_net(sys.argv[2]), sys.argv[3], int(sys.argv[4]), "--dynamic" in sys.argv,
               "--no-folding" not in sys.argv)
    elif cmd == "seeds":
        seeds(sys.argv[2])
    elif cmd == "variants":
        variants(load_net(sys.argv[2]), sys.argv[3])
    elif cmd == "run":
        net = load_net(sys.argv[2])
        u = torch.from_numpy(read_ppm(sys.argv[3])).float()[None] * 255
        with torch.no_grad():
            y = net(u)[0].double().numpy() / 255
        # the top-left part at the photo's size, as neural-style gives: the
        # network's output is up to 3 px larger where a side is not a
        # multiple of 4
        y = y[:, :u.shape[2], :u.shape[3]]
        write_ppm(sys.argv[4], np.clip(y, 0, 1))
    elif cmd == "time":
        import resource
        import time
        torch.set_num_threads(int(sys.argv[4]))
        net = load_net(sys.argv[2])
        u = torch.from_numpy(read_ppm(sys.argv[3])).float()[None] * 255
        with torch.no_grad():
            t = time.perf_counter()
            net(u)
            s = time.perf_counter() - t
        print("%.2f %.0f" % (s, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    elif cmd == "compare":
        a, b = read_ppm(sys.argv[2]) * 255, read_ppm(sys.argv[3]) * 255
        if a.shape != b.shape:
            print("sizes differ: %s and %s" % (a.shape, b.shape))
            sys.exit(1)
        d = np.abs(a - b)
        print("%.3f levels mean, %.0f max (limits %s, %s); the output's spread %.0f levels"
              % (d.mean(), d.max(), sys.argv[4], sys.argv[5], b.std()))
        # a flat or clamped output would agree trivially
        sys.exit(0 if d.mean() <= float(sys.argv[4]) and d.max() <= float(sys.argv[5]) and b.std() > 10 else 1)


if __name__ == "__main__":
    main()

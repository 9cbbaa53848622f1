#!/usr/bin/env python3
"""PyTorch's side of the fast-style tests: pytorch/examples' fast_neural_style
TransformerNet (BSD-3), written out here as the tests' own independent
reference, with random weights scaled so that its output spans 0..255.

  fast_reference.py model OUT.safetensors [--seed N]
      a random network, written as the engine's model file
  fast_reference.py run MODEL.safetensors IN.ppm OUT.ppm
      the network on a photo (R'G'B' 0..255 in and out, clamped), 8-bit PPM
  fast_reference.py time MODEL.safetensors IN.ppm THREADS
      seconds of the forward pass alone (no file reading), and peak RSS MB
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
    elif cmd == "run":
        net = TransformerNet()
        net.load_state_dict(load_safetensors(sys.argv[2]))
        net.eval()
        u = torch.from_numpy(read_ppm(sys.argv[3])).float()[None] * 255
        with torch.no_grad():
            y = net(u)[0].double().numpy() / 255
        write_ppm(sys.argv[4], np.clip(y, 0, 1))
    elif cmd == "time":
        import resource
        import time
        torch.set_num_threads(int(sys.argv[4]))
        net = TransformerNet()
        net.load_state_dict(load_safetensors(sys.argv[2]))
        net.eval()
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

#!/usr/bin/python3
"""Independent PyTorch implementation of docs/design.md's objective.

Reads the safetensors weights itself (json + numpy, not the engine's
loader), builds VGG with torch.nn.functional, and evaluates the content,
style and TV terms exactly as docs/design.md writes them.  Used by the reference
tests (iteration-0 terms, L-BFGS final loss) and by the benchmark.

  reference.py terms   --weights W --content C.ppm --style S.ppm[:MASK.ppm]... --image U.ppm --content-layers .. --style-layers ..
                       [--activation-shift X] [--layer-weights uniform|geometric] [--correlation-chain]
                       [--pooling max|avg]   (--style-layers all: every relu layer of the weights file)
  reference.py lbfgs   ... --iterations N --history M [--line-search] [--threads T]
  reference.py time    --weights W|--random-vgg19 --size N --iterations K ... (seconds per iteration)
"""
import argparse
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

VGG19_BLOCKS = [2, 2, 4, 4, 4]
VGG16_BLOCKS = [2, 2, 3, 3, 3]
CHANNELS = [64, 128, 256, 512, 512]


def read_ppm(path):
    """8- or 16-bit binary PPM -> float64 array 3 x H x W in 0..1."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    assert fields[0] == b"P6", "not a binary PPM"
    w, h, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    dtype = np.uint8 if maxval < 256 else np.dtype(">u2")
    a = np.frombuffer(data, dtype=dtype, count=w * h * 3, offset=pos).reshape(h, w, 3)
    return np.ascontiguousarray(a.astype(np.float64).transpose(2, 0, 1)) / maxval


def abs_laplacian(u):
    """3 x H x W -> |4-neighbour Laplacian| of the mean of the channels,
    (H-2) x (W-2): the sharpness and seam measure of the GIMP tests and
    make pictures."""
    y = u.mean(0)
    return np.abs(4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:])


def write_ppm(path, u):
    """3 x H x W in 0..1 -> 8-bit PPM."""
    c, h, w = u.shape
    v = np.clip(np.rint(u * 255), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(v.tobytes())


class Vgg:
    """Conv layers of VGG from a safetensors file (or random, for timing)."""

    def __init__(self, path=None, dtype=torch.float64, random_arch=None, seed=0, pooling="max"):
        assert pooling in ("max", "avg")
        self.dtype = dtype
        self.pooling = pooling
        if path:
            self._load(path)
        else:
            self._random(random_arch or 19, seed)

    def _names(self, arch, n):
        names = []
        for b, count in enumerate(VGG19_BLOCKS if arch == 19 else VGG16_BLOCKS, 1):
            for i in range(1, count + 1):
                names.append((b, i))
        return names[:n]

    def _load(self, path):
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(n))
            data = f.read()
        meta = header.get("__metadata__", {})
        arch = 16 if meta.get("architecture") == "vgg16" else 19
        self.layers = []
        for b, i in self._names(arch, 16):
            key = "conv%d_%d" % (b, i)
            if key + ".weight" not in header:
                break
            tensors = []
            for part in ("weight", "bias"):
                e = header[key + "." + part]
                lo, hi = e["data_offsets"]
                t = np.frombuffer(data[lo:hi], dtype="<f4").reshape(e["shape"])
                tensors.append(torch.tensor(t.copy(), dtype=self.dtype))
            self.layers.append(("relu%d_%d" % (b, i), b, i, tensors[0], tensors[1]))
        self.arch = arch
        order = meta.get("input_channel_order", "BGR")
        lo, hi = (float(x) for x in meta.get("input_range", "0..255").split(".."))
        self.perm = [2, 1, 0] if order == "BGR" else [0, 1, 2]
        self.scale = hi - lo
        self.offset = lo
        self.mean = torch.tensor([float(x) for x in meta.get("input_mean", "103.939,116.779,123.68").split(",")],
                                 dtype=self.dtype).view(3, 1, 1)
        self.std = torch.tensor([float(x) for x in meta.get("input_std", "1,1,1").split(",")],
                                dtype=self.dtype).view(3, 1, 1)

    def _random(self, arch, seed):
        g = torch.Generator().manual_seed(seed)
        self.layers, cin = [], 3
        for b, i in self._names(arch, 16):
            cout = CHANNELS[b - 1]
            w = torch.randn(cout, cin, 3, 3, generator=g, dtype=self.dtype) * (2.0 / (9 * cin)) ** 0.5
            self.layers.append(("relu%d_%d" % (b, i), b, i, w, torch.zeros(cout, dtype=self.dtype)))
            cin = cout
        self.arch = arch
        self.perm, self.scale, self.offset = [2, 1, 0], 255.0, 0.0
        self.mean = torch.tensor([103.939, 116.779, 123.68], dtype=self.dtype).view(3, 1, 1)
        self.std = torch.ones(3, 1, 1, dtype=self.dtype)

    def to(self, dev):
        self.layers = [(n, b, i, w.to(dev), bias.to(dev)) for n, b, i, w, bias in self.layers]
        self.mean, self.std = self.mean.to(dev), self.std.to(dev)

    def features(self, u, wanted):
        """u: 3 x H x W in 0..1 (R'G'B'). Returns {layer: C x H x W}."""
        x = ((u[self.perm] * self.scale + self.offset - self.mean) / self.std).unsqueeze(0)
        last = max(self.index(n) for n in wanted)
        out = {}
        blocks = VGG19_BLOCKS if self.arch == 19 else VGG16_BLOCKS
        for k, (name, b, i, w, bias) in enumerate(self.layers[:last + 1]):
            if k > 0 and self.layers[k - 1][2] == blocks[self.layers[k - 1][1] - 1]:
                x = F.max_pool2d(x, 2) if self.pooling == "max" else F.avg_pool2d(x, 2)
            x = F.relu(F.conv2d(x, w, bias, padding=1))
            if name in wanted:
                out[name] = x[0]
        return out

    def index(self, name):
        return [n for n, *_ in self.layers].index(name)


def parse_layers(spec, vgg=None, scheme="uniform", deeper_heavier=False):
    """"name[:w],..." (or "all": every relu layer of vgg, in network order)
    -> [(name, weight)] in the order given.  A layer without ":w" gets its
    share: uniform 1/n; geometric, numbering the n layers by depth d = 1..n
    (shallowest first), 2^(n-d) / sum (style) or, deeper_heavier (content),
    2^d / sum.  An explicit ":w" is kept as it is."""
    if spec == "all":
        assert vgg is not None, "'all' needs the network"
        layers = [[name, None] for name, *_ in vgg.layers]
    else:
        layers = []
        for tok in spec.split(","):
            name, _, w = tok.partition(":")
            layers.append([name, float(w) if w else None])
    n = len(layers)
    if scheme == "uniform":
        share = {name: 1.0 / n for name, _ in layers}
    elif scheme == "geometric":
        assert vgg is not None, "geometric weights need the network's layer order"
        by_depth = sorted((name for name, _ in layers), key=vgg.index)
        raw = {name: 2.0 ** (d if deeper_heavier else n - d) for d, name in enumerate(by_depth, 1)}
        total = sum(raw.values())
        share = {name: r / total for name, r in raw.items()}
    else:
        raise ValueError("layer weights: uniform or geometric, not %r" % scheme)
    return [(name, w if w is not None else share[name]) for name, w in layers]


def flat(f, shift=0.0):
    """C x H x W -> C x M, shifted by the activation shift."""
    return f.reshape(f.shape[0], -1) + shift


def gram(f, shift=0.0):
    """G = (F + shift)(F + shift)^T / M."""
    a = flat(f, shift)
    return a @ a.t() / a.shape[1]


def pool_to(f, size):
    """2x2 stride-2 average pooling (floor), as often as it takes f (C x H x W)
    to reach the spatial size `size` (H, W)."""
    while tuple(f.shape[1:]) != tuple(size):
        assert f.shape[1] > size[0] and f.shape[2] > size[1], "cannot pool %s down to %s" % (tuple(f.shape), size)
        f = F.avg_pool2d(f.unsqueeze(0), 2)[0]
    return f


def cross_gram(fl, fl2, shift=0.0):
    """Correlation-chain cross Gram of adjacent layers l (shallower) and l':
    G = (P^k(F_l) + shift)(F_l' + shift)^T / M_l'."""
    b = flat(fl2, shift)
    a = flat(pool_to(fl, fl2.shape[1:]), shift)
    return a @ b.t() / b.shape[1]


class Objective:
    """content_layers, style_layers: [(name, final weight)] (parse_layers).
    shift: the activation shift of every Gram matrix; chain: add the
    correlation-chain terms of adjacent style layers."""

    def __init__(self, vgg, content, style, content_layers, style_layers, cw, sw, tw, shift=0.0, chain=False):
        self.vgg, self.cl, self.sl = vgg, content_layers, style_layers
        self.cw, self.sw, self.tw = cw, sw, tw
        self.shift = shift
        # adjacent pairs of the style layers by depth, weight (b_l + b_l')/2
        by_depth = sorted(style_layers, key=lambda nw: vgg.index(nw[0]))
        self.pairs = [(l1, l2, (b1 + b2) / 2) for (l1, b1), (l2, b2) in zip(by_depth, by_depth[1:])] if chain else []
        with torch.no_grad():
            fc = vgg.features(content, [n for n, _ in content_layers])
            fs = vgg.features(style, [n for n, _ in style_layers])
            self.p = {n: fc[n] for n, _ in content_layers}
            self.t = {n: gram(fs[n], shift) for n, _ in style_layers}
            self.pn = {n: (p * p).sum() for n, p in self.p.items()}
            self.tn = {n: (t * t).sum() for n, t in self.t.items()}
            self.tc = {(l1, l2): cross_gram(fs[l1], fs[l2], shift) for l1, l2, _ in self.pairs}
            self.tcn = {k: (t * t).sum() for k, t in self.tc.items()}

    def terms(self, u):
        f = self.vgg.features(u, [n for n, _ in self.cl] + [n for n, _ in self.sl])
        x = self.shift
        lc = sum(a * ((f[n] - self.p[n]) ** 2).sum() / self.pn[n] for n, a in self.cl)
        ls = sum(b * ((gram(f[n], x) - self.t[n]) ** 2).sum() / self.tn[n] for n, b in self.sl)
        for l1, l2, w in self.pairs:
            ls = ls + w * ((cross_gram(f[l1], f[l2], x) - self.tc[l1, l2]) ** 2).sum() / self.tcn[l1, l2]
        h, w = u.shape[1], u.shape[2]
        tv = (((u[:, 1:, :] - u[:, :-1, :]) ** 2).sum() + ((u[:, :, 1:] - u[:, :, :-1]) ** 2).sum()) / (3 * h * w)
        total = self.cw * lc + self.sw * ls + self.tw * tv
        return total, lc, ls, tv


def masked_gram(f, m, shift=0.0):
    """Regions (Gatys et al. 2017): G = (F + shift) diag(m) (F + shift)^T / sum m,
    the mask m (H x W, 0..1) average-pooled 2x2 (floor) to f's size; and the
    mask's share of the layer, sum m / M."""
    m = pool_to(m.unsqueeze(0), f.shape[1:])[0].reshape(-1)
    a = flat(f, shift)
    return (a * m) @ a.t() / m.sum(), m.sum() / m.numel()


class RegionObjective(Objective):
    """One style per region: styles is [(painting, mask or None)], each
    painting with its own targets; L_s = sum_k beta_k sum_l b_l (a_kl / M_l)
    ||G_kl - T_kl||^2 / ||T_kl||^2 with beta_k = 1 (equal blend, mean 1)."""

    def __init__(self, vgg, content, styles, content_layers, style_layers, cw, sw, tw, shift=0.0):
        super().__init__(vgg, content, styles[0][0], content_layers, style_layers, cw, sw, tw, shift=shift)
        self.regions = []
        with torch.no_grad():
            for painting, mask in styles:
                fs = vgg.features(painting, [n for n, _ in style_layers])
                t = {n: gram(fs[n], shift) for n, _ in style_layers}
                m = mask if mask is not None else torch.ones(content.shape[1:], dtype=content.dtype)
                self.regions.append((t, {n: (v * v).sum() for n, v in t.items()}, m))

    def terms(self, u):
        f = self.vgg.features(u, [n for n, _ in self.cl] + [n for n, _ in self.sl])
        lc = sum(a * ((f[n] - self.p[n]) ** 2).sum() / self.pn[n] for n, a in self.cl)
        ls = 0.0
        for t, tn, m in self.regions:
            for n, b in self.sl:
                g, share = masked_gram(f[n], m, self.shift)
                ls = ls + b * share * ((g - t[n]) ** 2).sum() / tn[n]
        h, w = u.shape[1], u.shape[2]
        tv = (((u[:, 1:, :] - u[:, :-1, :]) ** 2).sum() + ((u[:, :, 1:] - u[:, :, :-1]) ** 2).sum()) / (3 * h * w)
        return self.cw * lc + self.sw * ls + self.tw * tv, lc, ls, tv


def objective(args, vgg, content, style):
    """The Objective the command-line options describe."""
    cl = parse_layers(args.content_layers, vgg, args.layer_weights, deeper_heavier=True)
    sl = parse_layers(args.style_layers, vgg, args.layer_weights)
    return Objective(vgg, content, style, cl, sl, args.content_weight, args.style_weight, args.tv_weight,
                     shift=args.activation_shift, chain=args.correlation_chain)


def build(args, dtype):
    vgg = Vgg(args.weights, dtype=dtype, pooling=args.pooling)
    tensor = lambda p: torch.tensor(read_ppm(p), dtype=dtype)
    content = tensor(args.content)
    # --style FILE or FILE:MASK (a PPM whose channels' mean is the mask), repeated
    styles = [(tensor(s.split(":")[0]), tensor(s.split(":")[1]).mean(0) if ":" in s else None) for s in args.style]
    if all(m is None for _, m in styles):
        assert len(styles) == 1, "several paintings without masks are blended by the engine, not here"
        return objective(args, vgg, content, styles[0][0]), content
    cl = parse_layers(args.content_layers, vgg, args.layer_weights, deeper_heavier=True)
    sl = parse_layers(args.style_layers, vgg, args.layer_weights)
    return RegionObjective(vgg, content, styles, cl, sl, args.content_weight, args.style_weight, args.tv_weight,
                           shift=args.activation_shift), content


def cmd_terms(args):
    obj, _ = build(args, torch.float64)
    u = torch.tensor(read_ppm(args.image), dtype=torch.float64)
    with torch.no_grad():
        t = [float(x) for x in obj.terms(u)]
    print(json.dumps({"loss": t[0], "content": t[1], "style": t[2], "tv": t[3]}))


def cmd_lbfgs(args):
    torch.set_num_threads(args.threads)
    obj, content = build(args, torch.float32)
    x = content.clone().contiguous().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=args.iterations, max_eval=args.iterations * 5 // 4 + 1,
                            history_size=args.history, tolerance_grad=-1, tolerance_change=-1,
                            line_search_fn="strong_wolfe" if args.line_search else None)
    evals = [0]

    def closure():
        opt.zero_grad()
        loss = obj.terms(x)[0]
        loss.backward()
        evals[0] += 1
        return loss

    t0 = time.time()
    opt.step(closure)
    seconds = time.time() - t0
    with torch.no_grad():
        t = [float(v) for v in obj.terms(x)]
    print(json.dumps({"loss": t[0], "content": t[1], "style": t[2], "tv": t[3], "evaluations": evals[0],
                      "seconds": seconds}))


def cmd_time(args):
    """Median seconds per optimiser iteration (one evaluation each): L-BFGS
    (torch.optim.LBFGS) or Adam, on the CPU or a CUDA GPU."""
    torch.set_num_threads(args.threads)
    cuda = args.device == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = args.tf32
    dev = torch.device(args.device)
    if args.weights:
        vgg = Vgg(args.weights, dtype=torch.float32, pooling=args.pooling)
    else:
        vgg = Vgg(None, dtype=torch.float32, random_arch=19, seed=1, pooling=args.pooling)
    vgg.to(dev)
    g = torch.Generator().manual_seed(0)
    w = args.size
    h = args.height or args.size
    content = torch.rand(3, h, w, generator=g).to(dev)
    style = torch.rand(3, h, w, generator=g).to(dev)
    obj = objective(args, vgg, content, style)
    x = content.clone().requires_grad_(True)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    stamps = []

    def stamp():
        if cuda:
            torch.cuda.synchronize()
        stamps.append(time.time())

    def closure():
        stamp()
        opt.zero_grad()
        loss = obj.terms(x)[0]
        loss.backward()
        return loss

    if args.optimizer == "adam":
        opt = torch.optim.Adam([x], lr=args.learning_rate)
        for _ in range(args.iterations):
            opt.step(closure)
    else:
        opt = torch.optim.LBFGS([x], lr=1, max_iter=args.iterations, history_size=args.history, tolerance_grad=-1,
                                tolerance_change=-1)
        opt.step(closure)
    stamp()
    times = sorted(b - a for a, b in zip(stamps[1:], stamps[2:]))  # the first evaluation warms up
    out = {"median": times[len(times) // 2], "min": times[0], "total": stamps[-1] - stamps[0],
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if cuda:
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 1048576.0
        out["device_name"] = torch.cuda.get_device_name()
    print(json.dumps(out))


def cmd_matmul(args):
    """Float32 (or TF32) matrix-multiply rate of the GPU, TFLOP/s."""
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    n = 8192
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t0, reps = time.time(), 10
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    print(json.dumps({"tflops": 2.0 * n ** 3 * reps / (time.time() - t0) / 1e12}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["terms", "lbfgs", "time", "matmul"])
    ap.add_argument("--weights")
    ap.add_argument("--content")
    ap.add_argument("--style", action="append", help="FILE or FILE:MASK (regions), repeated")
    ap.add_argument("--image")
    ap.add_argument("--content-layers", default="relu3_2")
    ap.add_argument("--style-layers", default="relu1_1,relu2_1,relu3_1")
    ap.add_argument("--content-weight", type=float, default=1.0)
    ap.add_argument("--style-weight", type=float, default=1000.0)
    ap.add_argument("--tv-weight", type=float, default=10.0)
    ap.add_argument("--activation-shift", type=float, default=0.0)
    ap.add_argument("--layer-weights", default="uniform", choices=["uniform", "geometric"])
    ap.add_argument("--correlation-chain", action="store_true")
    ap.add_argument("--pooling", default="max", choices=["max", "avg"])
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--history", type=int, default=20)
    ap.add_argument("--line-search", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--height", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--optimizer", default="lbfgs", choices=["lbfgs", "adam"])
    ap.add_argument("--learning-rate", type=float, default=0.02)
    args = ap.parse_args()
    {"terms": cmd_terms, "lbfgs": cmd_lbfgs, "time": cmd_time, "matmul": cmd_matmul}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

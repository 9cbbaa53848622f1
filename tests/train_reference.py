"""One training step of a fast style in PyTorch, against the engine's
(tests/train_step.c): the same network (the engine's START file), the exact
objective of tests/reference.py per crop with the crop as the content
target, the batch's mean, one torch.optim.Adam step.

    train_reference.py WEIGHTS PAINTING.ppm DIR ENGINE_TERMS.json START CROP.ppm...

The truth is PyTorch in float64.  The loss must agree within 1e-4.  The
gradients of a ReLU network in float32 cannot: every ReLU input within
float32's error of 0 can land on either side, and one such element moves
a tensor's gradient by about 1/sqrt(its elements), so PyTorch's own float32
step is 1e-3 away from float64 (docs/training.md).  The gradient as a whole
is therefore held to 5x PyTorch float32's own error (or 1e-4, whichever
is larger: the ratio was 1.2 to 2.1 here, and another CPU's float32 rounds
otherwise), each tensor's to 10x (one flipped ReLU can dominate a small
tensor); the weights after
Adam likewise, over the elements whose gradient's sign is sure (Adam's
first step is about lr * sign(g)).  Tensors whose gradient
is zero in exact arithmetic (a convolution's bias before instance norm,
the residual blocks' second norm shift) are compared against the whole
gradient's scale, and their Adam updates (lr * sign of float noise) not
at all."""
import json
import sys

import torch

sys.path.insert(0, sys.path[0])
from fast_reference import TransformerNet, load_safetensors  # noqa: E402
from reference import Objective, Vgg, parse_layers, read_ppm  # noqa: E402

TOL = 1e-4


def step(dt, weights, painting, start, crops):
    """The gradients and the weights after one Adam step, in dtype dt."""
    vgg = Vgg(weights, dtype=dt)
    style = torch.tensor(read_ppm(painting), dtype=dt)
    net = TransformerNet().to(dt)
    net.load_state_dict({k: v.to(dt) for k, v in load_safetensors(start).items()})
    names = [n for n, _, _, _, _ in vgg.layers]
    # the engine's defaults for these layers (objective.c's ns_layers_default)
    last = max(b for _, b, _, _, _ in vgg.layers)
    cl = parse_layers("relu4_2" if "relu4_2" in names else f"relu{last}_2", vgg)
    sl = parse_layers(",".join(f"relu{b}_1" for b in range(1, last + 1)), vgg)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    total = 0
    for path in crops:
        x = torch.tensor(read_ppm(path), dtype=dt)
        obj = Objective(vgg, x, style, cl, sl, 1.0, 100.0, 10.0)
        u = net((255 * x).unsqueeze(0))[0] / 255
        total = total + obj.terms(u)[0] / len(crops)
    opt.zero_grad()
    total.backward()
    grads = {k: p.grad.detach().double().clone() for k, p in net.named_parameters()}
    opt.step()
    return float(total), grads, {k: p.detach().double() for k, p in net.named_parameters()}


def main():
    weights, painting, d, terms_path, start = sys.argv[1:6]
    crops = sys.argv[6:]
    torch.set_num_threads(2)
    loss, g64, w64 = step(torch.float64, weights, painting, start, crops)
    _, g32, w32 = step(torch.float32, weights, painting, start, crops)
    engine = json.load(open(terms_path))
    rel = abs(engine["loss"] - loss) / abs(loss)
    print(f"loss: engine {engine['loss']:.8g}, PyTorch float64 {loss:.8g} (relative {rel:.2g})")
    ok = rel <= TOL
    eg, ew = load_safetensors(d + "/grad.safetensors"), load_safetensors(d + "/after.safetensors")
    scale = max(float(g.norm()) for g in g64.values())
    worst, worst_w, sq = (0.0, 0.0, ""), 0.0, [0.0, 0.0, 0.0]
    for k, g in g64.items():
        zero = float(g.norm()) < 1e-6 * scale  # zero in exact arithmetic
        ref = scale if zero else float(g.norm())
        ours, theirs = float((eg[k].double() - g).norm()) / ref, float((g32[k] - g).norm()) / ref
        if ours > max(10 * theirs, TOL):
            print(f"  {k}: gradient {ours:.2g} from float64, PyTorch float32 {theirs:.2g}")
            ok = False
        sq[0] += float((eg[k].double().reshape(g.shape) - g).norm()) ** 2
        sq[1] += float((g32[k] - g).norm()) ** 2
        sq[2] += float(g.norm()) ** 2
        if ours / max(theirs, TOL) > worst[0]:
            worst = (ours / max(theirs, TOL), ours, k)
        if not zero:
            # Adam's first step is about lr * sign(g): an element whose
            # gradient is within its float32 error of 0 may step either way
            e = eg[k].double().reshape(g.shape)
            sure = g.abs() > 3 * (e - g).abs() + 1e-12
            n = float(w64[k].norm())
            ours = float(((ew[k].double().reshape(g.shape) - w64[k]) * sure).norm()) / n
            theirs = float(((w32[k] - w64[k]) * sure).norm()) / n
            if ours > max(10 * theirs, TOL):
                print(f"  {k}: weights after Adam {ours:.2g} from float64, PyTorch float32 {theirs:.2g}")
                ok = False
            worst_w = max(worst_w, ours)
    ours, theirs = (sq[0] / sq[2]) ** 0.5, (sq[1] / sq[2]) ** 0.5
    print(f"gradients, all tensors: engine {ours:.2g} from float64, PyTorch float32 {theirs:.2g}")
    print(f"gradients, per tensor: worst {worst[1]:.2g} from float64 ({worst[2]}), {worst[0]:.2f}x PyTorch float32's own")
    ok = ok and ours <= max(5 * theirs, TOL)
    print(f"weights after Adam: worst tensor {worst_w:.2g} from float64 where the gradient's sign is sure")
    print("one training step: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

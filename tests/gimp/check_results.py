#!/usr/bin/python3
"""Checks one GIMP batch run of run_gimp_tests.sh from its log and exported
images.  usage: check_results.py CASE DIR [args]"""
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference import abs_laplacian, read_ppm  # noqa: E402

case, d = sys.argv[1], sys.argv[2]
log = open(os.path.join(d, "log"), errors="replace").read()
facts = {}
for m in re.finditer(r"NSTEST (\S+) ([^\n]*)", log):
    facts[m.group(1)] = m.group(2).split()


def fail(msg):
    print("    " + msg)
    print("    --- log tail ---")
    for line in log.strip().splitlines()[-15:]:
        print("    | " + line)
    sys.exit(1)


def need(cond, msg):
    if not cond:
        fail(msg)


def failed_run():
    return re.search(r"execution error|Procedure execution of|failed|Error:", log) is not None


def image(name):
    return read_ppm(os.path.join(d, name + ".ppm"))


if case == "basic":
    need("new" in facts, "the plug-in did not return a layer")
    c, n = facts["content"], facts["new"]
    need(n[:4] == c[:4], "new layer size/offsets %s differ from the content's %s" % (n[:4], c[:4]))
    need(n[4] == c[4], "new layer at position %s, the content was at %s: not directly above" % (n[4], c[4]))
    need(facts["layers"][0] == "3", "expected 3 layers, found %s" % facts["layers"])
    need(" ".join(facts["name"]).startswith("Neural Style: autumn-oak"), "layer name %s" % facts["name"])
    need("inconsistent" not in log, "GIMP reported an inconsistent undo state")
    content, new, style = image("content"), image("new"), image("style")
    diff = np.abs(new - content).mean()
    mean = lambda a: a.reshape(3, -1).mean(1)
    before = np.linalg.norm(mean(content) - mean(style))
    after = np.linalg.norm(mean(new) - mean(style))
    print("    mean |new - content| = %.3f; distance to the style's mean colour %.3f -> %.3f" % (diff, before, after))
    need(diff > 0.04, "the new layer is too close to the content")
    need(after < 0.8 * before, "the colours did not move toward the style's")
elif case == "fast":
    # an unknown style: one sentence on how to install styles, no layer added
    need("install.sh --styles" in log, "an unknown style's error does not say how to install styles")
    need(facts.get("layers-after-error", ["?"])[0] == "1", "the failed call changed the layers: %s"
         % facts.get("layers-after-error"))
    need("new" in facts, "the plug-in did not return a layer")
    c, n = facts["content"], facts["new"]
    need(n[:4] == c[:4], "new layer size/offsets %s differ from the photo's %s" % (n[:4], c[:4]))
    need(int(n[4]) + 1 == int(c[4]), "new layer at position %s, the photo at %s: not directly above" % (n[4], c[4]))
    need(" ".join(facts["name"]).startswith("Neural Style (Fast): random test style"), "layer name %s" % facts["name"])
    need(facts["visible"][0] in ("1", "#t", "TRUE"), "the new layer is hidden")
    content, new = image("content"), image("new")
    inside = np.abs(new - content)[:, 80:280, 100:400].mean()
    outside = np.abs(new - content).copy()
    outside[:, 80:280, 100:400] = 0
    print("    through a 300 x 200 selection: mean |new - photo| %.3f inside, max %.4f outside"
          % (inside, outside.max()))
    need(inside > 0.04, "the selection was not restyled")
    need(outside.max() < 1e-6, "pixels outside the selection changed")
    # Train Neural Style from the script, its style applied
    need(facts.get("trained", [""])[0] == "script-oak", "training returned %s: %s"
         % (facts.get("trained"), re.findall(r"[^\n]*[Tt]rain[^\n]*", log)[-3:]))
    need(" ".join(facts.get("trained-layer", [])).startswith("Neural Style (Fast): script-oak"),
         "the trained style's layer is %s" % facts.get("trained-layer"))
    # the exact method's warm start from the installed style
    need("“no-such-style” is not installed" in log, "a warm start from a style not installed said: %s"
         % re.findall(r"[^\n]*no-such-style[^\n]*", log)[-1:])
    need(facts.get("layers-after-warm-error") == facts.get("layers-before-warm"),
         "the failed warm start changed the layers: %s" % facts.get("layers-after-warm-error"))
    warm_diff = np.abs(image("warm") - image("cold")).mean()
    print("    0 iterations from the fast style's result against from the photo: mean |diff| %.3f" % warm_diff)
    need(warm_diff > 0.04, "the warm start began at the photo")
elif case == "selection":
    need("new" in facts, "the plug-in did not return a layer")
    content, new = image("content"), image("new")
    inside = np.zeros(content.shape[1:], bool)
    inside[400:900, 600:1400] = True
    out_diff = np.abs(new - content)[:, ~inside].max()
    in_diff = np.abs(new - content)[:, inside].mean()
    print("    outside the selection max |diff| = %.4f, inside mean |diff| = %.3f" % (out_diff, in_diff))
    need(out_diff == 0, "pixels outside the selection changed")
    need(in_diff > 0.04, "the selection was not restyled")
elif case == "regions":
    # the left half after the oak; the second painting's region x0 x1 y0 y1
    # (GIMP 3: its layer mask, which covers only the painting's layer)
    need("new" in facts, "the plug-in did not return a layer: %s" % (re.findall(r"Error: [^\n]*", log)[:1]))
    x0, x1, y0, y1 = (int(v) for v in sys.argv[3:7])
    content, new, style, style2 = image("content"), image("new"), image("style"), image("style2")
    mean = lambda a: a.reshape(3, -1).mean(1)
    left = np.zeros(content.shape[1:], bool)
    left[:, :1024] = True
    right = np.zeros_like(left)
    right[y0:y1, x0:x1] = True
    outside = np.abs(new - content)[:, ~(left | right)].max()
    moved = []
    for where, painting in ((left, style), (right, style2)):
        before = np.linalg.norm(content[:, where].mean(1) - mean(painting))
        after = np.linalg.norm(new[:, where].mean(1) - mean(painting))
        moved.append((before, after))
    print("    outside every region: max |diff| = %.4f; left to the oak %.3f -> %.3f, the second region to "
          "the turned copy %.3f -> %.3f" % (outside, moved[0][0], moved[0][1], moved[1][0], moved[1][1]))
    need(outside == 0, "pixels outside every region changed")
    need(all(after < 0.8 * before for before, after in moved), "a region did not move toward its own painting")
elif case == "final":
    # sharpness: the mean absolute Laplacian of the luminance, against the photo's
    need("final" in facts, "Final returned no layer: %s" % (re.findall(r"Error: [^\n]*", log)[:1]))
    need(facts["final"][:4] == facts["content"][:4], "Final's layer %s is not the photo's %s"
         % (facts["final"][:4], facts["content"][:4]))
    photo, draft, final = (abs_laplacian(image(n)).mean() for n in ("content", "draft", "final"))
    print("    sharpness (mean |Laplacian|): photo %.4f, Draft enlarged %.4f (%.0f%%), Final %.4f (%.0f%%)"
          % (photo, draft, 100 * draft / photo, final, 100 * final / photo))
    need(final >= 0.8 * photo, "Final is softer than the photo")
    need(final >= 2 * draft, "Final is not clearly sharper than Draft enlarged")
elif case == "group-text":
    need("new" in facts, "the plug-in failed with a group as the photo and a text layer as the painting")
    g, n = facts["group"], facts["new"]
    need(n[:4] == g[:4], "the result %s does not cover the group %s" % (n[:4], g[:4]))
    need(int(n[4]) == int(g[4]) - 1, "the result is at position %s, the group at %s: not directly above"
         % (n[4], g[4]))
    need(facts["parent"][0] in ("-1", "#f", "()"), "the result is not beside the group: parent %s" % facts["parent"])
elif case == "gray":
    need("gray-type" in facts, "the plug-in failed on a grayscale image")
    need(facts["gray-type"][1] == "1", "the new layer is not grayscale: %s" % facts["gray-type"])
elif case == "float":
    need("precision" in facts, "the plug-in failed on a float image")
    build, weights = sys.argv[3], sys.argv[4]
    tif = os.path.join(d, "new-float.tif")
    ppm = os.path.join(d, "new16.ppm")
    # the command-line tool reads the TIFF through GEGL and writes a 16-bit PPM
    subprocess.run([build + "/neural-style", "--quiet", "--weights", weights, "--content", tif, "--style", tif,
                    "--output", ppm, "--size", "0", "--iterations", "0"], check=False)
    need(os.path.exists(ppm), "cannot read the exported float TIFF back")
    with open(ppm, "rb") as f:
        header = f.read(64)
    need(b"65535" in header, "the exported layer is not high bit depth")
    v = np.rint(read_ppm(ppm) * 65535).astype(np.int64)
    off_grid = (v % 257 != 0).mean()
    print("    %.0f%% of the new layer's values lie between 8-bit levels" % (100 * off_grid))
    need(off_grid > 0.5, "the result was crushed to 8 bits")
elif case == "error":
    kind, needle = sys.argv[3], sys.argv[4]
    need("new" not in facts, "an error case returned a layer")
    need(failed_run(), "the run did not report a failure")
    # Script-Fu names the status: "failed on invalid input arguments" for a
    # calling error, plain "failed:" for an execution error
    if kind == "calling":
        need("plug-in-neural-style failed on invalid input arguments" in log, "not a calling error")
    else:
        need("Procedure execution of plug-in-neural-style failed: " in log, "not an execution error")
    need(needle in log, "the message does not say '%s'" % needle)
    if len(sys.argv) > 5 and sys.argv[5] == "same-layers":
        need("layers-before" in facts and "layers-after" in facts, "the layer counts were not reported")
        need(facts["layers-before"] == facts["layers-after"], "the failed run changed the image's layers")
elif case == "dialog":
    answer = sys.argv[3]
    need("layers-before" in facts and "layers-after" in facts, "the script did not finish")
    before, after = int(facts["layers-before"][0]), int(facts["layers-after"][0])
    want = before + 1 if answer == "ok" else before
    need(after == want, "%d layers after answering %s, expected %d" % (after, answer, want))
    # Known and harmless under GIMP 3: gimp-console has no window for the
    # dialog to be transient for, and GimpConfig cannot store a layer among
    # the last values (GIMP stores none).  Anything else is the plug-in's.
    known = ("Broken pipe", "gimp_window_transient_on_mapped", "couldn't serialize property")
    noise = [l for l in log.splitlines() if re.search(r"\(neural-style:|Procedure 'plug-in-neural-style'", l)
             and re.search(r"WARNING|CRITICAL|duplicate mnemonic", l) and not any(k in l for k in known)]
    need(not noise, "the plug-in printed GTK/GLib warnings: %s" % noise[:3])
else:
    fail("unknown case " + case)

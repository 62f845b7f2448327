#!/usr/bin/python3
"""Hostile and broken inputs for the command-line tests, derived from the fixture's
r18.safetensors and input64.npy (run after make_fixture.py), written into the same
folder:
  r18-3classes.safetensors  fc cut to 3 classes (a valid model: no -k needed)
  r18-nan / -inf / -negvar  NaN in a BatchNorm weight, +inf in conv1.weight, a
                            negative running_var: weights to refuse, naming the tensor
  r18-hostile-meta          a "seed" that clears the screen and forges a clresnet line
  r18-hostile-name          an extra tensor whose name does the same
  x2.npy, x5.npy            2-D and 5-D inputs
  nan.npy                   two 64x64 inputs, the second holding a NaN
  esc-\x1b[31mred\xff.npy    input64.npy under a name with ESC and an invalid UTF-8 byte
  fifo                      a FIFO (given as weights or input, it must not hang)
Exits 77 (skip) without numpy."""
import json
import os
import struct
import sys

try:
    import numpy as np
except ImportError:
    sys.exit(77)

HOSTILE = "1\x1b[2J\x1b[31mPWNED\nclresnet: all good"
ESC_INPUT = b"esc-\x1b[31mred\xff.npy"


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        tensors[name] = (e["dtype"], e["shape"], bytearray(raw[base + b:base + end]))
    return meta, tensors


def save(path, meta, tensors):
    header, data, offset = {"__metadata__": meta}, b"", 0
    for name, (dtype, shape, blob) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        data += bytes(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def set_float(tensors, name, index, value):
    struct.pack_into("<f", tensors[name][2], 4 * index, value)


def main():
    out = sys.argv[1]
    src = os.path.join(out, "r18.safetensors")
    meta, tensors = load(src)

    def variant(suffix, change, new_meta=None):
        m, t = load(src)
        change(t)
        save(os.path.join(out, f"r18-{suffix}.safetensors"), new_meta or m, t)

    def three_classes(t):
        dtype, shape, blob = t["fc.weight"]
        t["fc.weight"] = (dtype, [3, shape[1]], blob[:3 * shape[1] * 4])
        t["fc.bias"] = (dtype, [3], t["fc.bias"][2][:12])

    # The class names of the 1000 classes go with them (a 3-class model has none).
    names_gone = {k: v for k, v in meta.items() if k != "categories"}
    variant("3classes", three_classes, dict(names_gone, num_classes="3"))
    variant("nan", lambda t: set_float(t, "layer1.0.bn1.weight", 7, float("nan")))
    variant("inf", lambda t: set_float(t, "conv1.weight", 11, float("inf")))
    variant("negvar", lambda t: set_float(t, "layer2.0.bn2.running_var", 3, -0.5))
    variant("hostile-meta", lambda t: None, dict(meta, source="seed", seed=HOSTILE))

    def extra(t):
        t[HOSTILE + "\x9b2J\u202e"] = ("F32", [1], bytearray(4))

    variant("hostile-name", extra)

    np.save(os.path.join(out, "x2.npy"), np.zeros((3, 4), np.float32))
    np.save(os.path.join(out, "x5.npy"), np.zeros((1, 1, 3, 4, 4), np.float32))
    x = np.load(os.path.join(out, "input64.npy"))
    x[1, 0, 5, 5] = np.nan
    np.save(os.path.join(out, "nan.npy"), x)
    x[1, 0, 5, 5] = 0
    with open(os.path.join(os.fsencode(out), ESC_INPUT), "wb") as f:
        np.save(f, x)
    fifo = os.path.join(out, "fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)


if __name__ == "__main__":
    main()

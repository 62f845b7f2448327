#!/usr/bin/python3
"""What the README says about weights without internet holds.

  offline_weights.py EXPORT_SCRIPT README

- The README gives the URL of each architecture's DEFAULT torchvision weights, as
  torchvision itself names them.
- A .pth copied into torch's hub cache folder ($TORCH_HOME/hub/checkpoints) under
  that URL's file name is what `--pretrained` exports: no download is tried (the
  file here is a stand-in with seeded weights, and its tensors come out unchanged).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch
import torchvision


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def main():
    script, readme = sys.argv[1:3]
    text = open(readme).read()
    for name in ("ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152"):
        url = getattr(torchvision.models, f"{name}_Weights").DEFAULT.url
        if url not in text:
            fail(f"README lacks {url}")
    url = torchvision.models.ResNet18_Weights.DEFAULT.url
    with tempfile.TemporaryDirectory() as home:
        checkpoints = os.path.join(home, "hub", "checkpoints")
        os.makedirs(checkpoints)
        torch.manual_seed(5)
        state = torchvision.models.resnet18().state_dict()
        torch.save(state, os.path.join(checkpoints, os.path.basename(url)))
        out = os.path.join(home, "r18.safetensors")
        env = dict(os.environ, TORCH_HOME=home, http_proxy="http://127.0.0.1:9",
                   https_proxy="http://127.0.0.1:9")  # any download would fail
        result = subprocess.run([sys.executable, script, "--arch", "resnet18", "--pretrained",
                                 "-o", out], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            fail(f"export: exit {result.returncode}: {result.stderr.strip()}")
        with open(out, "rb") as f:
            length = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(length))
            body = f.read()
        entry = header["fc.weight"]
        begin, end = entry["data_offsets"]
        if body[begin:end] != state["fc.weight"].numpy().tobytes():
            fail("fc.weight is not the copied file's")
    print("PASS")


if __name__ == "__main__":
    main()

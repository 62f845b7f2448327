#!/usr/bin/python3
"""Test data for the command-line tests: resnet18 weights (seeded, 1000 classes)
and a .npy batch of two 64x64 inputs, written into the folder given. Exits 77 (the
CTest skip code) without torchvision."""
import os
import subprocess
import sys

try:
    import numpy as np
    import torch  # noqa: F401  (the export tool needs it)
except ImportError as error:
    print(f"make_fixture.py: torchvision is not installed ({error}); skipping", file=sys.stderr)
    sys.exit(77)

out = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.makedirs(out, exist_ok=True)
subprocess.run([sys.executable, os.path.join(root, "tools", "export_torchvision.py"),
                "--arch", "resnet18", "--seed", "3", "-o", os.path.join(out, "r18.safetensors")],
               check=True)
rng = np.random.default_rng(3)
np.save(os.path.join(out, "input64.npy"), rng.standard_normal((2, 3, 64, 64)).astype(np.float32))
np.save(os.path.join(out, "input32.npy"), rng.standard_normal((1, 3, 32, 32)).astype(np.float32))
np.save(os.path.join(out, "double.npy"), rng.standard_normal((1, 3, 8, 8)))

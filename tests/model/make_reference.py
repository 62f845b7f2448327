#!/usr/bin/python3
"""Writes torchvision reference data for one ResNet depth into a folder:

  weights.safetensors   seeded random weights with non-trivial BatchNorm statistics
                        (tools/export_torchvision.py --seed)
  input_224.npy         2 inputs at 224x224: a photo preprocessed by torchvision and noise
  logits_224.npy        torchvision's logits for them (eval mode, float32)
  input_odd.npy         2 inputs at an odd size (99x117): the photo resized by torchvision
                        and noise
  logits_odd.npy        torchvision's logits for them
  logits64_*.npy        the same logits computed in float64, the exact answer to within
                        float64 rounding (the tests measure both float32 errors against it)

Run with Debian's interpreter (/usr/bin/python3), which has torchvision. Exits 77
(the CTest skip code) when torchvision is not installed.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXPORT = os.path.join(ROOT, "tools", "export_torchvision.py")
ODD = (99, 117)
SEEDS = {"resnet18": 18, "resnet34": 34, "resnet50": 50, "resnet101": 101, "resnet152": 152}

try:
    import numpy as np
    import torch
    from PIL import Image
    from torchvision import transforms
except ImportError as error:  # pragma: no cover
    print(f"make_reference.py: torchvision is not installed ({error}); skipping", file=sys.stderr)
    sys.exit(77)


def export(*args):
    subprocess.run([sys.executable, EXPORT, *args], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, choices=sorted(SEEDS))
    parser.add_argument("--out", required=True, help="folder to write into")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    weights = os.path.join(args.out, "weights.safetensors")
    export("--arch", args.arch, "--seed", str(SEEDS[args.arch]), "-o", weights)

    generator = torch.Generator().manual_seed(SEEDS[args.arch])
    preprocess = transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    image = Image.open(os.path.join(ROOT, "data", "dog.jpg")).convert("RGB")
    photo = preprocess(image)
    small = transforms.Compose([
        transforms.Resize(ODD), transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])(image)
    inputs = {
        "224": torch.cat([photo.unsqueeze(0), torch.randn((1, 3, 224, 224), generator=generator)]),
        "odd": torch.cat([small.unsqueeze(0), torch.randn((1, 3) + ODD, generator=generator)]),
    }
    for name, tensor in inputs.items():
        path = os.path.join(args.out, f"input_{name}.npy")
        np.save(path, tensor.numpy().astype(np.float32))
        export("--arch", args.arch, "--weights", weights, "--reference", path,
               "--logits", os.path.join(args.out, f"logits_{name}.npy"))
        export("--arch", args.arch, "--weights", weights, "--reference", path, "--precision",
               "f64", "--logits", os.path.join(args.out, f"logits64_{name}.npy"))


if __name__ == "__main__":
    main()

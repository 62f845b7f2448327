#!/usr/bin/python3
"""Writes torchvision reference data for one network of torchvision's resnet.py
into a folder, for two input sizes per network (CASES: 224x224 and the odd 99x117;
the three largest, the 101-layer ResNeXts and Wide ResNet, at 64x80 and the odd
67x83 to keep the tests' time in check, as any network with --small):

  weights.safetensors   seeded random weights with non-trivial BatchNorm statistics
                        (tools/export_torchvision.py --seed)
  input_NAME.npy        2 inputs of a case: a photo preprocessed by torchvision (224:
                        resized and centre-cropped; other sizes: resized) and noise
  logits_NAME.npy       torchvision's logits for them (eval mode, float32)
  logits64_NAME.npy     the same logits computed in float64, the exact answer to within
                        float64 rounding (the tests measure both float32 errors against it)
  cases.txt             one line per case, "NAME HEIGHT WIDTH", written last

The weights are written by the export tool run as a program; the reference logits by
its functions in this process, with the model read back from that file once for all
four runs (importing torch and building a large model dominate the test's time).

Run with Debian's interpreter (/usr/bin/python3), which has torchvision. Exits 77
(the CTest skip code) when torchvision is not installed.
"""
import argparse
import importlib.util
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXPORT = os.path.join(ROOT, "tools", "export_torchvision.py")
SEEDS = {"resnet18": 18, "resnet34": 34, "resnet50": 50, "resnet101": 101, "resnet152": 152,
         "resnext50_32x4d": 5032, "resnext101_32x8d": 10132, "resnext101_64x4d": 10164,
         "wide_resnet50_2": 502, "wide_resnet101_2": 1012}
# name -> (height, width) of the two cases; "224" is the photo centre-cropped.
FULL = {"224": (224, 224), "odd": (99, 117)}
SMALL = {"small": (64, 80), "odd": (67, 83)}
CASES = {arch: SMALL if arch in ("resnext101_32x8d", "resnext101_64x4d", "wide_resnet101_2")
         else FULL for arch in SEEDS}

try:
    import numpy as np
    import torch
    import torchvision
    from PIL import Image
    from torchvision import transforms
except ImportError as error:  # pragma: no cover
    print(f"make_reference.py: torchvision is not installed ({error}); skipping", file=sys.stderr)
    sys.exit(77)


def export(*args):
    subprocess.run([sys.executable, EXPORT, *args], check=True)


def exporter():
    """tools/export_torchvision.py as a module, with the libraries its main() imports."""
    spec = importlib.util.spec_from_file_location("export_torchvision", EXPORT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.np, module.torch, module.torchvision = np, torch, torchvision
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, choices=sorted(SEEDS))
    parser.add_argument("--out", required=True, help="folder to write into")
    parser.add_argument("--small", action="store_true",
                        help="the small cases (64x80 and the odd 67x83) for any network")
    args = parser.parse_args()
    cases = SMALL if args.small else CASES[args.arch]
    os.makedirs(args.out, exist_ok=True)
    weights = os.path.join(args.out, "weights.safetensors")
    export("--arch", args.arch, "--seed", str(SEEDS[args.arch]), "-o", weights)

    tool = exporter()
    _, tensors = tool.read_safetensors(weights)
    model = tool.checked_model(tensors, args.arch, tensors["fc.weight"].shape[0], weights)
    write_cases(tool, model, CASES[args.arch], SEEDS[args.arch], args.out)


def write_cases(tool, model, cases, seed, out):
    """Writes each case's inputs (a photo and seeded noise), the model's float32 and
    float64 logits for them, then cases.txt (also used by onnx_reference.py)."""
    generator = torch.Generator().manual_seed(seed)
    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    image = Image.open(os.path.join(ROOT, "data", "dog.jpg")).convert("RGB")
    lines, runs = [], []
    for name, size in cases.items():
        resize = [transforms.Resize(256), transforms.CenterCrop(224)] if name == "224" else \
            [transforms.Resize(size)]
        photo = transforms.Compose(resize + [transforms.ToTensor(), normalize])(image)
        tensor = torch.cat([photo.unsqueeze(0), torch.randn((1, 3) + size, generator=generator)])
        path = os.path.join(out, f"input_{name}.npy")
        np.save(path, tensor.numpy().astype(np.float32))
        runs.append((path, os.path.join(out, f"logits_{name}.npy"), "f32"))
        runs.append((path, os.path.join(out, f"logits64_{name}.npy"), "f64"))
        lines.append(f"{name} {size[0]} {size[1]}\n")
    # float32 first: the float64 runs convert the model in place.
    for path, logits, precision in sorted(runs, key=lambda run: run[2]):
        tool.write_logits(model, path, logits, precision)
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.writelines(lines)

if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes the reference data of an ONNX network test into a folder, in the layout
make_reference.py uses (input_NAME.npy, logits_NAME.npy, logits64_NAME.npy and
cases.txt, written last) with the weights as model.onnx: torchvision's model with
seeded weights and non-trivial BatchNorm statistics (tools/export_torchvision.py's
seeded_state), exported by torch.onnx.export at the given opset with dynamic batch,
height and width, so one file serves both cases (224x224 and the odd 99x117).

Modes:
  folded     torch.onnx.export in eval mode, which folds every BatchNorm into its
             convolution (Conv nodes with a bias, no BatchNormalization nodes) and
             writes fc as Gemm.
  batchnorm  BatchNormalization nodes kept (training=TrainingMode.PRESERVE on the
             eval-mode model), every BatchNorm epsilon set to 1e-3 (read from the
             node attribute), and fc computed as x @ W.t() + b, which torch.onnx
             writes as MatMul (with W stored [in, out]) and Add.

The logits are torchvision's, computed on the very model exported.
Run with Debian's interpreter (/usr/bin/python3). Exits 77 (the CTest skip code)
when torch, torchvision or onnx is missing.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference  # noqa: E402  (exits 77 without torchvision)

SEEDS = {"resnet18": 1118, "resnet50": 1150, "resnext50_32x4d": 115032}
CASES = {"224": (224, 224), "odd": (99, 117)}

try:
    import onnx
    import torch
except ImportError as error:  # pragma: no cover
    print(f"onnx_reference.py: {error}; skipping", file=sys.stderr)
    sys.exit(77)


class MatMulLinear(torch.nn.Module):
    """nn.Linear's arithmetic written so torch.onnx exports MatMul + Add."""

    def __init__(self, linear):
        super().__init__()
        self.weight, self.bias = linear.weight, linear.bias

    def forward(self, x):
        return torch.matmul(x, self.weight.t()) + self.bias


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, choices=sorted(SEEDS))
    parser.add_argument("--opset", type=int, required=True)
    parser.add_argument("--mode", choices=["folded", "batchnorm"], default="folded")
    parser.add_argument("--out", required=True, help="folder to write into")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tool = make_reference.exporter()
    seed = SEEDS[args.arch] + args.opset
    state = tool.seeded_state(args.arch, 1000, seed)
    model = tool.checked_model(state, args.arch, 1000, "seeded weights")
    kwargs = {}
    if args.mode == "batchnorm":
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.eps = 1e-3
        model.fc = MatMulLinear(model.fc)
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    model.eval()
    path = os.path.join(args.out, "model.onnx")
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=args.opset,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "logits": {0: "n"}},
                      **kwargs)
    ops = {node.op_type for node in onnx.load(path).graph.node}
    want = {"BatchNormalization", "MatMul"} if args.mode == "batchnorm" else {"Gemm"}
    if not want <= ops or (args.mode == "folded") == ("BatchNormalization" in ops):
        sys.exit(f"onnx_reference.py: the export holds {sorted(ops)}, not what mode "
                 f"{args.mode} needs")

    make_reference.write_cases(tool, model, CASES, seed, args.out)


if __name__ == "__main__":
    main()

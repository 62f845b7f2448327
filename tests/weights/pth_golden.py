#!/usr/bin/python3
"""Golden test of the .pth reader against torch.save itself: seeded resnet18 weights
(tools/export_torchvision.py's seeded_state, 10 classes) are written as safetensors
(float32, float16, bfloat16) and with torch.save in every form the reader takes:
the zip format, the legacy format (_use_new_zipfile_serialization=False), a
training checkpoint {"state_dict": {"module." + name: ...}, "optimizer": ...} in
both, float16 and bfloat16 state_dicts, and a strided one (conv weights in
channels-last strides, fc.weight transposed, each BatchNorm's four vectors at
offsets of one shared storage) in both formats. clresnet's logits from each .pth
must be bit-identical to those from the safetensors file of the same values, and
bench -w must take a .pth. Usage: pth_golden.py CLRESNET WORKDIR (exit 77 without
torch or without an OpenCL device)."""
import collections
import importlib.util
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as error:
    print(f"pth_golden.py: torch is missing ({error}); skipping", file=sys.stderr)
    sys.exit(77)

CLI, WORK = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "export_torchvision", os.path.join(ROOT, "tools", "export_torchvision.py"))
ex = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ex)
ex.np, ex.torch, ex.torchvision = np, torch, torchvision


def path(name):
    return os.path.join(WORK, name)


def clresnet(*args):
    r = subprocess.run([CLI, *args], capture_output=True, text=True)
    if r.returncode != 0 and "no OpenCL platform" in r.stderr:
        print("pth_golden.py: no OpenCL device; skipping", file=sys.stderr)
        sys.exit(77)
    if r.returncode != 0:
        sys.exit(f"FAIL: clresnet {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def logits(weights):
    out = weights + ".logits.npy"
    clresnet("run", "-q", "-w", weights, "-o", out, path("input.npy"))
    with open(out, "rb") as f:
        return f.read()


def strided(sd):
    """The same values with other strides and storage offsets."""
    out = collections.OrderedDict()
    for name, t in sd.items():
        if t.dim() == 4:
            out[name] = t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        elif name == "fc.weight":
            out[name] = t.t().contiguous().t()
        elif name.endswith(".weight") and name[:-7] + ".running_var" in sd:
            prefix, c = name[:-7], t.numel()
            shared = torch.cat([sd[prefix + s] for s in (".weight", ".bias", ".running_mean",
                                                         ".running_var")])
            for i, s in enumerate((".weight", ".bias", ".running_mean", ".running_var")):
                out[prefix + s] = shared[i * c:(i + 1) * c]
        elif name not in out:
            out[name] = t
    assert not out["conv1.weight"].is_contiguous() and not out["fc.weight"].is_contiguous()
    assert out["bn1.bias"].storage_offset() > 0
    return collections.OrderedDict((k, out[k]) for k in sd)


def checkpoint(sd):
    """A training checkpoint: DataParallel names, an optimizer with momentum buffers."""
    model = ex.build("resnet18", 10)
    model.load_state_dict(sd)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    optimizer.step()  # after sd was cloned: the checkpoint's state_dict is the original
    return {"epoch": 90, "arch": "resnet18", "best_acc1": torch.tensor(71.5),
            "state_dict": collections.OrderedDict((f"module.{k}", v) for k, v in sd.items()),
            "optimizer": optimizer.state_dict()}


def main():
    os.makedirs(WORK, exist_ok=True)
    sd = ex.seeded_state("resnet18", 10, 11)
    sd = collections.OrderedDict((k, v.clone()) for k, v in sd.items())
    np.save(path("input.npy"),
            np.random.default_rng(11).standard_normal((2, 3, 32, 32)).astype(np.float32))
    half = {"f16": torch.float16, "bf16": torch.bfloat16}
    cases = [("f32", "zip", "state_dict", sd), ("f32", "legacy", "state_dict", sd),
             ("f32", "zip", "checkpoint", checkpoint(sd)),
             ("f32", "legacy", "checkpoint", checkpoint(sd)),
             ("f32", "zip", "strided", strided(sd)), ("f32", "legacy", "strided", strided(sd))]
    for dtype, torch_dtype in half.items():
        cast = collections.OrderedDict(
            (k, v.to(torch_dtype) if v.is_floating_point() else v) for k, v in sd.items())
        cases.append((dtype, "zip", "state_dict", cast))
    references = {}
    for dtype in ("f32", *half):
        ex.write_safetensors(path(f"r18-{dtype}.safetensors"), sd, dtype, {"arch": "resnet18"})
        references[dtype] = logits(path(f"r18-{dtype}.safetensors"))
        os.remove(path(f"r18-{dtype}.safetensors"))
    failed = 0
    for i, (dtype, form, kind, obj) in enumerate(cases):
        name = path(f"case{i}-{dtype}-{form}.pth")
        torch.save(obj, name, _use_new_zipfile_serialization=form == "zip")
        same = logits(name) == references[dtype]
        what = f"{dtype} {form} {kind}"
        print(f"{'ok  ' if same else 'FAIL'} {what}: logits {'bit-identical' if same else 'differ'}")
        failed += not same
        if i == 0:
            clresnet("bench", "-q", "-w", name, "-H", "32", "-W", "32", "-b", "1", "-n", "1",
                     "--warmup", "0")
            print("ok   bench -w takes a .pth")
        os.remove(name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

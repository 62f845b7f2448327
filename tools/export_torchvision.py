#!/usr/bin/python3
"""Writes torchvision ResNet weights as safetensors for clresnet, and computes
reference logits with torchvision itself, the judge of clresnet's network tests.

Weights come from one of three places: torchvision's official pretrained weights
(--pretrained), torchvision's own initialisation under a seed with randomised
BatchNorm statistics (--seed, for tests), or a torchvision state_dict saved with
torch.save (--from-pth). The safetensors file is written here without the
safetensors package: an 8-byte little-endian header length, a compact JSON header
whose "__metadata__" says where the weights came from, spaces up to a multiple of
8 bytes, then the tensors back to back. As in the reference writer, tensors are
ordered by descending dtype alignment, then by name, so every tensor starts at a
multiple of its element size. Files are written to a temporary file and renamed.

Runs under Debian's Python (/usr/bin/python3), which has torch and torchvision.
Exit status: 0 success, 1 failure (one line on stderr), 2 usage error.
"""
import argparse
import contextlib
import io
import json
import os
import struct
import sys
import tempfile

# numpy, torch and torchvision are imported by main() once the arguments are
# checked, so --help and usage errors answer at once.
np = torch = torchvision = None

# The name it was run by: clresnet-export once installed, export_torchvision.py here.
PROG = os.path.basename(sys.argv[0]) or "export_torchvision.py"

# arch -> (block type, blocks per stage, torchvision weights enum)
ARCHS = {
    "resnet18": ("basic", [2, 2, 2, 2], "ResNet18_Weights"),
    "resnet34": ("basic", [3, 4, 6, 3], "ResNet34_Weights"),
    "resnet50": ("bottleneck", [3, 4, 6, 3], "ResNet50_Weights"),
    "resnet101": ("bottleneck", [3, 4, 23, 3], "ResNet101_Weights"),
    "resnet152": ("bottleneck", [3, 8, 36, 3], "ResNet152_Weights"),
}
DTYPES = ["f32", "f16", "bf16"]

# safetensors dtypes in the reference's order (increasing alignment) and numpy forms.
ST_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32",
            "U32", "F32", "F64", "I64", "U64"]
TORCH_TO_ST = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64",
               "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8",
               "bool": "BOOL"}
ST_TO_NUMPY = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4",
               "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}

# Seeded weights: BatchNorm statistics are first measured on a calibration batch of
# N(0, 1) images, then perturbed. Eval-mode BatchNorm with arbitrary statistics does
# not normalise, and the residual sums then grow exponentially with depth (logits
# of 1e7 for resnet152); measured statistics keep every depth's logits near 1.
CALIBRATION_BATCH = 2
CALIBRATION_SIZE = 128

EXAMPLES = """examples:
  # seeded random weights for tests, and torchvision's logits for an input
  /usr/bin/python3 tools/export_torchvision.py --arch resnet18 --seed 1 -o r18.safetensors \\
      --reference input.npy --logits r18-logits.npy
  # torchvision's official weights (downloaded, or taken from the torch hub cache)
  /usr/bin/python3 tools/export_torchvision.py --arch resnet50 --pretrained -o r50.safetensors
  # the same in half precision; without a network, fall back to seeded weights
  /usr/bin/python3 tools/export_torchvision.py --arch resnet50 --pretrained --allow-random \\
      --dtype f16 -o r50-f16.safetensors
  # convert a state_dict saved with torch.save (the architecture is recognised)
  /usr/bin/python3 tools/export_torchvision.py --from-pth model.pth -o model.safetensors
  # reference logits for weights already written, computed in float64
  /usr/bin/python3 tools/export_torchvision.py --weights r18.safetensors \\
      --reference input.npy --logits ref.npy --precision f64

The input .npy is float32, shaped (N, 3, H, W) or (3, H, W), already normalised
as torchvision expects; the logits .npy is float32, shaped (N, classes). The
header's __metadata__ holds arch, num_classes, dtype, source ("seed",
"pretrained" or "pth"), seed, and "fallback" when --allow-random was used. With
--pretrained it also holds how photos are preprocessed for those weights and the
names of their classes, from torchvision's weights.transforms() and weights.meta:
resize, crop, interpolation ("bilinear"), mean and std (JSON lists) and categories
(a JSON list of names); clresnet run uses them. With --seed: the classic ImageNet
transform (resize 256, crop 224), and ImageNet's class names for 1000 classes.
--from-pth stores neither: run then uses the classic transform."""


class Failure(Exception):
    """A runtime failure: printed as one line, exit status 1."""


class DownloadFailed(Failure):
    """torchvision's pretrained weights could not be fetched."""


def arch_name(text):
    name = text if text.startswith("resnet") else "resnet" + text
    if name not in ARCHS:
        raise argparse.ArgumentTypeError(
            f"unknown architecture {text!r} (choose from {', '.join(ARCHS)})")
    return name


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split("\n\n")[0],
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("where the weights come from (one of)")
    src.add_argument("--seed", type=int, metavar="N",
                     help="torchvision's initialisation under torch.manual_seed(N), with "
                          "randomised BatchNorm statistics and affine parameters")
    src.add_argument("--pretrained", nargs="?", const="DEFAULT", metavar="TAG",
                     help="torchvision's official weights (TAG: DEFAULT, IMAGENET1K_V1, "
                          "IMAGENET1K_V2; default DEFAULT)")
    src.add_argument("--from-pth", metavar="FILE",
                     help="a torchvision ResNet state_dict saved with torch.save")
    src.add_argument("--weights", metavar="FILE",
                     help="an existing safetensors file (only with --reference)")
    p.add_argument("--arch", type=arch_name, metavar="ARCH",
                   help="resnet18, resnet34, resnet50, resnet101 or resnet152 (or 18, ...)")
    p.add_argument("--allow-random", action="store_true",
                   help="with --pretrained: when the download fails, write seeded random "
                        "weights instead (--seed, default 0) and say so")
    p.add_argument("--dtype", choices=DTYPES, default="f32",
                   help="dtype of the floating-point tensors (default f32)")
    p.add_argument("--num-classes", type=int, metavar="N",
                   help="classes of the final layer (default 1000)")
    p.add_argument("-o", "--output", metavar="OUT.safetensors", help="the file to write")
    ref = p.add_argument_group("reference logits")
    ref.add_argument("--reference", metavar="INPUT.npy",
                     help="run torchvision's model (eval mode) on this input, with the "
                          "weights just written or given with --weights")
    ref.add_argument("--logits", metavar="OUT.npy", help="where the float32 logits go")
    ref.add_argument("--precision", choices=["f32", "f64"], default="f32",
                     help="arithmetic of the reference run (default f32; f64 gives a "
                          "tighter judge)")
    args = p.parse_args(argv)

    sources = [s for s in ("pretrained", "from_pth", "weights") if getattr(args, s) is not None]
    if args.seed is not None and args.pretrained is None:
        sources.append("seed")
    if len(sources) != 1:
        p.error("give exactly one of --seed, --pretrained, --from-pth, --weights")
    if args.seed is not None and args.seed < 0:
        p.error("--seed must be non-negative")
    if (args.reference is None) != (args.logits is None):
        p.error("--reference and --logits go together")
    if args.weights is not None:
        if args.reference is None:
            p.error("--weights is only for --reference")
        if args.output is not None:
            p.error("--weights reads a file; -o writes one: give one of them")
    elif args.output is None:
        p.error("-o OUT.safetensors is required")
    if args.allow_random and args.pretrained is None:
        p.error("--allow-random goes with --pretrained")
    if sources[0] in ("seed", "pretrained") and args.arch is None:
        p.error("--arch is required with --seed and --pretrained")
    if args.num_classes is not None and args.num_classes < 1:
        p.error("--num-classes must be positive")
    if args.pretrained is not None and args.num_classes not in (None, 1000):
        p.error("torchvision's pretrained weights have 1000 classes")
    return args


# ---- models and state dicts -------------------------------------------------------

def build(arch, num_classes):
    return getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)


def randomize_batchnorm(model, generator):
    """Gives every BatchNorm non-trivial parameters: weight ~ U(0.5, 1.5),
    bias ~ N(0, 0.1), then statistics measured on a calibration batch (train mode,
    cumulative average) and perturbed: mean += N(0, 0.1) * std, var *= U(0.5, 2)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5, generator=generator)
            bn.bias.normal_(0.0, 0.1, generator=generator)
            bn.reset_running_stats()
            bn.momentum = None  # a cumulative average: after one batch, its statistics
        model.train()
        model(torch.randn(CALIBRATION_BATCH, 3, CALIBRATION_SIZE, CALIBRATION_SIZE,
                          generator=generator))
        for bn in norms:
            c = bn.num_features
            bn.running_mean.add_(torch.randn(c, generator=generator) * 0.1 *
                                 bn.running_var.sqrt())
            bn.running_var.mul_(torch.empty(c).uniform_(0.5, 2.0, generator=generator))
            bn.momentum = 0.1
    model.eval()


def seeded_state(arch, num_classes, seed):
    torch.manual_seed(seed)
    model = build(arch, num_classes)  # torchvision's own initialisation
    randomize_batchnorm(model, torch.Generator().manual_seed(seed))
    return model.state_dict()


def pretrained_state(arch, tag):
    enum = getattr(torchvision.models, ARCHS[arch][2])
    try:
        weights = enum[tag]
    except KeyError:
        raise Failure(f"{arch} has no pretrained weights {tag!r} (choose from DEFAULT, "
                      f"{', '.join(w.name for w in enum)})")
    try:
        # torch.hub writes a "Downloading" line of its own: keep the output to one line.
        with contextlib.redirect_stderr(io.StringIO()):
            state = weights.get_state_dict(progress=False)
    except Exception as e:  # URLError, HTTPError, timeouts, a bad cached file ...
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DownloadFailed(f"cannot download torchvision's {arch} weights "
                             f"({weights}): {reason}")
    return state, weights


def usage_meta(weights, num_classes):
    """Metadata telling clresnet run how to preprocess photos and name the classes:
    resize, crop, interpolation, mean and std from weights.transforms() and the
    category names from weights.meta (all strings; lists JSON-encoded). For seeded
    weights (weights None): torchvision's classic ImageNet transform, and ImageNet's
    names only when there are 1000 classes (any other count gets no names)."""
    if weights is None:
        imagenet = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
        transform = imagenet.transforms(resize_size=256)  # the classic 256/224 transform
        categories = imagenet.meta["categories"] if num_classes == 1000 else None
    else:
        transform = weights.transforms()
        categories = weights.meta["categories"]
    resize, crop = transform.resize_size, transform.crop_size
    if len(resize) != 1 or len(crop) != 1:
        raise Failure(f"{weights}: transforms() resizes to {resize}, crops {crop}; clresnet "
                      "needs one number for each")
    meta = {"resize": str(resize[0]), "crop": str(crop[0]),
            "interpolation": transform.interpolation.value,
            "mean": json.dumps([float(v) for v in transform.mean]),
            "std": json.dumps([float(v) for v in transform.std])}
    if categories is not None:
        if len(categories) != num_classes:
            raise Failure(f"{weights}: {len(categories)} category names for {num_classes} classes")
        meta["categories"] = json.dumps(list(categories), ensure_ascii=False)
    return meta


def infer_arch(state, what):
    """The ResNet depth whose layout the state_dict keys have."""
    kind = "bottleneck" if "layer1.0.conv3.weight" in state else "basic"
    counts = []
    for stage in range(1, 5):
        blocks = {int(k.split(".")[1]) for k in state if k.startswith(f"layer{stage}.")}
        counts.append(len(blocks))
    for arch, (k, layers, _) in ARCHS.items():
        if k == kind and layers == counts:
            return arch
    raise Failure(f"{what} is not a torchvision ResNet state_dict ({kind} blocks {counts})")


def pth_state(path):
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        reason = str(e).strip() or type(e).__name__
        reason = reason.split("WeightsUnpickler error: ")[-1].splitlines()[-1][:160]
        raise Failure(f"{path}: cannot read it as a state_dict saved with torch.save "
                      f"({reason})")
    for key in ("state_dict", "model"):  # common training-checkpoint wrappers
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise Failure(f"{path}: holds no state_dict of tensors")
    if obj and all(k.startswith("module.") for k in obj):  # saved from DataParallel
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def checked_model(state, arch, num_classes, what):
    """torchvision's model with state loaded strictly: proves the names and shapes."""
    model = build(arch, num_classes)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = [line.strip() for line in str(e).splitlines() if line.strip()]
        raise Failure(f"{what} does not fit torchvision's {arch} with {num_classes} classes: "
                      f"{' '.join(first[1:3]) if len(first) > 1 else first[0]}")
    return model.eval()


# ---- safetensors ------------------------------------------------------------------

def tensor_bytes(t, dtype):
    """(safetensors dtype, shape, little-endian bytes) of t, floats cast to dtype."""
    t = t.detach().cpu().contiguous()
    if t.is_floating_point():
        t = t.to({"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype])
    st = TORCH_TO_ST.get(str(t.dtype).replace("torch.", ""))
    if st is None:
        raise Failure(f"tensors of {t.dtype} cannot be written")
    if st == "BF16":  # numpy has no bfloat16: write its bits
        data = t.view(torch.int16).numpy().astype("<i2").tobytes()
    else:
        data = t.numpy().astype(ST_TO_NUMPY[st]).tobytes()
    return st, list(t.shape), data


def atomic_write(path, write):
    """Calls write(f) on a temporary file beside path, then renames it to path."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                                dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes it private
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def write_safetensors(path, state, dtype, metadata):
    entries = {name: tensor_bytes(t, dtype) for name, t in state.items()}
    order = sorted(entries, key=lambda n: (-ST_ORDER.index(entries[n][0]), n))
    header = {"__metadata__": metadata}
    offset = 0
    for name in order:
        st, shape, data = entries[name]
        header[name] = {"dtype": st, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)

    def write(f):
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(entries[name][2])

    try:
        atomic_write(path, write)
    except OSError as e:
        raise Failure(f"cannot write {path}: {e.strerror or e}")


def read_safetensors(path):
    """(metadata, {name: float32 or int64 tensor}) of a safetensors file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Failure(f"cannot read {path}: {e.strerror or e}")
    n = struct.unpack("<Q", data[:8])[0] if len(data) >= 8 else 0
    plausible = len(data) >= 8 and n <= 100_000_000 and n <= len(data) - 8 and \
        data[8:8 + n].lstrip(b" \t\r\n")[:1] == b"{"  # as clresnet decides
    checkpoint = data[:4] == b"PK\x03\x04" or (len(data) >= 2 and data[0] == 0x80 and
                                                 2 <= data[1] <= 5)
    if checkpoint and not plausible:
        raise Failure(f"{path} is a PyTorch checkpoint, not safetensors; convert it with "
                      f"{PROG} --from-pth {path} -o WEIGHTS.safetensors")
    try:
        if not plausible:
            raise ValueError("no header length and JSON object at the start")
        header = json.loads(data[8:8 + n])
        metadata = header.pop("__metadata__", None) or {}
        tensors = {}
        for name, info in header.items():
            begin, end = info["data_offsets"]
            raw = data[8 + n + begin:8 + n + end]
            st = info["dtype"]
            if st == "BF16":
                bits = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
                array = bits.view(np.float32)
            elif st in ST_TO_NUMPY:
                array = np.frombuffer(raw, ST_TO_NUMPY[st])
            else:
                raise Failure(f"{path}: tensor {name!r} has dtype {st}, which is not read here")
            array = array.reshape(info["shape"])
            if array.dtype.kind == "f":
                array = array.astype(np.float32)
            tensors[name] = torch.from_numpy(array.astype(array.dtype.newbyteorder("=")))
    except Failure:
        raise
    except Exception as e:
        raise Failure(f"{path} is not a valid safetensors file ({type(e).__name__}: {e})")
    return metadata, tensors


# ---- reference logits -------------------------------------------------------------

def write_logits(model, input_path, logits_path, precision):
    try:
        x = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise Failure(f"cannot read {input_path} as .npy: {e}")
    if x.dtype.kind != "f":
        raise Failure(f"{input_path} holds {x.dtype}, not floating-point values")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1] != 3:
        raise Failure(f"{input_path} has shape {x.shape}, not (N, 3, H, W) or (3, H, W)")
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))  # what clresnet sees
    if precision == "f64":
        model, x = model.double(), x.double()
    with torch.no_grad():
        logits = model(x).float().numpy()
    try:
        atomic_write(logits_path, lambda f: np.save(f, logits, allow_pickle=False))
    except OSError as e:
        raise Failure(f"cannot write {logits_path}: {e.strerror or e}")
    print(f"{logits_path}: logits {tuple(logits.shape)}, max |logit| "
          f"{np.abs(logits).max():.4g}, std {logits.std():.4g}")


# ---- main -------------------------------------------------------------------------

def export(args):
    arch, num_classes = args.arch, args.num_classes
    meta = {"format": "pt", "producer": "clresnet tools/export_torchvision.py",
            "torch": torch.__version__, "torchvision": torchvision.__version__}
    if args.from_pth is not None:
        state = pth_state(args.from_pth)
        found = infer_arch(state, args.from_pth)
        if arch is not None and arch != found:
            raise Failure(f"{args.from_pth} holds a {found}, not a {arch}")
        arch = found
        if "fc.weight" not in state:
            raise Failure(f"{args.from_pth} has no fc.weight")
        classes = state["fc.weight"].shape[0]
        if num_classes is not None and num_classes != classes:
            raise Failure(f"{args.from_pth} has {classes} classes, not {num_classes}")
        num_classes = classes
        # Written from the loaded model: every source gives the same set of names.
        state = checked_model(state, arch, num_classes, args.from_pth).state_dict()
        meta.update(source="pth", pth=os.path.basename(args.from_pth))
    elif args.pretrained is not None:
        num_classes = 1000
        try:
            state, weights = pretrained_state(arch, args.pretrained)
            state = checked_model(state, arch, num_classes, str(weights)).state_dict()
            meta.update(source="pretrained", weights=str(weights))
            meta.update(usage_meta(weights, num_classes))
        except DownloadFailed as e:
            if not args.allow_random:
                raise Failure(f"{e}; no file written")
            seed = args.seed if args.seed is not None else 0
            print(f"{PROG}: {e}; --allow-random: writing seeded random weights (seed {seed}) "
                  f"instead, NOT torchvision's pretrained {arch}", file=sys.stderr)
            state = seeded_state(arch, num_classes, seed)
            meta.update(source="seed", seed=str(seed),
                        fallback=f"pretrained {arch} weights could not be downloaded")
            meta.update(usage_meta(None, num_classes))
    else:
        num_classes = num_classes or 1000
        state = seeded_state(arch, num_classes, args.seed)
        meta.update(source="seed", seed=str(args.seed))
        meta.update(usage_meta(None, num_classes))
    meta.update(arch=arch, num_classes=str(num_classes), dtype=args.dtype)
    write_safetensors(args.output, state, args.dtype, meta)
    print(f"{args.output}: {arch}, {num_classes} classes, {args.dtype}, {meta['source']}"
          + (f" (seed {meta['seed']})" if "seed" in meta else ""))


def reference(args, path):
    metadata, tensors = read_safetensors(path)
    arch = metadata.get("arch") or infer_arch(tensors, path)
    if arch not in ARCHS:
        raise Failure(f"{path}: unknown arch {arch!r} in its metadata")
    if args.arch is not None and args.arch != arch:
        raise Failure(f"{path} holds a {arch}, not a {args.arch}")
    if "fc.weight" not in tensors:
        raise Failure(f"{path} has no fc.weight")
    num_classes = tensors["fc.weight"].shape[0]
    model = checked_model(tensors, arch, num_classes, path)
    write_logits(model, args.reference, args.logits, args.precision)


def main(argv):
    global np, torch, torchvision
    args = parse_args(argv)
    import numpy as np
    import torch
    import torchvision
    try:
        if args.weights is None:
            export(args)
        if args.reference is not None:
            reference(args, args.weights or args.output)
    except Failure as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

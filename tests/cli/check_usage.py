#!/usr/bin/python3
"""End-to-end checks of what weights carry (issue 15): clresnet run takes the
preprocessing and class names stored by tools/export_torchvision.py, --resize,
--crop, --mean, --std and --labels override them, models without names show class
indices (no blank labels, no trailing spaces), and hostile metadata is refused
naming its key.

Usage: check_usage.py CLRESNET DATA_DIR WORK_DIR
Exits 77 (CTest's skip) without numpy, PIL or torchvision."""
import json
import os
import re
import struct
import subprocess
import sys

try:
    import numpy as np
    from PIL import Image
    from torchvision import models, transforms
except ImportError as error:
    print(f"check_usage.py: {error}; skipping", file=sys.stderr)
    sys.exit(77)

CLI, DATA, WORK = sys.argv[1:4]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORT = [sys.executable, os.path.join(ROOT, "tools", "export_torchvision.py")]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(*args):
    p = subprocess.run([CLI, "run", "-q", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def with_metadata(src, dst, change):
    """Copies a safetensors file with its __metadata__ changed by change(dict)."""
    blob = open(src, "rb").read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    change(header["__metadata__"])
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob[8 + n:])
    return dst


def saved_input(weights, photo, *extra):
    out = os.path.join(WORK, "input.npy")
    status, _, err = run("-w", weights, "--save-input", out, *extra, photo)
    check(status == 0, f"run --save-input {' '.join(extra)} {os.path.basename(photo)} {err.strip()}")
    return np.load(out)[0] if status == 0 else None


os.makedirs(WORK, exist_ok=True)
r10 = os.path.join(WORK, "r18c10.safetensors")
r1000 = os.path.join(WORK, "r18.safetensors")
for path, classes in ((r10, "10"), (r1000, "1000")):
    subprocess.run(EXPORT + ["--arch", "resnet18", "--seed", "2", "--num-classes", classes,
                             "-o", path], check=True, stdout=subprocess.DEVNULL)
dog = os.path.join(DATA, "dog.jpg")

# What the exporter stores for seeded weights: the classic transform; names only
# for 1000 classes.
meta = json.loads(open(r1000, "rb").read()[8:][:struct.unpack("<Q", open(r1000, "rb").read(8))[0]])
meta = meta["__metadata__"]
check(meta["resize"] == "256" and meta["crop"] == "224" and meta["interpolation"] == "bilinear",
      "seeded weights store the classic 256/224 bilinear transform")
check(len(json.loads(meta["categories"])) == 1000, "1000 seeded classes store ImageNet's names")
meta10 = json.loads(open(r10, "rb").read()[8:][:struct.unpack("<Q", open(r10, "rb").read(8))[0]])
check("categories" not in meta10["__metadata__"], "10 seeded classes store no names")

# No names: indices only, no blank label, no trailing space.
status, out, err = run("-w", r10, "-k", "3", dog)
rows = out.splitlines()[1:]
check(status == 0 and len(rows) == 3 and all(re.fullmatch(r" +\d+\.\d\d% +\d", r) for r in rows),
      f"10 classes without names print indices only: {rows!r}")
status, out, _ = run("-w", r10, "-k", "2", "--json", dog)
top = json.loads(out)["results"][0]["top"] if status == 0 else []
check(len(top) == 2 and all("label" not in t for t in top), "JSON has no label without names")

# --labels FILE names them; a wrong count or a bad file is an error naming it.
names = os.path.join(WORK, "names.txt")
with open(names, "w") as f:
    f.write("".join(f"class {chr(97 + i)}\n" for i in range(10)))
status, out, _ = run("-w", r10, "-k", "3", "--labels", names, dog)
rows = out.splitlines()[1:]
check(status == 0 and all(re.fullmatch(r" +\d+\.\d\d% +(\d)  class [a-j]", r) for r in rows)
      and all(r.endswith("class " + chr(97 + int(r.split()[1]))) for r in rows),
      f"--labels names the classes: {rows!r}")
nine = os.path.join(WORK, "nine.txt")
with open(nine, "w") as f:
    f.write("".join(f"n{i}\n" for i in range(9)))
status, _, err = run("-w", r10, "--labels", nine, dog)
check(status == 1 and "nine.txt has 9 names but the model has 10 classes" in err,
      f"--labels with 9 names for 10 classes: {err.strip()}")
status, _, err = run("-w", r10, "--labels", os.path.join(WORK, "missing.txt"), dog)
check(status == 1 and "missing.txt" in err, f"--labels missing file: {err.strip()}")

# Names the weights carry win over ImageNet's, and --labels over both.
named = with_metadata(r10, os.path.join(WORK, "named.safetensors"),
                      lambda m: m.update(categories=json.dumps([f"w{i}" for i in range(10)])))
status, out, _ = run("-w", named, "-k", "1", dog)
check(status == 0 and re.fullmatch(r" +\d+\.\d\d% +(\d)  w\1", out.splitlines()[1]),
      f"names from the weights' metadata: {out.splitlines()[1:]!r}")
status, out, _ = run("-w", named, "-k", "1", "--labels", names, dog)
check(status == 0 and "  class " in out, "--labels overrides the weights' names")

# IMAGENET1K_V2's transform, stored as the exporter stores it, is torchvision's own.
v2 = models.ResNet50_Weights.IMAGENET1K_V2
t = v2.transforms()
v2_meta = {"resize": str(t.resize_size[0]), "crop": str(t.crop_size[0]),
           "interpolation": t.interpolation.value, "mean": json.dumps(list(t.mean)),
           "std": json.dumps(list(t.std))}
v2_file = with_metadata(r1000, os.path.join(WORK, "v2.safetensors"), lambda m: m.update(v2_meta))
for photo in ("dog.jpg", "chelsea.png"):
    path = os.path.join(DATA, photo)
    want = t(Image.open(path).convert("RGB")).numpy()
    got = saved_input(v2_file, path)
    check(got is not None and np.array_equal(got, want),
          f"{photo}: resize 232 from the metadata equals {v2}.transforms() bit for bit")
    classic = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                                  transforms.ToTensor(),
                                  transforms.Normalize(*zip(*[(0.485, 0.229), (0.456, 0.224),
                                                              (0.406, 0.225)]))])
    plain = with_metadata(r10, os.path.join(WORK, "plain.safetensors"),
                          lambda m: [m.pop(k) for k in list(m) if k in v2_meta])
    got = saved_input(plain, path)
    check(got is not None and np.array_equal(got, classic(Image.open(path).convert("RGB")).numpy()),
          f"{photo}: no metadata gives the classic 256/224 transform")
    got = saved_input(plain, path, "--resize", "232")
    check(got is not None and np.array_equal(got, want), f"{photo}: --resize 232 overrides")
got = saved_input(v2_file, dog, "--crop", "100", "--mean", "0,0,0", "--std", "1,1,1")
want = transforms.Compose([transforms.Resize(232), transforms.CenterCrop(100),
                           transforms.ToTensor()])(Image.open(dog).convert("RGB")).numpy()
check(got is not None and np.array_equal(got, want), "--crop, --mean and --std override")

# Hostile metadata: refused, naming the file and the key.
for key, value in (("resize", "0"), ("resize", "2e2"), ("crop", "99999999"),
                   ("mean", "[1, 2]"), ("std", "[1, 0, 1]"), ("interpolation", "bicubic"),
                   ("categories", "[\"a\"]"), ("categories", "{\"x\": 1}")):
    bad = with_metadata(r10, os.path.join(WORK, "bad.safetensors"),
                        lambda m: m.update({key: value}))
    status, _, err = run("-w", bad, dog)
    check(status == 1 and f'bad.safetensors: metadata "{key}"' in err
          and len(err.splitlines()) == 1, f"metadata {key}={value!r} refused: {err.strip()}")

print(f"check_usage.py: {len(failures)} failures")
sys.exit(1 if failures else 0)

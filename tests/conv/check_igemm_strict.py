#!/usr/bin/python3
"""Compiles kernels/conv2d_igemm.cl (after the kernel headers, as the runtime does)
with clang's OpenCL C 1.2 front end for NVIDIA (nvptx64-nvidia-nvcl) and SPIR
targets, with strict warnings as errors (implicit double, conversions, shadowing,
pedantic), once for the implicit-GEMM tiles of every devices/*.json profile that
sets them and for the tuning table's defaults. No GPU is needed: this catches what
PoCL's compiler lets through but a stricter vendor compiler may refuse.

Usage: check_igemm_strict.py SOURCE_DIR. Exits 77 (CTest's skip) without clang.
"""
import json
import os
import shutil
import subprocess
import sys

KEYS = ("IGEMM_BM", "IGEMM_BN", "IGEMM_BK", "IGEMM_TM", "IGEMM_TN")
# The tuning table's defaults (src/runtime/tuning.c), for profiles that set none.
DEFAULTS = {"IGEMM_BM": 64, "IGEMM_BN": 32, "IGEMM_BK": 16, "IGEMM_TM": 4, "IGEMM_TN": 4}
TARGETS = ("nvptx64-nvidia-nvcl", "spir64", "spir")
FLAGS = ["-x", "cl", "-cl-std=CL1.2", "-Xclang", "-finclude-default-header", "-fsyntax-only",
         "-Werror", "-Wall", "-Wextra", "-Wpedantic", "-Wdouble-promotion", "-Wconversion",
         "-Wsign-conversion", "-Wfloat-conversion", "-Wshadow", "-Wno-unused-parameter",
         "-Wno-unused-function"]


def main():
    root = sys.argv[1]
    clang = shutil.which("clang")
    if not clang:
        print("clang not installed: skipping")
        return 77
    kernels = os.path.join(root, "kernels")
    headers = sorted(f for f in os.listdir(kernels) if f.endswith(".h"))
    source = "".join(open(os.path.join(kernels, h)).read() + "\n" for h in headers)
    source += open(os.path.join(kernels, "conv2d_igemm.cl")).read()
    tilings = {"tuning table": DEFAULTS}
    devices = os.path.join(root, "devices")
    for name in sorted(os.listdir(devices)):
        options = json.load(open(os.path.join(devices, name))).get("options", {})
        if any(k in options for k in KEYS):
            tilings[name] = {k: options.get(k, DEFAULTS[k]) for k in KEYS}
    failed = 0
    for where, tiles in tilings.items():
        defines = [f"-D{k}={v}" for k, v in tiles.items()]
        for target in TARGETS:
            run = subprocess.run([clang, "-target", target, *FLAGS, *defines, "-"], input=source,
                                 text=True, capture_output=True)
            status = "ok" if run.returncode == 0 and not run.stderr.strip() else "FAILED"
            print(f"{where:24} {target:22} {' '.join(defines)}: {status}")
            if status != "ok":
                print(run.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""JSON numbers carry float32's precision, 9 significant digits, and no more.

  json_digits.py CLRESNET WEIGHTS PHOTO

Runs `run --json -o logits.npy` and `bench --json`, and checks that every number
in their JSON has at most 9 significant digits, and that each logit read back
as float32 equals the one in the .npy file bit for bit.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    sys.stderr.write(result.stderr)
    if result.returncode != 0 and "no OpenCL platform" in result.stderr:
        sys.exit(77)
    if result.returncode != 0:
        fail(f"{' '.join(command)}: exit {result.returncode}")
    return result.stdout


def parse(text):
    """Parses JSON, failing on any non-integer number written with more than 9
    significant digits."""
    def number(token):
        digits = re.sub(r"[eE].*", "", token).lstrip("-").replace(".", "").lstrip("0")
        if len(digits) > 9:
            fail(f"{token} has {len(digits)} significant digits, more than 9")
        return float(token)
    return json.loads(text, parse_float=number)


def main():
    cli, weights, photo = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        logits_file = os.path.join(tmp, "logits.npy")
        text = run([cli, "run", "-q", "--json", "-k", "10", "-w", weights, "-o", logits_file, photo])
        logits = np.load(logits_file)
        for entry in parse(text)["results"][0]["top"]:
            got = np.float32(entry["logit"])
            want = logits[0, entry["class"]]
            if got.tobytes() != want.tobytes():
                fail(f"class {entry['class']}: JSON logit {entry['logit']!r} is not {want!r}")
            if not 0 <= entry["probability"] <= 1:
                fail(f"probability {entry['probability']}")
        bench = run([cli, "bench", "-q", "--json", "-m", "resnet18", "-H", "32", "-W", "32",
                     "-b", "1", "-n", "2", "--warmup", "0"])
        parse(bench)
    print("PASS")


if __name__ == "__main__":
    main()

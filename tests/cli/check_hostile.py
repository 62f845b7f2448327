#!/usr/bin/python3
"""Runs clresnet on the hostile files of make_hostile.py and checks that nothing
from a file reaches the terminal raw, and that failed inputs are reported.

  check_hostile.py CASE CLI FIXTURE_DIR

Cases:
  metadata     a "seed" metadata value that clears the screen and forges a line
  tensor-name  a tensor name that does the same (quoted by an error message)
  input-name   an input file name holding ESC and an invalid UTF-8 byte (text output)
  input-json   the same name with --json: stdout must be strict UTF-8 JSON
  nonfinite    --json with an input whose logits are NaN: reported as failed, exit 1
"""
import json
import os
import re
import subprocess
import sys

ESC_INPUT = b"esc-\x1b[31mred\xff.npy"


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(command, status):
    p = subprocess.run(command, capture_output=True)
    print("--- stdout"), sys.stdout.flush()
    sys.stdout.buffer.write(p.stdout)
    print("--- stderr"), sys.stdout.flush()
    sys.stdout.buffer.write(p.stderr)
    print(f"--- exit {p.returncode}")
    if p.returncode != status:
        fail(f"exit status {p.returncode}, expected {status}")
    return p.stdout, p.stderr


def check_clean(name, data, allowed="\n"):
    """No byte that can act on a terminal: C0 controls but those allowed (newline;
    tabs too in JSON, which indents with them), DEL, C1 controls (raw or UTF-8),
    bidirectional overrides, invalid UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(f"{name} is not valid UTF-8: {e}")
    controls = "".join(chr(c) for c in range(0x20) if chr(c) not in allowed)
    bad = re.search(f"[{re.escape(controls)}\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    if bad:
        fail(f"{name} holds the raw control character U+{ord(bad.group()):04X}")
    if re.search(r"^clresnet: all good", text, re.M):
        fail(f"{name} holds a forged clresnet line")
    return text


def main():
    case, cli, fix = sys.argv[1], sys.argv[2], sys.argv[3]
    w = os.path.join(fix, "r18.safetensors")
    x = os.path.join(fix, "input64.npy")
    esc = os.path.join(os.fsencode(fix), ESC_INPUT)
    if case == "metadata":
        out, err = run([cli, "run", "-w", os.path.join(fix, "r18-hostile-meta.safetensors"), x], 0)
        text = check_clean("stderr", err)
        if "seed 1\\x1b[2J\\x1b[31mPWNED\\x0aclresnet: all good)" not in text:
            fail("stderr does not show the seed escaped")
        check_clean("stdout", out)
    elif case == "tensor-name":
        _, err = run([cli, "run", "-w", os.path.join(fix, "r18-hostile-name.safetensors"), x], 1)
        text = check_clean("stderr", err)
        if "unexpected tensor 1\\x1b[2J" not in text or "\\u009b2J\\u202e" not in text:
            fail("stderr does not show the tensor name escaped")
    elif case == "input-name":
        out, err = run([cli, "run", "-w", w, esc], 0)
        text = check_clean("stdout", out)
        if "esc-\\x1b[31mred\\xff.npy[0]" not in text:
            fail("stdout does not show the input name escaped")
        check_clean("stderr", err)
    elif case == "input-json":
        out, err = run([cli, "run", "-q", "--json", "-w", w, esc], 0)
        check_clean("stdout", out, "\n\t")
        doc = json.loads(out.decode("utf-8"))
        if not doc["results"][0]["input"].endswith("/esc-\x1b[31mred\ufffd.npy[0]"):
            fail(f"input name in JSON is {doc['results'][0]['input']!r}")
    elif case == "nonfinite":
        out, err = run([cli, "run", "-q", "--json", "-k", "2", "-w", w,
                        os.path.join(fix, "nan.npy")], 1)
        doc = json.loads(out.decode("utf-8"))
        good, bad = doc["results"]
        if "top" not in good or len(good["top"]) != 2 or "error" in good:
            fail("the finite input is not ranked")
        if "top" in bad or "not finite" not in bad.get("error", ""):
            fail("the NaN input is not reported as failed")
        if doc.get("failed") != 1:
            fail("'failed' is not 1")
        if b"nan.npy[1]: its logits are not finite" not in err:
            fail("stderr does not name the failed input")
    else:
        fail(f"unknown case {case}")
    print("PASS")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Checks the JSON the clresnet program writes.

  check_json.py stdout KEY... -- COMMAND...   run COMMAND (exit 0 expected), parse its
                                               stdout as JSON, require every KEY
  check_json.py trace FILE -- COMMAND...       run COMMAND, then check FILE is a Chrome
                                               trace: complete events with names,
                                               timestamps, durations, process and track

A KEY is a dotted path; a number in it indexes a list ("devices.0.name").
"""
import json
import subprocess
import sys


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def lookup(document, path):
    node = document
    for part in path.split("."):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                fail(f"{path}: no item {part}")
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                fail(f"{path}: no key {part!r} (have {sorted(node)})")
            node = node[part]
        else:
            fail(f"{path}: {part!r} inside a {type(node).__name__}")
    return node


def check_trace(path):
    with open(path) as f:
        trace = json.load(f)
    events = trace.get("traceEvents")
    if not isinstance(events, list) or not events:
        fail("no traceEvents")
    complete = [e for e in events if e.get("ph") == "X"]
    if not complete:
        fail("no complete (ph X) events")
    for e in complete:
        for key, kind in (("name", str), ("ts", (int, float)), ("dur", (int, float)),
                          ("pid", int), ("tid", int)):
            if not isinstance(e.get(key), kind):
                fail(f"event {e} lacks {key}")
        if e["dur"] < 0:
            fail(f"negative duration in {e}")
    names = {e["name"] for e in complete}
    kernels = {e.get("cat") for e in complete}
    for needed in ("conv1", "fc", "input", "logits"):
        if needed not in names:
            fail(f"no event named {needed!r}")
    if "upload" not in kernels or "download" not in kernels:
        fail("transfers missing")
    tracks = {(e["pid"], e["tid"]) for e in complete}
    named = {(e["pid"], e["tid"]) for e in events if e.get("ph") == "M"}
    if not tracks <= named:
        fail(f"tracks without names: {tracks - named}")
    print(f"trace: {len(complete)} events on {len(tracks)} tracks")


def main():
    if "--" not in sys.argv or len(sys.argv) < 4:
        fail(__doc__)
    split = sys.argv.index("--")
    mode, args, command = sys.argv[1], sys.argv[2:split], sys.argv[split + 1:]
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    if result.returncode != 0:
        fail(f"exit status {result.returncode}")
    if mode == "stdout":
        try:
            document = json.loads(result.stdout)
        except json.JSONDecodeError as error:
            fail(f"stdout is not JSON: {error}")
        for key in args:
            lookup(document, key)
    elif mode == "trace":
        check_trace(args[0])
    else:
        fail(f"unknown mode {mode}")
    print("PASS")


if __name__ == "__main__":
    main()

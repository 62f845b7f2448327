#!/usr/bin/python3
"""Surviving failures (issue 14, item 4), through `clresnet run`:
  device   CLRN_FAULT=device:1:after:3 on two PoCL devices (POCL_DEVICES="pthread
           pthread", set by CTest): the run completes with the output of a clean run,
           a warning names device 1, and device 1 runs nothing more; on one device the
           run stops with a clear error and --resume finishes the output; a malformed
           CLRN_FAULT is refused naming the form.
  cache    three processes filling one empty kernel cache at once all succeed, leave
           no temporary file, and a fourth run finds every program there (compiles
           nothing) with no entry rejected.
    fault_cli.py CASE CLI WEIGHTS DATA_DIR"""
import os
import shutil
import subprocess
import sys
import tempfile

case, cli, weights, data = sys.argv[1:5]
tmp = tempfile.mkdtemp(prefix="clrn-fault-")
os.chdir(tmp)
SMALL = ["--resize", "64", "--crop", "64", "-b", "2"]


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def command(*args):
    return [cli, "run", "-w", weights, *SMALL, *args]


def run(*args, status=0, env=None):
    """Runs clresnet run; checks the exit status; returns stderr."""
    c = command(*args)
    p = subprocess.run(c, capture_output=True, text=True, env={**os.environ, **(env or {})})
    print("---", " ".join(c), env or "", "-> exit", p.returncode)
    print(p.stderr, end="")
    if p.returncode != status:
        fail(f"exit status {p.returncode}, expected {status}")
    return p.stderr


def photos(count):
    os.makedirs("in", exist_ok=True)
    for i in range(count):
        source = ["dog.jpg", "chelsea.png", "coffee.png"][i % 3]
        shutil.copy(os.path.join(data, source), f"in/p{i:03d}{os.path.splitext(source)[1]}")


def read(path):
    with open(path) as f:
        return f.read()


def check_device():
    photos(16)
    run("-q", "-d", "all", "--jsonl", "clean.jsonl", "in")
    # 8 batches of 2 split over two devices: device 1's fourth shard fails.
    err = run("-v", "-d", "all", "--jsonl", "fault.jsonl", "in",
              env={"CLRN_FAULT": "device:1:after:3"})
    if read("fault.jsonl") != read("clean.jsonl"):
        fail("the output with a failing device differs from a clean run's")
    warnings = [line for line in err.splitlines() if "warning: device 1 (" in line]
    if len(warnings) != 1 or "failed" not in warnings[0] or "CLRN_FAULT" not in warnings[0] \
            or "not used again" not in warnings[0]:
        fail(f"expected one warning naming device 1, got {warnings}")
    if "device 1 ran 0 images" not in err or "device 0 ran 2 images" not in err:
        fail("device 1 was used again after it failed")
    # One device: no device is left, the run stops after 2 batches, --resume ends it.
    err = run("-q", "-d", "0", "--jsonl", "one.jsonl", "in", status=1,
              env={"CLRN_FAULT": "device:0:after:2"})
    if "CL_OUT_OF_RESOURCES (injected by CLRN_FAULT)" not in err:
        fail("no clear error when the only device fails")
    if len(read("one.jsonl").splitlines()) != 4:
        fail("the records of the batches before the failure are not in the output")
    run("-q", "-d", "0", "--jsonl", "one.jsonl", "--resume", "in")
    if read("one.jsonl") != read("clean.jsonl"):
        fail("the resumed output differs from a clean run's")
    err = run("-q", "-d", "all", "--jsonl", "bad.jsonl", "in", status=1,
              env={"CLRN_FAULT": "device:1:after"})
    if "CLRN_FAULT: \"device:1:after\" is not device:N:after:K" not in err:
        fail("a malformed CLRN_FAULT was not refused")


def check_cache():
    photos(4)
    env = {**os.environ, "CLRN_CACHE_DIR": os.path.join(tmp, "cache")}
    procs = [subprocess.Popen(command("-v", "--jsonl", f"o{i}.jsonl", "in"), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    for i, p in enumerate(procs):
        err = p.communicate()[1]
        print(f"--- writer {i} -> exit {p.returncode}\n{err}", end="")
        if p.returncode != 0:
            fail(f"writer {i} failed")
        if "rejected" in err or "cannot write" in err:
            fail(f"writer {i} met a damaged cache")
    if not read("o0.jsonl") or read("o1.jsonl") != read("o0.jsonl") or \
            read("o2.jsonl") != read("o0.jsonl"):
        fail("the writers' outputs differ")
    names = os.listdir(env["CLRN_CACHE_DIR"])
    if any(".tmp" in n for n in names):
        fail(f"temporary files left in the cache: {names}")
    if not any(n.endswith(".bin") for n in names):
        fail("nothing was cached")
    p = subprocess.run(command("-v", "--jsonl", "warm.jsonl", "in"), env=env,
                       capture_output=True, text=True)
    print("--- warm run -> exit", p.returncode, "\n" + p.stderr, end="")
    if p.returncode != 0 or "rejected" in p.stderr or " 0 compiled" not in p.stderr:
        fail("the cache the writers left is not complete and valid")


{"device": check_device, "cache": check_cache}[case]()
shutil.rmtree(tmp)
print("PASS")

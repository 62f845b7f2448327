#!/usr/bin/python3
"""SIGTERM or SIGINT during a --save-input write (issue 16 item 3): the program must
remove its temporary file and die of the signal (the shell's 128+signal status).
The program is stopped (SIGSTOP) while its temporary exists, so the signal lands
mid-write for certain; if the write ends before the stop, it retries with more data.
    signal_cleanup.py CLI WEIGHTS"""
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

cli, weights = sys.argv[1], sys.argv[2]


def child_setup():
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)  # not ignored, whatever started the test


def size(path):
    """The size of a file, 0 when gone: the output check's probe file stays empty."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def attempt(folder, sig, images):
    big = os.path.join(folder, "big.npy")
    np.save(big, np.zeros((images, 3, 64, 64), np.float32))
    out = os.path.join(folder, "saved.npy")
    proc = subprocess.Popen([cli, "run", "-q", "-w", weights, "--save-input", out, big],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=child_setup)
    temp = None
    deadline = time.monotonic() + 120
    while temp is None and proc.poll() is None and time.monotonic() < deadline:
        names = [n for n in os.listdir(folder) if n.endswith(".tmp")]
        temp = names[0] if names and size(os.path.join(folder, names[0])) else None
        if temp is None:
            time.sleep(0.0005)
    if temp is None:
        proc.kill()
        proc.wait()
        return None  # the write was over before it was seen
    os.kill(proc.pid, signal.SIGSTOP)
    caught = os.path.exists(os.path.join(folder, temp))
    os.kill(proc.pid, sig)
    os.kill(proc.pid, signal.SIGCONT)
    _, err = proc.communicate(timeout=120)
    if not caught:
        return None
    left = [n for n in os.listdir(folder) if n.endswith(".tmp")]
    print(f"{signal.Signals(sig).name} during the write of {temp}: returncode {proc.returncode}, "
          f"left {left}, stderr {err.decode().strip()!r}")
    ok = True
    if proc.returncode not in (-sig, 128 + sig):
        print(f"FAIL: expected death by signal {sig} (status {128 + sig})")
        ok = False
    if left:
        print(f"FAIL: temporary files left: {left}")
        ok = False
    if os.path.exists(out):
        print("FAIL: the interrupted output exists")
        ok = False
    return ok


ok = True
for sig in (signal.SIGTERM, signal.SIGINT):
    result = None
    for images in (2000, 8000, 16000):  # 98 MB, 393 MB, 786 MB
        with tempfile.TemporaryDirectory() as folder:
            result = attempt(folder, sig, images)
        if result is not None:
            break
    if result is None:
        print(f"FAIL: never caught the temporary file of a --save-input write ({sig})")
    ok = ok and bool(result)
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)

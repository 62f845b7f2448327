#!/usr/bin/python3
"""Checks clresnet bench's statistics and options (issue 15): the latency summary
(mean, stddev, min, p50 = median, p90, p99, max), the first (cold) batch, host peak
RSS beside device memory, -t duration mode (capped by -n), --threads reaching
PoCL before it loads (the device reports that many compute units), and --profile's
per-layer table in --json with its note printed once.

Usage: check_bench.py CLRESNET   (a device is needed: exits 77 without one)"""
import json
import subprocess
import sys

CLI = sys.argv[1]
BASE = [CLI, "bench", "-m", "resnet18", "-H", "32", "-W", "32", "-b", "1"]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def bench(*args):
    p = subprocess.run(BASE + list(args), capture_output=True, text=True)
    if "no OpenCL platform" in p.stderr:
        sys.exit(77)
    return p


p = bench("-n", "5", "--warmup", "0", "--threads", "1", "--json", "--profile")
check(p.returncode == 0, f"bench --json --profile --threads 1 runs: {p.stderr.strip()}")
d = json.loads(p.stdout)
lat = d["latency_ms"]
check(d["iterations"] == 5, "-n 5 times 5 batches")
check(lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"],
      f"min <= p50 <= p90 <= p99 <= max: {lat}")
check(lat["median"] == lat["p50"] and lat["min"] <= lat["mean"] <= lat["max"]
      and lat["stddev"] >= 0, "median is p50, mean within min..max, stddev >= 0")
check(d["first_batch_ms"] > 0, "first (cold) batch time")
check(d["host_peak_rss_bytes"] > 1e6 and d["device_bytes"] > 0, "host peak RSS and device bytes")
check(d["devices"][0]["compute_units"] == 1, "--threads 1 gives the CPU device 1 compute unit")
layers = d["devices"][0].get("layers", [])
check(len(layers) > 10 and all({"layer", "kernel", "ms", "share"} <= set(x) for x in layers)
      and abs(sum(x["share"] for x in layers) - 1) < 1e-6, "--json --profile has the layer table")
check(d["profiling"] is True, "profiling: true in --json")
check(p.stderr.count("--profile times every kernel") == 1, "the profiling note is printed once")

p = bench("-t", "0.5", "--warmup", "1", "--json")
d = json.loads(p.stdout) if p.returncode == 0 else {}
n, lat = d.get("iterations", 0), d.get("latency_ms", {})
check(p.returncode == 0 and n >= 1 and n * lat["mean"] >= 0.9 * 500 and d["duration_s"] == 0.5,
      f"-t 0.5 runs batches for half a second: {n} x {lat.get('mean')} ms")
p = bench("-t", "100", "-n", "2", "--warmup", "0", "--json")
check(p.returncode == 0 and json.loads(p.stdout)["iterations"] == 2, "-n caps -t")

p = bench("-n", "3", "--warmup", "0")
for text in ("mean", "stddev", "p50 (median)", "p90", "p99", "first batch (cold)",
             "host peak RSS", "device"):
    check(text in p.stdout, f"text output shows {text!r}")
check("--profile times" not in p.stderr, "no profiling note without --profile")

for args, message in ((["-t", "0"], "-t: '0' is not a number of seconds"),
                      (["-t", "1s"], "-t: '1s'"), (["--threads", "0"], "--threads: '0'")):
    p = bench(*args)
    check(p.returncode == 2 and message in p.stderr, f"{' '.join(args)}: {p.stderr.strip()}")

print(f"check_bench.py: {len(failures)} failures")
sys.exit(1 if failures else 0)

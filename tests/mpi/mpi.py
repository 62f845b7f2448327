#!/usr/bin/python3
"""`clresnet run` under mpirun (issue 14, item 2), on 24 inputs (a corrupt one
among them) in batches of 2, so batch k runs on rank k % 2:
  same   two ranks write the same --jsonl and --csv files as one process, and rank 0
         prints the total throughput;
  fail   rank 1 fails at its third batch (CLRN_FAULT, given to it alone): the job
         ends with a message naming rank 1 and --resume, the output holds the 10
         records before (batches 0 to 4), and --resume under mpirun completes it to
         the one-process file;
  usage  a usage error (-o in a dataset run) is reported once, with exit status 2;
  devices  with two PoCL devices (POCL_DEVICES="basic pthread"), rank 0 runs on
         device 0 and rank 1 on device 1 (their node-local ranks), both on -d 0's.
    mpi.py CASE MPIRUN CLI WEIGHTS DATA_DIR"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

case, mpirun, cli, weights, data = sys.argv[1:6]
tmp = tempfile.mkdtemp(prefix="clrn-mpi-")
os.chdir(tmp)
ARGS = ["run", "-w", weights, "-b", "2", "--resize", "64", "--crop", "64"]
MPI = [mpirun, "--oversubscribe", "--tag-output"]  # whole lines, tagged [job,rank]


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def run(command, status):
    p = subprocess.run(command, capture_output=True, text=True)
    print("---", " ".join(command), "-> exit", p.returncode)
    print(p.stderr, end="")
    if status is not None and p.returncode != status:
        fail(f"exit status {p.returncode}, expected {status}")
    return p


def read(path):
    with open(path) as f:
        return f.read()


os.makedirs("in")
for i in range(23):
    source = ["dog.jpg", "chelsea.png", "coffee.png"][i % 3]
    shutil.copy(os.path.join(data, source), f"in/p{i:02d}{os.path.splitext(source)[1]}")
with open("in/p07x.jpg", "wb") as f:  # a corrupt input: a record with its error
    f.write(b"\xff\xd8\xff\xe0 cut short")

if case == "same":
    for kind in ("jsonl", "csv"):
        run([cli, *ARGS, "-q", f"--{kind}", f"one.{kind}", "in"], 1)
        p = run([*MPI, "-n", "2", cli, *ARGS, f"--{kind}", f"two.{kind}", "in"], None)
        if p.returncode == 0:
            fail("exit status 0 with a corrupt input")
        if len(read(f"one.{kind}").splitlines()) < 24 or read(f"two.{kind}") != read(f"one.{kind}"):
            fail(f"the --{kind} file of two ranks differs from one process's")
        if "clresnet: 2 ranks: 24 images in" not in p.stderr:
            fail("rank 0 did not print the total throughput")
elif case == "fail":
    run([cli, *ARGS, "-q", "--jsonl", "one.jsonl", "in"], 1)
    out = [*ARGS, "--jsonl", "two.jsonl", "in"]
    p = run([*MPI, "-n", "1", cli, *out, ":", "-n", "1", "env", "CLRN_FAULT=device:0:after:2", cli,
             *out], None)
    if p.returncode == 0:
        fail("the job succeeded although rank 1 failed")
    if "rank 1 of 2 (host" not in p.stderr or \
            "two.jsonl holds the records of 10 of 24 inputs; run the same command with --resume" \
            not in p.stderr:
        fail("no clear message naming the failed rank and --resume")
    if read("two.jsonl").splitlines() != read("one.jsonl").splitlines()[:10]:
        fail("the partial output is not the first 10 records")
    p = run([*MPI, "-n", "2", cli, *out, "--resume"], None)
    if "resuming: 10 inputs already done, 14 to go" not in p.stderr:
        fail("the resumed job did not skip the 10 records")
    if read("two.jsonl") != read("one.jsonl"):
        fail("the resumed output differs from one process's")
elif case == "usage":
    p = run([*MPI, "-n", "2", cli, *ARGS, "-o", "x.npy", "in"], 2)
    if p.stderr.count("-o: not in a dataset run") != 1:
        fail("the usage error was not reported exactly once")
elif case == "devices":
    os.environ["POCL_DEVICES"] = "basic pthread"
    for spec, want in ((None, ["basic", "pthread"]), ("0", ["basic", "basic"])):
        p = run([*MPI, "-n", "2", cli, *ARGS, "-v",
                 *(["-d", spec] if spec else []), "--jsonl", "o.jsonl", "in"], None)
        used = [re.search(rf"\[\d+,{rank}\]<stderr>:\s*device 0: (\w+)-", p.stderr)
                for rank in (0, 1)]
        used = [m.group(1) if m else None for m in used]
        if used != want:
            fail(f"-d {spec}: ranks 0 and 1 ran on {used}, expected {want}")
shutil.rmtree(tmp)
print("PASS")

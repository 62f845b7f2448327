#!/usr/bin/python3
"""Dataset runs of `clresnet run` (issue 14, item 1): folders and @lists in sorted
order, --jsonl and --csv records streamed in input order, --resume, a corrupt
input reported while the others are classified (exit 1), --truth accuracy, the
progress line, and memory that does not grow with the number of inputs. Works in
a temporary folder of copies of data/ photos.
    dataset.py CASE CLI WEIGHTS DATA_DIR"""
import csv
import json
import numpy
import os
import shutil
import subprocess
import sys
import tempfile

case, cli, weights, data = sys.argv[1:5]
tmp = tempfile.mkdtemp(prefix="clrn-dataset-")
os.chdir(tmp)


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def run(*args, status=0, env=None):
    """Runs clresnet run with the weights; checks the exit status; (stdout, stderr)."""
    command = [cli, "run", "-w", weights, *args]
    p = subprocess.run(command, capture_output=True, text=True, env=env)
    print("---", " ".join(command), "-> exit", p.returncode)
    print(p.stderr, end="")
    if p.returncode != status:
        fail(f"exit status {p.returncode}, expected {status}")
    return p.stdout, p.stderr


def photos(folder, count, names=None):
    """count copies of the three photos of data/ in folder, as p000.jpg... (or names)."""
    os.makedirs(folder, exist_ok=True)
    sources = ["dog.jpg", "chelsea.png", "coffee.png"]
    made = []
    for i in range(count):
        source = sources[i % 3]
        name = names[i] if names else f"p{i:03d}{os.path.splitext(source)[1]}"
        shutil.copy(os.path.join(data, source), os.path.join(folder, name))
        made.append(os.path.join(folder, name))
    return made


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def tree():
    """A folder with nested files, files to skip, and a corrupt photo; the inputs
    expected from it, in order."""
    photos("d", 3, ["b.jpg", "a.PNG", "c.jpeg"])
    photos("d/sub", 2, ["z.jpg", "a.png"])
    photos("d/.hidden", 1)
    with open("d/notes.txt", "w") as f:
        f.write("not an input\n")
    with open("d/bad.jpg", "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 cut short")
    return ["d/a.PNG", "d/b.jpg", "d/bad.jpg", "d/c.jpeg", "d/sub/a.png", "d/sub/z.jpg"]


def check_order():
    expected = tree()
    os.makedirs("lists", exist_ok=True)
    with open("lists/l.txt", "w") as f:
        f.write("# a comment\n../d/sub/z.jpg\n\n" + os.path.abspath("d/b.jpg") + "\n../d/sub\n")
    run("-k", "1", "--jsonl", "o.jsonl", "d", "@lists/l.txt", status=1)
    got = [r["input"] for r in jsonl("o.jsonl")]
    want = expected + ["lists/../d/sub/z.jpg", os.path.abspath("d/b.jpg"), "lists/../d/sub/a.png",
                       "lists/../d/sub/z.jpg"]
    if got != want:
        fail(f"inputs {got}, expected {want}")


def check_stream():
    expected = tree()
    numpy.save("d/t.npy", numpy.random.default_rng(1).standard_normal((3, 224, 224), numpy.float32))
    expected.append("d/t.npy")
    good = [p for p in expected if "bad" not in p]
    plain, _ = run("-q", "--json", *good)
    want = {r["input"]: r["top"] for r in json.loads(plain)["results"]}
    run("-q", "--jsonl", "o.jsonl", "d", status=1)
    run("-q", "--csv", "o.csv", "d", status=1)
    records = jsonl("o.jsonl")
    if [r["input"] for r in records] != expected:
        fail("jsonl inputs out of order")
    with open("o.csv", newline="") as f:
        rows = list(csv.reader(f))
    if rows[0][:6] != ["input", "error", "class1", "label1", "probability1", "logit1"] or \
            len(rows[0]) != 2 + 4 * 5:
        fail(f"csv header {rows[0]}")
    if [r[0] for r in rows[1:]] != expected:
        fail("csv inputs out of order")
    for r, row in zip(records, rows[1:]):
        if r["input"] in want:
            if r["top"] != want[r["input"]]:
                fail(f"{r['input']}: jsonl {r['top']} differs from run --json {want[r['input']]}")
            for j, t in enumerate(r["top"]):
                cell = row[2 + 4 * j:6 + 4 * j]
                if [int(cell[0]), cell[1], float(cell[2]), float(cell[3])] != \
                        [t["class"], t["label"], t["probability"], t["logit"]]:
                    fail(f"{r['input']}: csv {cell} differs from jsonl {t}")
        elif "error" not in r or not row[1]:
            fail(f"{r['input']}: no error recorded")
    # The preprocessing options apply to a dataset run as to a plain one.
    small = ["--resize", "72", "--crop", "64"]
    plain, _ = run("-q", "--json", *small, *good[:3])
    run("-q", "--jsonl", "small.jsonl", *small, *good[:3])
    if [r["top"] for r in json.loads(plain)["results"]] != [r["top"] for r in jsonl("small.jsonl")]:
        fail("--resize/--crop: the dataset run differs from run --json")


def check_resume():
    expected = tree()
    with open("half.txt", "w") as f:
        f.write("\n".join(expected[:3]) + "\n")
    for kind in ("jsonl", "csv"):
        out = "o." + kind
        run("-q", "--" + kind, out, "@half.txt", status=1)
        with open(out, "a") as f:  # a record cut short by a killed run
            f.write('{"input": "d/c.j' if kind == "jsonl" else "d/c.jpeg,,1")
        _, err = run("--" + kind, out, "--resume", "d")
        if "3 inputs already done, 3 to go" not in err:
            fail("no resuming line")
        if "3/3 images" not in err and "3 images in" not in err:
            fail("the resumed run did not count 3 images")
        run("-q", "--" + kind, "full." + kind, "d", status=1)
        with open(out) as a, open("full." + kind) as b:
            if a.read() != b.read():
                fail(f"resumed {out} differs from a full run's")
    _, err = run("--jsonl", "o.jsonl", "--resume", "d")
    if "6 inputs already done, 0 to go" not in err:
        fail("a finished output was not recognised")


def check_corrupt():
    photos("c", 4)
    with open("c/p001.png", "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n truncated")
    os.chmod("c/p002.png", 0)
    numpy.save("c/p004.npy", numpy.zeros((3, 64, 64), numpy.float32))  # not 224x224
    run("-q", "--jsonl", "o.jsonl", "-b", "2", "c", "missing.jpg", status=1)
    records = jsonl("o.jsonl")
    errors = [r["input"] for r in records if "error" in r]
    ran = [r["input"] for r in records if "top" in r]
    want_errors = ["c/p001.png", "c/p004.npy", "missing.jpg"] + ([] if os.geteuid() == 0 else ["c/p002.png"])
    if sorted(errors) != sorted(want_errors):
        fail(f"errors recorded for {errors}, expected {want_errors}")
    if "c/p000.jpg" not in ran or "c/p003.jpg" not in ran or len(records) != 6:
        fail(f"the other inputs were not all classified: {ran}")
    if "missing.jpg" not in [r["input"] for r in records if "No such file" in r.get("error", "")]:
        fail("the missing file's error is not recorded")
    if "must hold one image [3,224,224]" not in records[4].get("error", ""):
        fail(f"the 64x64 .npy: {records[4]}")


def check_truth():
    tree()
    run("-q", "--jsonl", "o.jsonl", "d", status=1)
    records = {r["input"]: r for r in jsonl("o.jsonl")}
    top = {p: [t["class"] for t in r["top"]] for p, r in records.items() if "top" in r}
    with open("truth.txt", "w") as f:
        f.write("# name class\n")
        f.write(f"b.jpg {top['d/b.jpg'][0]}\n")  # top-1
        f.write(f"c.jpeg\t{top['d/c.jpeg'][3]}\n")  # top-5 only
        miss = next(c for c in range(1000) if c not in top["d/a.PNG"])
        f.write(f"a.PNG,{miss}\n")  # neither
        f.write("bad.jpg 7\n")  # failed: a miss
        f.write("elsewhere.jpg 9\n")  # not an input
    out, _ = run("-q", "--jsonl", "t.jsonl", "--truth", "truth.txt", "d", status=1)
    want = ("accuracy over 4 inputs with ground truth: top-1 25.00% (1), top-5 50.00% (2), "
            "1 failed (counted as misses); 2 inputs not in the ground truth")
    if want not in out:
        fail(f"stdout {out!r} lacks {want!r}")
    # Resumed records count too, and --ground-truth is the same option.
    out, _ = run("-q", "--jsonl", "t.jsonl", "--resume", "--ground-truth", "truth.txt", "d")
    if want not in out:
        fail(f"resumed: stdout {out!r} lacks {want!r}")
    with open("bad-truth.txt", "w") as f:
        f.write("b.jpg 1000\n")
    _, err = run("-q", "--truth", "bad-truth.txt", "d", status=1)
    if "line 1" not in err:
        fail("a class out of range was not reported with its line")


def check_progress():
    photos("p", 4)
    env = dict(os.environ, CLRN_PROGRESS_SECONDS="0")
    _, err = run("-b", "2", "--jsonl", "o.jsonl", "p", env=env)
    if "2/4 images, " not in err or "4/4 images, " not in err or "ETA 0:00:00" not in err:
        fail("no periodic progress lines")
    if "clresnet: 4 images in " not in err:
        fail("no summary line")
    _, err = run("-q", "-b", "2", "--jsonl", "o.jsonl", "p", env=env)
    if err:
        fail("-q printed progress")


def peak_rss_kib(count, folder):
    photos(folder, count)
    p = subprocess.Popen([cli, "run", "-q", "-w", weights, "-b", "4", "--jsonl",
                          folder + ".jsonl", folder], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        fail(f"run over {count} photos failed")
    if len(jsonl(folder + ".jsonl")) != count:
        fail(f"run over {count} photos did not record them all")
    return usage.ru_maxrss


def check_memory():
    small, large = peak_rss_kib(60, "m60"), peak_rss_kib(300, "m300")
    print(f"peak RSS: 60 photos {small / 1024:.1f} MiB, 300 photos {large / 1024:.1f} MiB")
    # Holding every preprocessed photo would add 240 x 588 KiB = 138 MiB.
    if large > small + 24 * 1024:
        fail("peak memory grows with the number of inputs")


def check_usage():
    tree()
    checks = [
        (["--resume", "d"], "--resume: give the output"),
        (["--json", "d"], "--json: a dataset run"),
        (["-o", "x.npy", "d"], "-o: not in a dataset run"),
        (["--jsonl", "a", "--csv", "b", "d"], "give one of them"),
        (["--jsonl", "d/b.jpg", "d"], "same file as the input d/b.jpg"),
        (["--csv", "t.txt", "--truth", "t.txt", "d"], "same file as the input t.txt"),
        (["--decode-threads", "0", "d"], "--decode-threads: '0'"),
        (["@"], "'@' names no list"),
        (["empty"], "no INPUT found"),
    ]
    open("t.txt", "w").close()
    os.makedirs("empty")
    for args, message in checks:
        _, err = run(*args, status=2)
        if message not in err or err.count("\n") != 1:
            fail(f"stderr {err!r} is not one line with {message!r}")
    _, err = run("@nosuch.txt", status=1)
    if "@nosuch.txt: cannot read the list" not in err:
        fail("a missing list was not reported")


try:
    {"order": check_order, "stream": check_stream, "resume": check_resume,
     "corrupt": check_corrupt, "truth": check_truth, "progress": check_progress,
     "memory": check_memory, "usage": check_usage}[case]()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("PASS")

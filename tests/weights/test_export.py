"""tools/export_torchvision.py from the outside: reference logits, --from-pth, the
offline --pretrained paths, ResNeXt and Wide ResNet recognised, and usage errors. (test_export.c checks the files it
writes with the C reader.) Run by CTest with a Python that has torch and
torchvision; exits 77 (skipped) when it has not.

The judge of the reference logits is torchvision run in this process on the same
weights and input: the script must reproduce it bit for bit, since the weights
survive the file unchanged (f32 is copied) and the arithmetic is the same.
"""
import contextlib
import copy
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    print(f"skipping: {e}", file=sys.stderr)
    sys.exit(77)

SCRIPT = os.environ.get("CLRN_EXPORT_SCRIPT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_torchvision.py")


def run(*args, env=None):
    """(exit status, stdout, stderr) of the script run as a program with args."""
    p = subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True,
                       env=env, timeout=600)
    return p.returncode, p.stdout, p.stderr


# Most cases call the script's main() in this process: importing torch takes
# seconds, and a program per case would spend most of the suite doing it.
spec = importlib.util.spec_from_file_location("export_torchvision", SCRIPT)
export_torchvision = importlib.util.module_from_spec(spec)
spec.loader.exec_module(export_torchvision)


def call(*args):
    """(exit status, stdout, stderr) of the script's main() with args."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = export_torchvision.main([str(a) for a in args])
        except SystemExit as e:  # argparse's usage errors and --help
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


def metadata(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))["__metadata__"]


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="clrn-export-")
        cls.dir = cls.tmp.name
        rng = np.random.default_rng(1)
        cls.input = cls.path("input.npy")
        # Two images of N(0, 1), the range of normalised photos, at a small size.
        np.save(cls.input, rng.standard_normal((2, 3, 64, 64)).astype(np.float32))
        # A resnet18 with 7 classes and its own BatchNorm values, saved the way
        # training code saves it: wrapped, with DataParallel's "module." prefix.
        torch.manual_seed(5)
        cls.model = torchvision.models.resnet18(num_classes=7).eval()
        with torch.no_grad():
            for m in cls.model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 2.0)
        state = {"module." + k: v for k, v in cls.model.state_dict().items()}
        cls.pth = cls.path("trained.pth")
        torch.save({"epoch": 3, "state_dict": state}, cls.pth)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    def expected_logits(self, model, dtype=torch.float32):
        x = torch.from_numpy(np.load(self.input))
        with torch.no_grad():
            return copy.deepcopy(model).to(dtype)(x.to(dtype)).float().numpy()

    def test_from_pth_and_reference(self):
        out, logits = self.path("trained.safetensors"), self.path("trained-logits.npy")
        rc, stdout, stderr = run("--from-pth", self.pth, "-o", out, "--reference", self.input,
                                 "--logits", logits)
        self.assertEqual(rc, 0, stderr)
        meta = metadata(out)
        self.assertEqual((meta["arch"], meta["num_classes"], meta["source"], meta["pth"]),
                         ("resnet18", "7", "pth", "trained.pth"))
        got = np.load(logits)
        self.assertEqual((got.dtype, got.shape), (np.float32, (2, 7)))
        np.testing.assert_array_equal(got, self.expected_logits(self.model))

        # The same weights read back with --weights give the same logits.
        again = self.path("again.npy")
        rc, _, stderr = call("--weights", out, "--reference", self.input, "--logits", again)
        self.assertEqual(rc, 0, stderr)
        np.testing.assert_array_equal(np.load(again), got)

        # In float64 the judge moves by rounding only. fp32 dot products of K terms
        # err by at most K*u relative (u = 2^-24); resnet18's longest are K = 4608
        # (3x3x512): 2.7e-4 per layer, and BatchNorm keeps layers from amplifying
        # it, so 1e-3 of the largest logit bounds the f32-f64 gap.
        f64 = self.path("f64.npy")
        rc, _, stderr = call("--weights", out, "--reference", self.input, "--logits", f64,
                            "--precision", "f64")
        self.assertEqual(rc, 0, stderr)
        want = self.expected_logits(self.model, torch.float64)
        np.testing.assert_array_equal(np.load(f64), want)
        self.assertLess(np.abs(want - got).max(), 1e-3 * np.abs(want).max())
        self.assertGreater(np.abs(want - got).max(), 0)  # f64 really ran

    def test_from_pth_mismatches(self):
        rc, _, stderr = call("--from-pth", self.pth, "--arch", "resnet34", "-o",
                            self.path("x.safetensors"))
        self.assertEqual(rc, 1)
        self.assertIn("holds a resnet18, not a resnet34", stderr)
        rc, _, stderr = call("--from-pth", self.pth, "--num-classes", "1000", "-o",
                            self.path("x.safetensors"))
        self.assertEqual(rc, 1)
        self.assertIn("7 classes, not 1000", stderr)
        rc, _, stderr = call("--from-pth", self.input, "-o", self.path("x.safetensors"))
        self.assertEqual(rc, 1)
        self.assertIn("cannot read it as a state_dict", stderr)
        self.assertFalse(os.path.exists(self.path("x.safetensors")))

    def test_seeded_f16_reference(self):
        """Weights stored as f16 are judged as the f16 values, widened to f32."""
        out, logits = self.path("s.safetensors"), self.path("s.npy")
        rc, _, stderr = call("--arch", "18", "--seed", "4", "--dtype", "f16", "--num-classes",
                            "5", "-o", out, "--reference", self.input, "--logits", logits)
        self.assertEqual(rc, 0, stderr)
        torch.manual_seed(0)
        model = torchvision.models.resnet18(num_classes=5).eval()
        state = {k: v.half().float() if v.is_floating_point() else v
                 for k, v in self.read_back(out).items()}
        model.load_state_dict(state)
        np.testing.assert_array_equal(np.load(logits), self.expected_logits(model))

    def read_back(self, path):
        """The file's tensors, read here independently of the script's reader."""
        with open(path, "rb") as f:
            data = f.read()
        n = struct.unpack("<Q", data[:8])[0]
        self.assertEqual(n % 8, 0)
        header = json.loads(data[8:8 + n])
        header.pop("__metadata__")
        kinds = {"F16": "<f2", "F32": "<f4", "I64": "<i8"}
        return {k: torch.from_numpy(np.frombuffer(
            data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
            kinds[v["dtype"]]).reshape(v["shape"]).copy()) for k, v in header.items()}

    def offline_env(self):
        """No torch hub cache and a proxy that refuses every connection."""
        env = dict(os.environ, TORCH_HOME=self.path("torch-home"),
                   http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
                   HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
                   no_proxy="", NO_PROXY="")
        return env

    def test_pretrained_offline(self):
        out = self.path("pre.safetensors")
        rc, stdout, stderr = run("--arch", "resnet18", "--pretrained", "-o", out,
                                 env=self.offline_env())
        self.assertEqual(rc, 1)
        self.assertEqual(len(stderr.strip().splitlines()), 1, stderr)  # one plain line
        self.assertIn("cannot download torchvision's resnet18 weights", stderr)
        self.assertFalse(os.path.exists(out))

        rc, stdout, stderr = run("--arch", "resnet18", "--pretrained", "--allow-random",
                                 "--seed", "2", "-o", out, env=self.offline_env())
        self.assertEqual(rc, 0, stderr)
        self.assertIn("--allow-random", stderr)
        self.assertIn("NOT torchvision's pretrained", stderr)
        meta = metadata(out)
        self.assertEqual((meta["source"], meta["seed"]), ("seed", "2"))
        self.assertIn("could not be downloaded", meta["fallback"])

    def test_same_seed_same_bytes(self):
        a, b = self.path("a.safetensors"), self.path("b.safetensors")
        for path in (a, b):
            rc, _, stderr = call("--arch", "18", "--seed", "9", "--dtype", "bf16", "-o", path)
            self.assertEqual(rc, 0, stderr)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())

    def test_usage_errors(self):
        for args in ([], ["--seed", "1", "--arch", "18"], ["--arch", "18", "-o", "x"],
                     ["--seed", "1", "-o", "x"], ["--arch", "resnet99", "--seed", "1", "-o", "x"],
                     ["--weights", "w", "-o", "x", "--reference", "i", "--logits", "l"],
                     ["--arch", "18", "--seed", "1", "-o", "x", "--reference", "i"],
                     ["--arch", "18", "--seed", "1", "--from-pth", "p", "-o", "x"],
                     ["--arch", "18", "--seed", "1", "--allow-random", "-o", "x"],
                     ["--arch", "18", "--pretrained", "--num-classes", "10", "-o", "x"],
                     ["--arch", "18", "--seed", "1", "--dtype", "f64", "-o", "x"]):
            rc, _, stderr = call(*args)
            self.assertEqual(rc, 2, f"{args}: {stderr}")
        rc, stdout, _ = run("--help")
        self.assertEqual(rc, 0)
        self.assertIn("examples:", stdout)

    def test_bad_input_and_weights(self):
        bad = self.path("bad.npy")
        np.save(bad, np.zeros((2, 4, 8, 8), np.float32))
        weights = self.path("w.safetensors")
        rc, _, stderr = call("--arch", "18", "--seed", "1", "-o", weights, "--reference", bad,
                            "--logits", self.path("l.npy"))
        self.assertEqual(rc, 1)
        self.assertIn("not (N, 3, H, W)", stderr)
        rc, _, stderr = call("--weights", self.pth, "--reference", self.input, "--logits",
                            self.path("l.npy"))
        self.assertEqual(rc, 1)
        self.assertIn("is a PyTorch checkpoint, not safetensors", stderr)

    def test_resnext_and_wide(self):
        # Names as torchvision spells them, or with '-' and capitals.
        self.assertEqual(export_torchvision.arch_name("ResNeXt50-32x4d"), "resnext50_32x4d")
        self.assertEqual(export_torchvision.arch_name("wide_resnet101_2"), "wide_resnet101_2")
        self.assertEqual(export_torchvision.arch_name("50"), "resnet50")
        # Same keys for a depth; layer1.0.conv2 [width, width / groups, 3, 3] tells them apart.
        for arch, (kind, blocks, _, groups, per_group) in export_torchvision.ARCHS.items():
            if kind != "bottleneck":
                continue
            state = {f"layer{s + 1}.{b}.conv1.weight": torch.empty(0)
                     for s in range(4) for b in range(blocks[s])}
            state["layer1.0.conv3.weight"] = torch.empty(0)
            state["layer1.0.conv2.weight"] = torch.empty(groups * per_group, per_group, 3, 3)
            self.assertEqual(export_torchvision.infer_arch(state, "x"), arch)
        state["layer1.0.conv2.weight"] = torch.empty(96, 3, 3, 3)
        with self.assertRaisesRegex(export_torchvision.Failure, r"conv2.weight \[96, 3\]"):
            export_torchvision.infer_arch(state, "x")
        # A ResNeXt-50 checkpoint is recognised as one, not as the ResNet-50 it shares keys with.
        torch.manual_seed(2)
        pth, out = self.path("rx50.pth"), self.path("rx50.safetensors")
        torch.save(torchvision.models.resnext50_32x4d(num_classes=3).state_dict(), pth)
        rc, stdout, stderr = call("--from-pth", pth, "-o", out)
        self.assertEqual(rc, 0, stderr)
        self.assertIn("resnext50_32x4d, 3 classes", stdout)
        self.assertEqual(metadata(out)["arch"], "resnext50_32x4d")

    def test_zz_no_temporary_files_left(self):
        # Runs last (unittest sorts by name): every write above was renamed into place.
        left = [n for n in os.listdir(self.dir) if n.endswith(".tmp")]
        self.assertEqual(left, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""clresnet.Model against the command line: logits bit for bit, classify() on a photo,
the input read in place when it is already C-contiguous float32, context manager, two
devices giving what one gives."""
import os
import subprocess
import sys

import numpy as np
import pytest

import clresnet
from conftest import DOG


def cli_logits(cli, weights, x, workdir, name):
    inp, out = workdir / f"{name}-x.npy", workdir / f"{name}-logits.npy"
    np.save(inp, x)
    subprocess.run([cli, "run", "-q", "-d", "0", "-w", weights, "-o", str(out), str(inp)],
                   check=True, stdout=subprocess.DEVNULL)
    return np.load(out)


@pytest.mark.parametrize("shape", [(3, 3, 224, 224), (2, 3, 67, 45)])
def test_logits_equal_command_line(model, cli, weights, workdir, shape):
    x = np.random.RandomState(sum(shape)).standard_normal(shape).astype(np.float32)
    logits = model(x)
    assert logits.shape == (shape[0], 1000) and logits.dtype == np.float32
    expected = cli_logits(cli, weights, x, workdir, "x%d" % shape[2])
    assert logits.tobytes() == expected.tobytes()  # bit for bit
    assert model.input_size == shape[2:]


def test_classify_matches_command_line_preprocessing(model, cli, weights, workdir):
    saved, out = workdir / "dog-x.npy", workdir / "dog-logits.npy"
    subprocess.run([cli, "run", "-q", "-d", "0", "-w", weights, "--save-input", str(saved),
                    "-o", str(out), DOG], check=True, stdout=subprocess.DEVNULL)
    top = model.classify(DOG, topk=5)
    assert len(top) == 5
    logits = np.load(out)[0]
    assert [p.index for p in top] == list(np.argsort(-logits, kind="stable")[:5])
    probabilities = model.probabilities(np.load(saved))[0]
    for p in top:
        assert p.label == clresnet.imagenet_labels()[p.index]
        assert p.probability == float(probabilities[p.index])  # same tensor, same run
    assert [p.probability for p in top] == sorted((p.probability for p in top), reverse=True)
    both = model.classify([DOG, DOG], topk=2)
    assert len(both) == 2 and both[0] == both[1] == top[:2]


class Recorder:
    """Stands in for the library in clresnet._model: records the input pointer each
    clrn_engine_run receives, then calls the real function."""

    def __init__(self, lib, ffi):
        self._lib, self._ffi, self.inputs = lib, ffi, []

    def __getattr__(self, name):
        return getattr(self._lib, name)

    def clrn_engine_run(self, engine, input, batch, logits, probabilities):
        self.inputs.append(int(self._ffi.cast("uintptr_t", input)))
        return self._lib.clrn_engine_run(engine, input, batch, logits, probabilities)


def test_contiguous_float32_is_not_copied(model, monkeypatch):
    from clresnet import _model
    recorder = Recorder(_model.lib, _model.ffi)
    monkeypatch.setattr(_model, "lib", recorder)
    x = np.random.RandomState(1).standard_normal((2, 3, 224, 224)).astype(np.float32)
    expected = model(x)
    assert recorder.inputs == [x.ctypes.data]  # the library read x's own buffer
    x.flags.writeable = False  # read-only is fine too
    assert model(x).tobytes() == expected.tobytes() and recorder.inputs[1] == x.ctypes.data
    # A non-contiguous view, a Fortran-order copy and float64 are converted (copied),
    # and give the same logits.
    for other in (np.concatenate([x, x], axis=3)[:, :, :, :224], np.asfortranarray(x),
                  x.astype(np.float64)):
        recorder.inputs.clear()
        assert model(other).tobytes() == expected.tobytes()
        assert recorder.inputs[0] != other.ctypes.data


def test_context_manager_frees(weights):
    with clresnet.Model(weights, device=0, batch=2) as m:
        assert m.num_classes == 1000 and m.arch == "resnet18" and m.devices[0].index == 0
        assert m.metadata("seed") == "0"
    assert m._engine is None and m._weights is None
    with pytest.raises(clresnet.Error, match="closed"):
        m(np.zeros((1, 3, 224, 224), np.float32))
    m.close()  # idempotent


def test_empty_batch(model):
    assert model(np.zeros((0, 3, 224, 224), np.float32)).shape == (0, 1000)


MULTI = """
import sys, numpy as np, clresnet
with clresnet.Model(sys.argv[1], device="all") as m:
    assert len(m.devices) == 2, m.devices
    np.save(sys.argv[3], m(np.load(sys.argv[2])))
    print(m.last_shards)
"""


def test_two_devices_equal_one(model, weights, workdir):
    x = np.random.RandomState(2).standard_normal((6, 3, 224, 224)).astype(np.float32)
    np.save(workdir / "multi-x.npy", x)
    env = dict(os.environ, POCL_DEVICES="pthread pthread")
    run = subprocess.run([sys.executable, "-c", MULTI, weights, str(workdir / "multi-x.npy"),
                          str(workdir / "multi-logits.npy")], env=env, check=True,
                         capture_output=True, text=True)
    shards = [int(s) for s in run.stdout.strip().strip("[]").split(",")]
    assert sum(shards) == 6 and min(shards) > 0, shards  # both devices ran images
    assert np.load(workdir / "multi-logits.npy").tobytes() == model(x).tobytes()
    assert model.last_shards == [6]

"""Failures raise clresnet.Error carrying the library's message; argument errors are
also ValueError / TypeError."""
import numpy as np
import pytest

import clresnet


def test_missing_weights_file(tmp_path):
    path = str(tmp_path / "missing.safetensors")
    with pytest.raises(clresnet.Error) as e:
        clresnet.Model(path, device="0")
    assert path in str(e.value) and "No such file" in str(e.value)
    assert e.value.status_name == "I/O error"


def test_malformed_weights_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    with pytest.raises(clresnet.Error) as e:
        clresnet.Model(str(path), device="0")
    assert "bad.safetensors" in str(e.value)


def test_unknown_device_lists_devices(weights):
    with pytest.raises(clresnet.Error) as e:
        clresnet.Model(weights, device="no-such-device-xyz")
    assert "no-such-device-xyz" in str(e.value)
    assert clresnet.devices()[0].name in str(e.value)
    with pytest.raises(clresnet.ArgumentError):
        clresnet.Model(weights, device="")


def test_wrong_architecture(weights):
    with pytest.raises(clresnet.Error, match="resnet50"):
        clresnet.Model(weights, device="0", arch="resnet50")


@pytest.mark.parametrize("shape", [(2, 4, 224, 224), (3, 224, 224), (1, 3, 224)])
def test_bad_shape(model, shape):
    with pytest.raises(clresnet.Error, match=r"\[N,3,H,W\]") as e:
        model(np.zeros(shape, np.float32))
    assert isinstance(e.value, ValueError)


def test_library_refuses_size_and_model_recovers(model):
    with pytest.raises(clresnet.Error, match="input size 0x224 is outside") as e:
        model(np.zeros((1, 3, 0, 224), np.float32))
    assert e.value.status_name == "invalid argument"
    with pytest.raises(clresnet.Error, match="input size 0x224"):  # no engine left: rebuilt
        model(np.zeros((1, 3, 0, 224), np.float32))
    assert model(np.zeros((1, 3, 224, 224), np.float32)).shape == (1, 1000)


@pytest.mark.parametrize("x", [np.zeros((1, 3, 224, 224), np.uint8), [[0.0]]])
def test_non_float_input_is_a_type_error(model, x):
    with pytest.raises(TypeError):
        model(x)


def test_classify_unreadable_image(model, tmp_path):
    bad = tmp_path / "not-a-photo.jpg"
    bad.write_bytes(b"hello")
    with pytest.raises(clresnet.Error, match="not-a-photo.jpg"):
        model.classify([bad])
    with pytest.raises(clresnet.Error, match="missing.png"):
        model.classify(str(tmp_path / "missing.png"))


def test_library_warnings_reach_logging(weights, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("CLRN_CACHE_DIR", str(blocker / "cache"))
    with caplog.at_level("WARNING", logger="clresnet"):
        clresnet.Model(weights, device="0", batch=1).close()
    assert any("cache" in r.getMessage() and str(blocker) in r.getMessage()
               for r in caplog.records if r.name == "clresnet"), caplog.text

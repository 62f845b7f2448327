"""Shared fixtures of the Python module's tests: the source tree, the command-line
program to compare against, and a small ResNet-18 with seeded random weights made by
tools/export_torchvision.py (with Debian's Python, which has torchvision)."""
import os
import subprocess

import pytest

SOURCE_DIR = os.environ.get("CLRN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DOG = os.path.join(SOURCE_DIR, "data", "dog.jpg")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("clresnet")


@pytest.fixture(scope="session")
def weights(workdir):
    path = workdir / "resnet18.safetensors"
    python = os.environ.get("CLRN_REFERENCE_PYTHON", "/usr/bin/python3")
    subprocess.run([python, os.path.join(SOURCE_DIR, "tools", "export_torchvision.py"),
                    "--arch", "resnet18", "--seed", "0", "-o", str(path)],
                   check=True, stdout=subprocess.DEVNULL)
    return str(path)


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("CLRN_CLI")
    if not path:
        pytest.skip("CLRN_CLI is not set (the command-line program is not built)")
    return path


@pytest.fixture(scope="session")
def model(weights):
    import clresnet
    with clresnet.Model(weights, device="0", batch=8) as m:
        yield m

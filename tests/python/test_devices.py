"""clresnet.devices() lists what `clresnet devices` lists."""
import json
import os
import subprocess

import pytest

import clresnet


def test_devices_listed():
    devices = clresnet.devices()
    assert devices
    for i, d in enumerate(devices):
        assert d.index == i and d.name and d.platform
        assert d.type in ("cpu", "gpu", "accelerator", "custom", "other")
        assert d.compute_units > 0 and d.global_memory > 0
        assert d.spec == f"{d.platform_index}:{d.device_index}"


def test_devices_match_command_line(cli):
    listed = json.loads(subprocess.run([cli, "devices", "--json"], check=True,
                                       capture_output=True, text=True).stdout)
    if isinstance(listed, dict):
        listed = listed.get("devices", listed)
    assert [d["name"] for d in listed] == [d.name for d in clresnet.devices()]


def test_version():
    assert clresnet.__version__.count(".") == 2

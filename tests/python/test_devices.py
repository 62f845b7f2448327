"""clresnet.devices() lists what `clresnet devices` lists."""
import json
import os
import subprocess

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
    same = ["index", "type", "platform", "vendor", "name", "driver_version", "compute_units",
            "max_clock_mhz", "fp16", "fp64", "profile"]
    assert [{k: d[k] for k in same} | {"id": d["id"], "memory": d["global_memory_bytes"]}
            for d in listed] == \
        [{k: getattr(d, k) for k in same} | {"id": d.spec, "memory": d.global_memory}
         for d in clresnet.devices()]


def test_installed_package():
    """The tests run the package pip installed: library and class names inside it."""
    folder = os.path.dirname(clresnet.__file__)
    assert os.path.isfile(os.path.join(folder, "libclresnet.so"))
    assert len(clresnet.imagenet_labels()) == 1000
    assert clresnet.__version__.count(".") == 2

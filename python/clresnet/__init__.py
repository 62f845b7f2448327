"""clresnet: torchvision ResNets on any OpenCL device, from Python.

    import clresnet, numpy as np
    print(clresnet.devices())
    with clresnet.Model("resnet50.safetensors", device="gpu", batch=8) as m:
        logits = m(np.zeros((2, 3, 224, 224), np.float32))   # [2, 1000]
        print(m.classify("data/dog.jpg", topk=5))

A binding of libclresnet's C API through cffi in ABI mode; the library is built by
`pip install .` and shipped inside this package. Failures raise clresnet.Error with
the library's message; its warnings go to the logger "clresnet".
"""
from ._devices import Device, devices
from ._errors import ArgumentError, ArgumentTypeError, Error
from . import _ffi, _log
from ._model import Model, Prediction, imagenet_labels

__version__ = _ffi.ffi.string(_ffi.lib.clrn_version()).decode()
_log.install()

for _name in ("ArgumentError", "ArgumentTypeError", "Device", "Error", "Model", "Prediction"):
    globals()[_name].__module__ = __name__  # clresnet.Error, not clresnet._errors.Error
del _name

__all__ = ["ArgumentError", "ArgumentTypeError", "Device", "Error", "Model", "Prediction",
           "devices", "imagenet_labels"]

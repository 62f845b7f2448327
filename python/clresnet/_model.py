"""clresnet.Model: a ResNet weights file loaded onto one or more devices through the
engine API, run on numpy arrays (m(x) -> logits) or classifying image files with the
library's own decoding and torchvision preprocessing (m.classify)."""
import collections
import os
import threading

import numpy as np

from . import _devices
from ._errors import ArgumentError, ArgumentTypeError, Error, check, text
from ._ffi import PACKAGE_DIR, ffi, lib

#: One class of a classify() result: its ImageNet name (None when the model does not
#: have the 1000 ImageNet classes), its index and its softmax probability.
Prediction = collections.namedtuple("Prediction", "label index probability")

_labels = None


def imagenet_labels():
    """The 1000 ImageNet class names, in torchvision's order (shipped in the package)."""
    global _labels
    if _labels is None:
        with open(os.path.join(PACKAGE_DIR, "imagenet_classes.txt"), encoding="utf-8") as f:
            _labels = [line.rstrip("\r\n") for line in f]
    return _labels


def _as_input(x):
    """x as a C-contiguous, aligned, native float32 [N,3,H,W] array: x itself when it
    is one already (no copy), else a float32 copy. Integer, bool, complex and object
    arrays are refused rather than converted: pixels in 0..255 are not a preprocessed
    input."""
    if not isinstance(x, np.ndarray):
        raise ArgumentTypeError(f"input must be a numpy.ndarray, not {type(x).__name__}")
    if x.dtype.kind != "f":
        raise ArgumentTypeError(
            f"input must be a float32 array (floating arrays are converted), not {x.dtype}")
    if x.ndim != 4 or x.shape[1] != 3:
        raise ArgumentError(f"input must have shape [N,3,H,W], not {list(x.shape)}")
    if x.shape[0] > 2**31 - 1:
        raise ArgumentError(f"too many images in one call: {x.shape[0]}")
    if x.dtype == np.float32 and x.dtype.isnative and x.flags.c_contiguous and x.flags.aligned:
        return x
    return np.ascontiguousarray(x, dtype=np.float32)


class Model:
    """A ResNet on one or more OpenCL devices.

    Model(weights, device=None, batch=8, *, arch=None, fuse=True, height=224, width=224)

    weights: a safetensors file of a torchvision ResNet state_dict. device: a spec as
    the command line's -d ("gpu", "0", "1:0", "pocl", "cpu,gpu", "all") or an index in
    clresnet.devices(); None is the
    library's default (CLRN_DEVICE, else the first GPU, else the first device). Several
    devices share each batch in proportion to their measured speed. batch: the most
    images a device runs at once (larger inputs run in pieces). arch: "resnet50" etc.
    to check the weights against (None: inferred). fuse: fold BatchNorm and fuse
    ReLU/add. height, width: the input size the model is first built for; an input of
    another size rebuilds it for that size (the weights are uploaded again).

    Frees its device memory on close() or at the end of a with block. A Model may be
    called from several threads; calls run one at a time.
    """

    def __init__(self, weights, device=None, batch=8, *, arch=None, fuse=True,
                 height=224, width=224):
        self._engine = None
        self._weights = None
        self._lock = threading.Lock()
        if not isinstance(batch, int) or batch < 1:
            raise ArgumentError(f"batch must be a positive int, not {batch!r}")
        self._devices_c, self._device_count, self.devices = _devices.select(device)
        c_arch = ffi.new("clrn_arch *", lib.CLRN_ARCH_AUTO)
        if arch is not None:
            check(lib.clrn_arch_parse(str(arch).encode(), c_arch))
        out = ffi.new("clrn_weights **")
        check(lib.clrn_weights_open(os.fsencode(weights), c_arch[0], out))
        self._weights = out[0]
        self.path = os.fspath(weights)
        self.arch = text(lib.clrn_arch_name(lib.clrn_weights_arch(self._weights)))
        self.num_classes = int(lib.clrn_weights_num_classes(self._weights))
        self._options = ffi.new("clrn_engine_options *")
        lib.clrn_engine_options_default(self._options)
        self._options.model.fuse = bool(fuse)
        self._options.model.max_batch = batch
        try:
            self._build(height, width)
        except BaseException:
            self.close()
            raise

    def metadata(self, key):
        """A value of the weights file's __metadata__ ("source", "seed", ...), or None."""
        self._check_open()
        return text(lib.clrn_weights_metadata(self._weights, key.encode()))

    @property
    def input_size(self):
        """(height, width) the model is built for now."""
        return (self._options.model.height, self._options.model.width)

    @property
    def last_shards(self):
        """Images each device ran in the last call, in the order of devices."""
        with self._lock:
            if self._engine is None:
                return [0] * len(self.devices)
            return [int(lib.clrn_engine_last_shard(self._engine, i))
                    for i in range(lib.clrn_engine_device_count(self._engine))]

    def _check_open(self):
        if self._weights is None:
            raise Error("the model is closed", lib.CLRN_STATUS_INVALID_ARGUMENT)

    def _build(self, height, width):
        if self._engine is not None:
            lib.clrn_engine_release(self._engine)
            self._engine = None
        self._options.model.height = height
        self._options.model.width = width
        out = ffi.new("clrn_engine **")
        check(lib.clrn_engine_create(self._devices_c, self._device_count, self._weights,
                                     self._options, out))
        self._engine = out[0]

    def _run(self, x, probabilities):
        """Runs a checked float32 input; returns logits (and probabilities)."""
        n = x.shape[0]
        logits = np.empty((n, self.num_classes), dtype=np.float32)
        probs = np.empty_like(logits) if probabilities else None
        with self._lock:
            self._check_open()
            if self._engine is None or self.input_size != x.shape[2:]:
                self._build(*x.shape[2:])
            if n:
                check(lib.clrn_engine_run(
                    self._engine, ffi.from_buffer("float[]", x), n,
                    ffi.from_buffer("float[]", logits, require_writable=True),
                    ffi.from_buffer("float[]", probs, require_writable=True)
                    if probabilities else ffi.NULL))
        return (logits, probs) if probabilities else logits

    def __call__(self, x):
        """Logits [N, classes] (float32) of a preprocessed batch x [N,3,H,W]. A
        C-contiguous float32 x is read in place; other floating dtypes and layouts are
        converted (copied); integer and other non-floating arrays raise a TypeError
        (clresnet.ArgumentTypeError), a wrong shape a ValueError
        (clresnet.ArgumentError); both are clresnet.Error too."""
        return self._run(_as_input(x), False)

    def probabilities(self, x):
        """Softmax probabilities [N, classes] of x, as the library computes them."""
        return self._run(_as_input(x), True)[1]

    def classify(self, paths, topk=5):
        """Top classes of JPEG or PNG files, decoded and preprocessed by the library
        exactly as torchvision does (resize 256, center crop 224, ImageNet mean and
        std). paths: one path, giving its list of Predictions (label, index,
        probability), most probable first; or a sequence of paths, giving one such
        list per path. Raises Error naming the file when one cannot be read."""
        single = isinstance(paths, (str, bytes, os.PathLike))
        names = [paths] if single else list(paths)
        if not isinstance(topk, int) or topk < 1:
            raise ArgumentError(f"topk must be a positive int, not {topk!r}")
        topk = min(topk, self.num_classes)
        pre = ffi.new("clrn_preprocess *")
        lib.clrn_preprocess_default(pre)
        x = np.empty((len(names), 3, pre.crop, pre.crop), dtype=np.float32)
        image = ffi.new("clrn_image *")
        for i, name in enumerate(names):
            check(lib.clrn_image_load(os.fsencode(name), image))
            try:
                check(lib.clrn_image_preprocess(
                    image, pre, ffi.from_buffer("float[]", x[i], require_writable=True)))
            finally:
                lib.clrn_image_free(image)
        probs = self._run(x, True)[1]
        labels = imagenet_labels() if self.num_classes == len(imagenet_labels()) else None
        results = []
        for row in probs:
            best = np.argsort(-row, kind="stable")[:topk]
            results.append([Prediction(labels[j] if labels else None, int(j), float(row[j]))
                            for j in best])
        return results[0] if single else results

    def close(self):
        """Releases the model's device memory and the weights file. Idempotent."""
        with self._lock:
            if self._engine is not None:
                lib.clrn_engine_release(self._engine)
                self._engine = None
            if self._weights is not None:
                lib.clrn_weights_close(self._weights)
                self._weights = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_lock", None) is not None:
            self.close()

    def __repr__(self):
        state = "closed" if self._weights is None else f"{self.arch}, {self.num_classes} classes"
        return f"<clresnet.Model {self.path!r} ({state}) on {[d.name for d in self.devices]}>"

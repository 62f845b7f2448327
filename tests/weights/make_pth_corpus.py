#!/usr/bin/env python3
"""Writes tests/weights/pth_corpus/: small PyTorch checkpoints as torch.save writes
them (zip and legacy formats), nearly all broken in one way each, and README.md,
whose table says what is wrong with each file and which status clresnet must
answer. test_weights_pth_corpus checks every file against that table; the fuzzer
(fuzz_pth) starts from the same files; test_weights_pth reads the valid ones.

No torch needed: the pickles are written by Python's pickle with stand-ins that
carry torch's global names (torch._utils._rebuild_tensor_v2, torch.FloatStorage,
...) and torch's persistent ids, so the bytes are those torch.save writes; the
golden test (pth_golden.py) checks files written by torch itself. Deterministic:
    python3 tests/weights/make_pth_corpus.py
"""
import collections
import io
import os
import pickle
import struct
import sys
import types
import zlib

from make_corpus import write_corpus

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "pth_corpus")

# ---- stand-ins for torch's globals -------------------------------------------------

for module in ("torch", "torch._utils"):
    sys.modules[module] = types.ModuleType(module)


def stand_in(module, name, value):
    value.__module__, value.__qualname__, value.__name__ = module, name, name
    setattr(sys.modules[module], name, value)
    return value


REBUILD_V2 = stand_in("torch._utils", "_rebuild_tensor_v2", lambda *a: None)
REBUILD_PARAMETER = stand_in("torch._utils", "_rebuild_parameter", lambda *a: None)
STORAGE_CLASSES = {name: stand_in("torch", name, type(name, (), {}))
                   for name in ("FloatStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
                                "DoubleStorage")}
FORMATS = {"FloatStorage": "f", "HalfStorage": "e", "LongStorage": "q", "DoubleStorage": "d"}


def bf16(values):
    return [struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in values]


class Storage:
    def __init__(self, key, kind, values, numel=None):
        self.key, self.cls = key, STORAGE_CLASSES[kind]
        self.data = (struct.pack(f"<{len(values)}H", *bf16(values)) if kind == "BFloat16Storage"
                     else struct.pack(f"<{len(values)}{FORMATS[kind]}", *values))
        self.numel = len(values) if numel is None else numel


class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.args = (storage, offset, tuple(shape), tuple(stride), False,
                     collections.OrderedDict())

    def __reduce__(self):
        return REBUILD_V2, self.args


class Parameter:
    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce__(self):
        return REBUILD_PARAMETER, (self.tensor, True, collections.OrderedDict())


class Pickler(pickle.Pickler):
    """torch.save's pickler: storages become persistent ids."""

    def __init__(self, f, legacy, view=None):
        super().__init__(f, protocol=2)
        self.legacy, self.view, self.storages = legacy, view, {}

    def persistent_id(self, obj):
        if not isinstance(obj, Storage):
            return None
        self.storages[obj.key] = obj
        pid = ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return pid + (self.view,) if self.legacy else pid


def dumps(obj, legacy=False, view=None):
    f = io.BytesIO()
    p = Pickler(f, legacy, view)
    p.dump(obj)
    return f.getvalue(), p.storages


# ---- the containers ------------------------------------------------------------------

def zip_archive(entries, method=0, flags=0, disk=0, zip64=True, locator_at=None, offsets=None,
                wide=False):
    """A zip of (name, data) entries laid out as torch.save's writer does (a ZIP64 end
    record and locator before the classic end record). wide: every size and offset in
    ZIP64 extra fields and the classic end record saturated, as for files over 4 GiB."""
    out, central = bytearray(), bytearray()
    for i, (name, data) in enumerate(entries):
        n = name.encode()
        crc = zlib.crc32(data)
        stored = data if method == 0 else zlib.compress(data)[2:-4]
        offset = len(out)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 0, crc,
                           len(stored), len(data), len(n), 0) + n + stored
        if offsets and i in offsets:
            offset = offsets[i]
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(stored), offset) if wide else b""
        sizes = (0xFFFFFFFF,) * 2 if wide else (len(stored), len(data))
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, flags, method, 0, 0,
                               crc, *sizes, len(n), len(extra), 0, 0, 0, 0,
                               0xFFFFFFFF if wide else offset) + n + extra
    directory = len(out)
    out += central
    if zip64:
        record = len(out)
        out += struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, len(entries),
                           len(entries), len(central), directory)
        out += struct.pack("<4sIQI", b"PK\x06\x07", 0,
                           record if locator_at is None else locator_at, 1)
    counts = (0xFFFF,) * 2 if wide else (len(entries),) * 2
    ends = (0xFFFFFFFF,) * 2 if wide else (len(central), directory)
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", disk, disk, *counts, *ends, 0)
    return bytes(out)


def torch_zip(obj=None, pkl=None, storages=None, skip=(), extra=(), **options):
    """torch.save's zip format (torch >= 1.6) of obj, or of a raw pickle."""
    if pkl is None:
        pkl, storages = dumps(obj)
    entries = [("archive/data.pkl", pkl)]
    entries += [(f"archive/data/{k}", s.data) for k, s in (storages or {}).items()]
    entries += [("archive/version", b"3\n")] + list(extra)
    return zip_archive([e for e in entries if e[0] not in skip], **options)


MAGIC = 0x1950A86A20F9469CFC6C
SYS_INFO = {"protocol_version": 1001, "little_endian": True,
            "type_sizes": {"short": 2, "int": 4, "long": 4}}


def torch_legacy(obj, version=1001, sys_info=None, view=None, sizes=None):
    """torch.save's legacy format (torch < 1.6) of obj."""
    f = io.BytesIO()
    for header in (MAGIC, version, sys_info or SYS_INFO):
        pickle.dump(header, f, protocol=2)
    pkl, storages = dumps(obj, legacy=True, view=view)
    f.write(pkl)
    keys = sorted(storages)
    pickle.dump(keys, f, protocol=2)
    for k in keys:
        s = storages[k]
        f.write(struct.pack("<q", (sizes or {}).get(k, s.numel)))
        f.write(s.data)
    return f.getvalue()


# ---- the state_dicts -------------------------------------------------------------------

def sample():
    """Every layout the reader handles: float32 (contiguous, transposed), float16,
    bfloat16, two tensors at offsets of one storage, an int64 scalar."""
    w = Storage("0", "FloatStorage", [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    h = Storage("1", "HalfStorage", [0.25, -2.0, 65504.0])
    b = Storage("2", "BFloat16Storage", [1.0, -0.5, 3.0])
    shared = Storage("3", "FloatStorage", [0.1, 0.2, 1.5, 2.5])
    n = Storage("4", "LongStorage", [7])
    sd = collections.OrderedDict()
    sd["conv1.weight"] = Tensor(w, 0, [2, 3], [3, 1])
    sd["conv1.weight_t"] = Tensor(w, 0, [3, 2], [1, 3])
    sd["bn1.weight"] = Tensor(h, 0, [3], [1])
    sd["bn1.bias"] = Tensor(b, 0, [3], [1])
    sd["bn1.running_mean"] = Tensor(shared, 0, [2], [1])
    sd["bn1.running_var"] = Tensor(shared, 2, [2], [1])
    sd["bn1.num_batches_tracked"] = Tensor(n, 0, [], [])
    return sd


def one(storage_values=(1.0, 2.0), offset=0, shape=(2,), stride=(1,), kind="FloatStorage",
        numel=None):
    return collections.OrderedDict(
        a=Tensor(Storage("0", kind, list(storage_values), numel), offset, shape, stride))


def checkpoint():
    """What a training script saves: DataParallel names, a Parameter, other entries."""
    sd = collections.OrderedDict((f"module.{k}", v) for k, v in sample().items())
    sd["module.conv1.weight"] = Parameter(sd["module.conv1.weight"])
    return {"epoch": 3, "arch": "resnet18", "best_acc1": 0.5, "state_dict": sd,
            "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "momentum": 0.9,
                                                         "nesterov": False, "params": [0, 1]}]}}


def py2_legacy():
    """A legacy file as torch 0.3 under Python 2 wrote it (hand-assembled, as Python 3
    cannot): byte-string names (SHORT_BINSTRING), OrderedDict([[name, tensor], ...])
    and torch._utils._rebuild_tensor (no requires_grad, no hooks)."""
    def s(text):
        return b"U" + bytes([len(text)]) + text.encode()
    rebuild, storage = b"ctorch._utils\n_rebuild_tensor\n", b"ctorch\nFloatStorage\n"
    weight = (b"](" + s("conv1.weight") + rebuild + b"((" + s("storage") + storage + s("7") +
              s("cpu") + b"K\x06Ntq\x01QK\x00K\x02K\x03\x86K\x03K\x01\x86tRe")
    transposed = (b"](" + s("conv1.weight_t") + rebuild + b"(h\x01QK\x00K\x03K\x02\x86K\x01K\x03"
                  b"\x86tRe")
    body = (b"\x80\x02ccollections\nOrderedDict\n](" + weight + transposed + b"e\x85R.")
    f = io.BytesIO()
    for header in (MAGIC, 1001, SYS_INFO):
        pickle.dump(header, f, protocol=2)
    f.write(body + b"\x80\x02](" + s("7") + b"e.")
    f.write(struct.pack("<q6f", 6, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5))
    return f.getvalue()


def with_pickle(body):
    """A zip whose data.pkl is protocol 2 raw opcodes body (then STOP)."""
    return torch_zip(pkl=b"\x80\x02" + body + b".")


VALID_ZIP = torch_zip(sample())
TWO_TYPES = collections.OrderedDict(
    a=Tensor(Storage("0", "FloatStorage", [1.0, 2.0]), 0, [2], [1]),
    b=Tensor(Storage("0", "HalfStorage", [1.0, 2.0, 3.0, 4.0]), 0, [4], [1]))
DUPLICATE = collections.OrderedDict(
    (("module.a", Tensor(Storage("0", "FloatStorage", [1.0]), 0, [1], [1])),
     ("a", Tensor(Storage("1", "FloatStorage", [2.0]), 0, [1], [1]))))

# (file name, expected status, what is wrong, bytes)
CASES = [
    ("valid-zip.pth", "SUCCESS",
     "nothing: torch.save's zip format with float32 (contiguous and transposed), float16, "
     "bfloat16, offsets into a shared storage and an int64 scalar", VALID_ZIP),
    ("valid-zip64.pth", "SUCCESS",
     "nothing: the same with every size and offset in ZIP64 fields, as torch writes files "
     "over 4 GiB", torch_zip(sample(), wide=True)),
    ("valid-legacy.pth", "SUCCESS", "nothing: the same in the legacy format (torch < 1.6)",
     torch_legacy(sample())),
    ("valid-checkpoint.pth", "SUCCESS",
     "nothing: a training checkpoint, the state_dict under \"state_dict\" with \"module.\" "
     "names and a Parameter, beside an epoch, floats and an optimizer state",
     torch_zip(checkpoint())),
    ("valid-model-key-legacy.pth", "SUCCESS",
     "nothing: a legacy checkpoint holding the state_dict under \"model\"",
     torch_legacy({"model": sample(), "epoch": 1})),
    ("valid-py2-legacy.pth", "SUCCESS",
     "nothing: a legacy file as torch 0.3 wrote it under Python 2 (byte-string names, "
     "OrderedDict([[name, tensor]]), _rebuild_tensor)", py2_legacy()),
    ("zip-truncated.pth", "INVALID_FORMAT", "the zip archive cut short (no end record)",
     VALID_ZIP[:len(VALID_ZIP) * 2 // 3]),
    ("zip-compressed.pth", "UNSUPPORTED", "entries compressed with deflate",
     torch_zip(sample(), method=8)),
    ("zip-encrypted.pth", "UNSUPPORTED", "entries flagged as encrypted",
     torch_zip(sample(), flags=1)),
    ("zip-multi-disk.pth", "UNSUPPORTED", "the end record names disk 1 (a split archive)",
     torch_zip(sample(), zip64=False, disk=1)),
    ("zip-bad-locator.pth", "INVALID_FORMAT",
     "the ZIP64 locator points at no ZIP64 end record", torch_zip(sample(), locator_at=8)),
    ("zip-bad-local-offset.pth", "INVALID_FORMAT",
     "a central record's local header offset points into another entry's data",
     torch_zip(sample(), offsets={1: 40})),
    ("zip-duplicate-entry.pth", "INVALID_FORMAT", "two entries with the same name",
     torch_zip(sample(), extra=[("archive/version", b"3\n")])),
    ("zip-no-data-pkl.pth", "UNSUPPORTED", "a zip archive without data.pkl",
     zip_archive([("archive/version", b"3\n")])),
    ("zip-storage-missing.pth", "INVALID_FORMAT", "the entry of storage 0 is missing",
     torch_zip(sample(), skip=("archive/data/0",))),
    ("zip-storage-short.pth", "INVALID_FORMAT",
     "storage 0 claims 9 elements; its entry holds 2", torch_zip(one(numel=9))),
    ("zip-big-endian.pth", "UNSUPPORTED", "a byteorder entry that says big",
     torch_zip(sample(), extra=[("archive/byteorder", b"big")])),
    ("legacy-truncated.pth", "INVALID_FORMAT", "the legacy file cut inside its storages",
     torch_legacy(sample())[:-20]),
    ("legacy-trailing.pth", "INVALID_FORMAT", "bytes after the last storage",
     torch_legacy(sample()) + b"\0" * 8),
    ("legacy-view.pth", "UNSUPPORTED", "a storage view (torch < 0.4) in a persistent id",
     torch_legacy(one(), view=("1", 0, 2))),
    ("legacy-big-endian.pth", "UNSUPPORTED", "sys_info says the writer was big-endian",
     torch_legacy(one(), sys_info=dict(SYS_INFO, little_endian=False))),
    ("legacy-version.pth", "UNSUPPORTED", "protocol version 1000, not 1001",
     torch_legacy(one(), version=1000)),
    ("legacy-size-mismatch.pth", "INVALID_FORMAT",
     "a storage's element count in the file differs from its persistent id",
     torch_legacy(one(), sizes={"0": 1})),
    ("evil-global.pth", "UNSUPPORTED", "GLOBAL os.system called with a shell command",
     with_pickle(b"cos\nsystem\nX\x0b\x00\x00\x00echo pwned!\x85R")),
    ("evil-stack-global.pth", "UNSUPPORTED", "STACK_GLOBAL builtins.eval",
     with_pickle(b"\x8c\x08builtins\x8c\x04eval\x93X\x01\x00\x00\x001\x85R")),
    ("evil-reduce.pth", "UNSUPPORTED",
     "an entry that calls an allowed global that is not a tensor maker (torch.FloatStorage)",
     with_pickle(b"}X\x01\x00\x00\x00actorch\nFloatStorage\n)Rs")),
    ("newobj.pth", "UNSUPPORTED", "the NEWOBJ opcode (object creation)",
     with_pickle(b"ccollections\nOrderedDict\n)\x81")),
    ("deep-nesting.pth", "UNSUPPORTED", "100000 nested marks", with_pickle(b"(" * 100000)),
    ("memo-empty.pth", "INVALID_FORMAT", "BINGET of a memo slot never set",
     with_pickle(b"h\x05")),
    ("memo-huge-index.pth", "UNSUPPORTED", "LONG_BINPUT to slot 4294967280",
     with_pickle(b"}r\xf0\xff\xff\xff")),
    ("stack-underflow.pth", "INVALID_FORMAT", "REDUCE on an empty stack", with_pickle(b"R")),
    ("huge-string.pth", "UNSUPPORTED", "a BINUNICODE of 2147483647 bytes",
     with_pickle(b"X\xff\xff\xff\x7f")),
    ("wide-int.pth", "UNSUPPORTED", "a LONG1 integer of 9 bytes",
     with_pickle(b"\x8a\x09" + b"\x01" * 9)),
    ("no-stop.pth", "INVALID_FORMAT", "data.pkl ends without STOP",
     torch_zip(pkl=b"\x80\x02}q\x00")),
    ("not-a-dict.pth", "UNSUPPORTED", "the object is a list", torch_zip([1, 2])),
    ("non-tensor-entry.pth", "UNSUPPORTED",
     "a dict of a tensor and an int, with no state_dict inside",
     torch_zip(collections.OrderedDict(one(), b=3))),
    ("duplicate-name.pth", "INVALID_FORMAT", "module.a and a: the same name once the prefix "
     "is taken off", torch_zip(DUPLICATE)),
    ("bad-offset.pth", "INVALID_FORMAT", "a tensor starting past the end of its storage",
     torch_zip(one(offset=5))),
    ("bad-stride.pth", "INVALID_FORMAT", "strides that reach past the end of the storage",
     torch_zip(one(shape=(2, 2), stride=(2, 1)))),
    ("shape-overflow.pth", "INVALID_FORMAT", "shape [2^40, 2^40] (stride 0): its size overflows",
     torch_zip(one(shape=(1 << 40, 1 << 40), stride=(0, 0)))),
    ("nine-dims.pth", "INVALID_FORMAT", "a tensor of 9 dimensions",
     torch_zip(one(storage_values=[1.0], shape=[1] * 9, stride=[1] * 9))),
    ("storage-two-types.pth", "UNSUPPORTED", "one storage key used as float32 and float16",
     torch_zip(TWO_TYPES)),
    ("nan-value.pth", "INVALID_FORMAT", "a float32 NaN (refused when read)",
     torch_zip(one(storage_values=(1.0, float("nan"))))),
]


def main():
    write_corpus(OUT, CASES,
                 "# Malformed PyTorch checkpoints\n\n"
                 "Seeds for fuzz_pth and the cases of test_weights_pth_corpus, which opens each\n"
                 "file as weights, reads every float tensor as clresnet does, and expects the\n"
                 "status below (SUCCESS for the valid files) and, on failure, a message that\n"
                 "names the file. Written by ../make_pth_corpus.py without torch; the golden\n"
                 "test checks files written by torch.save itself.")


if __name__ == "__main__":
    main()

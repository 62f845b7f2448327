#!/usr/bin/env python3
"""Writes tests/weights/corpus/: small safetensors files, nearly all malformed in one
way each, and README.md, whose table says what is wrong with each file and which
status clresnet must answer. The CUnit suite test_weights_corpus checks every file
against that table; the fuzzer (fuzz_safetensors) starts from the same files.

Run it again after changing the list; the output is deterministic:
    python3 tests/weights/make_corpus.py
"""
import json
import os
import pickle
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def st(header, data=b"", pad=True):
    """A safetensors image: header (a dict, or raw bytes used as they are) and data."""
    if isinstance(header, dict):
        text = json.dumps(header, separators=(",", ":")).encode()
    else:
        text = header
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def t(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


F32_2 = struct.pack("<2f", 1.0, -2.0)

# (file name, expected status, what is wrong, bytes)
CASES = [
    ("valid-small.safetensors", "SUCCESS", "nothing: a valid file with metadata and five dtypes",
     st({"__metadata__": {"format": "pt", "arch": "resnet18"},
         "conv1.weight": t("F32", [2, 1, 1, 1], 8, 16),
         "bn1.num_batches_tracked": t("I64", [], 0, 8),
         "bn1.weight": t("F16", [2], 16, 20),
         "bn1.bias": t("BF16", [2], 20, 24),
         "fc.bias": t("U8", [0], 24, 24)},
        struct.pack("<q", 7) + F32_2 + struct.pack("<2e", 0.5, -1.5) + b"\x80\x3f\x00\xc0")),
    ("valid-empty.safetensors", "SUCCESS", "nothing: no tensors at all", st({})),
    ("too-short.safetensors", "INVALID_FORMAT", "5 bytes: no room for the 8-byte header length",
     b"\x02\x00\x00\x00\x00"),
    ("header-too-long.safetensors", "INVALID_FORMAT",
     "header length 100000001 is over the 100 MB limit", struct.pack("<Q", 100_000_001) + b"{}"),
    ("header-past-end.safetensors", "INVALID_FORMAT",
     "header length 64 runs past the end of the file", struct.pack("<Q", 64) + b"{}      "),
    ("not-json.safetensors", "INVALID_FORMAT", "the header is cut off in the middle of an object",
     st(b'{"a":{"dtype":"F32",')),
    ("not-an-object.safetensors", "INVALID_FORMAT", "the header is a JSON array",
     st(b"[1,2,3]")),
    ("bytes-after-json.safetensors", "INVALID_FORMAT",
     "a second JSON value follows the header object", st(b"{} {}")),
    ("control-char.safetensors", "INVALID_FORMAT",
     "a form feed between tokens (JSON allows only space, tab, CR, LF; cJSON skips it)",
     st(b'{"w":\x0c{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x01")),
    ("bad-utf8.safetensors", "INVALID_FORMAT", "a tensor name holds an overlong UTF-8 sequence",
     st(b'{"a\xc0\xaf":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x01")),
    ("nul-in-name.safetensors", "INVALID_FORMAT",
     "a tensor name holds \\u0000 (the reference reads it; a C string would end there)",
     st(b'{"a\\u0000b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x01")),
    ("metadata-not-string.safetensors", "INVALID_FORMAT", "a __metadata__ value is a number",
     st({"__metadata__": {"seed": 3}})),
    ("unknown-dtype.safetensors", "INVALID_FORMAT", "dtype F31 does not exist",
     st({"w": t("F31", [2], 0, 8)}, F32_2)),
    ("missing-offsets.safetensors", "INVALID_FORMAT", "an entry has no data_offsets",
     st({"w": {"dtype": "F32", "shape": [2]}}, F32_2)),
    ("duplicate-field.safetensors", "INVALID_FORMAT", "an entry gives its dtype twice",
     st(b'{"w":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}', F32_2)),
    ("float-shape.safetensors", "INVALID_FORMAT", "a shape holds 2.5",
     st(b'{"w":{"dtype":"U8","shape":[2.5],"data_offsets":[0,2]}}', b"\x01\x02")),
    ("integral-float-shape.safetensors", "INVALID_FORMAT",
     "a shape holds 2.0, a float the reference refuses as well",
     st(b'{"w":{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}}', b"\x01\x02")),
    ("negative-shape.safetensors", "INVALID_FORMAT", "a shape holds -2",
     st(b'{"w":{"dtype":"U8","shape":[-2],"data_offsets":[0,2]}}', b"\x01\x02")),
    ("huge-shape.safetensors", "INVALID_FORMAT", "a shape holds 2^64, beyond every integer type",
     st(b'{"w":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,2]}}',
        b"\x01\x02")),
    ("shape-overflow.safetensors", "INVALID_FORMAT",
     "the element count 2^32 * 2^32 * 2^32 overflows 64 bits",
     st({"w": t("U8", [2**32, 2**32, 2**32], 0, 0)})),
    ("byte-count-overflow.safetensors", "INVALID_FORMAT",
     "2^62 elements of I64 need 2^65 bytes, which overflows",
     st({"w": t("I64", [2**31, 2**31], 0, 8)}, b"\x00" * 8)),
    ("nine-dims.safetensors", "UNSUPPORTED",
     "valid (the reference reads it), but 9 dimensions are more than clresnet holds",
     st({"w": t("U8", [1] * 9, 0, 1)}, b"\x01")),
    ("size-mismatch.safetensors", "INVALID_FORMAT", "3 F32 elements need 12 bytes, not 8",
     st({"w": t("F32", [3], 0, 8)}, F32_2)),
    ("begin-after-end.safetensors", "INVALID_FORMAT", "data_offsets [8, 0]: begin after end",
     st({"w": t("F32", [0], 8, 0)}, F32_2)),
    ("offsets-past-end.safetensors", "INVALID_FORMAT",
     "data_offsets [0, 16] run past an 8-byte data section",
     st({"w": t("F32", [4], 0, 16)}, F32_2)),
    ("overlap.safetensors", "INVALID_FORMAT", "two tensors share bytes 4..8",
     st({"a": t("F32", [2], 0, 8), "b": t("F32", [2], 4, 12)}, F32_2 + b"\0" * 4)),
    ("gap.safetensors", "INVALID_FORMAT", "bytes 4..8 of the data section belong to no tensor",
     st({"a": t("F32", [1], 0, 4), "b": t("F32", [1], 8, 12)}, F32_2 + b"\0" * 4)),
    ("trailing-data.safetensors", "INVALID_FORMAT",
     "the data section is 4 bytes longer than its tensors",
     st({"a": t("F32", [1], 0, 4)}, F32_2)),
    ("duplicate-name.safetensors", "INVALID_FORMAT", "two entries are both named w",
     st(b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        b'"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', F32_2)),
    # Well-formed files whose values or text are hostile: refused when the tensor is
    # read (non-finite weights, a negative variance), or read as they are (text that
    # the command-line program must escape when it prints it).
    ("nan-value.safetensors", "INVALID_FORMAT", "a weight is NaN (refused when read)",
     st({"conv1.weight": t("F32", [2], 0, 8)}, struct.pack("<2f", 1.0, float("nan")))),
    ("inf-f16.safetensors", "INVALID_FORMAT", "an F16 weight is -infinity (refused when read)",
     st({"fc.bias": t("F16", [2], 0, 4)}, struct.pack("<2e", 0.5, float("-inf")))),
    ("negative-variance.safetensors", "INVALID_FORMAT",
     "a BatchNorm running_var holds -1 (refused when read)",
     st({"bn1.running_var": t("F32", [2], 0, 8)}, struct.pack("<2f", 1.0, -1.0))),
    ("hostile-metadata.safetensors", "SUCCESS",
     "valid: a metadata value that clears the screen and forges a line (escaped when printed)",
     st({"__metadata__": {"source": "seed",
                          "seed": "1\x1b[2J\x1b[31mPWNED\nclresnet: all good"},
         "fc.bias": t("F32", [2], 0, 8)}, F32_2)),
    ("hostile-name.safetensors", "SUCCESS",
     "valid: a tensor name holding ESC, a C1 CSI and a right-to-left override",
     st({"\x1b[2J\u009b31m\u202eevil": t("F32", [2], 0, 8)}, F32_2)),
    ("pytorch-zip.pth", "INVALID_FORMAT",
     "the start of a torch.save() zip archive, cut off: read as a checkpoint and refused "
     "(no end of central directory)",
     b"PK\x03\x04\x00\x00\x08\x08\x00\x00\x00\x00\x00\x00" + b"archive/data.pklFB"),
    ("pytorch-pickle.pth", "INVALID_FORMAT", "a protocol-2 pickle of a state_dict-like dict",
     pickle.dumps({"fc.bias": [0.0, 1.0]}, protocol=2)),
]


def write_corpus(out, cases, header):
    """Writes each (name, status, what, bytes) of cases into out, removes other files,
    and writes README.md: header, then the table test_corpus.c reads."""
    os.makedirs(out, exist_ok=True)
    names = set()
    for name, _, _, data in cases:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    for old in os.listdir(out):
        if old not in names and old != "README.md":
            os.remove(os.path.join(out, old))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(header + "\n\n| file | status | what is wrong |\n|---|---|---|\n")
        for name, status, what, _ in cases:
            f.write(f"| {name} | {status} | {what} |\n")


def main():
    write_corpus(OUT, CASES,
                 "# Malformed safetensors inputs\n\n"
                 "Seeds for fuzz_safetensors and the cases of test_weights_corpus, which opens\n"
                 "each file, reads every float tensor as clresnet does (values checked), and\n"
                 "expects the status below (SUCCESS for the valid files) and, on failure, a\n"
                 "message that names the file. Written by ../make_corpus.py.")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Regenerates the malformed-input corpus in tests/io/corpus/{npy,image}/ and their
README files (one line per file: name, the status the library must return, what is
wrong). tests/io/test_corpus.c checks every listed file; the fuzz targets start from
these files. Deterministic: running it again gives the same bytes.

Usage: /usr/bin/python3 tests/io/make_corpus.py   (needs numpy and PIL)
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def npy(header, data=b"", version=(1, 0)):
    header = header.encode("latin1")
    if version[0] == 1:
        prefix = b"\x93NUMPY" + bytes(version) + struct.pack("<H", len(header))
    else:
        prefix = b"\x93NUMPY" + bytes(version) + struct.pack("<I", len(header))
    return prefix + header + data


def dict_header(descr="'<f4'", order="False", shape="(2, 3)"):
    return "{'descr': %s, 'fortran_order': %s, 'shape': %s, }\n" % (descr, order, shape)


def f4(n):
    return np.arange(n, dtype="<f4").tobytes()


def npy_cases():
    good = io.BytesIO()
    np.save(good, np.arange(6, dtype=np.float32).reshape(2, 3))
    good = good.getvalue()
    return [
        ("valid_v1.npy", "ok", "a well-formed (2, 3) float32 array written by np.save", good),
        ("valid_v2.npy", "ok", "format 2.0 (uint32 header length)",
         npy(dict_header(), f4(6), (2, 0))),
        ("valid_v3.npy", "ok", "format 3.0 (utf-8 header)", npy(dict_header(), f4(6), (3, 0))),
        ("valid_scalar.npy", "ok", "a 0-d array: shape ()", npy(dict_header(shape="()"), f4(1))),
        ("valid_empty.npy", "ok", "shape (0, 3): no data", npy(dict_header(shape="(0, 3)"))),
        ("valid_5d.npy", "ok", "a 5-D array: the library reads it, clresnet run refuses it",
         npy(dict_header(shape="(1, 1, 3, 2, 2)"), f4(12))),
        ("valid_nan.npy", "ok", "a [1,3,4,4] input holding NaN and infinity (run reports failure)",
         npy(dict_header(shape="(1, 3, 4, 4)"),
             np.array([np.nan, np.inf] + [0.5] * 46, dtype="<f4").tobytes())),
        ("empty.npy", "INVALID_FORMAT", "zero bytes", b""),
        ("magic_only.npy", "INVALID_FORMAT", "the 6-byte magic and nothing else", b"\x93NUMPY"),
        ("wrong_magic.npy", "INVALID_FORMAT", "starts \\x93NUMPZ", b"\x93NUMPZ" + good[6:]),
        ("zip_file.npy", "INVALID_FORMAT", "a .npz (zip) file named .npy",
         b"PK\x03\x04" + b"\x00" * 60),
        ("version_4.npy", "UNSUPPORTED", "format version 4.0",
         npy(dict_header(), f4(6), (4, 0))),
        ("big_endian.npy", "UNSUPPORTED", "descr '>f4' (big-endian float32)",
         npy(dict_header("'>f4'"), np.arange(6, dtype=">f4").tobytes())),
        ("float64.npy", "UNSUPPORTED", "descr '<f8' (float64)",
         npy(dict_header("'<f8'"), np.arange(6, dtype="<f8").tobytes())),
        ("int8.npy", "UNSUPPORTED", "descr '|i1'", npy(dict_header("'|i1'"), bytes(6))),
        ("structured.npy", "UNSUPPORTED", "a structured dtype (a list of fields)",
         npy(dict_header("[('a', '<f4'), ('b', '<f4')]"), f4(12))),
        ("fortran_order.npy", "UNSUPPORTED", "fortran_order True",
         npy(dict_header(order="True"), f4(6))),
        ("negative_shape.npy", "INVALID_FORMAT", "shape (-2, 3)",
         npy(dict_header(shape="(-2, 3)"), f4(6))),
        ("huge_shape.npy", "UNSUPPORTED", "shape (2^40, 2^40): the product overflows",
         npy(dict_header(shape="(1099511627776, 1099511627776)"), f4(6))),
        ("over_limit.npy", "UNSUPPORTED",
         "shape (100000, 100000): above the test's element limit, refused before allocating",
         npy(dict_header(shape="(100000, 100000)"), f4(6))),
        ("nine_dims.npy", "UNSUPPORTED", "nine dimensions (at most 8)",
         npy(dict_header(shape="(1, 1, 1, 1, 1, 1, 1, 1, 1)"), f4(1))),
        ("int_not_tuple.npy", "INVALID_FORMAT", "shape (6) is an int, not a tuple",
         npy(dict_header(shape="(6)"), f4(6))),
        ("leading_zero.npy", "INVALID_FORMAT", "shape (02, 3): not a Python int literal",
         npy(dict_header(shape="(02, 3)"), f4(6))),
        ("float_dim.npy", "INVALID_FORMAT", "shape (2.0, 3)",
         npy(dict_header(shape="(2.0, 3)"), f4(6))),
        ("short_data.npy", "INVALID_FORMAT", "shape (2, 3) with 20 bytes of data instead of 24",
         npy(dict_header(), f4(5))),
        ("long_data.npy", "INVALID_FORMAT", "shape (2, 3) with one byte too many",
         npy(dict_header(), f4(6) + b"\x00")),
        ("garbage_header.npy", "INVALID_FORMAT", "header text is not a dict literal",
         npy("this is not a dict\n", f4(6))),
        ("header_past_end.npy", "INVALID_FORMAT", "header length 500, file much shorter",
         b"\x93NUMPY\x01\x00" + struct.pack("<H", 500) + b"{'descr'"),
        ("huge_header_v2.npy", "INVALID_FORMAT", "format 2.0 header length of 1 GiB",
         b"\x93NUMPY\x02\x00" + struct.pack("<I", 1 << 30) + b"{}"),
        ("duplicate_key.npy", "INVALID_FORMAT", "'descr' given twice",
         npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}",
             f4(6))),
        ("missing_shape.npy", "INVALID_FORMAT", "no 'shape' key",
         npy("{'descr': '<f4', 'fortran_order': False}", f4(1))),
        ("extra_key.npy", "INVALID_FORMAT", "an unknown key 'x'",
         npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", f4(6))),
        ("unterminated.npy", "INVALID_FORMAT", "the dict is never closed",
         npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,", f4(6))),
        ("nul_in_header.npy", "INVALID_FORMAT", "a NUL byte inside the header",
         npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}\x00  \n", f4(6))),
        ("trailing_text.npy", "INVALID_FORMAT", "text after the closing brace",
         npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} extra\n", f4(6))),
    ]


def png_chunk(kind, data, crc=None):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


SIG = b"\x89PNG\r\n\x1a\n"


def png(width, height, depth=8, ctype=2, idat=None, plte=None):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(ctype, 3)
    if idat is None:
        row = b"\x00" + bytes((i * 37) & 255 for i in range(width * channels * max(depth, 8) // 8))
        idat = zlib.compress(row * height)
    out = SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, ctype, 0, 0, 0))
    if plte is not None:
        out += png_chunk(b"PLTE", plte)
    return out + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def jpeg(progressive=False, size=(16, 12), mode="RGB"):
    rng = np.random.RandomState(1)
    shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
    buf = io.BytesIO()
    Image.fromarray(rng.randint(0, 256, shape).astype(np.uint8), mode).save(
        buf, "JPEG", quality=75, progressive=progressive)
    return buf.getvalue()


def set_sof_size(data, width, height):
    """Rewrites the frame size in a JPEG's SOF0/SOF2 marker."""
    data = bytearray(data)
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        i = data.find(marker)
        if i >= 0:
            data[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def image_cases():
    good_png = png(5, 4)
    good_jpeg = jpeg()
    prog = jpeg(progressive=True)
    sos = good_jpeg.find(b"\xff\xda")
    dht = good_jpeg.find(b"\xff\xc4")
    bad_huffman = bytearray(good_jpeg)
    bad_huffman[dht + 5:dht + 21] = b"\xff" * 16  # code counts that overflow the code space
    gif = io.BytesIO()
    Image.new("RGB", (2, 2)).save(gif, "GIF")
    bmp = io.BytesIO()
    Image.new("RGB", (2, 2)).save(bmp, "BMP")
    idat_at = good_png.find(b"IDAT")
    bad_idat_crc = bytearray(good_png)
    length = struct.unpack(">I", good_png[idat_at - 4:idat_at])[0]
    bad_idat_crc[idat_at + 4 + length] ^= 0x01
    bad_zlib = png(5, 4, idat=b"\x78\x9c" + b"\xde\xad\xbe\xef" * 4)
    return [
        ("valid.png", "ok", "a well-formed 5x4 RGB PNG", good_png),
        ("valid.jpg", "ok", "a well-formed 16x12 baseline JPEG", good_jpeg),
        ("valid_progressive.jpg", "ok", "a well-formed progressive JPEG", prog),
        ("png_named.jpg", "ok", "a valid PNG named .jpg: the content decides", good_png),
        ("empty.png", "INVALID_FORMAT", "zero bytes", b""),
        ("text.jpg", "INVALID_FORMAT", "a text file named .jpg",
         b"this is not an image, just text named like one\n"),
        ("random.png", "INVALID_FORMAT", "random bytes",
         bytes(np.random.RandomState(2).randint(0, 256, 64).astype(np.uint8))),
        ("signature_only.png", "INVALID_FORMAT", "the PNG signature and nothing else", SIG),
        ("cut_signature.png", "INVALID_FORMAT", "the first 5 bytes of the PNG signature", SIG[:5]),
        ("bad_ihdr_crc.png", "INVALID_FORMAT", "IHDR with a wrong CRC",
         SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 4, 8, 2, 0, 0, 0), 0x12345678) +
         good_png[33:]),
        ("bad_idat_crc.png", "INVALID_FORMAT", "IDAT with a wrong CRC", bytes(bad_idat_crc)),
        ("cut_in_idat.png", "INVALID_FORMAT", "file ends inside the IDAT chunk",
         good_png[:idat_at + 10]),
        ("cut_after_ihdr.png", "INVALID_FORMAT", "file ends after IHDR", good_png[:33]),
        ("bad_zlib.png", "INVALID_FORMAT", "IDAT holds corrupt deflate data", bad_zlib),
        ("huge_dims.png", "UNSUPPORTED", "IHDR declares 100000 x 100000 pixels (a bomb)",
         png(100000, 100000, idat=zlib.compress(b"\x00" * 64))),
        ("zero_width.png", "INVALID_FORMAT", "IHDR width 0", png(0, 4, idat=b"")),
        ("bad_depth.png", "INVALID_FORMAT", "IHDR bit depth 3", png(5, 4, depth=3, ctype=0)),
        ("bad_color_type.png", "INVALID_FORMAT", "IHDR colour type 5", png(5, 4, ctype=5)),
        ("no_plte.png", "INVALID_FORMAT", "palette image without a PLTE chunk",
         png(5, 4, ctype=3)),
        ("empty.jpg", "INVALID_FORMAT", "zero bytes", b""),
        ("soi_only.jpg", "INVALID_FORMAT", "the JPEG start marker and nothing else",
         b"\xff\xd8\xff"),
        ("cut_mid_scan.jpg", "INVALID_FORMAT", "baseline JPEG cut in the middle of its scan",
         good_jpeg[:sos + (len(good_jpeg) - sos) // 2]),
        ("cut_progressive.jpg", "INVALID_FORMAT", "progressive JPEG cut after its first scans",
         prog[:len(prog) * 2 // 3]),
        ("no_eoi.jpg", "INVALID_FORMAT", "complete scan but no EOI marker (PIL: truncated)",
         good_jpeg[:-2]),
        ("cut_in_header.jpg", "INVALID_FORMAT", "cut before the start of scan",
         good_jpeg[:sos - 10]),
        ("huge_dims.jpg", "UNSUPPORTED", "SOF declares 65000 x 65000 pixels (a bomb)",
         set_sof_size(good_jpeg, 65000, 65000)),
        ("zero_height.jpg", "INVALID_FORMAT", "SOF height 0", set_sof_size(good_jpeg, 16, 0)),
        ("bad_huffman.jpg", "INVALID_FORMAT", "Huffman table with impossible code counts",
         bytes(bad_huffman)),
        ("garbage_after_soi.jpg", "INVALID_FORMAT", "FF D8 FF then random bytes",
         b"\xff\xd8\xff" + bytes(np.random.RandomState(3).randint(0, 256, 200).astype(np.uint8))),
        ("image.gif", "UNSUPPORTED", "a GIF (a format we do not decode)", gif.getvalue()),
        ("image.bmp", "UNSUPPORTED", "a BMP (a format we do not decode)", bmp.getvalue()),
    ]


def write(folder, cases, title):
    os.makedirs(folder, exist_ok=True)
    lines = [f"# {title}",
             "# Generated by tests/io/make_corpus.py; checked by tests/io/test_corpus.c, which",
             "# needs every file here listed. Columns: file, expected status, what is wrong.",
             "# (CLRN_STATUS_ is left off the status; ok means it must decode.)"]
    for name, status, what, data in cases:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        lines.append(f"{name:24} {status:15} {what}")
    with open(os.path.join(folder, "README"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    write(os.path.join(HERE, "corpus", "npy"), npy_cases(),
          "Malformed (and a few valid) .npy files for clrn_npy_read / clrn_npy_parse.")
    write(os.path.join(HERE, "corpus", "image"), image_cases(),
          "Malformed (and a few valid) images for clrn_image_load / clrn_image_decode.")

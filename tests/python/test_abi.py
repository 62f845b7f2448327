"""The cffi declarations of clresnet/_ffi.py (ABI mode: nothing checks them at build
time) against the C headers: the C compiler reads the function prototypes next to the
headers' own (a mismatch is a "conflicting types" error) and static assertions of
every struct's size and field offsets and every enum value, as cffi computed them."""
import os
import subprocess

import pytest

from clresnet import _ffi
from conftest import SOURCE_DIR

CC = os.environ.get("CC", "cc")


def layout_assertions(ffi):
    lines = []
    for name in ffi.list_types()[0]:
        ctype = ffi.typeof(name)
        if ctype.kind == "struct" and ctype.fields is not None:
            lines.append(f'_Static_assert(sizeof({name}) == {ffi.sizeof(ctype)}, "{name}");')
            for field, info in ctype.fields:
                lines.append(f"_Static_assert(offsetof({name}, {field}) == {info.offset} && "
                             f"sizeof((({name} *)0)->{field}) == {ffi.sizeof(info.type)}, "
                             f'"{name}.{field}");')
        elif ctype.kind == "enum":
            lines.append(f'_Static_assert(sizeof({name}) == {ffi.sizeof(ctype)}, "{name}");')
            for value, constant in ctype.elements.items():
                lines.append(f'_Static_assert({constant} == {value}, "{constant}");')
    return lines


def compile_check(tmp_path, functions, assertions):
    source = tmp_path / "abi.c"
    source.write_text("\n".join(["#include <stddef.h>", "#include <clresnet/clresnet.h>",
                                 functions, *assertions, ""]))
    return subprocess.run([CC, "-std=c11", "-fsyntax-only", "-Werror",
                           "-I", os.path.join(SOURCE_DIR, "include"), str(source)],
                          capture_output=True, text=True)


def test_declarations_match_headers(tmp_path):
    assertions = layout_assertions(_ffi.ffi)
    assert any("clrn_device_info, extensions" in a for a in assertions)
    assert any("CLRN_STATUS_MISMATCH" in a for a in assertions)
    result = compile_check(tmp_path, _ffi.FUNCTIONS, assertions)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("break_it", ["offset", "prototype"])
def test_check_catches_drift(tmp_path, break_it):
    """The check above can fail: a wrong offset or a wrong prototype is caught."""
    assertions, functions = layout_assertions(_ffi.ffi), _ffi.FUNCTIONS
    if break_it == "offset":
        assertions = [a.replace("clrn_device_info, name) == ", "clrn_device_info, name) == 1+")
                      for a in assertions]
    else:
        functions = functions.replace("int clrn_engine_num_classes", "long clrn_engine_num_classes")
    assert compile_check(tmp_path, functions, assertions).returncode != 0

"""clresnet.devices(): every OpenCL device the ICD loader knows, as `clresnet devices`
lists them, and the selection of devices by a spec string (the command line's -d)."""
import dataclasses

from ._errors import ArgumentError, check, text
from ._ffi import ffi, lib


@dataclasses.dataclass(frozen=True)
class Device:
    """One OpenCL device. index is its number in devices() (what device="0"
    selects), spec its "platform:device" form (device="0:1")."""

    index: int
    platform_index: int
    device_index: int
    name: str
    type: str
    platform: str
    vendor: str
    driver_version: str
    version: str
    opencl_c_version: str
    compute_units: int
    max_clock_mhz: int
    global_memory: int
    max_allocation: int
    local_memory: int
    fp16: bool
    fp64: bool
    profile: str

    @property
    def spec(self):
        return f"{self.platform_index}:{self.device_index}"


# Device field: (clrn_device_info field, conversion).
_FIELDS = {
    "index": ("index", int), "platform_index": ("platform_index", int),
    "device_index": ("device_index", int), "name": ("name", text),
    "type": ("type", lambda t: text(lib.clrn_device_type_name(t))),
    "platform": ("platform_name", text), "vendor": ("vendor", text),
    "driver_version": ("driver_version", text), "version": ("device_version", text),
    "opencl_c_version": ("opencl_c_version", text), "compute_units": ("compute_units", int),
    "max_clock_mhz": ("max_clock_mhz", int), "global_memory": ("global_mem_bytes", int),
    "max_allocation": ("max_alloc_bytes", int), "local_memory": ("local_mem_bytes", int),
    "fp16": ("fp16", bool), "fp64": ("fp64", bool), "profile": ("profile", text),
}


def _device(info):
    return Device(**{key: convert(getattr(info, field))
                     for key, (field, convert) in _FIELDS.items()})


def _enumerate():
    """The library's device list as a cffi array that frees itself, and its length."""
    out = ffi.new("clrn_device_info **")
    count = ffi.new("size_t *")
    check(lib.clrn_devices_enumerate(out, count))
    return ffi.gc(out[0], lib.clrn_devices_free), int(count[0])


def devices():
    """Lists every OpenCL device of every platform, as Device objects. Raises Error
    when there is no OpenCL platform or device."""
    array, count = _enumerate()
    return [_device(array[i]) for i in range(count)]


def select(spec):
    """The devices a spec selects (an int is an index; None: the library's default,
    CLRN_DEVICE or the
    first GPU or the first device), as a cffi array of clrn_device_info to give
    clrn_engine_create, its length, and the Device objects."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        spec = str(spec)  # an index in devices()
    if spec is not None and not isinstance(spec, str):
        raise ArgumentError(f"device must be a spec string, an index or None, "
                            f"not {type(spec).__name__}")
    if spec is not None and not spec.strip():
        raise ArgumentError('device spec is empty: use None for the default device')
    array, count = _enumerate()
    chosen = ffi.new("size_t[]", count)
    matched = ffi.new("size_t *")
    c_spec = ffi.NULL if spec is None else spec.encode()
    check(lib.clrn_devices_select(array, count, c_spec, chosen, count, matched))
    n = min(int(matched[0]), count)
    selected = ffi.new("clrn_device_info[]", n)
    size = ffi.sizeof("clrn_device_info")
    for i in range(n):
        ffi.memmove(selected + i, array + chosen[i], size)
    return selected, n, [_device(selected[i]) for i in range(n)]

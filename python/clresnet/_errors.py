"""clresnet.Error and the check that turns a failed library call into one, with the
library's own message (clrn_last_error), or the status's fixed description when the
call left no detail."""
from ._ffi import ffi, lib


class Error(Exception):
    """A clresnet failure. str(error) is the library's message; status is the C
    status code (an int, 0 never) and status_name its description ("io error")."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status if status is not None else lib.CLRN_STATUS_INVALID_ARGUMENT
        self.status_name = ffi.string(lib.clrn_status_string(self.status)).decode()


class ArgumentError(Error, ValueError):
    """A bad argument value (an input of the wrong shape, an empty device spec);
    also a ValueError."""


class ArgumentTypeError(Error, TypeError):
    """An argument of the wrong type (an input array of integers); also a TypeError."""


def check(status):
    """Raises Error with the calling thread's last library message when status is
    not CLRN_STATUS_SUCCESS."""
    if status == lib.CLRN_STATUS_SUCCESS:
        return
    detail = ffi.string(lib.clrn_last_error()).decode("utf-8", "replace")
    lib.clrn_clear_error()
    if not detail:
        detail = ffi.string(lib.clrn_status_string(status)).decode()
    raise Error(detail, status)


def text(pointer):
    """A C string from the library as str (None for NULL)."""
    if pointer == ffi.NULL:
        return None
    return ffi.string(pointer).decode("utf-8", "replace")

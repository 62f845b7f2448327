"""The library's warnings and errors (a kernel cache it cannot write, a driver's
complaint) go to Python's logging, logger "clresnet"; without logging configured,
Python prints them on stderr as it does any warning. Lower levels are not forwarded:
the library does not even format them."""
import logging

from ._ffi import ffi, lib

logger = logging.getLogger("clresnet")

_LEVELS = {
    lib.CLRN_LOG_LEVEL_ERROR: logging.ERROR,
    lib.CLRN_LOG_LEVEL_WARNING: logging.WARNING,
    lib.CLRN_LOG_LEVEL_INFO: logging.INFO,
    lib.CLRN_LOG_LEVEL_DEBUG: logging.DEBUG,
}


@ffi.callback("clrn_log_fn")
def _forward(level, message, user_data):
    logger.log(_LEVELS.get(level, logging.WARNING), "%s",
               ffi.string(message).decode("utf-8", "replace"))


def install():
    """Makes the library log into logger (process-wide; replaces any other callback)."""
    lib.clrn_log_set_callback(_forward, lib.CLRN_LOG_LEVEL_WARNING, ffi.NULL)

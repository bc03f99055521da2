"""Find a byte string in a large buffer, fast.

The MIME boundary search is the one pass the MTOM reader makes over every byte of an
image. ``bytearray.find`` runs at about 11 GB/s for a typical 40-byte delimiter; the C
library's ``memmem`` (glibc, musl, the BSDs and macOS all have it) skips by the
needle's length on a two-byte hash and runs two to three times as fast. It is called
through ctypes, which releases the GIL for the call. Where there is no ``memmem``
(Windows), or for small ranges where the call costs more than it saves, ``find`` is
used; both give the same answer.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Final

# Below this many bytes the ctypes call costs more than bytearray.find.
MEMMEM_MIN: Final = 64 * 1024

_Memmem = Callable[[int, int, bytes, int], "int | None"]


def _load_memmem() -> _Memmem | None:
    try:
        # The interpreter's own symbols, the C library's among them (no search for
        # libc's file name: find_library would run ldconfig at import).
        memmem = ctypes.CDLL(None).memmem
    except (OSError, AttributeError, TypeError):
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    function: _Memmem = memmem
    return function


_memmem: Final = _load_memmem()


def find(buffer: bytearray, needle: bytes, start: int, end: int) -> int:
    """``buffer.find(needle, start, end)``: the index of the first occurrence of
    ``needle`` in ``buffer[start:end]`` (as an index into ``buffer``), or -1."""
    if start < 0 or end < 0:  # counted from the end: leave that to find
        return buffer.find(needle, start, end)
    end = min(end, len(buffer))
    size = end - start
    if _memmem is None or size < MEMMEM_MIN or not needle:
        return buffer.find(needle, start, end)
    # The ctypes array holds an export of the bytearray, so the buffer cannot move
    # during the call; it is dropped at once even on an error (a traceback would keep
    # it, and an exported bytearray cannot be resized).
    array = (ctypes.c_char * size).from_buffer(buffer, start)
    try:
        base = ctypes.addressof(array)
        found = _memmem(base, size, needle, len(needle))
    finally:
        del array
    return -1 if found is None else start + (found - base)


def accelerated() -> bool:
    """True when the C library's memmem is in use for large ranges."""
    return _memmem is not None

"""Find a byte string in a large buffer, fast.

The MIME boundary search is the one pass the MTOM reader makes over every byte of an
image. ``bytearray.find`` runs at about 11 GB/s for a typical 40-byte delimiter; glibc's
``memmem`` (2.29 and later: it skips by the needle's length on a two-byte hash) runs at
25-30 GB/s on the same buffer, 15-17 GB/s on bytes just received. It is called through
ctypes, which releases the GIL for the call. Other C libraries' ``memmem`` (musl, the
BSDs, macOS) use plainer algorithms that can be slower than CPython's own, so they are
not used; there, and for small ranges where the call costs more than it saves,
``bytearray.find`` is. Both give the same answer.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Final

# Below this many bytes the ctypes call costs more than bytearray.find.
MEMMEM_MIN: Final = 64 * 1024

_Memmem = Callable[[int, int, bytes, int], "int | None"]


def _glibc_version() -> tuple[int, int] | None:
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
        major, minor = version.split(".")[:2]
        return (int(major), int(minor)) if name == "glibc" else None
    except (AttributeError, ValueError, OSError):
        return None  # not glibc (no such confstr name, or another answer)


def _load_memmem() -> _Memmem | None:
    version = _glibc_version()
    if version is None or version < (2, 29):
        return None
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
    # The anchor (one c_char, not an array type per size: ctypes would build and
    # cache a new type for every range length) holds an export of the bytearray, so
    # the buffer cannot move during the call; it is dropped at once even on an error
    # (a traceback would keep it, and an exported bytearray cannot be resized).
    anchor = ctypes.c_char.from_buffer(buffer, start)
    try:
        base = ctypes.addressof(anchor)
        found = _memmem(base, size, needle, len(needle))
    finally:
        del anchor
    return -1 if found is None else start + (found - base)


def accelerated() -> bool:
    """True when the C library's memmem is in use for large ranges."""
    return _memmem is not None

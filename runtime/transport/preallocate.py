"""Reserve a file's blocks before a large write: Linux ``fallocate`` with
``FALLOC_FL_KEEP_SIZE``.

Why: on ext4 writing into reserved blocks costs about a third less than writing
pages that delayed allocation has to reserve one by one (512 MiB into the page cache:
0.07 s against 0.11 s), and the image ends up in few extents. The file's size still
grows only with what is written; :func:`release_excess` gives back what was reserved
past the end. A reservation that fails is given back at once (on ext4 a failed
``fallocate`` may have reserved part of the range) and the write goes ahead: the
body's length is only an upper bound of the image's, so a disk too full for it is no
reason to give up. On tmpfs reserving costs a little (pages are zeroed, then
overwritten), so tmpfs is left alone; so is every system without ``fallocate``
(non-Linux) and every filesystem that refuses it. ``posix_fallocate`` is not used:
where a filesystem cannot reserve, glibc emulates it by writing every block.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from typing import Final

FALLOC_FL_KEEP_SIZE: Final = 1
TMPFS_MAGIC: Final = 0x01021994
# A device's Content-Length is only a hint: never reserve more than this at once.
MAX_RESERVE: Final = 16 * 1024**3
# Not worth a system call below this.
MIN_RESERVE: Final = 1024 * 1024

_Fallocate = Callable[[int, int, int, int], int]
_Fstatfs = Callable[[int, ctypes.Array[ctypes.c_char]], int]


def _load() -> tuple[_Fallocate, _Fstatfs] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        # fallocate64: a 64-bit offset on 32-bit systems too
        fallocate, fstatfs = libc.fallocate64, libc.fstatfs
    except (OSError, AttributeError):
        return None
    fallocate.restype = ctypes.c_int
    fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    fstatfs.restype = ctypes.c_int
    fstatfs.argtypes = [ctypes.c_int, ctypes.c_char_p]
    return fallocate, fstatfs


_calls: Final = _load()


def _on_tmpfs(fstatfs: _Fstatfs, fd: int) -> bool:
    # struct statfs starts with f_type, a machine word, on Linux.
    buffer = ctypes.create_string_buffer(512)
    if fstatfs(fd, buffer) != 0:
        return False
    return ctypes.c_long.from_buffer(buffer).value == TMPFS_MAGIC


def reserve(fd: int, size: int | None) -> bool:
    """Reserve ``size`` bytes (at most :data:`MAX_RESERVE`) for the file open as
    ``fd`` from offset 0, without changing its size. True if blocks were reserved;
    False (and nothing changed) when that is not possible or not worth it."""
    if _calls is None or size is None or size < MIN_RESERVE:
        return False
    fallocate, fstatfs = _calls
    if _on_tmpfs(fstatfs, fd):
        return False
    if fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, min(size, MAX_RESERVE)) == 0:
        return True
    try:  # give back whatever part of the range was reserved before the failure
        release_excess(fd, os.fstat(fd).st_size)
    except OSError:
        pass
    return False


def release_excess(fd: int, size: int) -> None:
    """Give back the blocks reserved past ``size``, the file's final length."""
    os.ftruncate(fd, size)

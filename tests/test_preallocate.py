"""runtime/transport/preallocate.py and its use in ``save``: blocks are reserved for the image
before it is written (where the filesystem allows and it pays: not on tmpfs), the
file's size only grows with what is written, and nothing reserved outlives the save,
whether it completes or is cut short (its speed is in benchmarks/mtom.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_mtom import ROOT_HEADERS, _message, _part
from test_netstream import (
    BOUNDARY,
    REPLY,
    _device,
    _head,
    _mtom_body,
    _payload,
    _pieces,
    _save_fails,
    _save_from,
)
from wsdscan.runtime.errors import TruncatedAttachmentError
from wsdscan.runtime.transport import preallocate
from wsdscan.runtime.transport.preallocate import MIN_RESERVE, release_excess, reserve

MiB = 1024 * 1024
RESERVING = {"ext4", "xfs", "btrfs"}  # filesystems known to reserve with fallocate


def _filesystem(path: Path) -> str:
    best, kind = "", "?"
    with open("/proc/mounts") as mounts:
        for line in mounts:
            point, fstype = line.split()[1:3]
            inside = str(path.resolve()) == point or str(path.resolve()).startswith(
                point.rstrip("/") + "/"
            )
            if inside and len(point) > len(best):
                best, kind = point, fstype
    return kind


def _allocated(path: Path) -> int:
    return path.stat().st_blocks * 512


@pytest.fixture
def disk_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on a filesystem that reserves blocks: the test's tmp_path, or one
    in the working tree when tmp_path is on tmpfs."""
    if os.path.exists("/proc/mounts"):
        if _filesystem(tmp_path) in RESERVING:
            yield tmp_path
            return
        if _filesystem(Path.cwd()) in RESERVING:
            made = Path(tempfile.mkdtemp(dir=Path.cwd(), prefix=".prealloc-test-"))
            try:
                yield made
            finally:
                shutil.rmtree(made)
            return
    pytest.skip("no ext4/xfs/btrfs directory here to reserve blocks on")


def test_reserves_without_changing_the_size_then_gives_back(disk_dir: Path) -> None:
    path = disk_dir / "image.bin"
    with open(path, "wb") as handle:
        assert reserve(handle.fileno(), 32 * MiB)
        assert path.stat().st_size == 0
        assert _allocated(path) >= 32 * MiB
        handle.write(b"x" * 5000)
        handle.flush()
        release_excess(handle.fileno(), 5000)
    assert path.stat().st_size == 5000
    assert _allocated(path) < MiB


def test_at_most_max_reserve(disk_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preallocate, "MAX_RESERVE", 4 * MiB)
    path = disk_dir / "image.bin"
    with open(path, "wb") as handle:
        assert reserve(handle.fileno(), 64 * MiB)
    assert 4 * MiB <= _allocated(path) < 8 * MiB


def test_not_on_tmpfs() -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or _filesystem(shm) != "tmpfs":
        pytest.skip("no tmpfs at /dev/shm")
    path = shm / f"prealloc-test-{os.getpid()}.bin"
    try:
        with open(path, "wb") as handle:
            assert not reserve(handle.fileno(), 32 * MiB)
        assert _allocated(path) == 0
    finally:
        path.unlink()


def test_a_failed_reservation_gives_back_what_it_got(
    disk_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On ext4 a fallocate that fails with ENOSPC may have reserved part of the
    range (seen on a full disk): here the first half is really reserved, then the
    call fails. Nothing reserved may stay with the file."""
    assert preallocate._calls is not None
    real_fallocate, fstatfs = preallocate._calls

    def partly(fd: int, mode: int, offset: int, length: int) -> int:
        assert real_fallocate(fd, mode, offset, length // 2) == 0
        return -1

    monkeypatch.setattr(preallocate, "_calls", (partly, fstatfs))
    path = disk_dir / "image.bin"
    with open(path, "wb") as handle:
        handle.write(b"x" * 5000)
        handle.flush()
        assert not reserve(handle.fileno(), 32 * MiB)
    assert path.stat().st_size == 5000
    assert _allocated(path) < MiB


def test_nothing_to_do_or_nothing_possible(
    disk_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = disk_dir / "image.bin"
    path.write_bytes(b"")
    with open(path, "rb") as read_only:  # fallocate fails (EBADF): no exception
        assert not reserve(read_only.fileno(), 32 * MiB)
    with open(path, "wb") as handle:
        assert not reserve(handle.fileno(), None)  # no Content-Length
        assert not reserve(handle.fileno(), MIN_RESERVE - 1)  # not worth it
        monkeypatch.setattr(preallocate, "_calls", None)  # not Linux
        assert not reserve(handle.fileno(), 32 * MiB)
    assert _allocated(path) == 0


async def test_save_reserves_the_body_length_and_keeps_only_the_image(
    disk_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int | None, bool]] = []
    original = preallocate.reserve

    def spy(fd: int, size: int | None) -> bool:
        reserved = original(fd, size)
        calls.append((size, reserved))
        return reserved

    monkeypatch.setattr(preallocate, "reserve", spy)
    image = _payload(3 * MiB + 123, seed=5)
    # A device may send a part after the image: reserved too (the body's length is
    # all that is known up front), and given back.
    body = _message(
        BOUNDARY,
        [
            _part(ROOT_HEADERS, REPLY),
            _part(["Content-Type: image/png", "Content-ID: <img@device>"], image),
            _part(["Content-Type: text/plain"], _payload(2 * MiB, seed=7)),
        ],
    )
    saved = disk_dir / "page.png"
    head = _head(f"Content-Length: {len(body)}")
    assert await _save_from(_device(head, [body]), saved) == len(image)
    assert calls == [(len(body), True)]
    assert saved.read_bytes() == image
    assert _allocated(saved) < len(image) + 64 * 1024
    assert [p.name for p in disk_dir.iterdir()] == ["page.png"]


@pytest.mark.parametrize("then", ["close", "reset"])
async def test_a_cut_save_leaves_no_file_and_no_reservation(
    disk_dir: Path, then: str
) -> None:
    body = _mtom_body(_payload(3 * MiB, seed=6))
    head = _head(f"Content-Length: {len(body)}")
    cut = body[: len(body) - MiB]
    before = os.statvfs(disk_dir)
    await _save_fails(
        _device(head, _pieces(cut, seed=2), then=then),
        disk_dir,
        TruncatedAttachmentError,
    )
    after = os.statvfs(disk_dir)
    # the temporary file and its reserved blocks are gone (others may write too:
    # allow slack, but not the 3 MiB reservation)
    assert (before.f_bfree - after.f_bfree) * after.f_frsize < 2 * MiB

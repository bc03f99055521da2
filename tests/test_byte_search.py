"""runtime/mtom/byte_search.py: the boundary search gives exactly what bytearray.find gives,
through the C library's memmem and through its fallback, and leaves the buffer free
to grow (its speed is in benchmarks/mtom.py)."""

from __future__ import annotations

import os
import random

import pytest
from wsdscan.runtime.mtom import byte_search
from wsdscan.runtime.mtom.byte_search import MEMMEM_MIN, find

NEEDLE = b"--uuid:0b4c1a5e-5d3a-4c2f-9d0e-8f1b2a3c4d5e"


@pytest.fixture(params=["memmem", "fallback"])
def search_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "fallback":
        monkeypatch.setattr(byte_search, "_memmem", None)
    elif not byte_search.accelerated():
        pytest.skip("no memmem in this C library")
    return str(request.param)


def _libc() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return ""


@pytest.mark.skipif(not _libc().startswith("glibc"), reason="glibc's memmem only")
def test_memmem_is_used_on_glibc() -> None:
    assert byte_search.accelerated()


@pytest.mark.parametrize(
    ("answer", "used"),
    [("glibc 2.36", True), ("glibc 2.29", True), ("glibc 2.28", False), ("", False)],
)
def test_only_a_recent_glibc_memmem_is_used(
    monkeypatch: pytest.MonkeyPatch, answer: str, used: bool
) -> None:
    if not _libc().startswith("glibc"):
        pytest.skip("needs glibc to load memmem at all")
    monkeypatch.setattr(byte_search.os, "confstr", lambda name: answer)
    assert (byte_search._load_memmem() is not None) is used


def _cases(rng: random.Random) -> list[tuple[bytearray, bytes, int, int]]:
    cases = []
    for size in (0, 1, MEMMEM_MIN - 1, MEMMEM_MIN, MEMMEM_MIN + 1, 3 * MEMMEM_MIN + 17):
        for _ in range(12):
            buffer = bytearray(rng.randbytes(size))
            needle = NEEDLE[: rng.choice((1, 2, 5, len(NEEDLE)))]
            for _ in range(rng.randrange(3)):  # plant copies, some straddling the end
                if size:
                    at = rng.randrange(size)
                    buffer[at : at + len(needle)] = needle
                    del buffer[size:]
            start = rng.choice((0, 0, rng.randrange(size + 2)))
            end = rng.choice((size, size + 5, rng.randrange(size + 2)))
            cases.append((buffer, needle, start, end))
    return cases


def test_same_answers_as_bytearray_find(search_path: str) -> None:
    rng = random.Random(4)
    cases = _cases(rng)
    found = 0
    for buffer, needle, start, end in cases:
        expected = buffer.find(needle, start, end)
        assert find(buffer, needle, start, end) == expected, (len(buffer), start, end)
        found += expected >= 0
    assert found > len(cases) // 4  # the planted needles are really searched for


@pytest.mark.parametrize("offset", [0, 1, 7, 100_000])
def test_needle_at_each_edge_of_the_range(search_path: str, offset: int) -> None:
    buffer = bytearray(300_000)
    start, end = offset, offset + 2 * MEMMEM_MIN
    buffer[start : start + len(NEEDLE)] = NEEDLE  # first byte of the range
    assert find(buffer, NEEDLE, start, end) == start
    assert find(buffer, NEEDLE, start + 1, end) == -1
    buffer[start : start + len(NEEDLE)] = bytes(len(NEEDLE))
    buffer[end - len(NEEDLE) : end] = NEEDLE  # last bytes of the range
    assert find(buffer, NEEDLE, start, end) == end - len(NEEDLE)
    assert find(buffer, NEEDLE, start, end - 1) == -1  # one byte past the range


def test_negative_indices_count_from_the_end(search_path: str) -> None:
    buffer = bytearray(4 * MEMMEM_MIN)
    buffer[-100 : -100 + len(NEEDLE)] = NEEDLE
    assert find(buffer, NEEDLE, -3 * MEMMEM_MIN, len(buffer)) == len(buffer) - 100
    assert find(buffer, NEEDLE, 0, -99) == -1


def test_buffer_can_grow_and_shrink_after_a_search(search_path: str) -> None:
    # The ctypes view must be released: an exported bytearray cannot be resized.
    buffer = bytearray(2 * MEMMEM_MIN)
    assert find(buffer, NEEDLE, 0, len(buffer)) == -1
    buffer.extend(bytes(MEMMEM_MIN))
    del buffer[:10]
    assert len(buffer) == 3 * MEMMEM_MIN - 10

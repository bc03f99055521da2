"""Direct reads in the buffered network layer (``_Receiver.read_now``): bytes already
in the socket are taken without a turn of the event loop, a direct read that fills
the buffer pauses reading as the transport's own read would, a reader gives the loop
a turn after its budget, a reset met by a direct read is kept as the error, and the
end of the stream is left to the transport.

Real TCP connections on 127.0.0.1: the peer is a plain blocking socket in the test,
and the test waits (without running the event loop) until what it sent is queued on
the client's socket (FIONREAD), so what a read finds there is known.
"""

from __future__ import annotations

import asyncio
import fcntl
import select
import socket
import struct
import termios
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from wsdscan.runtime.transport import receive_buffer

DEADLINE = 10.0


@dataclass
class Connection:
    receiver: receive_buffer.Receiver
    transport: asyncio.Transport
    peer: socket.socket

    @property
    def fd(self) -> int:
        sock = self.transport.get_extra_info("socket")
        return int(sock.fileno())

    def queued(self) -> int:
        """Bytes waiting on the client's socket."""
        count = fcntl.ioctl(self.fd, termios.FIONREAD, struct.pack("i", 0))
        return int(struct.unpack("i", count)[0])

    def send(self, data: bytes) -> None:
        """Send and wait until the client's socket holds it all. Blocking, on
        purpose: the event loop must not run (and read) meanwhile."""
        self.peer.sendall(data)
        deadline = time.monotonic() + DEADLINE
        while self.queued() < len(data):
            assert time.monotonic() < deadline, "the bytes never reached the socket"
            time.sleep(0.001)

    def wait_readable(self) -> None:
        """Wait (blocking) until the client's socket has news (a reset, an end)."""
        readable, _, _ = select.select([self.fd], [], [], DEADLINE)
        assert readable, "the client's socket never became readable"


@asynccontextmanager
async def _connection() -> AsyncIterator[Connection]:
    listener = socket.create_server(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    try:
        transport, receiver = await loop.create_connection(
            receive_buffer.Receiver, "127.0.0.1", listener.getsockname()[1]
        )
        peer, _ = listener.accept()
    finally:
        listener.close()
    assert isinstance(transport, asyncio.Transport)
    try:
        yield Connection(receiver, transport, peer)
    finally:
        transport.close()
        peer.close()
        await asyncio.sleep(0)


@contextmanager
def _loop_turns() -> Iterator[list[int]]:
    """A list that grows by one each time the event loop runs its callbacks."""
    loop = asyncio.get_running_loop()
    turns: list[int] = []
    handle: asyncio.Handle | None = None

    def tick() -> None:
        nonlocal handle
        turns.append(1)
        handle = loop.call_soon(tick)

    handle = loop.call_soon(tick)
    try:
        yield turns
    finally:
        handle.cancel()


def _consume(receiver: receive_buffer.Receiver) -> bytes:
    data = bytes(receiver.buffer[receiver.start : receiver.end])
    receiver.start = receiver.end
    return data


async def test_bytes_in_the_socket_are_read_without_a_turn_of_the_loop() -> None:
    async with _connection() as conn:
        payload = bytes(range(256)) * 200
        conn.send(payload)
        with _loop_turns() as turns:
            assert await conn.receiver.receive(timeout=5)
            assert turns == [], "the loop turned: the bytes were not read directly"
        assert _consume(conn.receiver) == payload


async def test_a_direct_read_that_fills_the_buffer_pauses_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A small buffer, so that more than fits is surely queued on the socket at once.
    monkeypatch.setattr(receive_buffer, "SMALL_BUFFER", 16 * 1024)
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, c: errors.append(c))
    async with _connection() as conn:
        receiver = conn.receiver
        room = len(receiver.buffer)
        payload = bytes(range(256)) * (room // 256 + 100)  # more than fits
        conn.send(payload)
        assert await receiver.receive(timeout=5)
        assert receiver.end == room
        assert not conn.transport.is_reading()
        # A full buffer while the loop runs: the transport must not read into it
        # (asyncio would call get_buffer, get an empty view and kill the connection).
        await asyncio.sleep(0.05)
        assert errors == [] and receiver.error is None
        assert not conn.transport.is_closing()
        data = _consume(receiver)
        while len(data) < len(payload):
            assert await receiver.receive(timeout=5)
            data += _consume(receiver)
        assert data == payload
        assert conn.transport.is_reading()


async def test_a_reader_gives_the_loop_a_turn_after_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(receive_buffer, "DIRECT_READ_BUDGET", 8 * 1024)
    async with _connection() as conn:
        conn.send(b"a" * 20_000)
        with _loop_turns() as turns:
            assert await conn.receiver.receive(timeout=5)
            assert turns == []  # the budget was not spent before this read
            assert _consume(conn.receiver) == b"a" * 20_000
            conn.send(b"b" * 100)
            assert await conn.receiver.receive(timeout=5)
            assert turns, "a reader past its budget read on without a turn of the loop"
            assert _consume(conn.receiver) == b"b" * 100
            # The turn renewed the budget: the next bytes come directly again.
            conn.send(b"c" * 100)
            seen = len(turns)
            assert await conn.receiver.receive(timeout=5)
            assert len(turns) == seen
            assert _consume(conn.receiver) == b"c" * 100


async def test_a_reset_met_by_a_direct_read_is_kept_as_the_error() -> None:
    async with _connection() as conn:
        conn.peer.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        conn.peer.close()  # a reset, not a close
        conn.wait_readable()
        with _loop_turns() as turns:
            assert not await conn.receiver.receive(timeout=5)
            assert turns == [], "the reset was not met by the direct read"
        assert isinstance(conn.receiver.error, ConnectionResetError)
        assert conn.transport.is_closing()
        await asyncio.sleep(0.01)  # connection_lost(None) after the abort
        assert isinstance(conn.receiver.error, ConnectionResetError)
        assert conn.receiver.eof


async def test_end_of_stream_is_left_to_the_transport() -> None:
    async with _connection() as conn:
        conn.send(b"last")
        conn.peer.shutdown(socket.SHUT_WR)
        assert await conn.receiver.receive(timeout=5)
        assert _consume(conn.receiver) == b"last"
        conn.wait_readable()
        assert not conn.receiver.read_now()
        assert not conn.receiver.eof  # not taken for the transport's own read
        assert not await conn.receiver.receive(timeout=5)
        assert conn.receiver.eof and conn.receiver.error is None

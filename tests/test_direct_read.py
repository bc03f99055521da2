"""Direct reads in the buffered network layer (``_Receiver.read_now``): bytes already
in the socket are taken without a turn of the event loop, a reader gives the loop a
turn after its budget, and a reset met by a direct read is kept as the error.

Real TCP connections on 127.0.0.1: the peer is a plain blocking socket in the test,
so what lies in the client's socket when it reads is known (a loopback send is in
the peer's receive queue when ``sendall`` returns).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from wsdscan.runtime import netstream

SETTLE = 0.05  # for a loopback send (or reset) to reach the peer's socket


@dataclass
class Connection:
    receiver: netstream._Receiver
    transport: asyncio.Transport
    peer: socket.socket


@asynccontextmanager
async def _connection() -> AsyncIterator[Connection]:
    listener = socket.create_server(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    try:
        transport, receiver = await loop.create_connection(
            netstream._Receiver, "127.0.0.1", listener.getsockname()[1]
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


def _turns(loop: asyncio.AbstractEventLoop) -> list[int]:
    """A list that grows by one each time the event loop runs its callbacks."""
    turns: list[int] = []

    def tick() -> None:
        turns.append(1)
        loop.call_soon(tick)

    loop.call_soon(tick)
    return turns


def _settle() -> None:
    # Blocking, on purpose: the event loop must not run (and read) meanwhile.
    time.sleep(SETTLE)


def _send_and_settle(peer: socket.socket, data: bytes) -> None:
    peer.sendall(data)
    _settle()


def _consume(receiver: netstream._Receiver) -> bytes:
    data = bytes(receiver.buffer[receiver.start : receiver.end])
    receiver.start = receiver.end
    return data


async def test_bytes_in_the_socket_are_read_without_a_turn_of_the_loop() -> None:
    async with _connection() as conn:
        await asyncio.sleep(0.01)  # connection_made and the first (empty) selects
        payload = bytes(range(256)) * 200
        _send_and_settle(conn.peer, payload)
        turns = _turns(asyncio.get_running_loop())
        assert await conn.receiver.receive(timeout=5)
        assert turns == [], "the loop turned: the bytes were not read directly"
        assert _consume(conn.receiver) == payload


async def test_a_reader_gives_the_loop_a_turn_after_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(netstream, "DIRECT_READ_BUDGET", 8 * 1024)
    async with _connection() as conn:
        await asyncio.sleep(0.01)
        _send_and_settle(conn.peer, b"a" * 20_000)
        turns = _turns(asyncio.get_running_loop())
        assert await conn.receiver.receive(timeout=5)
        assert turns == []  # the budget was not spent before this read
        assert _consume(conn.receiver) == b"a" * 20_000
        _send_and_settle(conn.peer, b"b" * 100)
        assert await conn.receiver.receive(timeout=5)
        assert turns, "a reader past its budget read on without letting the loop run"
        assert _consume(conn.receiver) == b"b" * 100
        # The turn renewed the budget: the next bytes come directly again.
        _send_and_settle(conn.peer, b"c" * 100)
        seen = len(turns)
        assert await conn.receiver.receive(timeout=5)
        assert len(turns) == seen
        assert _consume(conn.receiver) == b"c" * 100


async def test_a_reset_met_by_a_direct_read_is_kept_as_the_error() -> None:
    async with _connection() as conn:
        await asyncio.sleep(0.01)
        conn.peer.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        conn.peer.close()  # a reset, not a close
        _settle()
        turns = _turns(asyncio.get_running_loop())
        assert not await conn.receiver.receive(timeout=5)
        assert turns == [], "the reset was not met by the direct read"
        assert isinstance(conn.receiver.error, ConnectionResetError)
        assert conn.transport.is_closing()
        await asyncio.sleep(0.01)  # connection_lost(None) after the abort
        assert isinstance(conn.receiver.error, ConnectionResetError)
        assert conn.receiver.eof


async def test_end_of_stream_is_left_to_the_transport() -> None:
    async with _connection() as conn:
        await asyncio.sleep(0.01)
        conn.peer.sendall(b"last")
        conn.peer.shutdown(socket.SHUT_WR)
        _settle()
        assert await conn.receiver.receive(timeout=5)
        assert _consume(conn.receiver) == b"last"
        assert not await conn.receiver.receive(timeout=5)
        assert conn.receiver.eof and conn.receiver.error is None

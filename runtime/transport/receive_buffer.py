"""The receiving end of a buffered connection: :class:`Receiver`, an
``asyncio.BufferedProtocol`` into whose one bytearray the kernel writes straight, which
hands h11 a response head on its own and lets a reader take what the socket already
holds without a turn of the event loop (:meth:`Receiver.read_now`); under TLS,
:class:`TlsFeed` copies asyncio's SSL bytes into the same buffer."""

from __future__ import annotations

import asyncio
import os
import re
from typing import Final

# The receive buffer of a connection (netstream.BODY_BUFFER is what it grows to when a
# body is read in place).
SMALL_BUFFER: Final = 64 * 1024
# Bytes a reader may take straight from the socket (see Receiver.read_now) before it
# lets the event loop run once: a fast sender must not starve the other tasks (which
# wait, at most, for this much to be parsed and written).
DIRECT_READ_BUDGET: Final = 16 * 1024 * 1024
# The blank line that ends a head; LF-only accepted, as h11 does.
_HEAD_END: Final = re.compile(rb"\n\r?\n")


class Receiver(asyncio.BufferedProtocol):
    """The connection's protocol. Unread bytes are ``buffer[start:end]``; the event
    loop (or :meth:`read_now`) appends after ``end`` and never moves them, only
    :meth:`receive` does."""

    def __init__(self) -> None:
        self.buffer = bytearray(SMALL_BUFFER)
        self.start = 0
        self.end = 0
        self.eof = False
        self.error: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        # Set by a request write: the next reads return the response head alone.
        self.expect_head = False
        # A final response head was returned and no body byte since.
        self.body_untouched = False
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._overflow: list[bytes] = []
        # The plain socket's descriptor, for read_now (None under TLS: asyncio's SSL
        # layer must decrypt the bytes first).
        self._fd: int | None = None
        self._direct_budget = DIRECT_READ_BUDGET

    # -- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # Direct reads need a selector loop (a proactor has a receive of its own in
        # flight into the buffer) and readv (not on Windows).
        sock = transport.get_extra_info("socket")
        selector = isinstance(asyncio.get_running_loop(), asyncio.SelectorEventLoop)
        if sock is not None and selector and hasattr(os, "readv"):
            self._fd = sock.fileno()

    def get_buffer(self, sizehint: int) -> memoryview:
        # Never empty: reading is paused while the buffer is full.
        return memoryview(self.buffer)[self.end :]

    def buffer_updated(self, nbytes: int) -> None:
        self.end += nbytes
        if self.end == len(self.buffer):
            self._pause()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport: an HTTP client has nothing more to send

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self._fd = None
        # Without its traceback: the frames in it hold a view of the buffer (from
        # get_buffer), which would keep the buffer from ever growing again. An error
        # read_now met (it then aborted the transport) is kept.
        if exc is not None:
            self.error = exc.with_traceback(None)
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def feed(self, data: bytes) -> None:
        """Bytes handed over whole (TLS, see :class:`_TlsFeed`): what does not fit
        after ``end`` waits in ``_overflow`` until :meth:`make_room`, with reading
        paused meanwhile."""
        if not self._overflow:
            room = len(self.buffer) - self.end
            taken = min(room, len(data))
            self.buffer[self.end : self.end + taken] = data[:taken]
            self.end += taken
            data = data[taken:]
        if data:
            self._overflow.append(data)
            self._pause()
        self._wake()

    def _pause(self) -> None:
        # During start_tls there is no transport to pause: the new one is paused
        # when it is set (set_transport).
        if not self._reading_paused and self.transport is not None:
            self.transport.pause_reading()
        self._reading_paused = True

    def set_transport(self, transport: asyncio.Transport | None) -> None:
        """The TLS transport replacing the plain one (start_tls)."""
        self.transport = transport
        self._fd = None
        if transport is not None and self._reading_paused:
            transport.pause_reading()

    # -- for the readers -----------------------------------------------------------------

    def make_room(self, capacity: int = 0) -> None:
        """Move the unread bytes to the front and grow the buffer to ``capacity`` (or
        double it when it is full). Only called with no view of the buffer lent out."""
        if self.start:
            unread = self.end - self.start
            # A slice, not a memoryview: bytearray assignment is a memcpy, and the
            # two ranges may overlap (the copy is of the few bytes left unread).
            self.buffer[:unread] = self.buffer[self.start : self.end]
            self.start, self.end = 0, unread
        waiting = sum(map(len, self._overflow))
        if self.end + waiting >= len(self.buffer):
            capacity = max(capacity, 2 * (self.end + waiting))
        if capacity > len(self.buffer):
            self.buffer.extend(bytes(capacity - len(self.buffer)))
        for data in self._overflow:
            self.buffer[self.end : self.end + len(data)] = data
            self.end += len(data)
        self._overflow.clear()
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()

    def read_now(self) -> bool:
        """Read what the socket holds now straight into the buffer after ``end``,
        without a turn of the event loop. True when bytes came; False when there
        were none yet (the caller then waits for the event loop as usual), at end of
        stream (left for the transport to see too) and after an error (recorded, and
        the connection aborted, as the transport itself would).

        At loopback speed a turn of the loop per receive (a future, a timeout
        handle, a task step through the parser's generators) cost about 0.1 s of CPU
        per 2 GiB (benchmarks/mtom.py). The transport reads into the same buffer the
        same way (get_buffer, recv_into, buffer_updated, pausing when the buffer is
        full), so the two never disagree on ``end``. After DIRECT_READ_BUDGET bytes
        read this way a reader waits for the loop anyway, so that a fast sender
        cannot starve the other tasks."""
        fd = self._fd
        transport = self.transport
        if (
            fd is None
            or transport is None
            or transport.is_closing()
            or self.eof
            or self._overflow
            or self._direct_budget <= 0
            or self.end == len(self.buffer)
        ):
            return False
        with memoryview(self.buffer)[self.end :] as room:
            try:
                count = os.readv(fd, [room])
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:
                # Linux reports a reset to one read only: keep it for the reader.
                self.error = exc.with_traceback(None)
                self.eof = True
                transport.abort()
                return False
        if not count:
            return False  # end of stream: the transport's own read sees it too
        self.end += count
        self._direct_budget -= count
        if self.end == len(self.buffer):
            # As buffer_updated does: with the loop's next turn the transport would
            # read again, get an empty buffer and fail the connection.
            self._pause()
        return True

    async def receive(self, timeout: float | None) -> bool:
        """Wait for bytes after ``end`` (the unread ones may move to the front first).
        False at end of stream. Raises TimeoutError after ``timeout`` seconds of
        silence."""
        unread = self.end - self.start
        self.make_room()
        if self.read_now():
            return True
        self._direct_budget = DIRECT_READ_BUDGET  # the loop runs below
        while self.end - self.start == unread:
            if self.eof:
                return False
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self._waiter
            finally:
                self._waiter = None
        return True

    async def drain(self, timeout: float | None) -> None:
        if self._drained is not None:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._drained)

    def take(self, count: int) -> bytes:
        data = bytes(memoryview(self.buffer)[self.start : self.start + count])
        self.start += count
        if self.start == self.end:
            self.start = self.end = 0
        if self._reading_paused:
            self.make_room()
        return data

    def head_length(self) -> int | None:
        """The length of the response head at ``start``, if it is all here."""
        match = _HEAD_END.search(self.buffer, self.start, self.end)
        return None if match is None else match.end() - self.start

    def is_informational(self) -> bool:
        """The head at ``start`` is a 1xx response (another head follows)."""
        status_line = bytes(self.buffer[self.start : self.start + 16]).split()
        return len(status_line) > 1 and status_line[1][:1] == b"1"


class TlsFeed(asyncio.Protocol):
    """The protocol under TLS: bytes handed to :meth:`Receiver.feed`. asyncio's SSL
    layer (3.11) gives a buffered protocol only what fits its buffer when the peer
    closes without close_notify, and drops the rest; whole bytes objects lose
    nothing (one copy more, for TLS only)."""

    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver

    def data_received(self, data: bytes) -> None:
        self._receiver.feed(data)

    def eof_received(self) -> bool:
        return self._receiver.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._receiver.connection_lost(exc)

    def pause_writing(self) -> None:
        self._receiver.pause_writing()

    def resume_writing(self) -> None:
        self._receiver.resume_writing()

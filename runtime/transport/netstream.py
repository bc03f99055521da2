"""An httpx transport whose connections receive into one reusable buffer, so that an
MTOM image can be read where it landed.

httpx (over httpcore and h11) copies every body byte four times and pays an anyio
cancel scope per 64 KiB read; at loopback speed that, not the network, bounds a
download. This module keeps httpx for everything it does (requests, pooling,
timeouts, error types) and replaces only the network layer, through httpcore's
public ``network_backend`` hook:

- :class:`BufferedNetworkBackend` opens asyncio connections whose protocol
  (:class:`_Receiver`, an ``asyncio.BufferedProtocol``) has the kernel write straight
  into a bytearray.
- After each request it hands h11 the response head on its own (reads stop at the
  blank line), so the body is still unread in the buffer when httpx returns the
  response.
- :meth:`BufferedNetworkStream.body_window` (the stream is the response's documented
  ``network_stream`` extension) then gives a :class:`~.byte_window.ByteWindow` on that
  buffer: the MTOM parser finds the boundary in place and the image is written to its
  file from the same memory the kernel filled. A Content-Length or close-delimited
  body is never copied in user space; a chunked one is copied once (to drop the
  framing).
- A reader that needs more bytes first takes what the socket already holds
  (:meth:`_Receiver.read_now`) and waits for the event loop only when there is
  nothing: a large body then costs one read per buffer, not a turn of the loop.

A body read this way bypasses h11, so the connection is closed afterwards instead of
being reused (httpcore does that on its own when a response closes unfinished). Under
TLS, asyncio's SSL layer hands the data over as bytes, copied into the same buffer.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
from collections.abc import Iterable
from typing import Any, Final

import httpcore
import httpx

from ..errors import ProtocolError
from ..mtom.byte_window import ByteWindow

# The receive buffer of a connection, and what it grows to when a body is read in
# place: larger reads mean fewer wake-ups, until the buffer no longer fits in the CPU
# caches (benchmarks/mtom.py: 2 MiB beat 1, 4 and 8 MiB on tmpfs and on ext4).
SMALL_BUFFER: Final = 64 * 1024
BODY_BUFFER: Final = 2 * 1024 * 1024
# A response head longer than this is handed to h11 unsplit (the body is then read
# through h11 as usual).
MAX_HEAD: Final = 64 * 1024
MAX_CHUNK_LINE: Final = 4096
# Bytes a reader may take straight from the socket (see _Receiver.read_now) before it
# lets the event loop run once: a fast sender must not starve the other tasks (which
# wait, at most, for this much to be parsed and written).
DIRECT_READ_BUDGET: Final = 16 * 1024 * 1024
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)

# The blank line that ends a head; LF-only accepted, as h11 does.
_HEAD_END: Final = re.compile(rb"\n\r?\n")
# A chunk size: hex digits only (int(x, 16) would also take a sign, "0x" and "_").
_CHUNK_SIZE: Final = re.compile(rb"[0-9A-Fa-f]{1,16}")


class _Receiver(asyncio.BufferedProtocol):
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


class _TlsFeed(asyncio.Protocol):
    """The protocol under TLS: bytes handed to :meth:`_Receiver.feed`. asyncio's SSL
    layer (3.11) gives a buffered protocol only what fits its buffer when the peer
    closes without close_notify, and drops the rest; whole bytes objects lose
    nothing (one copy more, for TLS only)."""

    def __init__(self, receiver: _Receiver) -> None:
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


class BufferedNetworkStream(httpcore.AsyncNetworkStream):
    """One connection, as httpcore sees it, plus :meth:`body_window`."""

    def __init__(self, transport: asyncio.Transport, receiver: _Receiver) -> None:
        self._transport = transport
        self._receiver = receiver

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        receiver = self._receiver
        try:
            while True:
                available = receiver.end - receiver.start
                if receiver.expect_head and available:
                    length = receiver.head_length()
                    if length is not None and length <= max_bytes:
                        if not receiver.is_informational():
                            receiver.expect_head = False
                            receiver.body_untouched = True
                        return receiver.take(length)
                    if length is None and available < MAX_HEAD and not receiver.eof:
                        await receiver.receive(timeout)  # the rest of the head
                        continue
                    receiver.expect_head = False  # an odd head: h11 gets it as it is
                if available:
                    receiver.body_untouched = False
                    return receiver.take(min(available, max_bytes))
                if not await receiver.receive(timeout):
                    if receiver.error is not None:
                        raise httpcore.ReadError(str(receiver.error))
                    return b""
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out reading from the server") from None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        receiver = self._receiver
        if self._transport.is_closing() or receiver.error is not None:
            raise httpcore.WriteError("the connection is closed")
        receiver.expect_head = True
        receiver.body_untouched = False
        self._transport.write(buffer)
        try:
            await receiver.drain(timeout)
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out writing to the server") from None
        if receiver.error is not None:
            raise httpcore.WriteError(str(receiver.error))

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        receiver = self._receiver
        # Data can arrive with the end of the handshake, before start_tls returns the
        # new transport: until then there is none to pause (set_transport does it).
        receiver.set_transport(None)
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport,
                    _TlsFeed(receiver),
                    ssl_context,
                    server_hostname=server_hostname,
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        assert transport is not None
        receiver.set_transport(transport)  # start_tls does not call connection_made
        return BufferedNetworkStream(transport, receiver)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # httpcore asks before reusing an idle connection: anything there (or the
            # peer's close) means it must not be reused.
            receiver = self._receiver
            return receiver.end > receiver.start or receiver.eof
        names = {
            "ssl_object": "ssl_object",
            "client_addr": "sockname",
            "server_addr": "peername",
            "socket": "socket",
        }
        if info in names:
            return self._transport.get_extra_info(names[info])
        return None

    def body_window(
        self, headers: httpx.Headers, timeout: float | None
    ) -> ByteWindow | None:
        """A window on the body of the response just received, read in place; None
        when h11 already has part of it (then read it through httpx as usual). At most
        one window per response; the connection is not reused afterwards."""
        receiver = self._receiver
        if not receiver.body_untouched:
            return None
        receiver.body_untouched = False
        encoding = headers.get("transfer-encoding", "").lower()
        if encoding:
            if encoding.rsplit(",", 1)[-1].strip() != "chunked":
                return None
            receiver.make_room(BODY_BUFFER)
            return ChunkedWindow(receiver, timeout)
        length = content_length(headers)
        if length is None and "content-length" in headers:
            return None  # unreadable: leave it to h11
        receiver.make_room(BODY_BUFFER)
        return BodyWindow(receiver, length, timeout)


def content_length(headers: httpx.Headers) -> int | None:
    """The Content-Length (the first of repeated equal values, as h11 takes them), or
    None when there is none or it is not a number."""
    try:
        return int(headers["content-length"].split(",")[0])
    except (KeyError, ValueError):
        return None


def _read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out reading the response body")


def _cut_short(receiver: _Receiver) -> httpx.TransportError:
    """The error httpx would raise for a body that ended early: ReadError for a
    reset, RemoteProtocolError for a close before the framing said the body ends."""
    if receiver.error is not None:
        return httpx.ReadError(str(receiver.error))
    return httpx.RemoteProtocolError(
        "peer closed connection without sending complete message body"
    )


class BodyWindow(ByteWindow):
    """A Content-Length (or close-delimited, ``length`` None) body, in the
    connection's own buffer: nothing is copied."""

    def __init__(
        self, receiver: _Receiver, length: int | None, timeout: float | None
    ) -> None:
        self._receiver = receiver
        self._remaining = length  # body bytes from ``start`` on; None: until close
        self._timeout = timeout
        self.buffer = receiver.buffer
        self.start = receiver.start
        self.end = self._clamped_end()

    def _clamped_end(self) -> int:
        receiver = self._receiver
        if self._remaining is None:
            return receiver.end
        return min(receiver.end, receiver.start + self._remaining)

    async def fill(self) -> bool:
        receiver = self._receiver
        if self._remaining is not None:
            self._remaining -= self.start - receiver.start
        receiver.start = self.start
        seen = self.end - self.start
        if self._remaining == seen:
            return False  # the whole body is in view
        if receiver.end - receiver.start == seen:
            try:
                more = await receiver.receive(self._timeout)
            except TimeoutError:
                raise _read_timeout() from None
            if not more:
                if self._remaining is not None or receiver.error is not None:
                    raise _cut_short(receiver)
                return False  # a close-delimited body ends with the connection
        self.start = receiver.start
        self.end = self._clamped_end()
        return True


class ChunkedWindow(ByteWindow):
    """A chunked body, its data copied out of the connection buffer once (the chunk
    framing between two pieces of data has to go)."""

    def __init__(self, receiver: _Receiver, timeout: float | None) -> None:
        self._receiver = receiver
        self._timeout = timeout
        self.buffer = bytearray()
        self.start = 0
        self.end = 0
        self._left = 0  # data bytes left in the current chunk
        self._state = "size"  # size -> data -> size ... -> trailers -> done

    async def _more(self) -> None:
        try:
            more = await self._receiver.receive(self._timeout)
        except TimeoutError:
            raise _read_timeout() from None
        if not more:
            raise _cut_short(self._receiver)

    def _line(self) -> bytes | None:
        """The next line (without its line end), if it is all here."""
        receiver = self._receiver
        newline = receiver.buffer.find(b"\n", receiver.start, receiver.end)
        if newline < 0:
            if receiver.end - receiver.start > MAX_CHUNK_LINE:
                raise ProtocolError("chunked body: chunk size line too long")
            return None
        line = bytes(receiver.buffer[receiver.start : newline]).rstrip(b"\r")
        receiver.start = newline + 1
        return line

    def _step(self) -> bool | None:
        """Decode what is buffered. True once data was copied, False at the end of the
        body, None when more bytes are needed first."""
        receiver = self._receiver
        copied = False
        while True:
            if self._state == "data":
                available = receiver.end - receiver.start
                if not available:
                    return True if copied else None
                count = min(available, self._left)
                self.buffer += memoryview(receiver.buffer)[
                    receiver.start : receiver.start + count
                ]
                receiver.start += count
                self._left -= count
                copied = True
                if not self._left:
                    self._state = "size"
                continue
            line = self._line()
            if line is None:
                return True if copied else None
            if self._state == "size":
                if not line.strip():
                    continue  # the line end after a chunk's data
                size_text = line.split(b";", 1)[0].strip()
                if not _CHUNK_SIZE.fullmatch(size_text):
                    raise ProtocolError(
                        f"chunked body: bad chunk size {size_text[:40]!r}"
                    )
                self._left = int(size_text, 16)
                self._state = "data" if self._left else "trailers"
            elif self._state == "trailers" and not line:
                self._state = "done"
            if self._state == "done":
                return True if copied else False

    async def fill(self) -> bool:
        self.drop_consumed()
        while True:
            if self._state == "done":
                return False
            stepped = self._step()
            if stepped is not None:
                self.end = len(self.buffer)
                return stepped
            await self._more()


class BufferedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer on asyncio, with :class:`BufferedNetworkStream`s."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, receiver = await loop.create_connection(
                    _Receiver, host, port, local_addr=local
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _stream(transport, receiver, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, receiver = await loop.create_unix_connection(_Receiver, path)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _stream(transport, receiver, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _stream(
    transport: asyncio.BaseTransport,
    receiver: _Receiver,
    socket_options: Iterable[Any] | None,
) -> BufferedNetworkStream:
    assert isinstance(transport, asyncio.Transport)
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return BufferedNetworkStream(transport, receiver)


class BufferedHTTPTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP/1.1 transport (its request and response mapping and error types)
    over :class:`BufferedNetworkBackend`. No proxies: scanners are on the local
    network (pass your own ``httpx.AsyncClient`` to go through one)."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        retries: int = 0,
    ) -> None:
        super().__init__(verify=False, trust_env=False)  # its pool is replaced below
        # httpx has no network_backend parameter: build its pool again with ours
        # (tests/test_netstream.py checks that responses come through it). With
        # verify=True httpcore makes the default TLS context when first needed.
        context = None if verify is True else httpx.create_ssl_context(verify=verify)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            retries=retries,
            network_backend=BufferedNetworkBackend(),
        )


def buffered_body(response: httpx.Response) -> ByteWindow | None:
    """A window on ``response``'s unread body in its connection's buffer, when the
    response came through :class:`BufferedHTTPTransport` untouched; else None."""
    stream = response.extensions.get("network_stream")
    if not isinstance(stream, BufferedNetworkStream):
        return None
    if response.request.method == "HEAD" or response.status_code in (204, 304):
        return None  # no body (RFC 9112 6.3), whatever the headers say
    timeouts = response.request.extensions.get("timeout", {})
    return stream.body_window(response.headers, timeouts.get("read"))

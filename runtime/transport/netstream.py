"""An httpx transport whose connections receive into one reusable buffer, so that an
MTOM image can be read where it landed.

httpx (over httpcore and h11) copies every body byte four times and pays an anyio
cancel scope per 64 KiB read; at loopback speed that, not the network, bounds a
download. This module keeps httpx for everything it does (requests, pooling,
timeouts, error types) and replaces only the network layer, through httpcore's
public ``network_backend`` hook:

- :class:`BufferedNetworkBackend` opens asyncio connections whose protocol
  (:class:`Receiver`, an ``asyncio.BufferedProtocol``) has the kernel write straight
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
  (:meth:`Receiver.read_now`) and waits for the event loop only when there is
  nothing: a large body then costs one read per buffer, not a turn of the loop.

A body read this way bypasses h11, so the connection is closed afterwards instead of
being reused (httpcore does that on its own when a response closes unfinished). Under
TLS, asyncio's SSL layer hands the data over as bytes, copied into the same buffer.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any, Final

import httpcore
import httpx

from ..mtom.byte_window import ByteWindow
from .body_windows import BodyWindow, ChunkedWindow, content_length
from .receive_buffer import Receiver, TlsFeed

# What a connection's receive buffer grows to when a body is read in place: larger
# reads mean fewer wake-ups, until the buffer no longer fits in the CPU caches
# (benchmarks/mtom.py: 2 MiB beat 1, 4 and 8 MiB on tmpfs and on ext4).
BODY_BUFFER: Final = 2 * 1024 * 1024
# A response head longer than this is handed to h11 unsplit (the body is then read
# through h11 as usual).
MAX_HEAD: Final = 64 * 1024
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class BufferedNetworkStream(httpcore.AsyncNetworkStream):
    """One connection, as httpcore sees it, plus :meth:`body_window`."""

    def __init__(self, transport: asyncio.Transport, receiver: Receiver) -> None:
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
        # The connection's buffer (2 MiB once a body was read in place) goes now: the
        # response and this stream hold each other in httpx's and httpcore's object
        # cycles, which only the rarely run full collection frees. A job of 100 pages
        # kept about 25 MiB of dead buffers alive. Nothing reads a closed stream.
        self._receiver.buffer = bytearray()

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
                    TlsFeed(receiver),
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
                    Receiver, host, port, local_addr=local
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
                transport, receiver = await loop.create_unix_connection(Receiver, path)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _stream(transport, receiver, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _stream(
    transport: asyncio.BaseTransport,
    receiver: Receiver,
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

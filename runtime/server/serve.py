"""Run an ASGI app under uvicorn on a socket we bind ourselves (so port 0 works and the
URL is known before the first request).

uvicorn is pinned to its h11 HTTP/1.1 protocol (:class:`HeaderDeadlineProtocol`) rather
than "auto", which would switch to httptools whenever that happens to be installed: the
header deadline below is written against h11's connection states.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from ..defaults import DEFAULT_READ_TIMEOUT, DEFAULT_WRITE_TIMEOUT
from .asgi import ASGIApp, ServerLimits

log = logging.getLogger("wsdscan.server")

MAX_HEADER_BYTES: Final = 16 * 1024
"""Largest request line plus headers (h11's incomplete-event limit): beyond it the
client gets HTTP 400 and the connection is closed."""
KEEP_ALIVE_TIMEOUT: Final = 5
"""Seconds an idle connection is kept open after a response (uvicorn's keep-alive)."""
GRACEFUL_SHUTDOWN_TIMEOUT: Final = 3
"""Seconds a stopping server waits for requests in progress (a long image transfer)
before it cancels them; uvicorn's default is to wait forever."""


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for a request's line and headers, and one
    for a response the client does not read.

    uvicorn only times out a connection that is idle after a response (keep-alive), and
    the app's read timeout only starts once the headers are complete: a client that
    connects and sends nothing, or stalls inside its headers, would otherwise hold its
    socket forever. The deadline counts from the connection (first request) or from the
    first byte of a later request, so trickling bytes does not extend it.

    Writes: once the transport's buffer is full (the client stopped reading), the
    connection is aborted unless it drains within ``write_timeout``. The app's own
    write timeout (``ServerLimits.write_timeout``) gives up on the response, but only
    an abort frees the socket: uvicorn's ``close()`` waits for the unread buffer to be
    flushed, which never happens. The app then sees a disconnect."""

    header_timeout: ClassVar[float] = DEFAULT_READ_TIMEOUT
    write_timeout: ClassVar[float] = DEFAULT_WRITE_TIMEOUT

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = False
        """Whether part of the awaited request already arrived (a 408 is then owed)."""
        self._write_deadline: asyncio.TimerHandle | None = None

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        self._cancel_write_deadline()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_deadline is None:
            self._write_deadline = self.loop.call_later(
                self.write_timeout, self._write_deadline_expired
            )

    def resume_writing(self) -> None:
        self._cancel_write_deadline()
        super().resume_writing()

    def _cancel_write_deadline(self) -> None:
        if self._write_deadline is not None:
            self._write_deadline.cancel()
            self._write_deadline = None

    def _write_deadline_expired(self) -> None:
        self._write_deadline = None
        log.info(
            "dropped a connection from %s: the client read nothing for %g s",
            self.client,
            self.write_timeout,
        )
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if data and self.conn.their_state is h11.IDLE:
            self._header_bytes = True
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and self._header_bytes:
            # Headers still incomplete (super() just dropped any keep-alive timer).
            self._arm_header_deadline()
        elif self.conn.their_state is not h11.IDLE:
            self._cancel_header_deadline()

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.header_timeout, self._header_deadline_expired
            )

    def _cancel_header_deadline(self) -> None:
        self._header_bytes = False
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_deadline_expired(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._header_bytes:
            # A partial request gets an answer; a silent connection is just closed.
            self.transport.write(_request_timeout(self.header_timeout))
        log.info(
            "closed a connection from %s: no complete request headers within %g s",
            self.client,
            self.header_timeout,
        )
        self.transport.close()


def _request_timeout(seconds: float) -> bytes:
    body = f"request headers not received within {seconds:g} s".encode()
    return (
        b"HTTP/1.1 408 Request Timeout\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        + f"content-length: {len(body)}\r\n".encode()
        + b"connection: close\r\n\r\n"
        + body
    )


def header_deadline_protocol(
    timeout: float, write_timeout: float = DEFAULT_WRITE_TIMEOUT
) -> type[HeaderDeadlineProtocol]:
    """:class:`HeaderDeadlineProtocol` with its deadlines set to ``timeout`` (headers)
    and ``write_timeout`` seconds (uvicorn builds protocols from a class, so the
    settings travel as a class)."""
    if not timeout > 0:
        raise ValueError(f"the header timeout must be positive, not {timeout}")
    if not write_timeout > 0:
        raise ValueError(f"the write timeout must be positive, not {write_timeout}")

    class Bound(HeaderDeadlineProtocol):
        header_timeout = timeout

    Bound.write_timeout = write_timeout
    return Bound


@dataclass
class RunningServer:
    """A server started by :func:`running`: its address and how to stop it."""

    host: str
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"


def bind_socket(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` with an accept queue of
    ``backlog`` connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say
    # they are TCP, and accepted sockets inherit the listener's proto. Without it a
    # response sent as headers then body waits out the client's delayed ACK (~40 ms
    # a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def make_server(
    app: ASGIApp,
    *,
    log_level: str = "warning",
    timeout_keep_alive: int = KEEP_ALIVE_TIMEOUT,
    read_timeout: float | None = None,
    write_timeout: float | None = None,
    timeout_graceful_shutdown: int | None = GRACEFUL_SHUTDOWN_TIMEOUT,
) -> uvicorn.Server:
    """A uvicorn server for ``app``. ``read_timeout`` bounds the wait for each request's
    line and headers, ``write_timeout`` how long a response may stay unread before the
    connection is dropped; by default the app's own ``limits`` (a :class:`SoapApp`),
    else :data:`DEFAULT_READ_TIMEOUT` / :data:`DEFAULT_WRITE_TIMEOUT`. Stopping waits
    ``timeout_graceful_shutdown`` seconds for requests in progress (None: forever)."""
    limits = getattr(app, "limits", None)
    if not isinstance(limits, ServerLimits):
        limits = ServerLimits()
    if read_timeout is None:
        read_timeout = limits.read_timeout
    if write_timeout is None:
        write_timeout = limits.write_timeout
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        http=header_deadline_protocol(read_timeout, write_timeout),
        ws="none",  # no WebSocket endpoint: upgrade requests are plain HTTP requests
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=timeout_keep_alive,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
        server_header=False,
        date_header=False,
    )
    return uvicorn.Server(config)


@contextlib.asynccontextmanager
async def running(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    backlog: int = 128,
    **options: Any,
) -> AsyncIterator[RunningServer]:
    """Serve ``app`` in this event loop for the duration of the ``async with``;
    ``backlog`` is the listening socket's accept queue (see :func:`bind_socket`)."""
    sock = bind_socket(host, port, backlog)
    server = make_server(app, **options)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise a start-up error
            await asyncio.sleep(0.01)
        yield RunningServer(host, sock.getsockname()[1], server, task)
    finally:
        server.should_exit = True
        try:
            await task
        except asyncio.CancelledError:
            # The server task's own cancellation ends it quietly; one aimed at us
            # (while we waited for the server to stop) must reach our caller. Awaiting
            # the task passed it on to the server too, so the server stops anyway.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
        finally:
            sock.close()

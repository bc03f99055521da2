"""ASGI plumbing under the SOAP dispatch: the ASGI types, what the server accepts
(:class:`ServerLimits`), reading a request body within those limits, plain responses,
the lifespan scope and :class:`PathRouter` (several apps on one port)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..defaults import (
    DEFAULT_MAX_BODY,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    MAX_DEPTH,
)
from ..errors import ProtocolError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class ServerLimits:
    """What the server accepts (see the README's "What the server accepts")."""

    max_body: int = DEFAULT_MAX_BODY
    """Largest request body in bytes (HTTP 413 and a fault beyond it)."""
    read_timeout: float = DEFAULT_READ_TIMEOUT
    """Seconds a client gets to send its request line and headers (from connecting,
    enforced by ``serve``'s protocol), and again its whole body once the headers
    arrived; a client that stalls gets HTTP 408 and its connection is closed."""
    max_depth: int = MAX_DEPTH
    """Deepest XML element nesting accepted."""
    write_timeout: float = DEFAULT_WRITE_TIMEOUT
    """Seconds each write of a streamed (MTOM) response may wait for the client to
    read: a client that stops reading mid-image is treated as gone (the transfer is
    aborted, WS-Scan: the job ends Aborted, ImageTransferError), so it cannot hold the
    connection, the task and the image forever. ``serve`` also drops any connection
    whose writes stay blocked this long."""

    def __post_init__(self) -> None:
        if not self.write_timeout > 0:
            raise ValueError(
                f"write_timeout must be positive, not {self.write_timeout}"
            )


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Answer an ASGI lifespan scope: nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class BodyRefused(ProtocolError):
    """A request body refused by :func:`read_body`: the HTTP ``status`` to answer
    (413 too large, 408 too late) and why. The rest of the body was not read, so the
    connection cannot be reused."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_body(
    headers: Mapping[str, str], receive: Receive, limits: ServerLimits
) -> bytes | None:
    """A request's body, or None if the client disconnected first. A declared
    Content-Length over ``limits.max_body`` is refused before anything is read, a body
    growing beyond it as soon as it does (BodyRefused 413); a body not received within
    ``limits.read_timeout`` of the headers is refused too (BodyRefused 408): without
    the deadline a client sending part of a body would hold its socket and task
    forever."""
    too_large = BodyRefused(413, f"request body over {limits.max_body} bytes")
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limits.max_body:
        raise too_large
    body = bytearray()
    try:
        async with asyncio.timeout(limits.read_timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                body += message.get("body", b"")
                if len(body) > limits.max_body:
                    raise too_large
                if not message.get("more_body"):
                    return bytes(body)
    except TimeoutError:
        raise BodyRefused(
            408, f"request body not received within {limits.read_timeout:g} s"
        ) from None


def request_headers(scope: Scope) -> dict[str, str]:
    """An ASGI request's headers, names lower-cased (the last of repeated ones)."""
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope["headers"]
    }


async def respond(
    send: Send,
    status: int,
    content_type: str,
    body: bytes,
    extra: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def plain(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"text/plain"),
        (b"content-length", str(len(body)).encode()),
    ] + (extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class PathRouter:
    """Serve several ASGI apps on one port by path prefix (scan service, device metadata,
    event sinks); anything else is a 404."""

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        # Longest prefix first, so /WSDScanner/events wins over /WSDScanner.
        self.apps = sorted(apps.items(), key=lambda item: -len(item[0]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        path = scope.get("path", "")
        for prefix, app in self.apps:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                await app(scope, receive, send)
                return
        if scope["type"] == "http":
            await plain(send, 404, b"not found")

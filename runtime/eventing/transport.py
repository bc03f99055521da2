"""One-shot SOAP exchanges for WS-Eventing: requests to an event source (Subscribe,
Renew, GetStatus, Unsubscribe) and one-way messages to a sink (notifications,
SubscriptionEnd). Windows-like on send, lenient on receipt, as ``runtime.client``."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable
from typing import Final

import httpx
from lxml import etree

from ..errors import TransportError
from ..soap.envelope import ANONYMOUS, Envelope, build_envelope
from ..soap.faults import PROTOCOL_FAULTS, FaultRegistry
from ..transport.client import post_soap, read_soap_reply

# Replies to Subscribe/Renew/GetStatus/Unsubscribe are small.
MAX_REPLY: Final = 1024 * 1024


_SSL_CONTEXT: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    # Building one is slow (it loads the CA store): share it between clients.
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = ssl.create_default_context()
    return _SSL_CONTEXT


def _client(timeout: float, limits: httpx.Limits) -> httpx.AsyncClient:
    # TCP_NODELAY: a request goes out as two writes (headers, body); with Nagle's
    # algorithm the second waits for the peer's delayed ACK (~40 ms per message).
    transport = httpx.AsyncHTTPTransport(
        verify=_ssl_context(),
        limits=limits,
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout), limits=limits, transport=transport
    )


def sink_client(timeout: float) -> httpx.AsyncClient:
    """A small client for one event sink. httpcore's pool scans every connection for
    each request, so one pool for hundreds of sinks is quadratic: each sink gets its
    own (cheap: the SSL context is shared)."""
    return _client(
        timeout, httpx.Limits(max_connections=2, max_keepalive_connections=1)
    )


def unlimited_client(timeout: float) -> httpx.AsyncClient:
    """An httpx client with no connection-count limit: one slow peer must not hold a
    pool slot another peer waits for."""
    return _client(
        timeout, httpx.Limits(max_connections=None, max_keepalive_connections=512)
    )


async def request(
    client: httpx.AsyncClient,
    url: str,
    action: str,
    body: etree._Element | None,
    *,
    headers: Iterable[etree._Element] = (),
    faults: FaultRegistry = PROTOCOL_FAULTS,
) -> Envelope:
    """Send a request and return the reply envelope; a fault is raised as its
    ``SoapFault``, typed by ``faults``, whatever the HTTP status."""
    data = build_envelope(
        body, action=action, to=url, reply_to=ANONYMOUS, extra_headers=headers
    )
    name = action.rpartition("/")[2]
    status, content = await post_soap(client, url, data, name=name, max_reply=MAX_REPLY)
    return read_soap_reply(status, content, name=name, url=url, faults=faults)


def one_way(
    url: str,
    action: str,
    body: etree._Element,
    *,
    headers: Iterable[etree._Element] = (),
) -> bytes:
    """A one-way message (notification, SubscriptionEnd) to ``url`` as bytes."""
    return build_envelope(body, action=action, to=url, extra_headers=headers)


async def post_one_way(client: httpx.AsyncClient, url: str, data: bytes) -> None:
    """POST a one-way message; any HTTP status but 2xx is a failure (TransportError)."""
    status, _ = await post_soap(
        client, url, data, name="one-way message", max_reply=MAX_REPLY
    )
    if not 200 <= status < 300:
        raise TransportError(f"{url}: HTTP {status}", status=status)

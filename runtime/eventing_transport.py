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

from .client import DEFAULT_USER_AGENT
from .envelope import ANONYMOUS, Envelope, build_envelope, parse_envelope
from .errors import ProtocolError, TransportError
from .faults import fault_from_element
from .namespaces import SOAP11_ENV, SOAP_ENV

MAX_REPLY: Final = 1024 * 1024

SOAP_HEADERS: Final = {
    "Content-Type": "application/soap+xml",
    "User-Agent": DEFAULT_USER_AGENT,
    "Cache-Control": "no-cache",
    "Pragma": "no-cache",
}


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


def _check_url(url: str, name: str) -> None:
    """Refuse a URL httpx would choke on below its own error types: an out-of-range
    port reaches the socket layer and comes back as a bare ExceptionGroup
    (OverflowError), which callers catching TransportError would not see."""
    try:
        port = httpx.URL(url).port
    except httpx.InvalidURL as exc:
        raise TransportError(f"{name}: invalid URL {url!r}: {exc}") from exc
    if port is not None and not 0 < port < 65536:
        raise TransportError(f"{name}: invalid URL {url!r}: port {port}")


async def _post(
    client: httpx.AsyncClient, url: str, data: bytes, name: str
) -> httpx.Response:
    """POST ``data``; whatever goes wrong on the way is a TransportError."""
    _check_url(url, name)
    try:
        return await client.post(url, content=data, headers=SOAP_HEADERS)
    except httpx.TimeoutException as exc:
        raise TransportError(f"{name}: timed out talking to {url}") from exc
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        raise TransportError(f"{name}: {url}: {exc!r}") from exc


async def request(
    client: httpx.AsyncClient,
    url: str,
    action: str,
    body: etree._Element | None,
    *,
    headers: Iterable[etree._Element] = (),
) -> Envelope:
    """Send a request and return the reply envelope; a fault is raised as its typed
    ``SoapFault`` whatever the HTTP status."""
    data = build_envelope(
        body, action=action, to=url, reply_to=ANONYMOUS, extra_headers=headers
    )
    name = action.rpartition("/")[2]
    response = await _post(client, url, data, name)
    if len(response.content) > MAX_REPLY:
        raise ProtocolError(f"{name}: reply too large")
    try:
        envelope = parse_envelope(response.content) if response.content else None
    except ProtocolError:
        envelope = None
    if envelope is not None and envelope.body is not None:
        tag = etree.QName(envelope.body)
        if tag.localname == "Fault" and tag.namespace in (SOAP_ENV, SOAP11_ENV):
            raise fault_from_element(envelope.body)
    if response.status_code >= 300:
        raise TransportError(
            f"{name}: HTTP {response.status_code} from {url}",
            status=response.status_code,
        )
    if envelope is None:
        raise ProtocolError(f"{name}: the reply is not a SOAP envelope")
    return envelope


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
    response = await _post(client, url, data, "one-way message")
    if not 200 <= response.status_code < 300:
        raise TransportError(
            f"{url}: HTTP {response.status_code}", status=response.status_code
        )

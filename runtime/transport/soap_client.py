"""The runtime's one request path: SOAP 1.2 over HTTP with httpx.

:func:`http_client` is the one httpx set-up: the buffered network layer of
:mod:`.netstream`, which hands h11 only a response's head so that an MTOM body can be
read where it lands; no proxies from the environment (scanners are on the local
network). :class:`SoapClient` sends a message Windows-like (device-quirks.md #11-13:
``Content-Type: application/soap+xml``, the ``User-Agent`` WSDAPI, no-cache headers)
and reads the reply once (:class:`SoapResponse`): its Content-Type is parsed once, a
multipart reply is read by its root part (quirk #31), a fault is raised typed by the
caller's registry whatever the HTTP status (quirk #7: faults with HTTP 200), once; any
other non-2xx answer is a TransportError. The client stubs (through
:class:`.client.HttpTransport`), WS-Eventing, WS-Transfer Get and directed probes all
send through it. Every httpx failure becomes a typed error: TransportError up to the
end of the SOAP part, TruncatedAttachmentError once attachment parts are read.

The ``wsdscan.wire`` logger tells what goes over the wire (nothing is printed; an
application or ``wsdscan -v`` configures it): INFO one line per exchange (its name,
URL, HTTP status, time to the response head), DEBUG also every envelope sent and
received (a reply's SOAP part, never an image) with token values masked
(:func:`mask_secrets`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Final

import httpx
from lxml import etree

from ..defaults import HTTP_CONNECT_TIMEOUT, HTTP_TIMEOUT
from ..errors import ProtocolError, TransportError, TruncatedAttachmentError
from ..mtom.mime import parse_content_type
from ..mtom.reader import MAX_ROOT_PART, MultipartReader, read_all
from ..mtom.xop import detach_includes
from ..soap.envelope import ANONYMOUS, Envelope, build_envelope, parse_envelope
from ..soap.fault_registry import PROTOCOL_FAULTS, FaultRegistry
from ..xmlbind.namespaces import SOAP11_ENV, SOAP_ENV
from .netstream import DEFAULT_LIMITS, BufferedHTTPTransport, buffered_body

DEFAULT_USER_AGENT: Final = "WSDAPI"
MAX_SOAP_RESPONSE: Final = 16 * 1024 * 1024
"""Largest plain SOAP reply read (it is XML, not an image)."""
WIRE_LOG: Final = logging.getLogger("wsdscan.wire")
# The text of a JobToken or DestinationToken element, whatever its prefix: a token is
# the key to a job's images (or to the scans sent to a destination).
_SECRET_TEXT: Final = re.compile(
    rb"(<(?:[\w.-]+:)?(?:JobToken|DestinationToken)\b[^>]*(?<!/)>)[^<]*"
)
UNLIMITED: Final = httpx.Limits(max_connections=None, max_keepalive_connections=512)
"""Connection limits of a client that talks to many peers at once (an event source's
SubscriptionEnds, a receiver's subscriptions): one slow peer must not hold a pool slot
another peer waits for."""


def mask_secrets(xml: bytes) -> str:
    """``xml`` as text for a log, with JobToken and DestinationToken values masked."""
    return _SECRET_TEXT.sub(rb"\1***", xml).decode("utf-8", "replace")


def _log_envelope(what: str, name: str, data: bytes) -> None:
    if WIRE_LOG.isEnabledFor(logging.DEBUG):
        WIRE_LOG.debug("%s %s: %s", name, what, mask_secrets(data))


def http_client(
    timeout: float | httpx.Timeout | None = None,
    *,
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> httpx.AsyncClient:
    """The runtime's httpx client: over :class:`.netstream.BufferedHTTPTransport`
    (asyncio's TCP connections have TCP_NODELAY: a request's two writes do not wait
    for the peer's delayed ACK). ``timeout`` in seconds or as an ``httpx.Timeout``;
    by default ``defaults.HTTP_TIMEOUT``, connecting within
    ``defaults.HTTP_CONNECT_TIMEOUT``."""
    if timeout is None:
        timeout = httpx.Timeout(HTTP_TIMEOUT, connect=HTTP_CONNECT_TIMEOUT)
    return httpx.AsyncClient(
        timeout=timeout, transport=BufferedHTTPTransport(limits=limits)
    )


def soap_headers(user_agent: str = DEFAULT_USER_AGENT) -> dict[str, str]:
    """HTTP headers of a SOAP request, as Windows sends them (device-quirks.md #12:
    Panasonic KV-S1058Y needs User-Agent WSDAPI and no-cache; sane-airscan a4212da)."""
    return {
        "Content-Type": "application/soap+xml",
        "User-Agent": user_agent,
        "Cache-Control": "no-cache",
        "Pragma": "no-cache",
    }


def check_url(url: str, name: str) -> None:
    """Refuse a URL httpx would choke on below its own error types: an out-of-range
    port reaches the socket layer and comes back as a bare ExceptionGroup
    (OverflowError), which callers catching TransportError would not see."""
    try:
        port = httpx.URL(url).port
    except httpx.InvalidURL as exc:
        raise TransportError(f"{name}: invalid URL {url!r}: {exc}") from exc
    if port is not None and not 0 < port < 65536:
        raise TransportError(f"{name}: invalid URL {url!r}: port {port}")


@contextlib.contextmanager
def translated(name: str, url: str, *, attachment: bool = False) -> Iterator[None]:
    """httpx errors while sending a request or reading its response, as the runtime's
    typed errors: a failed exchange (TransportError, "timed out" for a timeout) before
    the attachment, a TruncatedAttachmentError in it."""
    try:
        yield
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        if attachment:
            raise TruncatedAttachmentError(
                f"{name}: attachment transfer failed: {exc!r}"
            ) from exc
        if isinstance(exc, httpx.TimeoutException):
            raise TransportError(f"{name}: timed out talking to {url}") from exc
        raise TransportError(
            f"{name}: the exchange with {url} failed: {exc!r}"
        ) from exc


def raise_if_fault(envelope: Envelope, faults: FaultRegistry = PROTOCOL_FAULTS) -> None:
    """Raise the ``SoapFault`` an envelope carries (SOAP 1.2 or 1.1), if any, typed by
    ``faults`` (the stubs pass theirs, which knows the service's faults)."""
    body = envelope.body
    if body is not None and etree.QName(body).localname == "Fault":
        if etree.QName(body).namespace in (SOAP_ENV, SOAP11_ENV):
            raise faults.from_element(body)


@dataclass
class SoapResponse:
    """A reply whose head has arrived, its Content-Type parsed; the body is unread."""

    http: httpx.Response
    media: str
    params: Mapping[str, str]
    name: str
    url: str

    @property
    def status(self) -> int:
        return self.http.status_code

    @property
    def multipart(self) -> bool:
        return self.media.startswith("multipart/")

    async def read_body(self, limit: int) -> bytes:
        """The whole body (at most ``limit`` bytes: ProtocolError beyond); the response
        is closed afterwards."""
        data = bytearray()
        try:
            with translated(self.name, self.url):
                async for chunk in self.http.aiter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise ProtocolError(
                            f"{self.name}: the reply from {self.url} is too large"
                        )
        finally:
            await self.http.aclose()
        reply = bytes(data)
        _log_envelope("reply", self.name, reply)
        return reply

    async def open_multipart(self) -> tuple[Envelope, MultipartReader]:
        """The SOAP part of a multipart reply, parsed, and the reader positioned at
        the next part. Through :class:`.netstream.BufferedHTTPTransport` the body is
        read where it lands; through any other httpx transport (a client the caller
        passed) chunk by chunk."""
        with translated(self.name, self.url):
            window = buffered_body(self.http)
            reader = MultipartReader(
                self.http.aiter_raw() if window is None else window,
                self.params.get("boundary", ""),
            )
            root = await reader.next_part()
            if root is None:
                raise ProtocolError(f"{self.name}: empty multipart response")
            soap = await read_all(root.body, MAX_ROOT_PART)
        _log_envelope("reply", self.name, soap)
        return parse_envelope(soap), reader

    def check(self, envelope: Envelope, faults: FaultRegistry) -> None:
        """The reply's fault, raised typed by ``faults`` whatever the HTTP status;
        else a non-2xx status is a TransportError."""
        raise_if_fault(envelope, faults)
        if self.status >= 300:
            raise TransportError(
                f"{self.name}: HTTP {self.status} from {self.url} without a SOAP fault",
                status=self.status,
            )

    async def envelope(
        self, faults: FaultRegistry = PROTOCOL_FAULTS, limit: int = MAX_SOAP_RESPONSE
    ) -> Envelope:
        """The whole reply as a checked envelope (a multipart one by its root part,
        its Includes detached); the response is closed afterwards."""
        if self.multipart:
            try:
                envelope, _ = await self.open_multipart()
            finally:
                await self.http.aclose()
            if envelope.body is not None:
                detach_includes(envelope.body)
        else:
            data = await self.read_body(limit)
            try:
                envelope = parse_envelope(data)
            except ProtocolError as exc:
                if self.status >= 300:
                    raise TransportError(
                        f"{self.name}: HTTP {self.status} from {self.url}",
                        status=self.status,
                    ) from None
                # Said to the user: a web page here means a wrong URL, not a broken
                # device.
                exc.content_type = self.http.headers.get("content-type")
                raise
        self.check(envelope, faults)
        return envelope

    async def aclose(self) -> None:
        await self.http.aclose()


class SoapClient:
    """Sends SOAP messages over one httpx client (its own from :func:`http_client`,
    or ``client``, which it then leaves open)."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.user_agent = user_agent
        self._owns_client = client is None
        self.http = client or http_client(timeout, limits=limits)

    async def open(self, url: str, data: bytes, *, name: str) -> SoapResponse:
        """POST ``data``; the reply once its head arrived (``name`` says which
        exchange in errors)."""
        check_url(url, name)
        _log_envelope("request", name, data)
        request = self.http.build_request(
            "POST", url, content=data, headers=soap_headers(self.user_agent)
        )
        started = time.monotonic()
        try:
            with translated(name, url):
                response = await self.http.send(request, stream=True)
        except TransportError as exc:
            WIRE_LOG.info("%s %s: failed (%s)", name, url, exc.__cause__)
            raise
        WIRE_LOG.info(
            "%s %s: HTTP %d in %.0f ms",
            name,
            url,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        media, params = parse_content_type(response.headers.get("content-type", ""))
        return SoapResponse(response, media, params, name, url)

    async def post(
        self,
        url: str,
        data: bytes,
        *,
        name: str,
        faults: FaultRegistry = PROTOCOL_FAULTS,
        limit: int = MAX_SOAP_RESPONSE,
    ) -> Envelope:
        """POST a whole envelope; the reply's envelope, checked."""
        response = await self.open(url, data, name=name)
        return await response.envelope(faults, limit)

    async def request(
        self,
        url: str,
        action: str,
        body: etree._Element | None,
        *,
        headers: Iterable[etree._Element] = (),
        faults: FaultRegistry = PROTOCOL_FAULTS,
        limit: int = MAX_SOAP_RESPONSE,
    ) -> Envelope:
        """Send ``body`` with ``action`` to ``url`` (reply to the anonymous address)
        and return the reply's envelope, checked."""
        data = build_envelope(
            body, action=action, to=url, reply_to=ANONYMOUS, extra_headers=headers
        )
        return await self.post(
            url, data, name=action.rpartition("/")[2], faults=faults, limit=limit
        )

    async def post_one_way(
        self, url: str, data: bytes, *, limit: int = MAX_SOAP_RESPONSE
    ) -> None:
        """POST a one-way message (a notification, SubscriptionEnd); any status but
        2xx is a TransportError."""
        response = await self.open(url, data, name="one-way message")
        await response.read_body(limit)
        if not 200 <= response.status < 300:
            raise TransportError(
                f"{url}: HTTP {response.status}", status=response.status
            )

    async def aclose(self) -> None:
        if self._owns_client:
            await self.http.aclose()

    async def __aenter__(self) -> SoapClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

"""The client transport the generated stubs send through: :class:`HttpTransport`.

One method per kind of operation (``ClientTransport``): ``invoke`` binds the reply's
body to the route's response dataclass; ``invoke_with_attachment`` binds the SOAP part
of an MTOM reply and hands the image over as a stream (:mod:`.attachment`). Sending and
reading go through :class:`.soap_client.SoapClient`, the runtime's one request path;
faults are typed by the route's registry (the stubs' ``FAULTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from lxml import etree

from ..contract import Route
from ..errors import ProtocolError
from ..mtom.xop import detach_includes, find_attachment
from ..soap.envelope import ANONYMOUS, Envelope, build_envelope
from ..xmlbind.binding import bind, to_element
from .attachment import HttpAttachmentResponse
from .soap_client import DEFAULT_USER_AGENT, SoapClient, translated

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")


def _bind_response(envelope: Envelope, route: Route[Any, ResponseT]) -> ResponseT:
    if envelope.body is None:
        raise ProtocolError(f"{route.operation}: the response Body is empty")
    expected = route.response_type.__name__
    got = etree.QName(envelope.body).localname
    if got != expected:
        raise ProtocolError(
            f"{route.operation}: expected <{expected}> in the Body, got <{got}>"
        )
    return bind(envelope.body, route.response_type)


def _part_length(headers: Mapping[str, str]) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


class HttpTransport:
    """Sends SOAP 1.2 requests to one service URL over HTTP (async, connection reuse).

    Without ``client`` it makes its own (:func:`.soap_client.http_client`), which lets
    ``retrieve_image`` read the image where it lands (no proxies from the environment:
    scanners are local). With ``client`` (a proxy, custom limits, event hooks)
    everything goes through that client, attachment bodies through httpx's own
    reader. ``timeout`` is in seconds or an ``httpx.Timeout`` (default
    ``defaults.HTTP_TIMEOUT``, connecting within ``defaults.HTTP_CONNECT_TIMEOUT``)."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.url = url
        self.soap = SoapClient(client, timeout=timeout, user_agent=user_agent)

    @property
    def user_agent(self) -> str:
        return self.soap.user_agent

    def _request_bytes(self, route: Route[Any, Any], request: Any) -> bytes:
        return build_envelope(
            to_element(request), action=route.action, to=self.url, reply_to=ANONYMOUS
        )

    async def invoke(
        self, route: Route[RequestT, ResponseT], request: RequestT
    ) -> ResponseT:
        response = await self.soap.open(
            self.url, self._request_bytes(route, request), name=route.operation
        )
        # Some stacks answer MTOM to plain requests (device-quirks #31): the root part.
        envelope = await response.envelope(route.faults)
        return _bind_response(envelope, route)

    async def invoke_with_attachment(
        self, route: Route[RequestT, ResponseT], request: RequestT
    ) -> HttpAttachmentResponse[ResponseT]:
        response = await self.soap.open(
            self.url, self._request_bytes(route, request), name=route.operation
        )
        if not response.multipart:
            await response.envelope(route.faults)  # a fault or an HTTP error raises
            raise ProtocolError(
                f"{route.operation}: expected an MTOM (multipart) response"
            )
        try:
            envelope, reader = await response.open_multipart()
            response.check(envelope, route.faults)
            hrefs = detach_includes(envelope.body) if envelope.body is not None else []
            body = _bind_response(envelope, route)
            with translated(route.operation, self.url, attachment=True):
                part, chunks = await find_attachment(
                    reader, hrefs[0] if hrefs else None
                )
        except BaseException:
            await response.aclose()
            raise
        return HttpAttachmentResponse(
            body,
            part.content_type,
            chunks,
            response.http,
            reader,
            operation=route.operation,
            part_length=_part_length(part.headers),
        )

    async def aclose(self) -> None:
        await self.soap.aclose()

    async def __aenter__(self) -> HttpTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

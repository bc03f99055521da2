"""SOAP dispatch: :class:`SoapApp`, an ASGI app that hands each request to a service.

The service is an instance of a generated server base class (``ScannerServiceBase``
subclass): its ``routes`` map request Actions to methods. Dispatch is by ``wsa:Action``,
falling back to the Body element's name when a client sends no Action; raw handlers
take Actions outside the routes (WS-Eventing, the virtual scanner's button). Every
failure is answered with a SOAP 1.2 fault (HTTP 400 for Sender, 500 for Receiver;
413/408 for an oversized or late body) whose text never includes a traceback; the server
keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from lxml import etree

from ..contract import AttachmentReply, RequestContext, Route, SoapService
from ..defaults import MAX_DEPTH
from ..errors import ProtocolError, WsdScanError
from ..mtom.mime import content_id, parse_content_type
from ..mtom.reader import MultipartReader, read_all
from ..mtom.xop import inline_includes
from ..soap.envelope import Envelope, parse_envelope
from ..soap.faults import ActionNotSupported, ServerFault, SoapFault, invalid_args
from ..xmlbind.binding import XmlInputError, bind, to_element
from .asgi import (
    BodyRefused,
    Receive,
    Scope,
    Send,
    ServerLimits,
    plain,
    read_body,
    request_headers,
    serve_lifespan,
)
from .attachment_reply import send_attachment_reply
from .replies import send_envelope, send_fault

log = logging.getLogger("wsdscan.server")

_SOAP_PART_MEDIA: Final = frozenset(
    {"application/xop+xml", "application/soap+xml", "text/xml", "application/xml"}
)
_ACCEPTED_MEDIA: Final = frozenset(
    {"application/soap+xml", "text/xml", "application/xml", "multipart/related"}
)


@dataclass
class SoapReply:
    """What a raw action handler answers: a Body element (or none), its Action and any
    extra header blocks (e.g. WS-Eventing reference parameters)."""

    body: etree._Element | None
    action: str
    headers: Sequence[etree._Element] = ()


RawHandler = Callable[[Envelope, RequestContext], Awaitable[SoapReply]]
"""Handles one Action on the service's endpoint outside the generated routes (WS-Eventing
Subscribe/Renew/..., WS-Transfer Get): it gets the parsed envelope (Body not yet bound)."""


class RequestRejected(WsdScanError):
    """Internal: answer with this fault (and HTTP status) instead of dispatching."""

    def __init__(
        self,
        fault: SoapFault,
        relates_to: str | None = None,
        *,
        status: int | None = None,
        close: bool = False,
    ) -> None:
        super().__init__(fault.reason)
        self.fault = fault
        self.relates_to = relates_to
        self.status = status
        """HTTP status instead of the fault's own (413, 408)."""
        self.close = close
        """Close the connection after the answer (the request was not read whole)."""


class SoapApp:
    """ASGI app serving one SOAP service at ``path``."""

    def __init__(
        self,
        service: SoapService,
        *,
        path: str = "/WSDScanner",
        limits: ServerLimits | None = None,
        handlers: Mapping[str, RawHandler] | None = None,
    ) -> None:
        routes = service.routes
        self.service = service
        self.path = path
        self.limits = limits or ServerLimits()
        self.routes = dict(routes)
        self.handlers: dict[str, RawHandler] = dict(handlers or {})
        self._by_body = {
            route.request_type.__name__: route for route in routes.values()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"].rstrip("/") != self.path.rstrip("/"):
            await plain(send, 404, b"not found")
            return
        if scope["method"] != "POST":
            await plain(
                send,
                405,
                b"WS-Scan endpoint: POST SOAP 1.2 here",
                [(b"allow", b"POST")],
            )
            return
        relates_to = None
        try:
            headers = request_headers(scope)
            media, params = parse_content_type(headers.get("content-type", ""))
            if media not in _ACCEPTED_MEDIA:
                raise RequestRejected(
                    invalid_args(f"unsupported Content-Type {media or '(none)'}"),
                    close=True,
                )
            try:
                data = await read_body(headers, receive, self.limits)
            except BodyRefused as refused:
                raise RequestRejected(
                    invalid_args(refused.message), status=refused.status, close=True
                ) from None
            if data is None:
                raise RequestRejected(invalid_args("client disconnected"), close=True)
            envelope = (
                await _multipart_envelope(data, params, self.limits)
                if media == "multipart/related"
                else _parse(data, self.limits.max_depth)
            )
            relates_to = envelope.addressing.message_id
            context = RequestContext(
                action=envelope.addressing.action or "",
                message_id=envelope.addressing.message_id,
                to=envelope.addressing.to,
                reply_to=envelope.addressing.reply_to,
                client=tuple(scope["client"]) if scope.get("client") else None,
                headers=headers,
            )
            handler = self.handlers.get(context.action)
            if handler is not None:
                reply = await handler(envelope, context)
                await send_envelope(
                    send,
                    reply.body,
                    action=reply.action,
                    relates_to=relates_to,
                    headers=reply.headers,
                )
                return
            route = self._route(envelope)
            request = _bind_request(envelope, route)
            context = replace(context, action=route.action)
            result = await getattr(self.service, route.method)(request, context)
        except RequestRejected as rejected:
            await send_fault(
                send,
                rejected.fault,
                rejected.relates_to or relates_to,
                status=rejected.status,
                close=rejected.close,
            )
            return
        except SoapFault as fault:
            await send_fault(send, fault, relates_to)
            return
        except Exception:
            log.exception("internal error while handling a request")
            await send_fault(send, ServerFault(), relates_to)
            return
        await self._reply(send, route, result, relates_to, receive)

    def _route(self, envelope: Envelope) -> Route[Any, Any]:
        action = envelope.addressing.action
        if action:
            route = self.routes.get(action)
            if route is None:
                raise RequestRejected(ActionNotSupported.for_action(action))
            return route
        if envelope.body is not None:
            route = self._by_body.get(etree.QName(envelope.body).localname)
            if route is not None:
                return route
        raise RequestRejected(
            ActionNotSupported("no wsa:Action and no known Body element")
        )

    async def _reply(
        self,
        send: Send,
        route: Route[Any, Any],
        result: Any,
        relates_to: str | None,
        receive: Receive | None = None,
    ) -> None:
        if isinstance(result, AttachmentReply):
            await send_attachment_reply(
                send,
                route,
                result,
                relates_to,
                receive,
                write_timeout=self.limits.write_timeout,
            )
            return
        if not isinstance(result, route.response_type):
            log.error(
                "%s returned %s, not %s",
                route.method,
                type(result).__name__,
                route.response_type.__name__,
            )
            await send_fault(send, ServerFault(), relates_to)
            return
        await send_envelope(
            send,
            to_element(result),
            action=route.response_action,
            relates_to=relates_to,
        )


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _multipart_envelope(
    data: bytes, params: Mapping[str, str], limits: ServerLimits
) -> Envelope:
    """The SOAP envelope of a multipart/related (MTOM/XOP) request, every
    ``xop:Include`` in its body replaced (in place) by the base64 of the part it names. No WS-Scan request
    carries an attachment, but a client may still send MTOM; a bad boundary, a missing
    root part or an Include naming a missing part is refused."""
    boundary = params.get("boundary", "")
    if not boundary:
        raise RequestRejected(
            invalid_args("multipart/related request without a boundary")
        )
    start = content_id(params["start"]) if params.get("start") else None
    root: bytes | None = None
    parts: dict[str, bytes] = {}
    try:
        reader = MultipartReader(_once(data), boundary)
        while (part := await reader.next_part()) is not None:
            body = await read_all(part.body, limits.max_body)
            cid = part.content_id
            if root is None and (start is None or cid == start):
                media, _ = parse_content_type(part.content_type)
                if media not in _SOAP_PART_MEDIA:
                    raise RequestRejected(
                        invalid_args(f"MTOM root part of type {media}, not XML")
                    )
                root = body
            elif cid is not None:
                parts[cid] = body
    except (ProtocolError, UnicodeError) as exc:
        raise RequestRejected(invalid_args(f"malformed MTOM request: {exc}")) from exc
    if root is None:
        wanted = f"<{start}>" if start else "a SOAP part"
        raise RequestRejected(
            invalid_args(f"MTOM request without its root part {wanted}")
        )
    envelope = _parse(root, limits.max_depth)
    if envelope.body is None:
        return envelope
    soap_body = envelope.body.getparent()
    assert soap_body is not None  # read_envelope took it from the Body element
    missing = inline_includes(soap_body, parts)
    if missing is not None:
        raise RequestRejected(
            invalid_args(
                f"xop:Include refers to cid:{missing}, not a part of the request"
            )
        )
    if envelope.body.getparent() is None:
        # The Body's element was itself an Include: now text, the next one counts.
        elements = [child for child in soap_body if isinstance(child.tag, str)]
        envelope.body = elements[0] if elements else None
    return envelope


def _parse(data: bytes, max_depth: int = MAX_DEPTH) -> Envelope:
    try:
        return parse_envelope(data, max_depth=max_depth)
    except SoapFault:
        raise
    except (XmlInputError, ProtocolError) as exc:
        raise RequestRejected(invalid_args(str(exc))) from exc


def _bind_request(envelope: Envelope, route: Route[Any, Any]) -> Any:
    body = envelope.body
    expected = route.request_type.__name__
    if body is None or etree.QName(body).localname != expected:
        got = etree.QName(body).localname if body is not None else "nothing"
        raise RequestRejected(
            invalid_args(f"{route.action} needs <{expected}> in the Body, got <{got}>")
        )
    try:
        return bind(body, route.request_type)
    except XmlInputError as exc:
        raise RequestRejected(invalid_args(str(exc))) from exc

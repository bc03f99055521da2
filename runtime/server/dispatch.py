"""The server side: an ASGI application that dispatches SOAP requests to a service.

The service is an instance of a generated server base class (``ScannerServiceBase``
subclass): its ``routes`` map request Actions to methods. Dispatch is by ``wsa:Action``,
falling back to the Body element's name when a client sends no Action. Every failure is
answered with a SOAP 1.2 fault (HTTP 400 for Sender, 500 for Receiver; 413/408 for an
oversized or late body) whose text never
includes a traceback; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass, replace
from typing import Any, Final

from lxml import etree

from ..contract import AttachmentReply, RequestContext, Route
from ..defaults import (
    DEFAULT_MAX_BODY,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    MAX_DEPTH,
)
from ..errors import ProtocolError, TransportError, WsdScanError
from ..mtom import multipart as mtom
from ..soap.envelope import ANONYMOUS, Envelope, build_envelope, parse_envelope
from ..soap.fault_codec import WSA_FAULT_ACTION, fault_to_element
from ..soap.faults import ActionNotSupported, ServerFault, SoapFault, invalid_args
from ..xmlbind.binding import XmlInputError, bind, to_element
from ..xmlbind.namespaces import XOP

log = logging.getLogger("wsdscan.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SOAP_CONTENT_TYPE: Final = "application/soap+xml; charset=utf-8"
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


class SoapApp:
    """ASGI app serving one SOAP service at ``path``."""

    def __init__(
        self,
        service: Any,
        *,
        path: str = "/WSDScanner",
        limits: ServerLimits | None = None,
        handlers: Mapping[str, RawHandler] | None = None,
    ) -> None:
        routes: Mapping[str, Route[Any, Any]] = service.routes
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
            await _plain(send, 404, b"not found")
            return
        if scope["method"] != "POST":
            await _plain(
                send,
                405,
                b"WS-Scan endpoint: POST SOAP 1.2 here",
                [(b"allow", b"POST")],
            )
            return
        relates_to = None
        try:
            headers = request_headers(scope)
            media, params = mtom.parse_content_type(headers.get("content-type", ""))
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
                data = build_envelope(
                    reply.body,
                    action=reply.action,
                    to=ANONYMOUS,
                    relates_to=relates_to or "",
                    extra_headers=reply.headers,
                )
                await _respond(send, 200, SOAP_CONTENT_TYPE, data)
                return
            route = self._route(envelope)
            request = _bind_request(envelope, route)
            context = replace(context, action=route.action)
            result = await getattr(self.service, route.method)(request, context)
        except RequestRejected as rejected:
            await _fault(
                send,
                rejected.fault,
                rejected.relates_to or relates_to,
                status=rejected.status,
                close=rejected.close,
            )
            return
        except SoapFault as fault:
            await _fault(send, fault, relates_to)
            return
        except Exception:
            log.exception("internal error while handling a request")
            await _fault(send, ServerFault(), relates_to)
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
            await self._reply_mtom(send, route, result, relates_to, receive)
            return
        if not isinstance(result, route.response_type):
            log.error(
                "%s returned %s, not %s",
                route.method,
                type(result).__name__,
                route.response_type.__name__,
            )
            await _fault(send, ServerFault(), relates_to)
            return
        body = build_envelope(
            to_element(result),
            action=route.response_action,
            to=ANONYMOUS,
            relates_to=relates_to or "",
        )
        await _respond(send, 200, SOAP_CONTENT_TYPE, body)

    async def _reply_mtom(
        self,
        send: Send,
        route: Route[Any, Any],
        reply: AttachmentReply[Any],
        relates_to: str | None,
        receive: Receive | None = None,
    ) -> None:
        """Stream ``reply``; then exactly one of its ``on_complete``/``on_abort``."""
        try:
            whole = await self._send_mtom(send, route, reply, relates_to, receive)
        except BaseException:
            # Cancelled (the server's graceful shutdown ran out) or a failing fault
            # reply: the image did not arrive either way.
            await _abort(route, reply)
            raise
        if whole:
            await _complete(route, reply)
        else:
            await _abort(route, reply)

    async def _send_mtom(
        self,
        send: Send,
        route: Route[Any, Any],
        reply: AttachmentReply[Any],
        relates_to: str | None,
        receive: Receive | None,
    ) -> bool:
        """Send the MTOM response; False when it (or its fault) did not go out whole."""
        frame = mtom.MtomEnvelope.new()
        try:
            soap_xml = _xop_envelope(route, reply, frame, relates_to)
            size = mtom.attachment_size(reply.content, reply.size)
            length = mtom.mtom_length(frame, soap_xml, reply.content_type, size)
            # Opened before the response starts: a missing file or a source that
            # fails at once still gets a SOAP fault rather than a truncated 200.
            chunks = await mtom.open_mtom_stream(
                frame, soap_xml, reply.content, reply.content_type
            )
        except Exception:
            # The traceback goes to the log only; the fault text is fixed. The caller
            # then aborts: the service handed out the job's image, let it end the job
            # (the virtual scanner aborts it) instead of leaking it.
            log.exception("%s: the attachment reply cannot be sent", route.method)
            await _fault(send, ServerFault(), relates_to)
            return False
        headers = [(b"content-type", frame.content_type.encode())]
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        write_timeout = self.limits.write_timeout

        async def send_in_time(message: Message) -> None:
            # uvicorn's send() waits while the socket's buffers are full: a client that
            # reads nothing would block it forever.
            try:
                async with asyncio.timeout(write_timeout):
                    await send(message)
            except TimeoutError:
                raise ClientDisconnected(
                    f"client read nothing for {write_timeout:g} s"
                ) from None

        # The request body was read whole, so the next ASGI receive() is the client's
        # http.disconnect: watch for it while streaming (uvicorn's send() then just
        # drops the data instead of failing).
        gone = asyncio.ensure_future(_disconnect(receive)) if receive else None
        try:
            await send_in_time(
                {"type": "http.response.start", "status": 200, "headers": headers}
            )
            async for chunk in chunks:
                # Checked before each chunk, never after the last one: a client that
                # left before the last chunk was handed over cannot have the image,
                # while one that read it all may close at once (sane-airscan does).
                if gone is not None and gone.done():
                    raise ClientDisconnected("client went away mid-transfer")
                await send_in_time(
                    {"type": "http.response.body", "body": chunk, "more_body": True}
                )
                # Yield once a chunk: after a failed socket write uvicorn's send()
                # returns at once without waiting on the loop, so an in-memory source
                # would be "sent" to the end before the disconnect could be noticed.
                await asyncio.sleep(0)
            await send_in_time(
                {"type": "http.response.body", "body": b"", "more_body": False}
            )
        except Exception as exc:
            # The response has started: all we can do is stop (the server closes the
            # connection, so the client sees a truncated body) and tell the service.
            log.warning("%s: attachment transfer failed: %s", route.method, exc)
            return False
        finally:
            if gone is not None:
                gone.cancel()
            await chunks.aclose()
        return True


def _xop_envelope(
    route: Route[Any, Any],
    reply: AttachmentReply[Any],
    frame: mtom.MtomEnvelope,
    relates_to: str | None,
) -> bytes:
    """The SOAP part of an MTOM reply: the attachment element's base64 content is
    replaced by an xop:Include of the attachment part."""
    body_element = to_element(reply.body)
    carriers = list(body_element.iter(route.attachment_element or ""))
    if len(carriers) != 1:
        raise ValueError(
            f"{route.method}: expected one <{route.attachment_element}> in the reply,"
            f" found {len(carriers)}"
        )
    carriers[0].text = None
    etree.SubElement(
        carriers[0], f"{{{XOP}}}Include", href=f"cid:{frame.attachment_id}"
    )
    return build_envelope(
        body_element,
        action=route.response_action,
        to=ANONYMOUS,
        relates_to=relates_to or "",
    )


async def _abort(route: Route[Any, Any], reply: AttachmentReply[Any]) -> None:
    """Tell the service its attachment did not reach the client. A failing callback is
    logged, not raised: the response is already decided."""
    if reply.on_abort is None:
        return
    try:
        await reply.on_abort()
    except Exception:
        log.exception("%s: on_abort failed", route.method)


async def _complete(route: Route[Any, Any], reply: AttachmentReply[Any]) -> None:
    """Tell the service its attachment went out whole (failures logged, not raised)."""
    if reply.on_complete is None:
        return
    try:
        await reply.on_complete()
    except Exception:
        log.exception("%s: on_complete failed", route.method)


class ClientDisconnected(TransportError):
    """Internal: the client closed the connection while a response was streaming, or
    stopped reading it for longer than the write timeout."""


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def request_headers(scope: Scope) -> dict[str, str]:
    """An ASGI request's headers, names lower-cased (the last of repeated ones)."""
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope["headers"]
    }


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
    start = mtom.content_id(params["start"]) if params.get("start") else None
    root: bytes | None = None
    parts: dict[str, bytes] = {}
    try:
        reader = mtom.MultipartReader(_once(data), boundary)
        while (part := await reader.next_part()) is not None:
            body = await mtom.read_all(part.body, limits.max_body)
            cid = part.content_id
            if root is None and (start is None or cid == start):
                media, _ = mtom.parse_content_type(part.content_type)
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
    for include in list(soap_body.iter(mtom.XOP_INCLUDE)):
        href = mtom.cid_href(include.get("href", ""))
        if href not in parts:
            raise RequestRejected(
                invalid_args(
                    f"xop:Include refers to cid:{href}, not a part of the request"
                )
            )
        parent = include.getparent()
        if parent is not None:
            parent.remove(include)
            parent.text = base64.b64encode(parts[href]).decode("ascii")
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


async def _fault(
    send: Send,
    fault: SoapFault,
    relates_to: str | None,
    *,
    status: int | None = None,
    close: bool = False,
) -> None:
    body = build_envelope(
        fault_to_element(fault),
        action=WSA_FAULT_ACTION,
        to=ANONYMOUS,
        relates_to=relates_to or "",
    )
    extra = [(b"connection", b"close")] if close else []
    await _respond(send, status or fault.http_status, SOAP_CONTENT_TYPE, body, extra)


async def _respond(
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


async def _plain(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"text/plain"),
        (b"content-length", str(len(body)).encode()),
    ] + (extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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
            await _plain(send, 404, b"not found")

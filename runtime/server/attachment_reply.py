"""Streaming an MTOM reply: the SOAP part with an ``xop:Include`` of the attachment,
then the attachment itself, with backpressure and a write deadline; the service hears
exactly once whether the image went out whole (``on_complete``) or not (``on_abort``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..contract import AttachmentReply, Route
from ..errors import TransportError
from ..mtom.writer import MtomEnvelope, attachment_size, mtom_length, open_mtom_stream
from ..mtom.xop import include_attachment
from ..soap.envelope import ANONYMOUS, build_envelope
from ..soap.faults import ServerFault
from ..xmlbind.binding import to_element
from .asgi import Message, Receive, Send
from .replies import send_fault

log = logging.getLogger("wsdscan.server")


class ClientDisconnected(TransportError):
    """Internal: the client closed the connection while a response was streaming, or
    stopped reading it for longer than the write timeout."""


async def send_attachment_reply(
    send: Send,
    route: Route[Any, Any],
    reply: AttachmentReply[Any],
    relates_to: str | None,
    receive: Receive | None,
    *,
    write_timeout: float,
) -> None:
    """Stream ``reply``; then exactly one of its ``on_complete``/``on_abort``."""
    try:
        whole = await _send_mtom(send, route, reply, relates_to, receive, write_timeout)
    except BaseException:
        # Cancelled (the server's graceful shutdown ran out) or a failing fault
        # reply: the image did not arrive either way.
        await _abort(route, reply)
        raise
    if whole:
        await _complete(route, reply)
    else:
        await _abort(route, reply)


def _soap_part(
    route: Route[Any, Any],
    reply: AttachmentReply[Any],
    frame: MtomEnvelope,
    relates_to: str | None,
) -> bytes:
    """The SOAP part of an MTOM reply: the attachment element's base64 content is
    replaced by an xop:Include of the attachment part."""
    body = to_element(reply.body)
    try:
        include_attachment(body, route.attachment_element or "", frame.attachment_id)
    except ValueError as exc:
        raise ValueError(f"{route.method}: {exc}") from None
    return build_envelope(
        body,
        action=route.response_action,
        to=ANONYMOUS,
        relates_to=relates_to or "",
    )


async def _send_mtom(
    send: Send,
    route: Route[Any, Any],
    reply: AttachmentReply[Any],
    relates_to: str | None,
    receive: Receive | None,
    write_timeout: float,
) -> bool:
    """Send the MTOM response; False when it (or its fault) did not go out whole."""
    frame = MtomEnvelope.new()
    try:
        soap_xml = _soap_part(route, reply, frame, relates_to)
        size = attachment_size(reply.content, reply.size)
        length = mtom_length(frame, soap_xml, reply.content_type, size)
        # Opened before the response starts: a missing file or a source that fails
        # at once still gets a SOAP fault rather than a truncated 200.
        chunks = await open_mtom_stream(
            frame, soap_xml, reply.content, reply.content_type
        )
    except Exception:
        # The traceback goes to the log only; the fault text is fixed. The caller then
        # aborts: the service handed out the job's image, let it end the job (the
        # virtual scanner aborts it) instead of leaking it.
        log.exception("%s: the attachment reply cannot be sent", route.method)
        await send_fault(send, ServerFault(), relates_to)
        return False
    headers = [(b"content-type", frame.content_type.encode())]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))

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
    # http.disconnect: watch for it while streaming (uvicorn's send() then just drops
    # the data instead of failing).
    gone = asyncio.ensure_future(_disconnect(receive)) if receive else None
    try:
        await send_in_time(
            {"type": "http.response.start", "status": 200, "headers": headers}
        )
        async for chunk in chunks:
            # Checked before each chunk, never after the last one: a client that left
            # before the last chunk was handed over cannot have the image, while one
            # that read it all may close at once (sane-airscan does).
            if gone is not None and gone.done():
                raise ClientDisconnected("client went away mid-transfer")
            await send_in_time(
                {"type": "http.response.body", "body": chunk, "more_body": True}
            )
            # Yield once a chunk: after a failed socket write uvicorn's send() returns
            # at once without waiting on the loop, so an in-memory source would be
            # "sent" to the end before the disconnect could be noticed.
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


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass

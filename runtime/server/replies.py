"""SOAP responses over ASGI: an envelope, or a fault with its HTTP status."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lxml import etree

from ..soap.envelope import ANONYMOUS, build_envelope
from ..soap.fault_codec import WSA_FAULT_ACTION, fault_to_element
from ..soap.faults import SoapFault
from .asgi import Send, respond

SOAP_CONTENT_TYPE: Final = "application/soap+xml; charset=utf-8"


async def send_envelope(
    send: Send,
    body: etree._Element | None,
    *,
    action: str,
    relates_to: str | None,
    headers: Iterable[etree._Element] = (),
) -> None:
    """Answer 200 with ``body`` in an envelope addressed to the anonymous reply."""
    data = build_envelope(
        body,
        action=action,
        to=ANONYMOUS,
        relates_to=relates_to or "",
        extra_headers=headers,
    )
    await respond(send, 200, SOAP_CONTENT_TYPE, data)


async def send_fault(
    send: Send,
    fault: SoapFault,
    relates_to: str | None,
    *,
    status: int | None = None,
    close: bool = False,
) -> None:
    """Answer ``fault`` (HTTP 400 for Sender, 500 for Receiver, or ``status``);
    ``close`` ends the connection after it (the request was not read whole)."""
    body = build_envelope(
        fault_to_element(fault),
        action=WSA_FAULT_ACTION,
        to=ANONYMOUS,
        relates_to=relates_to or "",
    )
    extra = [(b"connection", b"close")] if close else []
    await respond(send, status or fault.http_status, SOAP_CONTENT_TYPE, body, extra)

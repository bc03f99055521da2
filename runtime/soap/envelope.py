"""SOAP envelopes with WS-Addressing 2004/08 headers: build (1.2) and parse (1.2 or 1.1).

Sending is Windows-like (compact, prefixes ``soap``/``wsa``/``wscn``, ``urn:uuid:``
MessageIDs). Receiving is lenient: any prefixes, SOAP 1.1 envelopes, namespace variants
(via :func:`xmlbind.canonicalize`), header blocks we do not know are ignored unless they
are marked ``mustUnderstand``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from ..defaults import MAX_DEPTH
from ..xmlbind.binding import XmlInputError, canonicalize, parse_xml
from ..xmlbind.namespaces import SOAP11_ENV, SOAP_ENV, WIRE_PREFIXES, WSA, WSE
from .faults import MustUnderstand, VersionMismatch

ANONYMOUS: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
_UNDERSTOOD_NAMESPACES: Final = frozenset({WSA, WSE})
_TRUE: Final = frozenset({"1", "true"})
_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>'


def new_message_id() -> str:
    """A fresh WS-Addressing MessageID (``urn:uuid:``, as Windows sends)."""
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass
class Addressing:
    """The WS-Addressing 2004/08 headers of one message."""

    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    relates_to: str | None = None
    reply_to: str | None = None
    from_: str | None = None
    fault_to: str | None = None


@dataclass
class Envelope:
    """A received SOAP message: its version, addressing headers and body element."""

    soap_namespace: str
    addressing: Addressing
    headers: list[etree._Element] = field(default_factory=list)
    body: etree._Element | None = None

    @property
    def is_soap12(self) -> bool:
        return self.soap_namespace == SOAP_ENV

    def header(self, namespace: str, local: str) -> etree._Element | None:
        """A header block by name (e.g. a reference parameter such as wse:Identifier)."""
        for element in self.headers:
            if element.tag == f"{{{namespace}}}{local}":
                return element
        return None


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _address(element: etree._Element) -> str | None:
    address = element.find(f"{{{WSA}}}Address")
    return _text(address) if address is not None else None


def _read_addressing(headers: Iterable[etree._Element]) -> Addressing:
    addressing = Addressing()
    for element in headers:
        if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{WSA}}}"):
            continue
        local = etree.QName(element).localname
        if local == "Action":
            addressing.action = _text(element)
        elif local == "MessageID":
            addressing.message_id = _text(element)
        elif local == "To":
            addressing.to = _text(element)
        elif local == "RelatesTo":
            addressing.relates_to = _text(element)
        elif local == "ReplyTo":
            addressing.reply_to = _address(element)
        elif local == "From":
            addressing.from_ = _address(element)
        elif local == "FaultTo":
            addressing.fault_to = _address(element)
    return addressing


def _check_must_understand(headers: Sequence[etree._Element], soap_ns: str) -> None:
    for element in headers:
        flag = element.get(f"{{{soap_ns}}}mustUnderstand", "").strip().lower()
        if flag in _TRUE:
            namespace = etree.QName(element).namespace
            if namespace not in _UNDERSTOOD_NAMESPACES:
                raise MustUnderstand(
                    f"header {etree.QName(element).localname} ({namespace}) is not understood"
                )


def read_envelope(root: etree._Element) -> Envelope:
    """Read an already parsed SOAP envelope element (canonicalized here)."""
    root = canonicalize(root)
    tag = etree.QName(root)
    if tag.localname != "Envelope":
        raise XmlInputError(f"expected a SOAP Envelope, got <{tag.localname}>")
    if tag.namespace not in (SOAP_ENV, SOAP11_ENV):
        raise VersionMismatch(f"unknown SOAP envelope namespace {tag.namespace}")
    soap_ns = tag.namespace
    header = root.find(f"{{{soap_ns}}}Header")
    headers = (
        [h for h in header if isinstance(h.tag, str)] if header is not None else []
    )
    _check_must_understand(headers, soap_ns)
    body = root.find(f"{{{soap_ns}}}Body")
    if body is None:
        raise XmlInputError("SOAP Envelope without a Body")
    children = [child for child in body if isinstance(child.tag, str)]
    return Envelope(
        soap_ns, _read_addressing(headers), headers, children[0] if children else None
    )


def parse_envelope(data: bytes, *, max_depth: int = MAX_DEPTH) -> Envelope:
    """Parse received bytes as a SOAP envelope (hardened parser, lenient reading).

    Raises :class:`XmlInputError` (unreadable or refused XML, no Envelope or Body),
    :class:`VersionMismatch` (not a SOAP 1.2 or 1.1 envelope) or
    :class:`MustUnderstand`; nothing else."""
    return read_envelope(parse_xml(data, max_depth=max_depth))


def _sub(
    parent: etree._Element, namespace: str, local: str, text: str
) -> etree._Element:
    element = etree.SubElement(parent, f"{{{namespace}}}{local}")
    element.text = text
    return element


def build_envelope(
    body: etree._Element | None,
    *,
    action: str,
    to: str | None = None,
    message_id: str | None = None,
    relates_to: str | None = None,
    reply_to: str | None = None,
    extra_headers: Iterable[etree._Element] = (),
) -> bytes:
    """A compact SOAP 1.2 envelope, headers in the order Windows clients send them:
    MessageID, To, ReplyTo, Action (requests) or To, Action, MessageID, RelatesTo
    (responses; ``relates_to`` set)."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=dict(WIRE_PREFIXES))
    header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    message_id = message_id or new_message_id()
    if relates_to is None:
        _sub(header, WSA, "MessageID", message_id)
        if to is not None:
            _sub(header, WSA, "To", to)
        if reply_to is not None:
            reply = etree.SubElement(header, f"{{{WSA}}}ReplyTo")
            _sub(reply, WSA, "Address", reply_to)
        _sub(header, WSA, "Action", action)
    else:
        _sub(header, WSA, "To", to or ANONYMOUS)
        _sub(header, WSA, "Action", action)
        _sub(header, WSA, "MessageID", message_id)
        _sub(header, WSA, "RelatesTo", relates_to)
    for extra in extra_headers:
        header.append(extra)
    body_element = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    if body is not None:
        body_element.append(body)
    # The declaration as Windows writes it: double quotes, no newline before the root.
    return _DECLARATION + etree.tostring(envelope, encoding="UTF-8")

"""WS-Discovery messages in and out: build Hello/Bye/Probe/ProbeMatches/Resolve/
ResolveMatches with the generated models, read them leniently.

Lenient on receipt (``shared/notes/device-quirks.md`` rows 24-26, and the corpus): several
ProbeMatch records in one message (Lexmark MX310dn), AppSequence without SequenceId
(Kyocera M2040dn, Canon), ``uuid:`` instead of ``urn:uuid:`` endpoint addresses (Kyocera),
records missing MetadataVersion or using an undeclared prefix in Types: a record that
does not bind to the schema is read field by field instead of being dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final
from xml.etree.ElementTree import QName

from lxml import etree

from ...generated.models.addressing import AttributedURI, EndpointReference
from ...generated.models.discovery import (
    AnnouncementType,
    AppSequence,
    Bye,
    Hello,
    Probe,
    ProbeMatches,
    Resolve,
    ResolveMatches,
)
from ..errors import ProtocolError
from ..soap.envelope import ANONYMOUS, Envelope, build_envelope, parse_envelope
from ..soap.faults import SoapFault
from ..xmlbind.binding import XmlInputError, bind, to_element
from ..xmlbind.namespaces import WSA
from .names import (
    BYE,
    DISCOVERY_PREFIXES,
    DISCOVERY_URN,
    HELLO,
    PROBE,
    PROBE_MATCHES,
    RESOLVE,
    RESOLVE_MATCHES,
    WSD,
)

log = logging.getLogger("wsdscan.discovery")

_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        HELLO: "Hello",
        BYE: "Bye",
        PROBE: "Probe",
        PROBE_MATCHES: "ProbeMatches",
        RESOLVE: "Resolve",
        RESOLVE_MATCHES: "ResolveMatches",
    }
)


@dataclass(frozen=True)
class Announcement:
    """What a target service says about itself (Hello, ProbeMatch, ResolveMatch, Bye)."""

    endpoint: str
    types: tuple[QName, ...] = ()
    xaddrs: tuple[str, ...] = ()
    metadata_version: int | None = None
    scopes: tuple[str, ...] = ()

    def has_type(self, wanted: QName) -> bool:
        return any(type_matches(wanted, own) for own in self.types)


@dataclass(frozen=True)
class DiscoveryMessage:
    """A received discovery message, reduced to what clients and targets act on."""

    kind: str  # Hello, Bye, Probe, ProbeMatches, Resolve, ResolveMatches
    message_id: str | None
    relates_to: str | None
    app_sequence: AppSequence | None = None
    # Hello/Bye: one; ProbeMatches: any number; ResolveMatches: zero or one.
    matches: tuple[Announcement, ...] = ()
    # Probe: the wanted types and scopes; Resolve: the endpoint address.
    probe_types: tuple[QName, ...] = ()
    probe_scopes: tuple[str, ...] = ()
    resolve_address: str | None = None


def type_matches(wanted: QName, offered: QName) -> bool:
    """WS-Discovery type matching, by namespace and local name. A type whose prefix was
    not declared (namespace unknown) is compared by local name only."""
    want_ns, want_local = _split(wanted)
    have_ns, have_local = _split(offered)
    if want_local != have_local:
        return False
    return not want_ns or not have_ns or want_ns == have_ns


def _split(name: QName) -> tuple[str, str]:
    # Not etree.QName: it refuses tokens that are no XML name, and Types on the wire
    # may carry any token.
    text = name.text
    if text.startswith("{"):
        namespace, _, local = text[1:].partition("}")
        return namespace, local
    return "", text


# -- building -------------------------------------------------------------------------
def _announcement_model(item: Announcement) -> AnnouncementType:
    return AnnouncementType(
        endpoint_reference=EndpointReference(
            address=AttributedURI(value=item.endpoint)
        ),
        types=list(item.types),
        x_addrs=list(item.xaddrs),
        metadata_version=item.metadata_version or 1,
    )


def _element(model: object) -> etree._Element:
    return to_element(model, DISCOVERY_PREFIXES)


def app_sequence_element(instance_id: int, message_number: int) -> etree._Element:
    return _element(AppSequence(instance_id=instance_id, message_number=message_number))


def build_hello(item: Announcement, sequence: etree._Element) -> bytes:
    model = _announcement_model(item)
    hello = Hello(
        endpoint_reference=model.endpoint_reference,
        types=model.types,
        x_addrs=model.x_addrs,
        metadata_version=model.metadata_version,
    )
    return build_envelope(
        _element(hello), action=HELLO, to=DISCOVERY_URN, extra_headers=[sequence]
    )


def build_bye(endpoint: str, sequence: etree._Element) -> bytes:
    bye = Bye(
        endpoint_reference=EndpointReference(address=AttributedURI(value=endpoint))
    )
    return build_envelope(
        _element(bye), action=BYE, to=DISCOVERY_URN, extra_headers=[sequence]
    )


def build_probe(types: Sequence[QName], message_id: str) -> bytes:
    return build_envelope(
        _element(Probe(types=list(types))),
        action=PROBE,
        to=DISCOVERY_URN,
        message_id=message_id,
    )


def build_resolve(endpoint: str, message_id: str) -> bytes:
    resolve = Resolve(
        endpoint_reference=EndpointReference(address=AttributedURI(value=endpoint))
    )
    return build_envelope(
        _element(resolve), action=RESOLVE, to=DISCOVERY_URN, message_id=message_id
    )


def probe_matches_element(items: Iterable[Announcement]) -> etree._Element:
    return _element(ProbeMatches(probe_match=[_announcement_model(i) for i in items]))


def build_probe_matches(
    items: Iterable[Announcement], relates_to: str, sequence: etree._Element
) -> bytes:
    return build_envelope(
        probe_matches_element(items),
        action=PROBE_MATCHES,
        to=ANONYMOUS,
        relates_to=relates_to,
        extra_headers=[sequence],
    )


def build_resolve_matches(
    item: Announcement, relates_to: str, sequence: etree._Element
) -> bytes:
    body = ResolveMatches(resolve_match=_announcement_model(item))
    return build_envelope(
        _element(body),
        action=RESOLVE_MATCHES,
        to=ANONYMOUS,
        relates_to=relates_to,
        extra_headers=[sequence],
    )


# -- reading --------------------------------------------------------------------------
def parse_discovery_message(data: bytes) -> DiscoveryMessage:
    """Read a datagram (or HTTP body) as a discovery message.

    Raises :class:`XmlInputError` / :class:`ProtocolError` for something that is not a
    discovery message at all; single bad records inside a good message are skipped."""
    return read_discovery_envelope(parse_envelope(data))


def read_datagram(data: bytes, sender: tuple[str, int]) -> DiscoveryMessage | None:
    """A received datagram as a discovery message, or None (logged) for anything that
    is not one: not XML, not WS-Discovery, or an envelope we must fault (a foreign
    envelope namespace, a mustUnderstand header): UDP gets no fault back."""
    try:
        return parse_discovery_message(data)
    except (XmlInputError, ProtocolError, SoapFault) as exc:
        log.debug("ignoring a datagram from %s: %s", sender, exc)
        return None


def read_discovery_envelope(envelope: Envelope) -> DiscoveryMessage:
    addressing = envelope.addressing
    body = envelope.body
    kind = _ACTIONS.get(addressing.action or "")
    if kind is None and body is not None and etree.QName(body).namespace == WSD:
        kind = etree.QName(body).localname  # no (or an odd) Action: go by the Body
    if kind is None or kind not in _ACTIONS.values():
        raise ProtocolError(
            f"not a WS-Discovery message (Action {addressing.action or '(none)'})"
        )
    if body is None or etree.QName(body) != etree.QName(WSD, kind):
        raise ProtocolError(f"WS-Discovery {kind} without a <wsd:{kind}> Body")
    message = DiscoveryMessage(
        kind=kind,
        message_id=addressing.message_id,
        relates_to=addressing.relates_to,
        app_sequence=_app_sequence(envelope),
    )
    if kind in ("Hello", "Bye"):
        return replace(message, matches=(_announcement(body),))
    if kind in ("ProbeMatches", "ResolveMatches"):
        local = "ProbeMatch" if kind == "ProbeMatches" else "ResolveMatch"
        records = []
        for record in body.iterchildren(f"{{{WSD}}}{local}"):
            try:
                records.append(_announcement(record))
            except ProtocolError as exc:
                log.debug("skipping an unreadable %s: %s", local, exc)
        return replace(message, matches=tuple(records))
    if kind == "Probe":
        types = _qnames(body.find(f"{{{WSD}}}Types"))
        scopes = _tokens(body.find(f"{{{WSD}}}Scopes"))
        return replace(message, probe_types=types, probe_scopes=scopes)
    # Resolve
    address = _endpoint_address(body)
    if not address:
        raise ProtocolError("WS-Discovery Resolve without an EndpointReference Address")
    return replace(message, resolve_address=address)


def _app_sequence(envelope: Envelope) -> AppSequence | None:
    header = envelope.header(WSD, "AppSequence")
    if header is None:
        return None
    try:
        return bind(header, AppSequence)
    except XmlInputError as exc:
        log.debug("ignoring an unreadable AppSequence: %s", exc)
        return None


def _announcement(record: etree._Element) -> Announcement:
    """Bind a record to the schema; if it does not fit, read what is there by hand."""
    fallback = _announcement_by_hand(record)
    try:
        model = bind(record, AnnouncementType)
    except XmlInputError as exc:
        log.debug("reading a lenient %s: %s", etree.QName(record).localname, exc)
        return fallback
    return Announcement(
        endpoint=model.endpoint_reference.address.value.strip(),
        types=tuple(model.types),
        xaddrs=tuple(model.x_addrs),
        metadata_version=model.metadata_version,
        scopes=tuple(model.scopes.value) if model.scopes is not None else (),
    )


def _announcement_by_hand(record: etree._Element) -> Announcement:
    # Read before binding: xsdata consumes the elements it binds.
    address = _endpoint_address(record)
    if not address:
        raise ProtocolError(
            f"{etree.QName(record).localname} without an EndpointReference Address"
        )
    version = record.find(f"{{{WSD}}}MetadataVersion")
    try:
        number = int((version.text or "").strip()) if version is not None else None
    except ValueError:
        number = None
    return Announcement(
        endpoint=address,
        types=_qnames(record.find(f"{{{WSD}}}Types")),
        xaddrs=_tokens(record.find(f"{{{WSD}}}XAddrs")),
        metadata_version=number,
        scopes=_tokens(record.find(f"{{{WSD}}}Scopes")),
    )


def _endpoint_address(parent: etree._Element) -> str | None:
    address = parent.find(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address")
    if address is None:
        return None
    return (address.text or "").strip() or None


def _tokens(element: etree._Element | None) -> tuple[str, ...]:
    if element is None:
        return ()
    return tuple((element.text or "").split())


def _qnames(element: etree._Element | None) -> tuple[QName, ...]:
    names = []
    for token in _tokens(element):
        prefix, _, local = token.rpartition(":")
        namespace = element.nsmap.get(prefix or None) if element is not None else None
        names.append(QName(namespace, local) if namespace else QName(local))
    return tuple(names)

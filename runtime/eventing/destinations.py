"""WS-Scan's extension of WS-Eventing Subscribe: the ScanDestinations a PC registers
(names on the scanner's panel) in, DestinationResponses with an unguessable
DestinationToken per destination out."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from ..xmlbind.namespaces import WSCN
from . import wire


@dataclass(frozen=True)
class RegisteredDestination:
    """One ScanDestination of a live subscription and the token it was given."""

    identifier: str
    display_name: str
    client_context: str
    token: str


def read_destinations(body: etree._Element, limit: int) -> list[tuple[str, str]]:
    """(display name, client context) of each wscn:ScanDestination. ClientDisplayString
    is read as ClientDisplayName: the ScanAvailableEvent page's example spells it so.
    More than ``limit`` of them: EventSourceUnableToProcess."""
    found: list[tuple[str, str]] = []
    holder = body.find(wire.wscn("ScanDestinations"))
    if holder is None:
        return found
    requested = holder.findall(wire.wscn("ScanDestination"))
    if len(requested) > limit:
        raise wire.EventSourceUnableToProcess(
            f"{len(requested)} ScanDestinations; at most {limit} per Subscribe"
        )
    for destination in requested:
        name = destination.find(wire.wscn("ClientDisplayName"))
        if name is None:
            name = destination.find(wire.wscn("ClientDisplayString"))
        context = wire.text(destination.find(wire.wscn("ClientContext")))
        if name is None or not wire.text(name):
            raise wire.InvalidMessage("ScanDestination without a ClientDisplayName")
        found.append((wire.text(name), context))
    return found


def destination_responses(
    destinations: Iterable[RegisteredDestination],
) -> etree._Element:
    holder = etree.Element(wire.wscn("DestinationResponses"), nsmap={"wscn": WSCN})
    for destination in destinations:
        response = etree.SubElement(holder, wire.wscn("DestinationResponse"))
        context = etree.SubElement(response, wire.wscn("ClientContext"))
        context.text = destination.client_context
        token = etree.SubElement(response, wire.wscn("DestinationToken"))
        token.text = destination.token
    return holder


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()

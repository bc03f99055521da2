"""The virtual scanner's panel button, over SOAP: ``wsdscan press URL --destination NAME``.

A real scanner's user picks a PC on the panel and presses Start. The virtual scanner
has no panel, so it serves one vendor action on its scan endpoint (the same URL, so a
script needs nothing else):

    Action  urn:wsdscan:virtual:PressScanButton
    Body    <v:PressScanButton xmlns:v="urn:wsdscan:virtual">
              <v:Destination>NAME</v:Destination>
            </v:PressScanButton>
    Reply   <v:PressScanButtonResponse><v:ScanIdentifier>...</v:ScanIdentifier>
              </v:PressScanButtonResponse>

A name no live subscription registered is answered with the fault
``wscn:InvalidArgs`` listing the registered names. Instead of ``Destination``:
``<v:Jammed>true|false</v:Jammed>`` simulates a paper jam or clears it;
``<v:LoadADF>N</v:LoadADF>`` (optionally with ``<v:Duplex>true|false</v:Duplex>``)
refills the feeder with N sheets (``VirtualScanner.load_adf``) and answers
``<v:ADFSheets>N</v:ADFSheets>``; a count out of range, a scanner without an ADF, or
duplex a profile's ADF lacks is ``wscn:InvalidArgs``. The action is for the virtual
scanner only: anyone who can reach it can press its button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lxml import etree

from wsdscan.generated import EVENT_ROUTES, FAULTS
from wsdscan.generated.stubs.faults import InvalidArgs
from wsdscan.runtime.contract import RequestContext
from wsdscan.runtime.errors import ProtocolError
from wsdscan.runtime.eventing import SubscriptionManager
from wsdscan.runtime.server import RawHandler, SoapReply
from wsdscan.runtime.soap import Envelope
from wsdscan.runtime.transport import SoapClient
from wsdscan.virtual import VirtualScanner

VIRTUAL_NS: Final = "urn:wsdscan:virtual"
PRESS_ACTION: Final = "urn:wsdscan:virtual:PressScanButton"
PRESS_RESPONSE_ACTION: Final = "urn:wsdscan:virtual:PressScanButtonResponse"


def _v(local: str) -> str:
    return f"{{{VIRTUAL_NS}}}{local}"


def press_handlers(scanner: VirtualScanner) -> dict[str, RawHandler]:
    """The raw SoapApp handler for the button action of ``scanner``."""

    async def press(envelope: Envelope, context: RequestContext) -> SoapReply:
        body = envelope.body
        if body is None or body.tag != _v("PressScanButton"):
            raise InvalidArgs("expected <PressScanButton> in the Body")
        response = etree.Element(_v("PressScanButtonResponse"), nsmap={"v": VIRTUAL_NS})
        sheets = body.findtext(_v("LoadADF"))
        if sheets is not None:
            duplex = body.findtext(_v("Duplex"))
            try:
                scanner.load_adf(
                    int(sheets.strip()),
                    duplex=None if duplex is None else _true(duplex),
                )
            except ValueError as exc:
                raise InvalidArgs(f"LoadADF: {exc}") from None
            etree.SubElement(response, _v("ADFSheets")).text = str(scanner.adf_sheets)
            return SoapReply(response, PRESS_RESPONSE_ACTION)
        jammed = body.findtext(_v("Jammed"))
        if jammed is not None:
            scanner.set_jammed(_true(jammed))
            return SoapReply(response, PRESS_RESPONSE_ACTION)
        name = (body.findtext(_v("Destination")) or "").strip()
        try:
            identifier = scanner.press_button(name)
        except LookupError as exc:
            raise InvalidArgs(str(exc)) from None
        etree.SubElement(response, _v("ScanIdentifier")).text = identifier
        return SoapReply(response, PRESS_RESPONSE_ACTION)

    return {PRESS_ACTION: press}


def _true(value: str) -> bool:
    return value.strip().lower() in ("1", "true")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _body(
    destination: str | None,
    jammed: bool | None,
    load_adf: int | None = None,
    duplex: bool | None = None,
) -> etree._Element:
    body = etree.Element(_v("PressScanButton"), nsmap={"v": VIRTUAL_NS})
    if destination is not None:
        etree.SubElement(body, _v("Destination")).text = destination
    if jammed is not None:
        etree.SubElement(body, _v("Jammed")).text = _flag(jammed)
    if load_adf is not None:
        etree.SubElement(body, _v("LoadADF")).text = str(load_adf)
        if duplex is not None:
            etree.SubElement(body, _v("Duplex")).text = _flag(duplex)
    return body


async def press(
    url: str,
    destination: str | None = None,
    *,
    jammed: bool | None = None,
    load_adf: int | None = None,
    duplex: bool | None = None,
) -> str:
    """Press the virtual scanner's button for ``destination`` (returns the
    ScanIdentifier it announced), set/clear its simulated jam, or load its feeder with
    ``load_adf`` sheets (``duplex`` True/False: turn the duplex unit on/off; returns
    the sheets now in the feeder). Faults raise."""
    body = _body(destination, jammed, load_adf, duplex)
    async with SoapClient() as client:
        envelope = await client.request(url, PRESS_ACTION, body, faults=FAULTS)
    reply = envelope.body
    if reply is None or reply.tag != _v("PressScanButtonResponse"):
        raise ProtocolError("expected <PressScanButtonResponse>")
    if load_adf is not None:
        return (reply.findtext(_v("ADFSheets")) or "").strip()
    return (reply.findtext(_v("ScanIdentifier")) or "").strip()


@dataclass
class VirtualEventing:
    """What ``wsdscan serve`` adds for eventing: the subscription manager and the raw
    handlers (Subscribe/Renew/GetStatus/Unsubscribe and the button) for the scan
    endpoint. ``aclose`` sends SubscriptionEnd (SourceShuttingDown) to everyone."""

    manager: SubscriptionManager
    handlers: dict[str, RawHandler]

    async def aclose(self) -> None:
        await self.manager.aclose()


def serve_eventing(scanner: VirtualScanner) -> VirtualEventing:
    """Turn on events and the scan button of ``scanner``."""
    manager = SubscriptionManager(routes=EVENT_ROUTES)
    scanner.attach_eventing(manager)
    return VirtualEventing(manager, {**manager.handlers(), **press_handlers(scanner)})

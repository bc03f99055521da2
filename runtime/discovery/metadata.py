"""DPWS device metadata: the WS-Transfer GetResponse body (mex:Metadata with ThisModel,
ThisDevice and Relationship sections), built from and read into plain records, and the
client side of WS-Transfer Get.

Reading is per section: a section that does not fit the schema is skipped (logged),
unknown sections and vendor elements (df:, Kyocera's 22 extra Hosted services) are
ignored. The PnP-X entries Windows picks a driver by (``pnpx:DeviceCategory`` in
ThisModel, ``pnpx:HardwareId``/``pnpx:CompatibleId`` per Hosted service) are read and
written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.etree.ElementTree import QName

from lxml import etree
from xsdata.formats.dataclass.models.generics import AnyElement

from ...generated.models.addressing import AttributedURI, EndpointReference
from ...generated.models.devprof import (
    HostServiceType,
    LocalizedStringType,
    Relationship,
    ThisDevice,
    ThisModel,
)
from ...generated.models.mex import Metadata, MetadataSection
from ..errors import ProtocolError
from ..soap.envelope import ANONYMOUS, build_envelope
from ..transport.soap_client import DEFAULT_USER_AGENT, SoapClient
from ..xmlbind.binding import XmlInputError, bind, to_element
from .messages import type_matches
from .names import (
    DEVICE_TYPE,
    DIALECT_RELATIONSHIP,
    DIALECT_THIS_DEVICE,
    DIALECT_THIS_MODEL,
    METADATA_PREFIXES,
    MEX,
    PNPX,
    RELATIONSHIP_HOST,
    SCANNER_SERVICE_TYPE,
    TRANSFER_GET,
    WSDP,
)

log = logging.getLogger("wsdscan.discovery")


@dataclass(frozen=True)
class HostedService:
    """One service a device hosts: its addresses, port types and ServiceId."""

    addresses: tuple[str, ...]
    types: tuple[QName, ...]
    service_id: str
    # PnP-X (Windows matches a driver on these; Kyocera M2040dn sends one of each).
    hardware_ids: tuple[str, ...] = ()
    compatible_ids: tuple[str, ...] = ()

    def has_type(self, wanted: QName) -> bool:
        return any(type_matches(wanted, own) for own in self.types)


@dataclass(frozen=True)
class DeviceMetadata:
    """What a device says about itself in its DPWS metadata."""

    friendly_name: str | None = None
    manufacturer: str | None = None
    model_name: str | None = None
    model_number: str | None = None
    manufacturer_url: str | None = None
    model_url: str | None = None
    presentation_url: str | None = None
    firmware_version: str | None = None
    serial_number: str | None = None
    host: HostedService | None = None
    hosted: tuple[HostedService, ...] = field(default_factory=tuple)
    #: ``pnpx:DeviceCategory``: space-separated PnP-X categories ("Scanners").
    device_category: str | None = None

    def scan_services(self) -> list[HostedService]:
        return [s for s in self.hosted if s.has_type(SCANNER_SERVICE_TYPE)]

    @property
    def scan_service_urls(self) -> tuple[str, ...]:
        """The addresses of every hosted ``wscn:ScannerServiceType`` service."""
        return tuple(a for s in self.scan_services() for a in s.addresses)


# -- building -------------------------------------------------------------------------
def _localized(value: str) -> list[LocalizedStringType]:
    return [LocalizedStringType(value=value)]


def _pnpx(local: str, values: Iterable[str]) -> list[object]:
    return [AnyElement(qname=f"{{{PNPX}}}{local}", text=v) for v in values]


def _service(service: HostedService) -> HostServiceType:
    return HostServiceType(
        endpoint_reference=[
            EndpointReference(address=AttributedURI(value=a)) for a in service.addresses
        ],
        types=list(service.types),
        service_id=service.service_id,
        # CompatibleId before HardwareId, as the Kyocera M2040dn sends them.
        other_element=_pnpx("CompatibleId", service.compatible_ids)
        + _pnpx("HardwareId", service.hardware_ids),
    )


def metadata_element(metadata: DeviceMetadata) -> etree._Element:
    """The mex:Metadata element of a GetResponse (ThisModel, ThisDevice, Relationship,
    in the order Windows devices send them)."""
    model = ThisModel(
        manufacturer=_localized(metadata.manufacturer or "unknown"),
        manufacturer_url=metadata.manufacturer_url,
        model_name=_localized(metadata.model_name or "unknown"),
        model_number=metadata.model_number,
        model_url=metadata.model_url,
        presentation_url=metadata.presentation_url,
        other_element=_pnpx("DeviceCategory", filter(None, [metadata.device_category])),
    )
    device = ThisDevice(
        friendly_name=_localized(metadata.friendly_name or "unknown"),
        firmware_version=metadata.firmware_version,
        serial_number=metadata.serial_number,
    )
    relationship = Relationship(
        type_value=RELATIONSHIP_HOST,
        host=_service(metadata.host) if metadata.host is not None else None,
        hosted=[_service(s) for s in metadata.hosted],
    )
    sections = [
        MetadataSection(dialect=DIALECT_THIS_MODEL, other_element=[model]),
        MetadataSection(dialect=DIALECT_THIS_DEVICE, other_element=[device]),
        MetadataSection(dialect=DIALECT_RELATIONSHIP, other_element=[relationship]),
    ]
    return to_element(Metadata(metadata_section=sections), METADATA_PREFIXES)


# -- reading --------------------------------------------------------------------------
def _first(values: Sequence[LocalizedStringType]) -> str | None:
    for value in values:
        if value.value.strip():
            return value.value.strip()
    return None


def _pnpx_values(elements: Iterable[object], local: str) -> tuple[str, ...]:
    """Texts of the ``pnpx:<local>`` vendor elements a wildcard collected."""
    wanted = f"{{{PNPX}}}{local}"
    return tuple(
        e.text.strip()
        for e in elements
        if isinstance(e, AnyElement) and e.qname == wanted and e.text and e.text.strip()
    )


def _hosted(service: HostServiceType) -> HostedService:
    return HostedService(
        addresses=tuple(
            epr.address.value.strip()
            for epr in service.endpoint_reference
            if epr.address.value.strip()
        ),
        types=tuple(service.types),
        service_id=service.service_id.strip(),
        hardware_ids=_pnpx_values(service.other_element, "HardwareId"),
        compatible_ids=_pnpx_values(service.other_element, "CompatibleId"),
    )


def parse_metadata(element: etree._Element) -> DeviceMetadata:
    """Read a mex:Metadata element (the GetResponse Body). Consumes the element."""
    if etree.QName(element) != etree.QName(MEX, "Metadata"):
        raise ProtocolError(
            f"expected <mex:Metadata> in the GetResponse, got "
            f"<{etree.QName(element).localname}>"
        )
    values: dict[str, object] = {}
    for section in list(element.iterchildren(f"{{{MEX}}}MetadataSection")):
        for child in list(section):
            if not isinstance(child.tag, str) or etree.QName(child).namespace != WSDP:
                continue
            local = etree.QName(child).localname
            try:
                if local == "ThisModel":
                    model = bind(child, ThisModel)
                    values.update(
                        manufacturer=_first(model.manufacturer),
                        model_name=_first(model.model_name),
                        model_number=model.model_number,
                        manufacturer_url=model.manufacturer_url,
                        model_url=model.model_url,
                        presentation_url=model.presentation_url,
                        device_category=" ".join(
                            _pnpx_values(model.other_element, "DeviceCategory")
                        )
                        or None,
                    )
                elif local == "ThisDevice":
                    device = bind(child, ThisDevice)
                    values.update(
                        friendly_name=_first(device.friendly_name),
                        firmware_version=device.firmware_version,
                        serial_number=device.serial_number,
                    )
                elif local == "Relationship":
                    relationship = bind(child, Relationship)
                    if relationship.host is not None:
                        values["host"] = _hosted(relationship.host)
                    hosted = values.get("hosted", ())
                    assert isinstance(hosted, tuple)
                    values["hosted"] = hosted + tuple(
                        _hosted(s) for s in relationship.hosted
                    )
            except XmlInputError as exc:
                log.debug("skipping an unreadable metadata section: %s", exc)
    return DeviceMetadata(**values)  # type: ignore[arg-type]


async def fetch_metadata(
    xaddr: str,
    endpoint: str,
    *,
    timeout: float = 10.0,
    user_agent: str = DEFAULT_USER_AGENT,
) -> DeviceMetadata:
    """WS-Transfer Get to a device's transport address (XAddr); ``wsa:To`` is the
    device's endpoint address (``urn:uuid:...``), the Body empty, as Windows sends it.
    """
    name = "WS-Transfer Get"
    request = build_envelope(None, action=TRANSFER_GET, to=endpoint, reply_to=ANONYMOUS)
    async with SoapClient(timeout=timeout, user_agent=user_agent) as client:
        body = (await client.post(xaddr, request, name=name)).body
    if body is None:
        raise ProtocolError(f"{name} to {xaddr}: empty GetResponse Body")
    return parse_metadata(body)


def pnpx_hardware_id(manufacturer: str | None, model: str | None) -> str:
    """A PnP-X HardwareId in the ``VEN_xxxx&DEV_yyyy`` form real devices use (Kyocera:
    ``VEN_0103&DEV_069D``), from manufacturer and model names: we have no numeric IDs,
    so each name is reduced to letters, digits and ``_`` (``&`` must only separate)."""
    return f"VEN_{_id_part(manufacturer)}&DEV_{_id_part(model)}"


def _id_part(name: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name or "").strip("_") or "UNKNOWN"


def device_host(endpoint: str) -> HostedService:
    """The Host entry of a device's Relationship section (its own endpoint)."""
    return HostedService(
        addresses=(endpoint,), types=(DEVICE_TYPE,), service_id=endpoint
    )

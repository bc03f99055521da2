"""The device endpoint (DPWS hosting service) on the same port as the scan service:
WS-Transfer Get answers the device metadata, a directed Probe (HTTP POST) answers
ProbeMatches. Mount :meth:`DeviceEndpoint.apps` in a :class:`~..server.PathRouter`.

The addresses in the metadata and in ProbeMatches use the host the client reached us by
(its HTTP ``Host`` header), so a device on several networks gives each client a URL it
can use; without a Host header the configured base URL is used.

The metadata carries the PnP-X entries Windows uses to pick a driver, in the form real
devices send them (Kyocera M2040dn in shared/corpus): ``pnpx:DeviceCategory`` in
ThisModel, ``pnpx:HardwareId`` and ``pnpx:CompatibleId`` on the hosted scan service
(Microsoft's PnPXDeviceCategory page: with a category, a hosted service must carry both).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final
from xml.etree.ElementTree import QName

from ..contract import RequestContext
from ..server.asgi import ASGIApp, ServerLimits
from ..server.dispatch import SoapApp, SoapReply
from ..soap.envelope import Envelope
from ..xmlbind.namespaces import WSCN
from .messages import (
    Announcement,
    probe_matches_element,
    read_discovery_envelope,
)
from .metadata import (
    DeviceMetadata,
    HostedService,
    device_host,
    metadata_element,
    pnpx_hardware_id,
)
from .names import (
    DEVICE_TYPE,
    PROBE,
    PROBE_MATCHES,
    SCAN_DEVICE_TYPE,
    SCANNER_SERVICE_TYPE,
    STABLE_PROBE_PATH,
    TRANSFER_GET,
    TRANSFER_GET_RESPONSE,
)
from .target import probe_matches

DEVICE_PATH: Final = "/WSD/Device"
DEVICE_TYPES: Final = (DEVICE_TYPE, SCAN_DEVICE_TYPE)
#: PnP-X category of a scanner (``PNPX_DEVICECATEGORY_SCANNER`` in the Windows SDK).
PNPX_SCANNER_CATEGORY: Final = "Scanners"
#: The compatible ID Windows' inbox WSD scan driver matches: the service type as a URI
#: (namespace + "/" + local name), as the Kyocera M2040dn sends it.
SCANNER_COMPATIBLE_ID: Final = f"{WSCN}/ScannerServiceType"


class _NoOperations:
    """The device endpoint has no generated operations, only raw handlers."""

    routes: Mapping[str, Any] = MappingProxyType({})


class DeviceEndpoint:
    """Device metadata and directed probes for one scan service on this server.

    ``base_url`` is ``http://HOST:PORT`` as configured (used when a request has no
    Host header); ``scan_path`` the path of the scan service on the same port."""

    def __init__(
        self,
        endpoint: str,
        description: DeviceMetadata,
        *,
        base_url: str,
        scan_path: str,
        device_path: str = DEVICE_PATH,
        types: Sequence[QName] = DEVICE_TYPES,
        metadata_version: int = 1,
    ) -> None:
        self.endpoint = endpoint
        self.description = description
        self.base_url = base_url.rstrip("/")
        self.scan_path = scan_path
        self.device_path = device_path
        self.types = tuple(types)
        self.metadata_version = metadata_version

    def _base(self, context: RequestContext | None) -> str:
        host = (context.headers.get("host") if context is not None else None) or ""
        return f"http://{host}" if host else self.base_url

    def xaddrs(self, context: RequestContext | None = None) -> tuple[str, ...]:
        return (f"{self._base(context)}{self.device_path}",)

    def announcement(self, context: RequestContext | None = None) -> Announcement:
        return Announcement(
            endpoint=self.endpoint,
            types=self.types,
            xaddrs=self.xaddrs(context),
            metadata_version=self.metadata_version,
        )

    def metadata(self, context: RequestContext | None = None) -> DeviceMetadata:
        scan = HostedService(
            addresses=(f"{self._base(context)}{self.scan_path}",),
            types=(SCANNER_SERVICE_TYPE,),
            service_id=f"{self.endpoint}/scan",
            hardware_ids=(
                pnpx_hardware_id(
                    self.description.manufacturer, self.description.model_name
                ),
            ),
            compatible_ids=(SCANNER_COMPATIBLE_ID,),
        )
        return dataclasses.replace(
            self.description,
            host=device_host(self.endpoint),
            hosted=(scan,),
            device_category=self.description.device_category or PNPX_SCANNER_CATEGORY,
        )

    async def _get(self, envelope: Envelope, context: RequestContext) -> SoapReply:
        return SoapReply(
            metadata_element(self.metadata(context)), TRANSFER_GET_RESPONSE
        )

    async def _probe(self, envelope: Envelope, context: RequestContext) -> SoapReply:
        message = read_discovery_envelope(envelope)
        announcement = self.announcement(context)
        matches = [announcement] if probe_matches(announcement, message) else []
        return SoapReply(probe_matches_element(matches), PROBE_MATCHES)

    def apps(self, limits: ServerLimits | None = None) -> dict[str, ASGIApp]:
        """``{path: ASGI app}``: the device endpoint and the stable directed-probe path
        (``limits``: those of the scan service they share a port with)."""
        handlers = {TRANSFER_GET: self._get, PROBE: self._probe}
        return {
            path: SoapApp(_NoOperations(), path=path, limits=limits, handlers=handlers)
            for path in (self.device_path, STABLE_PROBE_PATH)
        }

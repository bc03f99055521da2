"""Namespaces, Actions and well-known values of WS-Discovery 2005/04, WS-Transfer Get,
WS-MetadataExchange and DPWS 2006/02 (the versions WS-Scan devices and Windows use)."""

from __future__ import annotations

from typing import Final
from xml.etree.ElementTree import QName

from ..xmlbind.namespaces import MEX as MEX
from ..xmlbind.namespaces import PNPX as PNPX
from ..xmlbind.namespaces import WSCN, prefix_map
from ..xmlbind.namespaces import WSD as WSD
from ..xmlbind.namespaces import WSDP as WSDP
from ..xmlbind.namespaces import WXF as WXF

#: wsa:To of multicast (and directed) discovery messages.
DISCOVERY_URN: Final = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
MULTICAST_GROUP: Final = "239.255.255.250"
DISCOVERY_PORT: Final = 3702
#: Path of the "stable" directed-probe endpoint some clients POST a Probe to
#: (device-quirks.md #26: sane-airscan f25e75e; rossi75/WSD4HA).
STABLE_PROBE_PATH: Final = (
    "/StableWSDiscoveryEndpoint/schemas-xmlsoap-org_ws_2005_04_discovery"
)

HELLO: Final = f"{WSD}/Hello"
BYE: Final = f"{WSD}/Bye"
PROBE: Final = f"{WSD}/Probe"
PROBE_MATCHES: Final = f"{WSD}/ProbeMatches"
RESOLVE: Final = f"{WSD}/Resolve"
RESOLVE_MATCHES: Final = f"{WSD}/ResolveMatches"
TRANSFER_GET: Final = f"{WXF}/Get"
TRANSFER_GET_RESPONSE: Final = f"{WXF}/GetResponse"

DIALECT_THIS_MODEL: Final = f"{WSDP}/ThisModel"
DIALECT_THIS_DEVICE: Final = f"{WSDP}/ThisDevice"
DIALECT_RELATIONSHIP: Final = f"{WSDP}/Relationship"
RELATIONSHIP_HOST: Final = f"{WSDP}/host"

DEVICE_TYPE: Final = QName(WSDP, "Device")
SCAN_DEVICE_TYPE: Final = QName(WSCN, "ScanDeviceType")
SCANNER_SERVICE_TYPE: Final = QName(WSCN, "ScannerServiceType")

#: Prefixes declared on discovery messages and on metadata.
DISCOVERY_PREFIXES: Final = prefix_map("soap", "wsa", "wsd", "wsdp", "wscn")
METADATA_PREFIXES: Final = prefix_map(
    "soap", "wsa", "wsd", "wsdp", "wscn", "mex", "pnpx"
)

"""WS-Discovery 2005/04, WS-Transfer Get and DPWS 2006/02 device metadata: how WSD
clients find a scanner and the scan service it hosts.

* :class:`DiscoveryTarget` announces a device (Hello/Bye) and answers Probe/Resolve on
  UDP 3702; :class:`DeviceEndpoint` serves its metadata (WS-Transfer Get) and directed
  probes over HTTP.
* :func:`probe`, :func:`resolve`, :func:`probe_http` and :func:`fetch_metadata` are the
  client side.
"""

from .client import probe, probe_http, resolve
from .messages import Announcement, DiscoveryMessage, parse_discovery_message
from .metadata import DeviceMetadata, HostedService, fetch_metadata, parse_metadata
from .metadata_host import DEVICE_PATH, DeviceEndpoint
from .names import (
    DEVICE_TYPE,
    DISCOVERY_PORT,
    MULTICAST_GROUP,
    SCAN_DEVICE_TYPE,
    SCANNER_SERVICE_TYPE,
)
from .target import DiscoveryTarget
from .udp import Address

__all__ = [
    "DISCOVERY_PORT",
    "Address",
    "DEVICE_PATH",
    "DEVICE_TYPE",
    "MULTICAST_GROUP",
    "SCANNER_SERVICE_TYPE",
    "SCAN_DEVICE_TYPE",
    "Announcement",
    "DeviceEndpoint",
    "DeviceMetadata",
    "DiscoveryMessage",
    "DiscoveryTarget",
    "HostedService",
    "fetch_metadata",
    "parse_discovery_message",
    "parse_metadata",
    "probe",
    "probe_http",
    "resolve",
]

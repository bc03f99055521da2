"""From the network to a ready scanner: WS-Discovery Probe, Resolve when a match has no
addresses, WS-Transfer Get for the device metadata, then a :class:`ScannerSession` for
the scan service the metadata names.

    for scanner in await discover_scanners(timeout=4):
        async with scanner.session() as session:
            info = await session.info()
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wsdscan import __version__
from wsdscan.runtime.defaults import DISCOVERY_TIMEOUT
from wsdscan.runtime.discovery import (
    SCAN_DEVICE_TYPE,
    Address,
    Announcement,
    DeviceEndpoint,
    DeviceMetadata,
    DiscoveryTarget,
    fetch_metadata,
    probe,
    resolve,
)
from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.server import ASGIApp, PathRouter, ServerLimits
from wsdscan.scanning import ScannerSession

if TYPE_CHECKING:
    from wsdscan.virtual import VirtualScannerConfig

log = logging.getLogger("wsdscan.discovery")


class NoScanService(WsdScanError):
    """The device's metadata names no scan service (``wscn:ScannerServiceType``)."""


@dataclass(frozen=True)
class DiscoveredScanner:
    """A scan device found on the network, with its metadata when it could be read."""

    announcement: Announcement
    metadata: DeviceMetadata | None = None
    error: str | None = None

    @property
    def endpoint(self) -> str:
        return self.announcement.endpoint

    @property
    def name(self) -> str:
        md = self.metadata
        if md is not None and md.friendly_name:
            return md.friendly_name
        return self.endpoint

    @property
    def manufacturer(self) -> str | None:
        return self.metadata.manufacturer if self.metadata else None

    @property
    def model(self) -> str | None:
        return self.metadata.model_name if self.metadata else None

    @property
    def scan_service_url(self) -> str | None:
        """The first address of the first hosted scan service (HTTP preferred)."""
        urls = self.metadata.scan_service_urls if self.metadata else ()
        for url in urls:
            if url.startswith(("http://", "https://")):
                return url
        return None

    def session(self) -> ScannerSession:
        """A :class:`ScannerSession` on the scan service (use with ``async with``)."""
        url = self.scan_service_url
        if url is None:
            raise NoScanService(
                f"{self.name}: no scan service in the device metadata"
                + (f" ({self.error})" if self.error else "")
            )
        return ScannerSession(url)


async def describe_device(
    announcement: Announcement,
    *,
    timeout: float = 10.0,
    interfaces: Sequence[str] | None = None,
    targets: Sequence[Address] = (),
) -> DiscoveredScanner:
    """Fetch the metadata of one discovered device (Resolve first if it sent no
    XAddrs); failures are kept in ``error`` rather than raised."""
    if not announcement.xaddrs:
        resolved = await resolve(
            announcement.endpoint,
            timeout=min(timeout, DISCOVERY_TIMEOUT),
            interfaces=interfaces,
            targets=targets,
        )
        if resolved is None or not resolved.xaddrs:
            return DiscoveredScanner(announcement, error="Resolve got no addresses")
        announcement = resolved
    errors = []
    for xaddr in announcement.xaddrs:
        if not xaddr.startswith(("http://", "https://")):
            continue
        try:
            metadata = await fetch_metadata(
                xaddr, announcement.endpoint, timeout=timeout
            )
        except WsdScanError as exc:
            errors.append(f"{xaddr}: {exc}")
            continue
        return DiscoveredScanner(announcement, metadata)
    return DiscoveredScanner(
        announcement, error="; ".join(errors) or "no HTTP transport address"
    )


async def discover_scanners(
    *,
    timeout: float = DISCOVERY_TIMEOUT,
    interfaces: Sequence[str] | None = None,
    targets: Sequence[Address] = (),
    multicast: bool = True,
    http_fallback: bool = True,
) -> list[DiscoveredScanner]:
    """Probe for ``wscn:ScanDeviceType`` devices for ``timeout`` seconds and read each
    one's metadata. See :func:`wsdscan.runtime.discovery.client.probe` for
    ``interfaces`` (default: every multicast-capable interface), ``targets`` (directed
    UDP probes) and ``http_fallback`` (a target silent on UDP gets a directed Probe over
    HTTP to the stable discovery path, device-quirks.md row 26).

    Only scan devices are listed: one device may answer with a printer record next to
    the scanner one (Lexmark MX310dn, row 24), and that record is dropped without a
    metadata fetch."""
    found = await probe(
        (SCAN_DEVICE_TYPE,),
        timeout=timeout,
        interfaces=interfaces,
        targets=targets,
        multicast=multicast,
        http_fallback=http_fallback,
    )
    # A record whose Types lack the scan device type is not a scanner. A record without
    # Types (optional in WS-Discovery) says nothing about what it is: read its metadata
    # and keep it only if it hosts a scan service.
    wanted = [item for item in found if not item.types or _is_scan_device(item)]
    described = await asyncio.gather(
        *(
            describe_device(item, interfaces=interfaces, targets=targets)
            for item in wanted
        )
    )
    scanners = []
    for item, scanner in zip(wanted, described, strict=True):
        if (
            item.types
            or _is_scan_device(scanner.announcement)
            or _hosts_scanner(scanner)
        ):
            scanners.append(scanner)
        else:
            log.debug("%s: no Types and no scan service, not listed", item.endpoint)
    return scanners


def _is_scan_device(announcement: Announcement) -> bool:
    # has_type matches by namespace URI (the 2006/01 and https:// variants are folded
    # onto the canonical one on receipt) or, for an undeclared prefix, by local name.
    return announcement.has_type(SCAN_DEVICE_TYPE)


def _hosts_scanner(scanner: DiscoveredScanner) -> bool:
    return scanner.metadata is not None and bool(scanner.metadata.scan_services())


def format_scanner(scanner: DiscoveredScanner) -> str:
    """One line: name, model, manufacturer, scan service URL (tab-separated)."""
    return "\t".join(
        [
            scanner.name,
            scanner.model or "-",
            scanner.manufacturer or "-",
            scanner.scan_service_url or f"(no scan service: {scanner.error or '?'})",
        ]
    )


# -- the server side of `wsdscan serve` ----------------------------------------------
def announce_interface(host: str) -> str:
    """The IPv4 address ``serve --announce`` works on: ``--host`` must name one interface
    (multicast goes out of exactly that one, never out of a default route)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"--announce needs --host to be an IPv4 address, not {host!r}"
        ) from None
    if address.version != 4 or address.is_unspecified or address.is_multicast:
        raise ValueError(
            "--announce needs --host set to the IPv4 address of the interface to "
            f"announce on (got {host})"
        )
    return host


def device_endpoint(
    config: VirtualScannerConfig,
    *,
    host: str,
    port: int,
    scan_path: str,
    device_uuid: str | None = None,
) -> DeviceEndpoint:
    """The DPWS device endpoint for a scanner served at ``http://host:port/scan_path``.

    The endpoint address is ``urn:uuid:`` + ``device_uuid``; by default a UUID derived
    from host, port and name, so a restarted server is the same device to Windows."""
    name, manufacturer, model = config.name, config.manufacturer, config.model
    identity = device_uuid or str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"wsdscan:{host}:{port}:{name}")
    )
    url_host = f"[{host}]" if ":" in host else host
    return DeviceEndpoint(
        f"urn:uuid:{uuid.UUID(identity)}",
        DeviceMetadata(
            friendly_name=name,
            manufacturer=manufacturer,
            model_name=model,
            model_number=model,
            firmware_version=__version__,
            serial_number=identity.split("-")[0],
            presentation_url=f"http://{url_host}:{port}/",
        ),
        base_url=f"http://{url_host}:{port}",
        scan_path=scan_path,
    )


def with_device_endpoint(
    app: ASGIApp, device: DeviceEndpoint, limits: ServerLimits | None = None
) -> ASGIApp:
    """``app`` plus the device endpoint paths on the same port (``limits``: those of
    ``app``, for the device endpoint apps)."""
    return PathRouter({**device.apps(limits), "/": app})


@contextlib.asynccontextmanager
async def announcing(
    device: DeviceEndpoint, interface: str | None
) -> AsyncIterator[DiscoveryTarget | None]:
    """Run a WS-Discovery target for ``device`` on ``interface`` (None: do nothing, no
    packet is sent)."""
    if interface is None:
        yield None
        return
    target = DiscoveryTarget(
        device.endpoint,
        types=device.types,
        xaddrs=device.xaddrs(),
        interface=interface,
        metadata_version=device.metadata_version,
    )
    await target.start()
    try:
        yield target
    finally:
        await target.stop()


# -- `wsdscan discover` ---------------------------------------------------------------

"""The WS-Discovery client side: multicast (or directed) Probe and Resolve, collecting
the unicast answers for a while.

Lenient (``shared/notes/device-quirks.md``): several ProbeMatch records per message
(Lexmark MX310dn, row 24), slow responders (Pantum answers after more than 2.5 s, row 25:
the default wait is longer), repeats of one answer (de-duplicated by MessageID, then
merged by endpoint address), and a directed Probe over HTTP to the stable discovery
path for a directed target that does not answer on UDP (row 26).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from typing import Final
from xml.etree.ElementTree import QName

from ..defaults import DISCOVERY_TIMEOUT
from ..errors import ProtocolError, WsdScanError
from ..soap.envelope import new_message_id
from ..transport.soap_client import DEFAULT_USER_AGENT, SoapClient
from .messages import (
    Announcement,
    DiscoveryMessage,
    build_probe,
    build_resolve,
    read_datagram,
    read_discovery_envelope,
)
from .names import (
    DISCOVERY_PORT,
    MULTICAST_GROUP,
    SCAN_DEVICE_TYPE,
    STABLE_PROBE_PATH,
)
from .udp import (
    Address,
    DatagramEndpoint,
    client_socket,
    multicast_ipv4_addresses,
    open_endpoint,
)

log = logging.getLogger("wsdscan.discovery")

#: HTTP port of the directed-probe fallback for a target given without a port (UDP
#: 3702): the stable endpoint is on the device's web port, as sane-airscan and WSD4HA
#: address it (``http://ADDR/StableWSDiscoveryEndpoint/...``).
DEFAULT_HTTP_PROBE_PORT: Final = 80
# Probe repeats (UDP is unreliable), as offsets in seconds from the start.
_REPEATS: Final = (0.0, 0.25, 0.75)


class _Collector:
    def __init__(self, relates_to: str, kind: str) -> None:
        self.relates_to = relates_to
        self.kind = kind
        self.seen: set[str] = set()
        self.found: dict[str, Announcement] = {}
        self.order: list[str] = []
        # Hosts that answered this request (to know which directed targets did not).
        self.answered: set[str] = set()

    def __call__(self, data: bytes, sender: Address) -> None:
        message = read_datagram(data, sender)
        if message is not None and self.add(message):
            self.answered.add(str(sender[0]))

    def add(self, message: DiscoveryMessage) -> bool:
        """Take an answer in; False if it does not answer this request."""
        if message.kind != self.kind or message.relates_to != self.relates_to:
            return False
        if message.message_id:
            if message.message_id in self.seen:
                return True
            self.seen.add(message.message_id)
        self.take(message.matches)
        return True

    def take(self, items: Sequence[Announcement]) -> None:
        for item in items:
            key = item.endpoint.strip().lower()
            known = self.found.get(key)
            if known is None:
                self.found[key] = item
                self.order.append(key)
            else:
                self.found[key] = _merge(known, item)

    def results(self) -> list[Announcement]:
        return [self.found[key] for key in self.order]


def _merge(a: Announcement, b: Announcement) -> Announcement:
    xaddrs = a.xaddrs + tuple(x for x in b.xaddrs if x not in a.xaddrs)
    types = a.types + tuple(t for t in b.types if t not in a.types)
    version = max(a.metadata_version or 0, b.metadata_version or 0) or None
    return Announcement(a.endpoint, types, xaddrs, version, a.scopes or b.scopes)


async def _exchange(
    build: Callable[[str], bytes],
    kind: str,
    *,
    timeout: float,
    interfaces: Sequence[str] | None,
    targets: Sequence[Address],
    multicast: bool,
    stop_after_first: bool = False,
) -> _Collector:
    message_id = new_message_id()
    request = build(message_id)
    collector = _Collector(message_id, kind)
    endpoints: list[tuple[DatagramEndpoint, list[Address]]] = []
    try:
        if multicast:
            addresses = (
                list(interfaces)
                if interfaces is not None
                else multicast_ipv4_addresses()
            )
            if not addresses:
                log.info("no multicast-capable IPv4 interface: multicast skipped")
            for address in addresses:
                endpoint = await open_endpoint(client_socket(address), collector)
                endpoints.append((endpoint, [(MULTICAST_GROUP, DISCOVERY_PORT)]))
        if targets:
            endpoint = await open_endpoint(client_socket(None), collector)
            endpoints.append((endpoint, list(targets)))
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + timeout
        for offset in _REPEATS:
            wait = start + offset - loop.time()
            if wait > 0:
                await asyncio.sleep(min(wait, max(0.0, deadline - loop.time())))
            if loop.time() >= deadline or (stop_after_first and collector.order):
                break
            for endpoint, destinations in endpoints:
                for destination in destinations:
                    with contextlib.suppress(OSError):
                        endpoint.send(request, destination)
        while loop.time() < deadline:
            if stop_after_first and collector.order:
                break
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
    finally:
        for endpoint, _ in endpoints:
            endpoint.close()
    return collector


async def probe(
    types: Sequence[QName] = (SCAN_DEVICE_TYPE,),
    *,
    timeout: float = DISCOVERY_TIMEOUT,
    interfaces: Sequence[str] | None = None,
    targets: Sequence[Address] = (),
    multicast: bool = True,
    http_fallback: bool = False,
) -> list[Announcement]:
    """Probe for target services of ``types`` and return the matches (one per endpoint).

    Multicast goes out of each IPv4 address in ``interfaces`` (default: every up,
    multicast-capable, non-loopback interface); ``targets`` get a directed (unicast)
    Probe as well. Waits ``timeout`` seconds for answers.

    ``http_fallback``: a target that sent no UDP answer then gets a directed Probe over
    HTTP (:func:`http_probe_url`; up to ``timeout`` more seconds), its matches merged
    in."""
    collector = await _exchange(
        lambda message_id: build_probe(types, message_id),
        "ProbeMatches",
        timeout=timeout,
        interfaces=interfaces,
        targets=targets,
        multicast=multicast,
    )
    if http_fallback and targets:
        silent = [t for t in targets if not await _answered(t, collector.answered)]
        found = await asyncio.gather(
            *(_http_fallback(t, types, timeout) for t in silent)
        )
        for matches in found:
            collector.take(matches)
    return collector.results()


def http_probe_url(target: Address) -> str:
    """The stable directed-probe URL of a UDP target: the same host, the target's port
    unless it is the WS-Discovery port (then :data:`DEFAULT_HTTP_PROBE_PORT`)."""
    host, port = target
    if ":" in host:
        host = f"[{host}]"
    port = DEFAULT_HTTP_PROBE_PORT if port == DISCOVERY_PORT else port
    return f"http://{host}:{port}{STABLE_PROBE_PATH}"


async def _answered(target: Address, senders: set[str]) -> bool:
    host = target[0]
    if host in senders:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return False
    # A host name: compare its addresses (a multi-homed device answering from another
    # address only costs one HTTP Probe, merged by endpoint).
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, None, family=socket.AF_INET, type=socket.SOCK_DGRAM
        )
    except OSError:
        return False
    return any(str(info[4][0]) in senders for info in infos)


async def _http_fallback(
    target: Address, types: Sequence[QName], timeout: float
) -> list[Announcement]:
    url = http_probe_url(target)
    try:
        return await probe_http(url, types, timeout=timeout)
    except WsdScanError as exc:
        log.info("no UDP answer from %s, and HTTP Probe failed: %s", target[0], exc)
        return []


async def resolve(
    endpoint: str,
    *,
    timeout: float = DISCOVERY_TIMEOUT,
    interfaces: Sequence[str] | None = None,
    targets: Sequence[Address] = (),
    multicast: bool = True,
) -> Announcement | None:
    """Resolve an endpoint address (``urn:uuid:...``) to its transport addresses."""
    collector = await _exchange(
        lambda message_id: build_resolve(endpoint, message_id),
        "ResolveMatches",
        timeout=timeout,
        interfaces=interfaces,
        targets=targets,
        multicast=multicast,
        stop_after_first=True,
    )
    found = collector.results()
    return found[0] if found else None


async def probe_http(
    url: str,
    types: Sequence[QName] = (SCAN_DEVICE_TYPE,),
    *,
    timeout: float = 10.0,
    user_agent: str = DEFAULT_USER_AGENT,
) -> list[Announcement]:
    """A directed Probe over HTTP (POST to a device's discovery or device endpoint)."""
    name = "directed Probe"
    async with SoapClient(timeout=timeout, user_agent=user_agent) as client:
        envelope = await client.post(
            url, build_probe(types, new_message_id()), name=name
        )
    message = read_discovery_envelope(envelope)
    if message.kind != "ProbeMatches":
        raise ProtocolError(f"directed Probe to {url}: got {message.kind}")
    collector = _Collector(message.relates_to or "", "ProbeMatches")
    collector.add(message)
    return collector.results()

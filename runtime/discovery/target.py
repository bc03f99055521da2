"""A WS-Discovery target service: Hello on start, Bye on stop, ProbeMatches and
ResolveMatches answers (unicast, to the sender), on UDP 3702 of one IPv4 interface.

It only sends multicast when started: nothing here runs unless a caller (``wsdscan serve
--announce``) asks for it. Repeated requests (wsdd sends every Probe four times with the
same MessageID, interop.md pitfall 12) are answered once.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Final
from xml.etree.ElementTree import QName

from lxml import etree

from .messages import (
    Announcement,
    DiscoveryMessage,
    app_sequence_element,
    build_bye,
    build_hello,
    build_probe_matches,
    build_resolve_matches,
    read_datagram,
)
from .names import DISCOVERY_PORT, MULTICAST_GROUP
from .udp import Address, DatagramEndpoint, open_endpoint, target_socket

log = logging.getLogger("wsdscan.discovery")

_SEEN_LIMIT: Final = 512


def probe_matches(announcement: Announcement, message: DiscoveryMessage) -> bool:
    """Does a Probe match this target? Every wanted type must be one of ours; a Probe
    with Scopes matches only a target that has them (ours has none)."""
    if message.probe_scopes and not set(message.probe_scopes) <= set(
        announcement.scopes
    ):
        return False
    return all(announcement.has_type(wanted) for wanted in message.probe_types)


class AppSequencer:
    """AppSequence values: InstanceId fixed per start, MessageNumber counting up."""

    def __init__(self, instance_id: int | None = None) -> None:
        self.instance_id = instance_id if instance_id is not None else int(time.time())
        self._numbers = itertools.count(1)

    def next(self) -> etree._Element:
        return app_sequence_element(self.instance_id, next(self._numbers))


class DiscoveryTarget:
    """Announce one device endpoint and answer Probe/Resolve for it.

    ``interface`` is the IPv4 address of the interface to work on. ``join_multicast``
    False binds ``interface:port`` for unicast only and sends Hello/Bye to
    ``announce_to`` (tests on 127.0.0.1 use this; the default is the multicast group).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        types: Sequence[QName],
        xaddrs: Callable[[], Sequence[str]] | Sequence[str],
        interface: str,
        metadata_version: int = 1,
        port: int = DISCOVERY_PORT,
        join_multicast: bool = True,
        announce_to: Address | None = None,
        instance_id: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.types = tuple(types)
        self._xaddrs = xaddrs
        self.interface = interface
        self.metadata_version = metadata_version
        self.port = port
        self.join_multicast = join_multicast
        self.announce_to = announce_to or (MULTICAST_GROUP, DISCOVERY_PORT)
        self.sequence = AppSequencer(instance_id)
        self._endpoint: DatagramEndpoint | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.answered = 0

    @property
    def address(self) -> Address:
        """Where the target listens (the bound port, after start)."""
        if self._endpoint is None or self._endpoint.transport is None:
            raise RuntimeError("the discovery target is not started")
        host, port = self._endpoint.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def announcement(self) -> Announcement:
        xaddrs = self._xaddrs() if callable(self._xaddrs) else self._xaddrs
        return Announcement(
            endpoint=self.endpoint,
            types=self.types,
            xaddrs=tuple(xaddrs),
            metadata_version=self.metadata_version,
        )

    async def start(self) -> None:
        """Open the socket and send Hello."""
        sock = target_socket(self.interface, port=self.port, join=self.join_multicast)
        self._endpoint = await open_endpoint(sock, self._received)
        self._endpoint.send(
            build_hello(self.announcement(), self.sequence.next()), self.announce_to
        )

    async def stop(self) -> None:
        """Send Bye and close the socket (idempotent)."""
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is None:
            return
        try:
            endpoint.send(
                build_bye(self.endpoint, self.sequence.next()), self.announce_to
            )
        except OSError as exc:  # pragma: no cover - interface gone
            log.debug("could not send Bye: %s", exc)
        endpoint.close()

    async def __aenter__(self) -> DiscoveryTarget:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def answer(self, message: DiscoveryMessage) -> bytes | None:
        """The reply to a received Probe or Resolve, or None (no match, not a request,
        or a repeat of a request already answered)."""
        if message.kind not in ("Probe", "Resolve"):
            return None
        if message.message_id:
            if message.message_id in self._seen:
                return None
            self._seen[message.message_id] = None
            while len(self._seen) > _SEEN_LIMIT:
                self._seen.popitem(last=False)
        relates_to = message.message_id or ""
        announcement = self.announcement()
        if message.kind == "Probe":
            if not probe_matches(announcement, message):
                return None
            return build_probe_matches([announcement], relates_to, self.sequence.next())
        if not _same_endpoint(message.resolve_address or "", self.endpoint):
            return None
        return build_resolve_matches(announcement, relates_to, self.sequence.next())

    def _received(self, data: bytes, sender: Address) -> None:
        try:
            message = read_datagram(data, sender)
        except Exception:  # a bad datagram must never stop the target
            log.exception("unexpected error reading a datagram from %s", sender)
            return
        if message is None:
            return
        reply = self.answer(message)
        if reply is not None and self._endpoint is not None:
            self._endpoint.send(reply, sender)
            self.answered += 1


def _same_endpoint(a: str, b: str) -> bool:
    """Endpoint addresses compare equal ignoring case and a ``urn:``/``uuid:`` spelling
    difference (Kyocera sends ``uuid:...``)."""
    return _normal(a) == _normal(b)


def _normal(address: str) -> str:
    text = address.strip().lower()
    return text.removeprefix("urn:")

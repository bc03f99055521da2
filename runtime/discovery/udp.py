"""UDP sockets for WS-Discovery (IPv4): the target's socket on port 3702 joined to the
multicast group on one interface, a client's socket for probing, and the list of
multicast-capable interfaces (where a client probes when none is named)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import socket
import struct
from collections.abc import Callable
from typing import Final, cast

from .names import DISCOVERY_PORT, MULTICAST_GROUP

Address = tuple[str, int]


def _multicast_options(sock: socket.socket, interface: str) -> None:
    sock.setsockopt(
        socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface)
    )
    # Link-local only (the WS-Discovery multicast TTL is 1), never echoed back to us.
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)


def _udp_socket(setup: Callable[[socket.socket], None]) -> socket.socket:
    """A non-blocking IPv4 UDP socket, configured by ``setup`` (closed if that fails)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        setup(sock)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def target_socket(
    interface: str,
    *,
    port: int = DISCOVERY_PORT,
    group: str = MULTICAST_GROUP,
    join: bool = True,
) -> socket.socket:
    """A socket receiving discovery messages for ``interface`` (an IPv4 address).

    ``join=True``: bound to the wildcard address on ``port`` and joined to ``group`` on
    that interface only (multicast goes out that interface, TTL 1). ``join=False``:
    bound to ``interface:port`` for unicast only (port 0 picks one; used in tests)."""

    def setup(sock: socket.socket) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if join:
            sock.bind(("", port))
            membership = socket.inet_aton(group) + socket.inet_aton(interface)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        else:
            sock.bind((interface, port))
        _multicast_options(sock, interface)

    return _udp_socket(setup)


def client_socket(interface: str | None) -> socket.socket:
    """A socket for sending probes (multicast out of ``interface`` when given) and
    receiving the unicast answers on an ephemeral port."""

    def setup(sock: socket.socket) -> None:
        sock.bind((interface or "", 0))
        if interface:
            _multicast_options(sock, interface)

    return _udp_socket(setup)


class DatagramEndpoint(asyncio.DatagramProtocol):
    """Hands every datagram to ``on_datagram``; errors (ICMP unreachable) are ignored."""

    def __init__(self, on_datagram: Callable[[bytes, Address], None]) -> None:
        self.on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.on_datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:  # pragma: no cover - ICMP noise
        pass

    def send(self, data: bytes, address: Address) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, address)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_endpoint(
    sock: socket.socket, on_datagram: Callable[[bytes, Address], None]
) -> DatagramEndpoint:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: DatagramEndpoint(on_datagram), sock=sock
    )
    return protocol


_SIOCGIFFLAGS: Final = 0x8913
_SIOCGIFADDR: Final = 0x8915
_IFF_UP: Final = 0x1
_IFF_LOOPBACK: Final = 0x8
_IFF_MULTICAST: Final = 0x1000


def multicast_ipv4_addresses() -> list[str]:
    """One IPv4 address per up, multicast-capable, non-loopback interface (Linux ioctls;
    an empty list where they are not available)."""
    addresses: list[str] = []
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return addresses
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in names:
            request = struct.pack("256s", name.encode()[:15])
            with contextlib.suppress(OSError):
                flags = struct.unpack(
                    "H", fcntl.ioctl(sock.fileno(), _SIOCGIFFLAGS, request)[16:18]
                )[0]
                if not flags & _IFF_UP or flags & _IFF_LOOPBACK:
                    continue
                if not flags & _IFF_MULTICAST:
                    continue
                raw = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, request)
                addresses.append(socket.inet_ntoa(raw[20:24]))
    return addresses

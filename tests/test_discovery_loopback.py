"""Discovery target, client and device endpoint over real sockets on 127.0.0.1
(directed UDP probes; multicast needs the namespaces of test_discovery_netns.py)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import QName

import httpx
import pytest
from wsdscan.runtime.discovery import client as discovery_client
from wsdscan.runtime.discovery.client import (
    DISCOVERY_TIMEOUT,
    http_probe_url,
    probe,
    probe_http,
    resolve,
)
from wsdscan.runtime.discovery.messages import (
    Announcement,
    app_sequence_element,
    build_probe,
    build_probe_matches,
    parse_discovery_message,
)
from wsdscan.runtime.discovery.metadata import fetch_metadata, parse_metadata
from wsdscan.runtime.discovery.metadata_host import DEVICE_PATH
from wsdscan.runtime.discovery.names import (
    DEVICE_TYPE,
    PNPX,
    SCAN_DEVICE_TYPE,
    STABLE_PROBE_PATH,
    TRANSFER_GET,
)
from wsdscan.runtime.discovery.target import DiscoveryTarget
from wsdscan.runtime.server import ASGIApp, RunningServer, SoapApp, running
from wsdscan.runtime.soap.envelope import ANONYMOUS, build_envelope, parse_envelope
from wsdscan.runtime.xmlbind import WSCN_2006_01

from wsdscan.discover import (
    DiscoveredScanner,
    describe_device,
    device_endpoint,
    discover_scanners,
    with_device_endpoint,
)
from wsdscan.scanning import PageNamer
from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

ENDPOINT = "urn:uuid:0b5a51ad-0000-4000-8000-000000000001"
PRINTER = QName(
    "http://schemas.microsoft.com/windows/2006/08/wdp/print", "PrintDeviceType"
)


def _udp_listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


def _target(xaddrs: list[str], announce_to: tuple[str, int]) -> DiscoveryTarget:
    return DiscoveryTarget(
        ENDPOINT,
        types=(DEVICE_TYPE, SCAN_DEVICE_TYPE),
        xaddrs=xaddrs,
        interface="127.0.0.1",
        port=0,
        join_multicast=False,
        announce_to=announce_to,
    )


async def test_target_hello_probe_resolve_bye() -> None:
    listener = _udp_listener()
    try:
        target = _target(["http://127.0.0.1:1/WSD/Device"], listener.getsockname())
        async with target:
            hello = parse_discovery_message(listener.recv(65535))
            found = await probe(timeout=1.0, multicast=False, targets=[target.address])
            resolved = await resolve(
                ENDPOINT, timeout=1.0, multicast=False, targets=[target.address]
            )
            nothing = await probe(
                [PRINTER], timeout=0.5, multicast=False, targets=[target.address]
            )
        bye = parse_discovery_message(listener.recv(65535))
    finally:
        listener.close()
    assert hello.kind == "Hello" and hello.matches[0].endpoint == ENDPOINT
    assert hello.matches[0].types == (DEVICE_TYPE, SCAN_DEVICE_TYPE)
    assert hello.app_sequence is not None and hello.app_sequence.message_number == 1
    assert [a.endpoint for a in found] == [ENDPOINT]
    assert found[0].xaddrs == ("http://127.0.0.1:1/WSD/Device",)
    assert found[0].metadata_version == 1
    assert resolved is not None and resolved.xaddrs == found[0].xaddrs
    assert nothing == []  # a printer probe does not match a scanner
    assert bye.kind == "Bye" and bye.matches[0].endpoint == ENDPOINT
    assert bye.app_sequence is not None
    assert bye.app_sequence.instance_id == hello.app_sequence.instance_id
    assert bye.app_sequence.message_number > hello.app_sequence.message_number


async def test_target_answers_a_repeated_probe_once_and_survives_garbage() -> None:
    listener = _udp_listener()
    asker = _udp_listener()
    try:
        async with _target(["http://127.0.0.1:1/x"], listener.getsockname()) as target:
            for junk in (b"", b"not xml", b"<a/>", b"<!DOCTYPE x []><x/>" * 10):
                asker.sendto(junk, target.address)
            request = build_probe([DEVICE_TYPE], "urn:uuid:same-id")
            for _ in range(4):  # wsdd sends each Probe four times
                asker.sendto(request, target.address)
            # Receive in a thread: the target runs in this event loop.
            reply = parse_discovery_message(await asyncio.to_thread(asker.recv, 65535))
            asker.settimeout(0.5)
            with pytest.raises(TimeoutError):
                await asyncio.to_thread(asker.recv, 65535)
            assert target.answered == 1
            # Still answering after the junk.
            again = await probe(timeout=0.5, multicast=False, targets=[target.address])
    finally:
        listener.close()
        asker.close()
    assert reply.kind == "ProbeMatches" and reply.relates_to == "urn:uuid:same-id"
    assert [a.endpoint for a in again] == [ENDPOINT]


LEXMARK_RECORDS = (
    Announcement("urn:uuid:printer", (DEVICE_TYPE, PRINTER), ("http://p/",), 3),
    Announcement("uuid:scanner", (DEVICE_TYPE, SCAN_DEVICE_TYPE), ("http://s/",), 2),
)


class _FakeDevice(asyncio.DatagramProtocol):
    """Answers every Probe after ``delay`` seconds with one message holding several
    ProbeMatch records (default: printer + scanner, as Lexmark MX310dn), sent twice."""

    def __init__(
        self, delay: float, records: tuple[Announcement, ...] = LEXMARK_RECORDS
    ) -> None:
        self.delay = delay
        self.records = records
        self.probes = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = parse_discovery_message(data)
        self.probes += 1
        asyncio.get_running_loop().call_later(self.delay, self._answer, message, addr)

    def _answer(self, message, addr) -> None:  # type: ignore[no-untyped-def]
        reply = build_probe_matches(
            self.records, message.message_id, app_sequence_element(7, 1)
        )
        assert self.transport is not None
        self.transport.sendto(reply, addr)
        self.transport.sendto(reply, addr)  # same MessageID: de-duplicated


async def test_client_reads_two_records_from_a_slow_responder() -> None:
    """Pantum answers after more than 2.5 s (device-quirks.md row 25): the default
    wait still hears a reply that comes 2.7 s after the first Probe."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _FakeDevice(delay=2.7), local_addr=("127.0.0.1", 0)
    )
    try:
        address = transport.get_extra_info("sockname")
        started = time.monotonic()
        # Both at once (each has its own MessageID): the test takes one default wait.
        found, too_early = await asyncio.gather(
            probe([DEVICE_TYPE], multicast=False, targets=[address]),
            # A 2 s wait (sane-airscan waits 2.5 s) misses it.
            probe([DEVICE_TYPE], timeout=2.0, multicast=False, targets=[address]),
        )
        elapsed = time.monotonic() - started
    finally:
        transport.close()
    assert DISCOVERY_TIMEOUT > 2.7 and elapsed < DISCOVERY_TIMEOUT + 1.0
    assert [(a.endpoint, a.metadata_version) for a in found] == [
        ("urn:uuid:printer", 3),
        ("uuid:scanner", 2),
    ]
    assert [a.has_type(SCAN_DEVICE_TYPE) for a in found] == [False, True]
    assert too_early == []


@pytest.fixture
async def served() -> object:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=0))
    app = SoapApp(scanner)
    # The port is known only once bound: build the device endpoint for port 0 first,
    # the addresses it hands out come from the Host header of each request.
    device = device_endpoint(
        scanner.config, host="127.0.0.1", port=0, scan_path="/WSDScanner"
    )
    async with running(with_device_endpoint(app, device)) as server:
        yield server, device


async def test_metadata_get_and_directed_http_probe(served: object) -> None:
    server, device = served  # type: ignore[misc]
    url = server.url(DEVICE_PATH)
    metadata = await fetch_metadata(url, device.endpoint)
    assert metadata.friendly_name == "wsdscan Virtual Scanner"
    assert metadata.manufacturer == "wsdscan"
    assert metadata.model_name == "Virtual Scanner"
    assert metadata.scan_service_urls == (server.url("/WSDScanner"),)
    assert metadata.host is not None and metadata.host.addresses == (device.endpoint,)
    for path in (DEVICE_PATH, STABLE_PROBE_PATH):
        (match,) = await probe_http(server.url(path))
        assert match.endpoint == device.endpoint
        assert match.xaddrs == (url,)
    assert await probe_http(url, [PRINTER]) == []


async def test_transfer_get_like_sane_airscan_sends_it(served: object) -> None:
    """Empty Body, wsa:To = the device urn, Content-Type with charset, no User-Agent."""
    server, device = served  # type: ignore[misc]
    request = build_envelope(
        None, action=TRANSFER_GET, to=device.endpoint, reply_to=ANONYMOUS
    )
    async with httpx.AsyncClient() as client:
        response = await client.post(
            server.url(DEVICE_PATH),
            content=request,
            headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        )
    assert response.status_code == 200
    text = response.text
    assert "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse" in text
    assert "ScannerServiceType</wsdp:Types>" in text
    assert f"<wsa:Address>{server.url('/WSDScanner')}</wsa:Address>" in text
    # The scan service is still where it was.
    async with httpx.AsyncClient() as client:
        wrong = await client.post(server.url("/WSD/Devicex"), content=request)
    assert wrong.status_code == 404


async def test_discovered_device_to_a_scan(served: object, tmp_path: Path) -> None:
    server, device = served  # type: ignore[misc]
    announcement = Announcement(
        device.endpoint, device.types, (server.url(DEVICE_PATH),), 1
    )
    scanner = await describe_device(announcement)
    assert scanner.error is None
    assert (scanner.name, scanner.model, scanner.manufacturer) == (
        "wsdscan Virtual Scanner",
        "Virtual Scanner",
        "wsdscan",
    )
    async with scanner.session() as session:
        pages = await session.scan(
            PageNamer(tmp_path / "page.png"), resolution=75, color="Grayscale8"
        )
    assert len(pages) == 1 and pages[0].read_bytes()[:4] == b"\x89PNG"


async def test_unreachable_device_is_reported_not_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    announcement = Announcement(
        ENDPOINT, (SCAN_DEVICE_TYPE,), (f"http://127.0.0.1:{port}/d",)
    )
    scanner = await describe_device(announcement, timeout=2)
    assert isinstance(scanner, DiscoveredScanner) and scanner.metadata is None
    assert scanner.error and f"127.0.0.1:{port}" in scanner.error
    with pytest.raises(Exception, match="no scan service"):
        scanner.session()


async def test_discover_scanners_by_directed_udp_probe(served: object) -> None:
    server, device = served  # type: ignore[misc]
    target = _target([server.url(DEVICE_PATH)], ("127.0.0.1", 9))
    target.endpoint = device.endpoint
    async with target:
        found = await discover_scanners(
            timeout=1.0, multicast=False, targets=[target.address]
        )
    assert [(s.name, s.scan_service_url) for s in found] == [
        ("wsdscan Virtual Scanner", server.url("/WSDScanner"))
    ]


async def test_discover_scanners_by_directed_udp_probe_sends_no_http_probe(
    served: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target that answers on UDP gets no HTTP fallback probe."""
    server, device = served  # type: ignore[misc]
    calls: list[str] = []

    async def recording(url: str, *args: Any, **kwargs: Any) -> list[Announcement]:
        calls.append(url)
        return await probe_http(url, *args, **kwargs)

    monkeypatch.setattr(discovery_client, "probe_http", recording)
    target = _target([server.url(DEVICE_PATH)], ("127.0.0.1", 9))
    target.endpoint = device.endpoint
    async with target:
        found = await discover_scanners(
            timeout=1.0, multicast=False, targets=[target.address]
        )
    assert [s.endpoint for s in found] == [device.endpoint]
    assert calls == []


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[RunningServer, Any, list[str]]]:
    """The served device endpoint, with the path of every HTTP request recorded."""
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=0))
    device = device_endpoint(
        scanner.config, host="127.0.0.1", port=0, scan_path="/WSDScanner"
    )
    inner = with_device_endpoint(SoapApp(scanner), device)
    paths: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            paths.append(scope["path"])
        await inner(scope, receive, send)

    recording: ASGIApp = app
    async with running(recording) as server:
        yield server, device, paths


async def test_discover_scanners_lists_only_scan_devices(
    recorded: tuple[RunningServer, Any, list[str]],
) -> None:
    """Lexmark-style reply (device-quirks.md row 24): a printer record next to the
    scanner record is neither fetched nor listed; a record without Types is listed only
    when its metadata hosts a scan service."""
    server, device, paths = recorded
    records = (
        Announcement(
            "urn:uuid:printer", (DEVICE_TYPE, PRINTER), (server.url("/printer"),), 1
        ),
        # The scan type in the 2006/01 namespace variant (folded on receipt).
        Announcement(
            device.endpoint,
            (DEVICE_TYPE, QName(WSCN_2006_01, "ScanDeviceType")),
            (server.url(DEVICE_PATH),),
            1,
        ),
        Announcement("urn:uuid:bare-scanner", (), (server.url(DEVICE_PATH),), 1),
        Announcement("urn:uuid:bare-other", (), (server.url("/other"),), 1),
    )
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _FakeDevice(delay=0.0, records=records), local_addr=("127.0.0.1", 0)
    )
    try:
        found = await discover_scanners(
            timeout=0.5,
            multicast=False,
            targets=[transport.get_extra_info("sockname")],
        )
    finally:
        transport.close()
    assert [(s.endpoint, s.scan_service_url) for s in found] == [
        (device.endpoint, server.url("/WSDScanner")),
        ("urn:uuid:bare-scanner", server.url("/WSDScanner")),
    ]
    assert "/printer" not in paths  # no metadata fetch for the printer record
    assert paths.count("/other") == 1  # the bare record was looked at, then dropped
    assert STABLE_PROBE_PATH not in paths


async def test_discover_scanners_falls_back_to_an_http_probe(
    recorded: tuple[RunningServer, Any, list[str]],
) -> None:
    """A device endpoint that does not listen on UDP (device-quirks.md row 26): the
    directed UDP Probe to HOST:PORT gets no answer, the HTTP Probe to the stable path
    on the same port finds it."""
    server, device, paths = recorded
    address = ("127.0.0.1", server.port)
    assert http_probe_url(address) == server.url(STABLE_PROBE_PATH)
    assert http_probe_url(("192.0.2.7", 3702)) == (
        f"http://192.0.2.7:80{STABLE_PROBE_PATH}"
    )
    without = await discover_scanners(
        timeout=0.5, multicast=False, targets=[address], http_fallback=False
    )
    assert without == [] and paths == []
    found = await discover_scanners(timeout=0.5, multicast=False, targets=[address])
    assert [(s.endpoint, s.name, s.scan_service_url) for s in found] == [
        (device.endpoint, "wsdscan Virtual Scanner", server.url("/WSDScanner"))
    ]
    assert paths == [STABLE_PROBE_PATH, DEVICE_PATH]


async def test_served_metadata_carries_pnpx_entries(served: object) -> None:
    """PnP-X entries as the Kyocera M2040dn sends them (shared/corpus): DeviceCategory
    in ThisModel, CompatibleId and HardwareId on the hosted scan service."""
    server, device = served  # type: ignore[misc]
    request = build_envelope(
        None, action=TRANSFER_GET, to=device.endpoint, reply_to=ANONYMOUS
    )
    async with httpx.AsyncClient() as client:
        response = await client.post(
            server.url(DEVICE_PATH),
            content=request,
            headers={"Content-Type": "application/soap+xml"},
        )
    assert response.status_code == 200
    text = response.text
    assert f'xmlns:pnpx="{PNPX}"' in text
    assert (
        "<pnpx:DeviceCategory>Scanners</pnpx:DeviceCategory></wsdp:ThisModel>" in text
    )
    scan_type = (
        "http://schemas.microsoft.com/windows/2006/08/wdp/scan/ScannerServiceType"
    )
    assert (
        f"<pnpx:CompatibleId>{scan_type}</pnpx:CompatibleId>"
        "<pnpx:HardwareId>VEN_wsdscan&amp;DEV_Virtual_Scanner</pnpx:HardwareId>"
        "</wsdp:Hosted>"
    ) in text
    body = parse_envelope(response.content).body
    assert body is not None
    metadata = parse_metadata(body)
    assert metadata.device_category == "Scanners"
    (scan,) = metadata.scan_services()
    assert scan.addresses == (server.url("/WSDScanner"),)
    assert scan.compatible_ids == (scan_type,)
    assert scan.hardware_ids == ("VEN_wsdscan&DEV_Virtual_Scanner",)
    # The client path reads the same.
    fetched = await fetch_metadata(server.url(DEVICE_PATH), device.endpoint)
    assert fetched == metadata

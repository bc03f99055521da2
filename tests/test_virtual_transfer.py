"""The virtual scanner's image transfers over real sockets on 127.0.0.1: a job stays
alive while a slow client reads, a client that stops reading is dropped after the
write timeout (the job Aborted, ImageTransferError), a job renders one page at a time,
and a failed transfer is published as the job's one end state.

Pages are 300 dpi RGB24 PNGs at compression level 0 (~27-32 MB), and the raw clients
use a small receive buffer: far more than the socket buffers hold, so a transfer is
still running while the client does not read.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from xml.etree.ElementTree import QName

import pytest
from job_support import scan_ticket
from PIL import Image
from test_eventing import Recorder
from wsdscan.generated import EVENT_ROUTES, ScannerServiceClient, routes
from wsdscan.generated.models import scan
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.runtime import soap
from wsdscan.runtime.eventing import EventReceiver
from wsdscan.runtime.server import ServerLimits, SoapApp, running
from wsdscan.runtime.soap.envelope import ANONYMOUS, build_envelope
from wsdscan.runtime.transport import HttpTransport
from wsdscan.runtime.xmlbind import to_element

from wsdscan.press import serve_eventing
from wsdscan.virtual import (
    PageMarker,
    VirtualScanner,
    VirtualScannerConfig,
    pagecache,
    read_marker,
)

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
PATH = "/WSDScanner"
#: Smallest response that cannot fit in the socket buffers (kernel send buffer
#: autotuning stops at 4 MB here; the client's receive buffer is 64 KiB).
BIG = 20 * 1024 * 1024
CLIENT_RCVBUF = 64 * 1024


def _value(item: object) -> str:
    return str(getattr(item, "value", item))


async def _job_state(
    client: ScannerServiceClient, job_id: int
) -> tuple[str, list[str], int]:
    reply = await client.get_job_elements(
        job_id=job_id,
        requested_elements=scan.RequestedElements(name=[QName(SCAN_NS, "JobStatus")]),
    )
    status = reply.job_elements.element_data[0].job_status
    assert status is not None and status.job_state_reasons is not None
    reasons = [_value(r) for r in status.job_state_reasons.job_state_reason]
    return _value(status.job_state), reasons, status.scans_completed


async def _eventually(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str
) -> float:
    """Poll ``check`` until it is true; the seconds it took."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < timeout, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


class RawClient:
    """An HTTP/1.1 connection that sends RetrieveImage and reads (or not) the answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Small and fixed (no autotuning): the page cannot be sent ahead into it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        return cls(*await asyncio.open_connection(sock=sock))

    async def retrieve(
        self, url: str, job: scan.CreateScanJobResponse, name: str
    ) -> int:
        """Send RetrieveImage; wait for the response head; its Content-Length."""
        soap = build_envelope(
            to_element(
                scan.RetrieveImageRequest(
                    job_id=job.job_id,
                    job_token=job.job_token,
                    document_description=scan.DocumentDescription(document_name=name),
                )
            ),
            action=routes.RETRIEVE_IMAGE.action,
            to=url,
            reply_to=ANONYMOUS,
        )
        self.writer.write(
            b"POST /WSDScanner HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/soap+xml; charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n" % len(soap) + soap
        )
        await self.writer.drain()
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 30)
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 200"), head
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        return int(headers["content-length"])

    async def read_body(self, length: int) -> int:
        """Read up to ``length`` bytes; fewer if the server drops the connection."""
        got = 0
        with contextlib.suppress(ConnectionResetError):
            while got < length:
                chunk = await asyncio.wait_for(self.reader.read(1 << 20), 10)
                if not chunk:
                    break
                got += len(chunk)
        return got

    def reset(self) -> None:
        """Go away at once (RST), as a client that gives up does."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    def close(self) -> None:
        self.writer.transport.abort()


# --- a slow reader does not time its job out (item: in flight until sent) -----------


async def test_a_transfer_slower_than_the_job_timeout_keeps_the_job() -> None:
    config = VirtualScannerConfig(
        adf_sheets=2, duplex=False, png_compress_level=0, job_timeout=0.3
    )
    async with running(SoapApp(VirtualScanner(config), path=PATH)) as srv:
        url = srv.url(PATH)
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            job = await client.create_scan_job(
                scan_ticket=await scan_ticket(client, source="ADF", dpi=300)
            )
            raw = await RawClient.connect(srv.port)
            try:
                length = await raw.retrieve(url, job, "p1")
                assert length > BIG
                # The client reads nothing for longer than the job timeout (a slow
                # reader); meanwhile another request runs the timeout check.
                await asyncio.sleep(1.0)
                active = await client.get_active_jobs()
                assert [s.job_id for s in active.active_jobs.job_summary] == [
                    job.job_id
                ]
                assert (await _job_state(client, job.job_id))[:2] == (
                    "Processing",
                    ["JobScanningAndTransferring"],
                )
                assert await raw.read_body(length) == length
                # Right after a transfer that took longer than the job timeout, the
                # next page is still the job's (its idle time counts from the end).
                length = await raw.retrieve(url, job, "p2")
                assert await raw.read_body(length) == length
            finally:
                raw.close()
            with pytest.raises(scan_faults.ClientErrorNoImagesAvailable):
                await client.retrieve_image(
                    job_id=job.job_id,
                    job_token=job.job_token,
                    document_description=scan.DocumentDescription(document_name="p3"),
                )
            assert await _job_state(client, job.job_id) == ("Completed", ["None"], 2)


# --- a client that stops reading (item: write deadline) -----------------------------


@pytest.mark.parametrize("deadline", ["serve", "app"])
async def test_a_client_that_stops_reading_is_dropped_and_its_job_aborted(
    deadline: str,
) -> None:
    """Each deadline alone is short. ``serve``: the connection's (``serve``) drops the
    client, the app sees a disconnect; ``app``: the app's own (as under another ASGI
    server) gives up on the response."""
    short, long = 0.5, 60.0
    scanner = VirtualScanner(VirtualScannerConfig(png_compress_level=0))
    limits = ServerLimits(write_timeout=short if deadline == "app" else long)
    app = SoapApp(scanner, path=PATH, limits=limits)
    server = running(app, write_timeout=short if deadline == "serve" else long)
    srv = await server.__aenter__()
    try:
        url = srv.url(PATH)
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            job = await client.create_scan_job(
                scan_ticket=await scan_ticket(client, source="Platen", dpi=300)
            )
            raw = await RawClient.connect(srv.port)
            try:
                length = await raw.retrieve(url, job, "p1")
                assert length > BIG

                # Never read: within the write timeout (and some slack) the job ends.
                async def aborted() -> bool:
                    state = await _job_state(client, job.job_id)
                    return state[0] != "Processing"

                took = await _eventually(aborted, 5.0, "job aborted")
                assert took < 3.0
                assert await _job_state(client, job.job_id) == (
                    "Aborted",
                    ["ImageTransferError"],
                    0,
                )
                active = await client.get_active_jobs()
                assert active.active_jobs.job_summary == []
                if deadline == "serve":
                    # The server dropped the connection: the body ends short.
                    assert await raw.read_body(length) < length
            finally:
                raw.close()
            # The scanner is free and serves a complete scan.
            small = await client.create_scan_job(
                scan_ticket=await scan_ticket(client, source="Platen")
            )
            page = await client.retrieve_image(
                job_id=small.job_id,
                job_token=small.job_token,
                document_description=scan.DocumentDescription(document_name="p"),
            )
            assert (await page.read()).startswith(b"\x89PNG")
    finally:
        # Nothing is left to wait for: stopping is prompt.
        start = time.monotonic()
        await asyncio.wait_for(server.__aexit__(None, None, None), 10)
    assert time.monotonic() - start < 1.5


# --- concurrent RetrieveImage on one job (item: one render at a time) ---------------


class RenderProbe:
    """Wraps the page renderer (it runs in worker threads) to count renders and the
    most running at once."""

    def __init__(self, render: Callable[..., bytes]) -> None:
        self.render = render
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.calls = 0

    def __call__(self, *args: object) -> bytes:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.1)  # long enough for concurrent renders to overlap
            return self.render(*args)
        finally:
            with self.lock:
                self.running -= 1


async def test_concurrent_retrievals_on_one_job_render_one_page_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    probe = RenderProbe(pagecache.produce_image)
    monkeypatch.setattr(pagecache, "produce_image", probe)
    config = VirtualScannerConfig(adf_sheets=4, duplex=False)
    async with running(SoapApp(VirtualScanner(config), path=PATH)) as srv:
        url = srv.url(PATH)
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            job = await client.create_scan_job(
                scan_ticket=await scan_ticket(client, source="ADF")
            )

            async def one(n: int) -> bytes | str:
                try:
                    page = await client.retrieve_image(
                        job_id=job.job_id,
                        job_token=job.job_token,
                        document_description=scan.DocumentDescription(
                            document_name=f"p{n}"
                        ),
                    )
                    return await page.read()
                except soap.SoapFault as fault:
                    return type(fault).__name__

            results = await asyncio.gather(*(one(n) for n in range(6)))
            assert await _job_state(client, job.job_id) == ("Completed", ["None"], 4)
    pages = [r for r in results if isinstance(r, bytes)]
    assert (
        sorted(r for r in results if isinstance(r, str))
        == ["ClientErrorNoImagesAvailable"] * 2
    )
    markers = {_marker(page) for page in pages}
    assert markers == {PageMarker(n, "front") for n in range(1, 5)}
    assert probe.calls == 4
    assert probe.most == 1


def _marker(data: bytes) -> PageMarker | None:
    with Image.open(io.BytesIO(data)) as image:
        return read_marker(image)


# --- events of a failed transfer (item: one end state, the right one) ----------------


@contextlib.asynccontextmanager
async def _scanner_with_events() -> AsyncIterator[tuple[str, VirtualScanner, Recorder]]:
    scanner = VirtualScanner(
        VirtualScannerConfig(adf_sheets=2, duplex=False, png_compress_level=0)
    )
    eventing = serve_eventing(scanner)
    app = SoapApp(scanner, path=PATH, handlers=eventing.handlers)
    try:
        async with (
            running(app) as srv,
            EventReceiver(EVENT_ROUTES) as receiver,
        ):
            sink = Recorder()
            await receiver.subscribe(srv.url(PATH), sink)
            yield srv.url(PATH), scanner, sink
            await eventing.manager.drain()
    finally:
        await eventing.aclose()


@pytest.mark.parametrize("source", ["Platen", "ADF"])
async def test_a_dropped_transfer_is_published_as_aborted(source: str) -> None:
    async with _scanner_with_events() as (url, scanner, sink):
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            job = await client.create_scan_job(
                scan_ticket=await scan_ticket(client, source=source, dpi=300)
            )
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            raw = await RawClient.connect(port)
            try:
                assert await raw.retrieve(url, job, "p1") > BIG
                await asyncio.wait_for(raw.reader.readexactly(100_000), 10)
            finally:
                raw.reset()  # the client goes away mid-image
            # No other request: the end state must be published by itself.
            await sink.wait("job_end_state", timeout=5.0)
            await asyncio.sleep(0.3)
            ends = [
                e.job_end_state  # type: ignore[attr-defined]
                for e in sink.of("job_end_state")
            ]
            statuses = [
                e.job_status  # type: ignore[attr-defined]
                for e in sink.of("job_status")
            ]
    mine = [e for e in ends if e.job_id == job.job_id]
    assert [
        (
            _value(e.job_completed_state),
            [_value(r) for r in e.job_completed_state_reasons.job_state_reason],
            e.scans_completed,
        )
        for e in mine
    ] == [("Aborted", ["ImageTransferError"], 0)]
    states = [_value(s.job_state) for s in statuses if s.job_id == job.job_id]
    assert "Completed" not in states
    assert states[-1] == "Aborted"

"""Streaming MTOM on the client side: a reset while the SOAP part or a spooled earlier
part is read, parts without headers, the Content-ID fallback, an MTOM reply to a plain
operation (device-quirks #31), and ``save``/``save_to`` (file mode, prompt close and
cleanup when the consumer fails). Stand-in devices run on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import stat
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import QName

import httpx
import pytest
from job_support import scan_ticket
from test_mtom import (
    DOC,
    PAYLOAD,
    ROOT_HEADERS,
    Service,
    _device,
    _fetch,
    _fixed,
    _message,
    _part,
    _payload,
    _soap_reply,
)
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models import scan
from wsdscan.generated.stubs.faults import ClientErrorJobIdNotFound
from wsdscan.runtime import mtom
from wsdscan.runtime.errors import TransportError, TruncatedAttachmentError
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.transport import HttpTransport

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"

# -- a connection reset before the attachment ----------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _resetting_device(message: bytes, cut: int, ending: str) -> Handler:
    """A raw device: promises the whole ``message`` (Content-Length), sends ``cut``
    bytes of it, then resets the connection (RST) or closes it (FIN)."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: multipart/related; boundary=bnd\r\n"
            b"Content-Length: %d\r\n\r\n" % len(message)
        )
        writer.write(message[:cut])
        await writer.drain()
        await asyncio.sleep(0.2)  # the client has read what was sent
        if ending == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            writer.transport.abort()
        else:
            writer.close()

    return handle


async def _serve_raw(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"


CAUSES: dict[str, type[Exception]] = {
    "reset": httpx.ReadError,
    "close": httpx.RemoteProtocolError,
}


@pytest.mark.parametrize("ending", ["reset", "close"])
@pytest.mark.parametrize("operation", ["retrieve_image", "plain"])
async def test_reset_inside_the_soap_part(operation: str, ending: str) -> None:
    """Cut in the middle of the root part: a TransportError, never a raw httpx error,
    for RetrieveImage and for an MTOM reply to a plain operation alike."""
    root = _part(ROOT_HEADERS, _soap_reply("cid:img@device"))
    message = _message("bnd", [root, _part(["Content-ID: <img@device>"], PAYLOAD)])
    cut = len(b"--bnd\r\n") + len(root) // 2
    server, url = await _serve_raw(_resetting_device(message, cut, ending))
    try:
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            with pytest.raises(TransportError) as caught:
                if operation == "plain":
                    await client.cancel_job(job_id=1)
                else:
                    await client.retrieve_image(
                        job_id=1, job_token="t", document_description=DOC
                    )
    finally:
        server.close()
        await server.wait_closed()
    assert isinstance(caught.value.__cause__, CAUSES[ending])


@pytest.mark.parametrize("ending", ["reset", "close"])
async def test_reset_while_an_earlier_part_is_spooled(ending: str) -> None:
    """The Include names the third part, so the second is spooled: a cut inside it is
    a truncated attachment."""
    root = _part(ROOT_HEADERS, _soap_reply("cid:full@dev"))
    thumb = _part(["Content-Type: image/jpeg", "Content-ID: <thumb@dev>"], PAYLOAD)
    full = _part(["Content-Type: image/png", "Content-ID: <full@dev>"], PAYLOAD)
    message = _message("bnd", [root, thumb, full])
    cut = len(b"--bnd\r\n") + len(root) + len(b"\r\n--bnd\r\n") + len(thumb) // 2
    server, url = await _serve_raw(_resetting_device(message, cut, ending))
    try:
        async with HttpTransport(url) as transport:
            with pytest.raises(TruncatedAttachmentError) as caught:
                await ScannerServiceClient(transport).retrieve_image(
                    job_id=1, job_token="t", document_description=DOC
                )
    finally:
        server.close()
        await server.wait_closed()
    assert isinstance(caught.value.__cause__, CAUSES[ending])


# -- parts without headers -------------------------------------------------------------------

BODY_WITH_LINES = b"first line\r\nsecond: not a header\r\n\r\nafter a blank line\n\nend"


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
async def test_part_without_headers(eol: bytes, chunk: int) -> None:
    """The blank line straight after the boundary line: no headers, and the body's
    first line is body, not a header."""
    message = b"".join(
        [
            b"--b" + eol + eol + BODY_WITH_LINES,
            b"\r\n--b" + eol + b"Content-ID: <x>" + eol + eol + PAYLOAD[:5000],
            b"\r\n--b" + eol + eol,  # an empty part without headers
            b"\r\n--b--",
        ]
    )

    async def chunks() -> AsyncIterator[bytes]:
        for piece in _fixed(message, chunk):
            yield piece

    reader = mtom.MultipartReader(chunks(), "b")
    seen = []
    while (part := await reader.next_part()) is not None:
        seen.append((part.headers, b"".join([c async for c in part.body])))
    assert seen == [
        ({}, BODY_WITH_LINES),
        ({"content-id": "<x>"}, PAYLOAD[:5000]),
        ({}, b""),
    ]
    assert reader.finished


async def test_device_sending_parts_without_headers(tmp_path: Path) -> None:
    """No headers on either part: the root is the first part, the image the second."""
    message = _message("nh", [b"\r\n" + _soap_reply("cid:img"), b"\r\n" + PAYLOAD])
    data, media = await _fetch(
        _device("multipart/related; boundary=nh", _fixed(message, 4093)), tmp_path
    )
    assert data == PAYLOAD and media == "application/octet-stream"


# -- the Content-ID fallback --------------------------------------------------------------


async def test_unmatched_href_falls_back_to_the_first_attachment(
    tmp_path: Path,
) -> None:
    """The first attachment has a Content-ID, but not the href's, and no part has it:
    the second MIME part is the image (spooled while later parts were searched)."""
    image = _payload(mtom.FILE_CHUNK + 70_001, seed=21)  # replayed in two pieces
    later = _payload(60_000, seed=22)
    message = _message(
        "fb",
        [
            _part(ROOT_HEADERS, _soap_reply("cid:page%40elsewhere")),
            _part(["Content-Type: image/jpeg", "Content-ID: <page@scanner>"], image),
            _part(["Content-Type: image/png", "Content-ID: <other@scanner>"], later),
        ],
    )
    data, media = await _fetch(
        _device("multipart/related; boundary=fb", _fixed(message, 65536)), tmp_path
    )
    assert data == image and media == "image/jpeg"


# -- device-quirks #31: an MTOM reply to a plain operation ------------------------------


def _mtom_encoding(app: Any, trailing_part: bool) -> Any:
    """Wrap a SOAP app so that every reply goes out as multipart/related, as WCF's
    MTOM encoder does (bobi/WsdScanService HybridMessageEncoder), optionally with an
    attachment part that nothing refers to."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body.extend(message.get("body", b""))

        await app(scope, receive, capture)
        parts = [_part(ROOT_HEADERS, bytes(body))]
        if trailing_part:
            parts.append(_part(["Content-ID: <unused@wcf>"], b"\x00" * 100))
        message = _message("uuid:wcf-1", parts)
        content_type = (
            'multipart/related; type="application/xop+xml"; boundary="uuid:wcf-1";'
            ' start="<root@device>"; start-info="application/soap+xml"'
        )
        await send(
            {
                "type": "http.response.start",
                "status": start["status"],
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(message)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": message})

    return wrapped


@pytest.mark.parametrize("trailing_part", [False, True])
async def test_mtom_reply_to_a_plain_operation(trailing_part: bool) -> None:
    """Every reply of the virtual scanner re-encoded as MTOM: plain operations read
    their root part, bind the body and raise typed faults as usual."""
    scanner = VirtualScanner(VirtualScannerConfig())
    app = _mtom_encoding(SoapApp(scanner), trailing_part)
    async with running(app) as srv, HttpTransport(srv.url("/WSDScanner")) as transport:
        client = ScannerServiceClient(transport)
        names = [
            QName(SCAN_NS, "ScannerConfiguration"),
            QName(SCAN_NS, "ScannerStatus"),
        ]
        elements = await client.get_scanner_elements(
            requested_elements=scan.RequestedElements(name=names)
        )
        data = elements.scanner_elements.element_data
        assert [d.valid for d in data] == [True, True]
        assert data[0].scanner_configuration is not None
        job = await client.create_scan_job(scan_ticket=await scan_ticket(client))
        assert job.job_id > 0 and job.job_token
        active = await client.get_active_jobs()
        assert [s.job_id for s in active.active_jobs.job_summary] == [job.job_id]
        # A fault inside a multipart reply (HTTP 400) is still the typed fault.
        with pytest.raises(ClientErrorJobIdNotFound):
            await client.cancel_job(job_id=job.job_id + 1000)


# -- save and save_to ------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
async def test_saved_file_gets_the_mode_of_a_normal_file(
    umask: int, tmp_path: Path
) -> None:
    """Not mkstemp's 0600: 0666 less the umask, like ``open(path, "wb")``."""
    async with (
        running(SoapApp(Service(tmp_path))) as srv,
        HttpTransport(srv.url("/WSDScanner")) as transport,
    ):
        result = await ScannerServiceClient(transport).retrieve_image(
            job_id=100_000, job_token="bytes", document_description=DOC
        )
        previous = os.umask(umask)
        try:
            await result.save(tmp_path / "page.png")
            with open(tmp_path / "normal.png", "wb"):
                pass
        finally:
            os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "page.png").stat().st_mode)
    assert mode == 0o666 & ~umask
    assert mode == stat.S_IMODE((tmp_path / "normal.png").stat().st_mode)


async def test_failing_progress_closes_the_response_and_removes_the_temp_file(
    tmp_path: Path,
) -> None:
    service = Service(tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    calls = []

    def progress(size: int) -> None:
        calls.append(size)
        raise ValueError("progress bar crashed")

    async with (
        running(SoapApp(service)) as srv,
        HttpTransport(srv.url("/WSDScanner")) as transport,
    ):
        result = await ScannerServiceClient(transport).retrieve_image(
            job_id=20_000_000, job_token="async", document_description=DOC
        )
        with pytest.raises(ValueError, match="progress bar crashed"):
            await result.save(folder / "page.png", progress)
        # Closed before save raised, not later by the garbage collector.
        assert result._response.is_closed
        assert list(folder.iterdir()) == []
        assert len(calls) == 1
        # The server saw the client go away mid-transfer.
        await asyncio.wait_for(service.aborted.wait(), 10)


class FullDisk(io.RawIOBase):
    def write(self, data: Any) -> int:
        raise OSError(28, "No space left on device")


async def test_failing_write_in_save_to_closes_the_response(tmp_path: Path) -> None:
    async with (
        running(SoapApp(Service(tmp_path))) as srv,
        HttpTransport(srv.url("/WSDScanner")) as transport,
    ):
        result = await ScannerServiceClient(transport).retrieve_image(
            job_id=5_000_000, job_token="async", document_description=DOC
        )
        with pytest.raises(OSError, match="No space left"):
            await result.save_to(FullDisk())
        assert result._response.is_closed

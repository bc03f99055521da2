"""Streaming MTOM, correctness only (speed and memory are in benchmarks/mtom.py).

The multipart reader with chosen chunkings; every attachment source the server accepts;
the device quirks of shared/notes/device-quirks.md #1-6 sent by a stand-in device on
127.0.0.1; truncation (no closing boundary, connection reset); and a client that goes
away mid-transfer aborting the virtual scanner's job with ImageTransferError.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import socket
import struct
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import QName

import pytest
from job_support import scan_ticket
from lxml import etree
from wsdscan.generated import ScannerServiceBase, ScannerServiceClient
from wsdscan.generated.models import scan
from wsdscan.runtime import mtom
from wsdscan.runtime.contract import AttachmentReply, AttachmentSource, RequestContext
from wsdscan.runtime.errors import ProtocolError, TruncatedAttachmentError
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.soap.envelope import build_envelope
from wsdscan.runtime.transport import HttpTransport
from wsdscan.runtime.xmlbind import to_element

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
XOP_NS = "http://www.w3.org/2004/08/xop/include"
DOC = scan.DocumentDescription(document_name="IMAGE000.PNG")


def _payload(size: int, seed: int = 0) -> bytes:
    return random.Random(size * 7919 + seed).randbytes(size)


def _split(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def _fixed(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def _aiter(chunks: Sequence[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _read_message(
    chunks: Sequence[bytes], boundary: str
) -> tuple[bytes, bytes, bool]:
    """Root part, first attachment, and whether the closing boundary was seen."""
    reader = mtom.MultipartReader(_aiter(chunks), boundary)
    root = await reader.next_part()
    assert root is not None
    xml = await mtom.read_all(root.body, mtom.MAX_ROOT_PART)
    part = await reader.next_part()
    assert part is not None
    data = b"".join([chunk async for chunk in part.body])
    assert await reader.next_part() is None
    return xml, data, reader.finished


# -- the reader, driven with chosen chunkings ----------------------------------------------

SIZES = [0, 1, 2, 37, 4095, 65536, 65537, 300_001]


@pytest.mark.parametrize("size", SIZES)
async def test_round_trip_with_many_chunkings(size: int) -> None:
    frame = mtom.MtomEnvelope.new()
    soap = b"<soap:Envelope>root</soap:Envelope>"
    payload = _payload(size)
    head = frame.head(soap, "image/png")
    message = head + payload + frame.tail()
    delimiter = len(b"\r\n--" + frame.boundary.encode())
    end = len(head) + size  # where the CRLF of the closing delimiter starts
    chunkings: list[list[bytes]] = [
        [message],
        _fixed(message, 1) if size < 5000 else _fixed(message, 997),
        _fixed(message, 7),
        _fixed(message, 65536),
        # every cut inside the closing delimiter line and around the CRLF before it
        *[_split(message, [end + k]) for k in range(-3, delimiter + 6)],
        # the opening delimiter of the attachment split everywhere
        *[_split(message, [len(head) - k]) for k in range(1, 60, 3)],
        # cuts that leave chunks shorter than the delimiter on both sides of the end
        _split(message, [end - 5, end - 1, end + 1, end + 3, end + 20]),
    ]
    for chunks in chunkings:
        assert b"".join(chunks) == message
        xml, data, finished = await _read_message(chunks, frame.boundary)
        assert xml == soap
        assert data == payload
        assert finished


def test_boundary_outside_latin1_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        mtom.MultipartReader(_aiter([]), "bound\u2603ary")


async def test_payload_that_looks_like_a_boundary_prefix() -> None:
    frame = mtom.MtomEnvelope.new()
    almost = b"\r\n--" + frame.boundary.encode()[:-1]
    payload = (almost + b"x") * 50 + b"\r\n-" + b"\r\n--"
    message = frame.head(b"<e/>", "image/png") + payload + frame.tail()
    for size in (1, 3, 11, len(almost), 4096):
        _, data, finished = await _read_message(_fixed(message, size), frame.boundary)
        assert data == payload and finished


async def _slow_chunks(payload: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(payload), 7001):
        yield payload[start : start + 7001]


def _sync_chunks(payload: bytes) -> Iterator[bytes]:
    yield from _fixed(payload, 12345)


@pytest.mark.parametrize("kind", ["bytes", "path", "sync", "async"])
@pytest.mark.parametrize("size", [0, 1, 3 * mtom.FILE_CHUNK + 17])
async def test_every_source_kind_streams_exactly(
    kind: str, size: int, tmp_path: Path
) -> None:
    payload = _payload(size, seed=1)
    content: AttachmentSource
    if kind == "bytes":
        content = payload
    elif kind == "path":
        content = tmp_path / "image.bin"
        content.write_bytes(payload)
    elif kind == "sync":
        content = _sync_chunks(payload)
    else:
        content = _slow_chunks(payload)
    frame = mtom.MtomEnvelope.new()
    chunks = [c async for c in mtom.mtom_stream(frame, b"<e/>", content, "image/png")]
    assert max(len(c) for c in chunks) <= max(mtom.FILE_CHUNK, 1000)
    declared = mtom.attachment_size(content, None)
    if declared is not None:
        length = mtom.mtom_length(frame, b"<e/>", "image/png", declared)
        assert length == sum(len(c) for c in chunks)
    _, data, finished = await _read_message(chunks, frame.boundary)
    assert data == payload and finished


# -- client and server over HTTP -----------------------------------------------------------


class Service(ScannerServiceBase):
    """RetrieveImage answers JobId bytes; JobToken picks the source kind."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.aborted = asyncio.Event()

    async def retrieve_image(
        self, request: scan.RetrieveImageRequest, context: RequestContext
    ) -> AttachmentReply[scan.RetrieveImageResponse]:
        payload = _payload(request.job_id, seed=2)
        body = scan.RetrieveImageResponse(scan_data=b"")
        content: AttachmentSource = payload
        if request.job_token == "path":
            content = self.folder / f"{request.job_id}.bin"
            content.write_bytes(payload)
        elif request.job_token == "async":
            content = _slow_chunks(payload)
        elif request.job_token == "broken":
            content = _broken_source(payload)

        async def aborted() -> None:
            self.aborted.set()

        return AttachmentReply(body, content, "image/png", on_abort=aborted)


async def _broken_source(payload: bytes) -> AsyncIterator[bytes]:
    yield payload[: len(payload) // 2]
    raise OSError("scanner head crashed")


@pytest.mark.parametrize("kind", ["bytes", "path", "async"])
@pytest.mark.parametrize("size", [0, 65535, 2 * mtom.FILE_CHUNK + 3])
async def test_client_server_round_trip(kind: str, size: int, tmp_path: Path) -> None:
    async with (
        running(SoapApp(Service(tmp_path))) as srv,
        HttpTransport(srv.url("/WSDScanner")) as transport,
    ):
        client = ScannerServiceClient(transport)
        result = await client.retrieve_image(
            job_id=size, job_token=kind, document_description=DOC
        )
        assert isinstance(result.body, scan.RetrieveImageResponse)
        target = tmp_path / "out" / "page.png"
        target.parent.mkdir()
        assert await result.save(target) == size
        assert target.read_bytes() == _payload(size, seed=2)
        assert os.listdir(target.parent) == ["page.png"]
        # save_to: any writable stream
        result = await client.retrieve_image(
            job_id=size, job_token=kind, document_description=DOC
        )
        sink = io.BytesIO()
        assert await result.save_to(sink) == size
        assert sink.getvalue() == _payload(size, seed=2)


async def test_failing_source_truncates_and_calls_on_abort(tmp_path: Path) -> None:
    service = Service(tmp_path)
    async with (
        running(SoapApp(service)) as srv,
        HttpTransport(srv.url("/WSDScanner")) as transport,
    ):
        result = await ScannerServiceClient(transport).retrieve_image(
            job_id=300_000, job_token="broken", document_description=DOC
        )
        with pytest.raises(TruncatedAttachmentError):
            await result.save(tmp_path / "page.png")
        await asyncio.wait_for(service.aborted.wait(), 10)
    assert not (tmp_path / "page.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


# -- device quirks (a stand-in device on 127.0.0.1) ---------------------------------------


def _soap_reply(href: str) -> bytes:
    body = to_element(scan.RetrieveImageResponse(scan_data=b""))
    include = etree.SubElement(body[0], f"{{{XOP_NS}}}Include")
    include.set("href", href)
    return build_envelope(
        body, action=f"{SCAN_NS}/RetrieveImageResponse", relates_to="urn:x"
    )


def _device(content_type: str, chunks: Sequence[bytes]) -> Any:
    """An ASGI app answering every POST with this Content-Type and these body pieces,
    sent without a Content-Length, so uvicorn uses chunked transfer encoding."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


async def _fetch(app: Any, folder: Path) -> tuple[bytes, str]:
    async with running(app) as srv, HttpTransport(srv.url("/")) as transport:
        result = await ScannerServiceClient(transport).retrieve_image(
            job_id=1, job_token="t", document_description=DOC
        )
        assert isinstance(result.body, scan.RetrieveImageResponse)
        target = folder / "page.bin"
        await result.save(target)
        return target.read_bytes(), result.content_type


def _part(headers: Sequence[str], body: bytes, eol: bytes = b"\r\n") -> bytes:
    return eol.join(h.encode() for h in headers) + eol + eol + body


PAYLOAD = _payload(150_001, seed=3)


def _message(
    boundary: str,
    parts: Sequence[bytes],
    *,
    crlf_before_delimiter: bool = True,
) -> bytes:
    before = b"\r\n" if crlf_before_delimiter else b""
    delimiter = b"--" + boundary.encode()
    out = delimiter + b"\r\n" + parts[0]
    for part in parts[1:]:
        out += before + delimiter + b"\r\n" + part
    return out + before + delimiter + b"--\r\n"


ROOT_HEADERS = [
    'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"',
    "Content-ID: <root@device>",
]


@pytest.mark.parametrize(
    ("name", "content_type", "root_headers", "image_headers", "href", "crlf"),
    [
        (
            "#3 Multipart/Related capitalised (Canon MF745C)",
            'Multipart/Related; type="application/xop+xml"; boundary="b1";'
            ' start="<root@device>"; start-info="application/soap+xml"',
            ROOT_HEADERS,
            ["Content-Type: image/jpeg", "Content-ID: <img@device>"],
            "cid:img@device",
            True,
        ),
        (
            "#2 unquoted parameters with special characters, odd order (Dell C2665dnf)",
            "multipart/related;start-info=application/soap+xml;"
            "boundary=uuid:0a1b=2c/3d?4e+5f;type=application/xop+xml;start=<root@device>",
            ROOT_HEADERS,
            ["Content-ID: <img@device>", "Content-Type: image/jpeg"],
            "cid:img@device",
            True,
        ),
        (
            "#1 boundary not preceded by CRLF (Xerox WorkCentre 3025)",
            'multipart/related; boundary="MIMEBoundary_x"; type="application/xop+xml"',
            ROOT_HEADERS,
            ["Content-Type: image/jpeg", "Content-ID: <img@device>"],
            "cid:img@device",
            False,
        ),
        (
            "#4 gSOAP start and uuid boundary (Ricoh Aficio MP 201), quoted charset",
            'multipart/related; boundary="uuid:3f1e-77"; type="application/xop+xml";'
            ' start="<SOAP-ENV:Envelope>"; start-info="application/soap+xml"',
            [
                'Content-Type: application/xop+xml; charset="utf-8";'
                ' type="application/soap+xml"',
                "Content-Transfer-Encoding: binary",
                "Content-ID: <SOAP-ENV:Envelope>",
            ],
            ["Content-Type: image/jpeg", "Content-ID: <img-1>"],
            "cid:img-1",
            True,
        ),
        (
            "#5 start-info and type text/xml",
            'multipart/related; type="text/xml"; start-info="text/xml";'
            ' boundary="b5"',
            ["Content-Type: text/xml; charset='utf-8'", "Content-ID: <r>"],
            ["Content-Type: image/jpeg", "Content-ID: <img>"],
            "cid:img",
            True,
        ),
        (
            "#6 href %40-encoded, raw @ in Content-ID (python-zeep PR #896)",
            'multipart/related; type="application/xop+xml"; boundary="b6"',
            ROOT_HEADERS,
            ["Content-Type: image/jpeg", "Content-ID: <page-1@scanner.local>"],
            "cid:page-1%40scanner.local",
            True,
        ),
        (
            "no start-info, no Content-IDs at all: the second part is the image",
            'multipart/related; boundary="b7"',
            ["Content-Type: application/xop+xml"],
            ["Content-Type: image/jpeg"],
            "cid:whatever",
            True,
        ),
    ],
)
async def test_device_quirk(
    name: str,
    content_type: str,
    root_headers: list[str],
    image_headers: list[str],
    href: str,
    crlf: bool,
    tmp_path: Path,
) -> None:
    _, params = mtom.parse_content_type(content_type)
    message = _message(
        params["boundary"],
        [_part(root_headers, _soap_reply(href)), _part(image_headers, PAYLOAD)],
        crlf_before_delimiter=crlf,
    )
    data, media = await _fetch(_device(content_type, _fixed(message, 4093)), tmp_path)
    assert data == PAYLOAD, name
    assert media == "image/jpeg"


async def test_lf_only_part_headers(tmp_path: Path) -> None:
    message = _message(
        "lf",
        [
            _part(["Content-Type: application/xop+xml"], _soap_reply("cid:a"), b"\n"),
            _part(["Content-Type: image/png", "Content-ID: <a>"], PAYLOAD, b"\n"),
        ],
    )
    data, _ = await _fetch(
        _device("multipart/related; boundary=lf", [message]), tmp_path
    )
    assert data == PAYLOAD


async def test_href_picks_the_matching_part_not_the_first(tmp_path: Path) -> None:
    """The first attachment is a thumbnail; the xop:Include names the third part."""
    decoy = _payload(70_000, seed=9)
    message = _message(
        "b",
        [
            _part(ROOT_HEADERS, _soap_reply("cid:full%40dev")),
            _part(["Content-Type: image/jpeg", "Content-ID: <thumb@dev>"], decoy),
            _part(["Content-Type: image/png", "Content-ID: <full@dev>"], PAYLOAD),
        ],
    )
    data, media = await _fetch(
        _device('multipart/related; boundary="b"', _fixed(message, 10_000)), tmp_path
    )
    assert data == PAYLOAD and media == "image/png"


# -- truncation ----------------------------------------------------------------------------


def _soap_message_head(boundary: str) -> bytes:
    return (
        b"--"
        + boundary.encode()
        + b"\r\n"
        + _part(ROOT_HEADERS, _soap_reply("cid:img@device"))
        + b"\r\n--"
        + boundary.encode()
        + b"\r\n"
        + _part(["Content-Type: image/png", "Content-ID: <img@device>"], b"")
    )


@pytest.mark.parametrize(
    "ending",
    [
        b"",  # stops in the middle of the image
        b"\r\n--bnd\r\n",  # a delimiter, then nothing: no closing boundary
        b"\r\n--bnd",  # cut inside the delimiter line
    ],
)
async def test_no_closing_boundary(ending: bytes, tmp_path: Path) -> None:
    message = _soap_message_head("bnd") + PAYLOAD + ending
    app = _device("multipart/related; boundary=bnd", _fixed(message, 30_000))
    with pytest.raises(TruncatedAttachmentError):
        await _fetch(app, tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_connection_reset_mid_body(tmp_path: Path) -> None:
    """A raw device that promises a Content-Length, sends half, then resets (RST)."""
    message = _soap_message_head("bnd") + PAYLOAD + b"\r\n--bnd--\r\n"

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: multipart/related; boundary=bnd\r\n"
            b"Content-Length: %d\r\n\r\n" % len(message)
        )
        writer.write(message[: len(message) // 2])
        await writer.drain()
        await asyncio.sleep(0.2)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with HttpTransport(f"http://127.0.0.1:{port}/") as transport:
            result = await ScannerServiceClient(transport).retrieve_image(
                job_id=1, job_token="t", document_description=DOC
            )
            with pytest.raises(TruncatedAttachmentError):
                await result.save(tmp_path / "page.png")
    finally:
        server.close()
        await server.wait_closed()
    assert list(tmp_path.iterdir()) == []


# -- the virtual scanner: a client that goes away aborts the job ---------------------------


class SlowScanner(VirtualScanner):
    """The virtual scanner whose images trickle out, so a transfer can be interrupted."""

    async def retrieve_image(
        self, request: scan.RetrieveImageRequest, context: RequestContext
    ) -> AttachmentReply[scan.RetrieveImageResponse]:
        reply = await super().retrieve_image(request, context)
        assert isinstance(reply.content, bytes)
        reply.content = _trickle(reply.content)
        reply.size = None
        return reply


async def _trickle(data: bytes) -> AsyncIterator[bytes]:
    for _ in range(2000):  # ~64 MB in ~20 s at most: far more than any socket buffer
        for start in range(0, len(data), 32768):
            yield data[start : start + 32768]
            await asyncio.sleep(0.001)


async def _job_status(client: ScannerServiceClient, job_id: int) -> scan.JobStatus:
    response = await client.get_job_elements(
        job_id=job_id,
        requested_elements=scan.RequestedElements(name=[QName(SCAN_NS, "JobStatus")]),
    )
    status = response.job_elements.element_data[0].job_status
    assert status is not None
    return status


async def test_client_disconnect_aborts_the_job() -> None:
    scanner = SlowScanner(VirtualScannerConfig())
    async with running(SoapApp(scanner)) as srv:
        url = srv.url("/WSDScanner")
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            ticket = await scan_ticket(client)
            job = await client.create_scan_job(scan_ticket=ticket)
            result = await client.retrieve_image(
                job_id=job.job_id, job_token=job.job_token, document_description=DOC
            )
            stream = result.aiter_bytes()
            first = await anext(stream)
            assert first
            await stream.aclose()  # closes the connection mid-body
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            for _ in range(200):
                status = await _job_status(client, job.job_id)
                if status.job_state == scan.JobStateKnownValue.ABORTED:
                    break
                await asyncio.sleep(0.05)
            assert status.job_state == scan.JobStateKnownValue.ABORTED
            assert status.job_state_reasons is not None
            assert status.job_state_reasons.job_state_reason == [
                scan.JobStateReasonKnownValue.IMAGE_TRANSFER_ERROR
            ]
            assert status.scans_completed == 0

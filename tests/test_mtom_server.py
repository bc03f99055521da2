"""Streaming MTOM on the server side: every attachment source kind the server accepts
(bytes-like buffers, str and os.PathLike paths), a source that cannot be opened answered
with a SOAP fault (and the job ended), and Content-Length versus chunked transfer,
checked on the raw HTTP response.
"""

from __future__ import annotations

import array
import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from job_support import scan_ticket
from lxml import etree
from test_mtom import DOC, _job_status, _payload
from wsdscan.generated import ScannerServiceBase, ScannerServiceClient
from wsdscan.generated.models import scan
from wsdscan.generated.stubs.routes import RETRIEVE_IMAGE
from wsdscan.runtime import mtom
from wsdscan.runtime.contract import AttachmentReply, RequestContext
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.soap import ServerFault
from wsdscan.runtime.soap.envelope import ANONYMOUS, build_envelope
from wsdscan.runtime.transport import HttpTransport
from wsdscan.runtime.xmlbind import to_element

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"


class PathLikeOnly(os.PathLike[str]):
    """A path object that is not a pathlib.Path: only ``__fspath__``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return str(self.path)


def _source(kind: str, payload: bytes, folder: Path) -> Any:
    """``payload`` as the attachment source ``kind``."""
    if kind in ("path", "str", "pathlike"):
        path = folder / f"{kind}-{len(payload)}.bin"
        path.write_bytes(payload)
        return {"path": path, "str": str(path), "pathlike": PathLikeOnly(path)}[kind]
    if kind == "bytes":
        return payload
    if kind == "bytearray":
        return bytearray(payload)
    if kind == "memoryview":
        return memoryview(payload)
    if kind == "memoryview-slice":
        # A view into a larger buffer: only the viewed bytes are the attachment.
        return memoryview(b"<junk>" + payload + b"</junk>")[6:-7]
    if kind == "sync-bytes-like":
        return _mixed_chunks(payload)
    if kind == "async":
        return _async_chunks(payload)
    raise AssertionError(kind)


def _mixed_chunks(payload: bytes) -> Iterator[Any]:
    """A sync iterator of bytearray and memoryview chunks (and an empty one)."""
    yield b""
    for index, start in enumerate(range(0, len(payload), 50_001)):
        piece = payload[start : start + 50_001]
        yield bytearray(piece) if index % 2 else memoryview(piece)


async def _async_chunks(payload: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(payload), 70_001):
        yield payload[start : start + 70_001]


async def _stream(content: Any, size: int | None) -> tuple[bytes, int | None, bool]:
    """The attachment as a reader sees it, the Content-Length the server would send
    (None: chunked), and whether the closing boundary came."""
    frame = mtom.MtomEnvelope.new()
    declared = mtom.attachment_size(content, None)
    length = mtom.mtom_length(frame, b"<e/>", "image/png", declared)
    stream = mtom.mtom_stream(frame, b"<e/>", content, "image/png")
    chunks = [chunk async for chunk in stream]
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    if length is not None:
        assert length == sum(len(chunk) for chunk in chunks)

    async def replay() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    reader = mtom.MultipartReader(replay(), frame.boundary)
    root = await reader.next_part()
    assert root is not None
    assert await mtom.read_all(root.body, mtom.MAX_ROOT_PART) == b"<e/>"
    part = await reader.next_part()
    assert part is not None
    data = b"".join([chunk async for chunk in part.body])
    assert await reader.next_part() is None
    return data, declared, reader.finished


SOURCE_KINDS = [
    "bytes",
    "bytearray",
    "memoryview",
    "memoryview-slice",
    "path",
    "str",
    "pathlike",
    "sync-bytes-like",
    "async",
]


@pytest.mark.parametrize("kind", SOURCE_KINDS)
@pytest.mark.parametrize("size", [0, 1, mtom.FILE_CHUNK + 17])
async def test_every_source_kind_byte_exact(
    kind: str, size: int, tmp_path: Path
) -> None:
    payload = _payload(size, seed=11)
    data, declared, finished = await _stream(_source(kind, payload, tmp_path), size)
    assert data == payload and finished
    # A size is known for every buffer and file, never for an iterator.
    known = kind not in ("sync-bytes-like", "async")
    assert declared == (size if known else None)


async def test_memoryview_of_wider_items_counts_bytes() -> None:
    """A memoryview of 16-bit items: its len() is the item count, the attachment is
    every byte of it."""
    items = array.array("H", range(1000))
    data, declared, finished = await _stream(memoryview(items), None)
    assert data == items.tobytes() and declared == 2000 and finished


async def test_open_mtom_stream_fails_before_the_first_byte(tmp_path: Path) -> None:
    """What the server relies on to answer a fault: the source is opened before the
    stream is handed over, and once it is, the bytes are mtom_stream's."""
    frame = mtom.MtomEnvelope("b", "r", "a")
    with pytest.raises(FileNotFoundError):
        await mtom.open_mtom_stream(frame, b"<e/>", tmp_path / "gone.png", "image/png")
    with pytest.raises(TypeError):
        await mtom.open_mtom_stream(frame, b"<e/>", 42, "image/png")  # type: ignore[arg-type]
    payload = _payload(mtom.FILE_CHUNK + 3, seed=13)
    (tmp_path / "here.png").write_bytes(payload)
    for content in (tmp_path / "here.png", payload, b"", _async_chunks(payload)):
        opened = await mtom.open_mtom_stream(frame, b"<e/>", content, "image/png")
        got = b"".join([chunk async for chunk in opened])
        if isinstance(content, AsyncIterator):
            content = payload
        expected = mtom.mtom_stream(frame, b"<e/>", content, "image/png")
        assert got == b"".join([chunk async for chunk in expected])


@pytest.mark.parametrize(
    "content",
    [iter(b"abc"), [b"ok", "text"], 42],
    ids=["iterator-of-ints", "str-chunk", "int"],
)
async def test_non_bytes_sources_are_refused_not_zero_filled(content: Any) -> None:
    """bytes(97) would be 97 zero bytes: refused instead."""
    with pytest.raises(TypeError):
        async for _ in mtom.iter_source(content):
            pass


# -- over HTTP: the real server app on 127.0.0.1 -------------------------------------------


class Service(ScannerServiceBase):
    """RetrieveImage answers JobId bytes of the source kind named by JobToken; a
    ``missing-*`` token names a file that does not exist."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.aborts = 0
        self.aborted = asyncio.Event()
        self.completes = 0

    async def retrieve_image(
        self, request: scan.RetrieveImageRequest, context: RequestContext
    ) -> AttachmentReply[scan.RetrieveImageResponse]:
        kind = request.job_token
        size: int | None = None
        content: Any
        missing = self.folder / "no-such-dir" / "image.png"
        if kind == "missing-path":
            content = missing
        elif kind == "missing-str":
            content = str(missing)
        elif kind == "missing-path-sized":
            content, size = missing, 1000  # declared: no stat() to fail first
        elif kind == "failing-iterator":
            content = _fails_at_once()
        elif kind == "unsupported":
            content = 42
        else:
            content = _source(kind, _payload(request.job_id, seed=12), self.folder)

        async def on_abort() -> None:
            self.aborts += 1
            self.aborted.set()

        async def on_complete() -> None:
            self.completes += 1

        return AttachmentReply(
            scan.RetrieveImageResponse(scan_data=b""),
            content,
            "image/png",
            size=size,
            on_abort=on_abort,
            on_complete=on_complete,
        )


async def _fails_at_once() -> AsyncIterator[bytes]:
    raise OSError("/dev/scanner0: device not configured")
    yield b""  # pragma: no cover - makes this an async generator


@pytest.mark.parametrize("kind", ["bytearray", "memoryview", "str", "pathlike"])
async def test_new_source_kinds_over_http(kind: str, tmp_path: Path) -> None:
    size = 2 * mtom.FILE_CHUNK + 5
    service = Service(tmp_path)
    async with (
        running(SoapApp(service)) as srv,
        HttpTransport(srv.url("/WSDScanner")) as transport,
    ):
        result = await ScannerServiceClient(transport).retrieve_image(
            job_id=size, job_token=kind, document_description=DOC
        )
        target = tmp_path / "page.png"
        assert await result.save(target) == size
        assert target.read_bytes() == _payload(size, seed=12)
    # Sent whole: on_complete, once, and no on_abort.
    assert (service.completes, service.aborts) == (1, 0)


def _request(url: str, job_id: int, token: str) -> bytes:
    request = scan.RetrieveImageRequest(
        job_id=job_id, job_token=token, document_description=DOC
    )
    return build_envelope(
        to_element(request), action=RETRIEVE_IMAGE.action, to=url, reply_to=ANONYMOUS
    )


async def _raw_post(port: int, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """POST over a plain socket; the status, headers (lower-cased names) and body
    exactly as the server sent them (chunked encoding not decoded)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /WSDScanner HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/soap+xml\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        assert name.lower() not in headers, f"duplicate header {name}"
        headers[name.lower()] = value.strip()
    return int(status_line.split()[1]), headers, payload


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            assert data == b"\r\n", "no trailers, then the end"
            return bytes(out)
        out += data[:size]
        assert data[size : size + 2] == b"\r\n"
        data = data[size + 2 :]


async def _attachment(content_type: str, body: bytes) -> bytes:
    _, params = mtom.parse_content_type(content_type)

    async def once() -> AsyncIterator[bytes]:
        yield body

    reader = mtom.MultipartReader(once(), params["boundary"])
    root = await reader.next_part()
    assert root is not None
    async for _ in root.body:
        pass
    part = await reader.next_part()
    assert part is not None
    data = b"".join([chunk async for chunk in part.body])
    assert await reader.next_part() is None and reader.finished
    return data


@pytest.mark.parametrize(
    ("kind", "framing"),
    [
        ("bytes", "length"),
        ("bytearray", "length"),
        ("path", "length"),
        ("str", "length"),
        ("sync-bytes-like", "chunked"),
        ("async", "chunked"),
    ],
)
async def test_content_length_when_size_is_known_else_chunked(
    kind: str, framing: str, tmp_path: Path
) -> None:
    size = 300_003
    async with running(SoapApp(Service(tmp_path))) as srv:
        status, headers, body = await _raw_post(
            srv.port, _request(srv.url("/WSDScanner"), size, kind)
        )
    assert status == 200
    assert headers["content-type"].startswith("multipart/related;")
    if framing == "length":
        assert "transfer-encoding" not in headers
        assert int(headers["content-length"]) == len(body)
    else:
        assert "content-length" not in headers
        assert headers["transfer-encoding"].lower() == "chunked"
        body = _dechunk(body)
    assert await _attachment(headers["content-type"], body) == _payload(size, seed=12)


# -- a source that cannot be opened: a SOAP fault, and on_abort --------------------------

BROKEN = [
    "missing-path",
    "missing-str",
    "missing-path-sized",
    "failing-iterator",
    "unsupported",
]


@pytest.mark.parametrize("kind", BROKEN)
async def test_unopenable_source_is_a_soap_fault(kind: str, tmp_path: Path) -> None:
    service = Service(tmp_path)
    async with running(SoapApp(service)) as srv:
        status, headers, body = await _raw_post(
            srv.port, _request(srv.url("/WSDScanner"), 10, kind)
        )
        # The server keeps serving after it.
        _, _, fine = await _raw_post(
            srv.port, _request(srv.url("/WSDScanner"), 10, "bytes")
        )
        assert fine.endswith(b"--\r\n")
    assert status == 500
    assert headers["content-type"].startswith("application/soap+xml")
    assert int(headers["content-length"]) == len(body)
    fault = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    code = fault.findtext(f"{{{SOAP_ENV}}}Code/{{{SOAP_ENV}}}Value") or ""
    assert code.endswith(":Receiver")
    # Nothing of the exception reaches the client.
    for leak in (b"Traceback", b"Error", b"no-such-dir", b"device not configured"):
        assert leak not in body
    # The broken reply aborted, the fine one completed: each told once.
    assert (service.aborts, service.completes) == (1, 1)


async def test_unopenable_source_raises_server_fault_in_the_client(
    tmp_path: Path,
) -> None:
    service = Service(tmp_path)
    async with (
        running(SoapApp(service)) as srv,
        HttpTransport(srv.url("/WSDScanner")) as transport,
    ):
        with pytest.raises(ServerFault):
            await ScannerServiceClient(transport).retrieve_image(
                job_id=10, job_token="missing-path", document_description=DOC
            )
    assert service.aborted.is_set()


class MissingFileScanner(VirtualScanner):
    """The virtual scanner handing out its image as a file that has gone missing."""

    def __init__(self, config: VirtualScannerConfig, folder: Path) -> None:
        super().__init__(config)
        self.folder = folder

    async def retrieve_image(
        self, request: scan.RetrieveImageRequest, context: RequestContext
    ) -> AttachmentReply[scan.RetrieveImageResponse]:
        reply = await super().retrieve_image(request, context)
        reply.content = self.folder / "spool" / "page-1.png"
        reply.size = None
        return reply


async def test_missing_file_aborts_the_job(tmp_path: Path) -> None:
    scanner = MissingFileScanner(VirtualScannerConfig(), tmp_path)
    async with (
        running(SoapApp(scanner)) as srv,
        HttpTransport(srv.url("/WSDScanner")) as transport,
    ):
        client = ScannerServiceClient(transport)
        job = await client.create_scan_job(scan_ticket=await scan_ticket(client))
        with pytest.raises(ServerFault):
            await client.retrieve_image(
                job_id=job.job_id, job_token=job.job_token, document_description=DOC
            )
        status = await _job_status(client, job.job_id)
        assert status.job_state == scan.JobStateKnownValue.ABORTED
        assert status.job_state_reasons is not None
        assert status.job_state_reasons.job_state_reason == [
            scan.JobStateReasonKnownValue.IMAGE_TRANSFER_ERROR
        ]
        assert status.scans_completed == 0
        active = await client.get_active_jobs()
        assert job.job_id not in [s.job_id for s in active.active_jobs.job_summary]
        assert job.job_id not in [j.job_status.job_id for j in active.active_jobs.job]


async def test_a_cancelled_file_read_does_not_block_the_loop(tmp_path: Path) -> None:
    """A consumer cancelled while a file read is running in the worker thread: the
    file is closed when that read ends, not at once on the event loop (closing a
    file a thread reads waits for the read: here a FIFO held open for 2 s)."""
    fifo = tmp_path / "scan.fifo"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as pipe:
            pipe.write(b"x" * 10)
            pipe.flush()
            time.sleep(2.0)

    feeding = asyncio.create_task(asyncio.to_thread(writer))

    async def consume() -> None:
        async for _ in mtom.iter_source(str(fifo)):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)  # the read of 1 MiB is now waiting on the FIFO
    task.cancel()
    started = time.monotonic()
    await asyncio.sleep(0.05)  # the loop runs on; a blocking close would stall it here
    assert time.monotonic() - started < 0.5
    with pytest.raises(asyncio.CancelledError):
        await task
    await feeding

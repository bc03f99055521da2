"""A client that goes away in the middle of a RetrieveImage transfer, end to end.

Against the real ``python -m wsdscan serve`` subprocess on 127.0.0.1 with the stock
virtual scanner: a platen RGB24 page at 600 dpi with ``--png-compress-level 0`` is
~100 MB, sent with Content-Length (not chunked), so it cannot reach the client before
the client leaves. The client reads the response head and a few hundred KB of the body,
then leaves:

* ``close``: the application closes politely (``shutdown(SHUT_WR)`` sends a FIN, then
  ``close()``); as the socket still holds unread data and the server keeps sending, the
  kernel answers with a RST anyway, which is what a real client closing early causes;
* ``reset``: ``SO_LINGER`` 0, so ``close()`` sends a RST at once;
* ``httpx``: an httpx stream closed after a few chunks (a real HTTP client giving up).

WS-Scan: when an image does not reach the client "the WSD Scan Service must abort the
job", so the job must end Aborted with JobStateReason ImageTransferError; it must not be
listed as active; the server must print no traceback and keep serving complete scans.
"""

from __future__ import annotations

import asyncio
import io
import socket
import struct
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit
from xml.etree.ElementTree import QName

import httpx
import pytest
from interop_support import ServedScanner
from job_support import scan_ticket
from PIL import Image
from wsdscan.generated import ScannerServiceClient, routes
from wsdscan.generated.models import scan
from wsdscan.runtime.soap.envelope import ANONYMOUS, build_envelope
from wsdscan.runtime.transport import HttpTransport
from wsdscan.runtime.xmlbind import to_element

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
DOC = scan.DocumentDescription(document_name="IMAGE000.PNG")
#: Body bytes the client reads before it goes away (the page is ~100 MB).
READ_BEFORE_LEAVING = 384 * 1024
#: The smallest Content-Length that proves the page could not have been sent already.
MIN_PAGE = 50 * 1024 * 1024
#: Seconds the server gets to notice the client is gone and abort the job.
ABORT_DEADLINE = 5.0
#: Socket timeout of the raw client (rendering the big page takes a moment).
SOCKET_TIMEOUT = 15.0
ABORTED = scan.JobStateKnownValue.ABORTED
TRANSFER_ERROR = scan.JobStateReasonKnownValue.IMAGE_TRANSFER_ERROR


@pytest.fixture(scope="module")
def served() -> Iterator[ServedScanner]:
    with ServedScanner(["--png-compress-level", "0"]) as srv:
        yield srv


@pytest.fixture
async def client(served: ServedScanner) -> AsyncIterator[ScannerServiceClient]:
    async with HttpTransport(served.url, timeout=httpx.Timeout(20.0)) as transport:
        yield ScannerServiceClient(transport)


def _retrieve_request(url: str, job: scan.CreateScanJobResponse) -> bytes:
    """The RetrieveImage request as raw HTTP/1.1 bytes (head and SOAP body)."""
    soap = build_envelope(
        to_element(
            scan.RetrieveImageRequest(
                job_id=job.job_id, job_token=job.job_token, document_description=DOC
            )
        ),
        action=routes.RETRIEVE_IMAGE.action,
        to=url,
        reply_to=ANONYMOUS,
    )
    parts = urlsplit(url)
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        "Content-Type: application/soap+xml; charset=utf-8\r\n"
        f"Content-Length: {len(soap)}\r\n\r\n"
    )
    return head.encode() + soap


def _raw_partial_retrieve(url: str, request: bytes, how: str) -> tuple[bytes, int]:
    """Send ``request``, read the response head and READ_BEFORE_LEAVING body bytes, then
    leave (``how``: "close" or "reset"). Returns (response head, body bytes read)."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1" and parts.port
    sock = socket.create_connection((parts.hostname, parts.port), SOCKET_TIMEOUT)
    try:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            assert more, f"the server closed before the response head: {data!r}"
            data += more
        head, _, body = data.partition(b"\r\n\r\n")
        got = len(body)
        while got < READ_BEFORE_LEAVING:
            more = sock.recv(65536)
            assert more, f"the body ended after {got} bytes"
            got += len(more)
    finally:
        if how == "reset":
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        else:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        sock.close()
    return head, got


def _check_head(head: bytes) -> None:
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200"), head
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    assert headers["content-type"].startswith("multipart/related"), head
    assert "chunked" not in headers.get("transfer-encoding", ""), head
    assert int(headers["content-length"]) > MIN_PAGE, head


async def _httpx_partial_retrieve(url: str, request: bytes) -> tuple[bytes, int]:
    head_bytes, _, soap = request.partition(b"\r\n\r\n")
    async with httpx.AsyncClient(timeout=SOCKET_TIMEOUT) as http:
        async with http.stream(
            "POST",
            url,
            content=soap,
            headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        ) as response:
            head = (
                f"HTTP/1.1 {response.status_code} x\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in response.headers.items())
            ).encode()
            got = 0
            async for chunk in response.aiter_raw():
                got += len(chunk)
                if got >= READ_BEFORE_LEAVING:
                    break
            # Leaving the block closes the response mid-body: the connection is dropped.
    return head.rstrip(b"\r\n"), got


async def _job_status(client: ScannerServiceClient, job_id: int) -> scan.JobStatus:
    reply = await client.get_job_elements(
        job_id=job_id,
        requested_elements=scan.RequestedElements(name=[QName(SCAN_NS, "JobStatus")]),
    )
    data = reply.job_elements.element_data[0]
    assert data.valid is True and data.job_status is not None
    return data.job_status


def _reasons(reasons: scan.JobStateReasons) -> list[str]:
    return [str(getattr(r, "value", r)) for r in reasons.job_state_reason]


@pytest.mark.parametrize("how", ["close", "reset", "httpx"])
async def test_client_gone_mid_transfer_aborts_job(
    served: ServedScanner, client: ScannerServiceClient, how: str
) -> None:
    big = await scan_ticket(client, dpi=600)
    job = await client.create_scan_job(scan_ticket=big)
    request = _retrieve_request(served.url, job)
    if how == "httpx":
        head, got = await _httpx_partial_retrieve(served.url, request)
    else:
        head, got = await asyncio.to_thread(
            _raw_partial_retrieve, served.url, request, how
        )
    _check_head(head)
    assert got >= READ_BEFORE_LEAVING

    # The server notices within a bounded time; GetJobElements shows the final state.
    deadline = time.monotonic() + ABORT_DEADLINE
    while True:
        status = await _job_status(client, job.job_id)
        if status.job_state == ABORTED or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    state = getattr(status.job_state, "value", status.job_state)
    reasons = _reasons(status.job_state_reasons)
    assert (state, reasons) == ("Aborted", ["ImageTransferError"]), (
        f"job {job.job_id} after the client left ({how}): state={state} "
        f"reasons={reasons} scans_completed={status.scans_completed}\n"
        f"{served.log_tail()}"
    )
    assert status.job_completed_time is not None
    assert status.scans_completed == 0  # the one image never arrived

    # GetJobHistory agrees; GetActiveJobs no longer lists the job.
    history = await client.get_job_history()
    summaries = [s for s in history.job_history.job_summary if s.job_id == job.job_id]
    assert len(summaries) == 1
    assert getattr(summaries[0].job_state, "value", summaries[0].job_state) == (
        "Aborted"
    )
    assert TRANSFER_ERROR.value in _reasons(summaries[0].job_state_reasons)
    active = await client.get_active_jobs()
    assert job.job_id not in [s.job_id for s in active.active_jobs.job_summary]
    assert job.job_id not in [j.job_id for j in active.active_jobs.job]

    # The server still serves a new, complete scan (max-active-jobs is 1: the aborted
    # job does not hold the scanner).
    small = await client.create_scan_job(
        scan_ticket=await scan_ticket(client, color="Grayscale8")
    )
    assert small.job_id != job.job_id
    page = await client.retrieve_image(
        job_id=small.job_id, job_token=small.job_token, document_description=DOC
    )
    data = await page.read()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG" and image.mode == "L"
        assert image.size == (8500 * 75 // 1000, 11690 * 75 // 1000)
    done = await _job_status(client, small.job_id)
    assert getattr(done.job_state, "value", done.job_state) == "Completed"
    assert done.scans_completed == 1

    # No traceback from the server, and it is still running.
    assert served.alive(), served.log_tail()
    output = served.stdout_text() + served.stderr_text()
    assert "Traceback (most recent call last)" not in output, served.log_tail()


async def test_client_that_stops_reading_is_dropped_after_write_timeout() -> None:
    """``wsdscan serve --write-timeout 1``: a client that asks for a large image and
    then reads nothing (its socket stays open) loses the connection, and the job ends
    Aborted with ImageTransferError instead of holding the scanner."""
    with ServedScanner(["--png-compress-level", "0", "--write-timeout", "1"]) as srv:
        async with HttpTransport(srv.url, timeout=httpx.Timeout(20.0)) as transport:
            client = ScannerServiceClient(transport)
            job = await client.create_scan_job(
                scan_ticket=await scan_ticket(client, dpi=600)
            )
            parts = urlsplit(srv.url)
            assert parts.hostname == "127.0.0.1" and parts.port
            stalled = socket.create_connection((parts.hostname, parts.port))
            try:
                # A small receive buffer fills at once; then nothing more is read.
                stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                stalled.sendall(_retrieve_request(srv.url, job))
                deadline = time.monotonic() + 20
                while True:
                    status = await _job_status(client, job.job_id)
                    if status.job_state == ABORTED or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.2)
            finally:
                stalled.close()
            state = getattr(status.job_state, "value", status.job_state)
            assert (state, _reasons(status.job_state_reasons)) == (
                "Aborted",
                ["ImageTransferError"],
            ), srv.log_tail()
            # The scanner is free again.
            small = await client.create_scan_job(
                scan_ticket=await scan_ticket(client, color="Grayscale8")
            )
            page = await client.retrieve_image(
                job_id=small.job_id, job_token=small.job_token, document_description=DOC
            )
            assert (await page.read()).startswith(b"\x89PNG")
        output = srv.stdout_text() + srv.stderr_text()
        assert "Traceback (most recent call last)" not in output, srv.log_tail()

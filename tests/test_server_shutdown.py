"""Stopping a server started with ``wsdscan.runtime.server.serve.running`` on 127.0.0.1: a
request in progress delays it only for the graceful-shutdown period, and a
cancellation of the caller while it waits reaches the caller."""

from __future__ import annotations

import asyncio
import time

import pytest
from job_support import scan_ticket
from test_virtual_transfer import BIG, PATH, RawClient
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models import scan
from wsdscan.runtime.contract import RequestContext
from wsdscan.runtime.server import (
    GRACEFUL_SHUTDOWN_TIMEOUT,
    ServerLimits,
    SoapApp,
    running,
)
from wsdscan.runtime.transport import HttpTransport

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig


async def test_a_stalled_image_transfer_delays_stopping_only_so_long() -> None:
    # Write deadlines far away: only the graceful-shutdown period ends the transfer.
    scanner = VirtualScanner(VirtualScannerConfig(png_compress_level=0))
    app = SoapApp(scanner, path=PATH, limits=ServerLimits(write_timeout=600.0))
    server = running(app)
    srv = await server.__aenter__()
    raw: RawClient | None = None
    try:
        url = srv.url(PATH)
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            job = await client.create_scan_job(
                scan_ticket=await scan_ticket(client, dpi=300)
            )
        raw = await RawClient.connect(srv.port)
        assert await raw.retrieve(url, job, "p1") > BIG  # then never read
    finally:
        start = time.monotonic()
        await asyncio.wait_for(
            server.__aexit__(None, None, None), GRACEFUL_SHUTDOWN_TIMEOUT + 10
        )
        took = time.monotonic() - start
        if raw is not None:
            raw.close()
    assert took < GRACEFUL_SHUTDOWN_TIMEOUT + 1.5
    # The cancelled transfer still ended the job (the image never arrived).
    ended = scanner.jobs.get(job.job_id)
    assert ended is not None
    assert (ended.state, ended.reasons) == (
        scan.JobStateKnownValue.ABORTED,
        [scan.JobStateReasonKnownValue.IMAGE_TRANSFER_ERROR],
    )


class StuckScanner(VirtualScanner):
    """GetActiveJobs answers only once ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def get_active_jobs(
        self, request: scan.GetActiveJobsRequest, context: RequestContext
    ) -> scan.GetActiveJobsResponse:
        self.entered.set()
        await self.release.wait()
        return await super().get_active_jobs(request, context)


async def test_a_cancelled_caller_of_a_stopping_server_sees_it() -> None:
    scanner = StuckScanner()
    server = running(SoapApp(scanner, path=PATH))
    srv = await server.__aenter__()
    transport = HttpTransport(srv.url(PATH))
    request = asyncio.create_task(ScannerServiceClient(transport).get_active_jobs())
    try:
        await asyncio.wait_for(scanner.entered.wait(), 10)
        # The server waits for the stuck request; our caller gives up after 0.3 s.
        # Its cancellation must not be swallowed: wait_for raises TimeoutError.
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(server.__aexit__(None, None, None), 0.3)
        assert time.monotonic() - start < GRACEFUL_SHUTDOWN_TIMEOUT
        # The cancellation reached the server task too: the server is stopped.
        assert srv.task.done()
    finally:
        scanner.release.set()
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)
        await transport.aclose()

    # The server task's own cancellation still ends `running` quietly.
    async with running(SoapApp(VirtualScanner(), path=PATH)) as other:
        other.task.cancel()
        await asyncio.gather(other.task, return_exceptions=True)

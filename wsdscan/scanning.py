"""High-level scanning on top of the generated client: read capabilities, build a
ticket the scanner supports, run a job and write its pages (page files, or one PDF or
TIFF), cancelling the job on the device if anything fails or the caller cancels.

    async with ScannerSession("http://192.0.2.10:5358/WSDScanner") as scanner:
        info = await scanner.info()
        pages = await scanner.scan("doc.pdf", source="adf", color="gray")

The blocking twin is :class:`wsdscan.Scanner` (``wsdscan.sync``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar
from xml.etree.ElementTree import QName

from wsdscan.device import ActiveJob, ScannerCapabilities
from wsdscan.errors import DeviceError, OutputError, ScanError
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models.scan import (
    CreateScanJobResponse,
    DocumentDescription,
    RequestedElements,
)
from wsdscan.messages import fault_words
from wsdscan.output import OutputTarget, PageNamer, PageSink, open_sink
from wsdscan.quirks import ADF_END_SUBCODES
from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.soap import SoapFault
from wsdscan.runtime.transport import HttpTransport
from wsdscan.ticket import Region, ScanSettings, build_ticket, resolve_settings

__all__ = [
    "CANCEL_TIMEOUT",
    "PageNamer",
    "ScanError",
    "ScanProgress",
    "ScannerCapabilities",
    "ScannerSession",
]

SCAN_NS: Final = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
CANCEL_TIMEOUT: Final = 5.0
"""Seconds a CancelJob sent while giving up a job may take."""
T = TypeVar("T")


@dataclass(frozen=True)
class ScanProgress:
    """Where a job stands: ``page`` (from 1) of ``pages`` (None: the feeder decides),
    ``received`` bytes of ``size`` (None: unknown); ``waiting`` while the scanner
    works on the page and nothing has arrived yet; ``done`` once the page is whole."""

    page: int
    pages: int | None
    received: int = 0
    size: int | None = None
    waiting: bool = False
    done: bool = False


ProgressCallback = Callable[[ScanProgress], None]


def _subcode(fault: SoapFault) -> str:
    return (fault.subcode or fault.code).rpartition("}")[2]


async def _in_thread(call: Callable[..., T], *args: Any) -> T:
    """A blocking sink step (converting, appending a page) in a worker thread. A
    cancellation lets the step end first: it writes the files ``abort`` removes."""
    task = asyncio.ensure_future(asyncio.to_thread(call, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


class _Job:
    """A created job, cancelled on the device (once, within CANCEL_TIMEOUT) when it
    is given up before its end."""

    def __init__(self, client: ScannerServiceClient, job: CreateScanJobResponse):
        self.client = client
        self.response = job
        self.ended = False

    async def cancel(self) -> None:
        if self.ended:
            return
        self.ended = True
        # The job may have ended meanwhile (JobIdNotFound); the device may be gone.
        with contextlib.suppress(WsdScanError, OSError, TimeoutError):
            await asyncio.wait_for(
                self.client.cancel_job(job_id=self.response.job_id), CANCEL_TIMEOUT
            )

    async def shielded(self, step: Coroutine[Any, Any, T]) -> T:
        """Run ``step``; if the caller is cancelled meanwhile (Ctrl-C), cancel the job
        on the device while the step's transfer still stands, then the step: a
        scanner that saw the connection drop first would end the job Aborted, not
        Canceled."""
        task = asyncio.ensure_future(step)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                await self.cancel()
                task.cancel()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await task
            raise


class ScannerSession:
    """A scanner at one URL: the generated client plus the scanning workflow."""

    def __init__(self, url: str, *, transport: HttpTransport | None = None) -> None:
        # A transport passed in belongs to the caller and stays open after the session.
        self._owns_transport = transport is None
        self.url = url
        self.transport = transport or HttpTransport(url)
        self.client = ScannerServiceClient(self.transport)

    async def _elements(self, *names: str) -> ScannerCapabilities:
        response = await self.client.get_scanner_elements(
            requested_elements=RequestedElements(
                name=[QName(SCAN_NS, n) for n in names]
            )
        )
        description = configuration = status = None
        for data in response.scanner_elements.element_data:
            description = description or data.scanner_description
            configuration = configuration or data.scanner_configuration
            status = status or data.scanner_status
        return ScannerCapabilities(description, configuration, status)

    async def info(self) -> ScannerCapabilities:
        """Description, configuration and status (one GetScannerElements)."""
        return await self._elements(
            "ScannerDescription", "ScannerConfiguration", "ScannerStatus"
        )

    async def active_jobs(self) -> list[ActiveJob]:
        """The jobs the scanner is working on (GetActiveJobs)."""
        response = await self.client.get_active_jobs()
        return [ActiveJob.from_summary(s) for s in response.active_jobs.job_summary]

    async def _reasons(self) -> list[str]:
        """State reasons and conditions now, to explain a fault (as sane-airscan asks
        for ScannerStatus after one); none if the scanner does not say."""
        with contextlib.suppress(WsdScanError, OSError):
            return (await self._elements("ScannerStatus")).reasons
        return []

    async def _device_error(self, fault: SoapFault, source: str) -> DeviceError:
        reasons = await self._reasons()
        words = fault_words(fault, source=source, reasons=reasons)
        return DeviceError(words, tuple(reasons))

    async def scan(
        self,
        output: str | os.PathLike[str] | Callable[[int], Path],
        *,
        source: str | None = None,
        resolution: int | None = None,
        color: str | None = None,
        format: str | None = None,
        size: str | None = None,
        region: Region | None = None,
        pages: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[Path]:
        """Run one scan job and write its pages; returns the files written.

        ``output``: ``doc.pdf`` or ``doc.tif`` (one document), ``page.png``,
        ``page.jpg``, ``page%d.png``, a folder, or a callable naming page n. Options
        take the schema's names or aliases in any case (``source="adf"``,
        ``color="gray"``); left None they follow the scanner (format: the best for
        the output's type). ``size`` is a paper size (``A4``, ``Letter``), ``region``
        left, top, width, height in mm. The output location is checked before the
        job is created; on any failure or cancellation the job is cancelled on the
        device and nothing half-written is left."""
        target = OutputTarget.parse(output)
        target.check()  # before the scanner is asked for anything
        # No ScannerDescription: a scan needs none, and every element costs binding.
        info = await self._elements("ScannerConfiguration", "ScannerStatus")
        settings = resolve_settings(
            info,
            source=source,
            resolution=resolution,
            color=color,
            format=format,
            size=size,
            region=region,
            pages=pages,
            output=target.kind,
        )
        sink = open_sink(target, settings.format, settings.resolution)
        try:
            response = await self.client.create_scan_job(
                scan_ticket=build_ticket(settings)
            )
        except SoapFault as fault:
            sink.abort()
            raise await self._device_error(fault, settings.source) from fault
        except BaseException:
            sink.abort()
            raise
        return await self._run(_Job(self.client, response), settings, sink, progress)

    async def _run(
        self,
        job: _Job,
        settings: ScanSettings,
        sink: PageSink,
        progress: ProgressCallback | None,
    ) -> list[Path]:
        written: list[Path] = []
        expected = settings.images or None
        page = 0
        try:
            while expected is None or page < expected:
                page += 1
                received = sink.receive_path(page)
                try:
                    await job.shielded(
                        self._receive(job, page, expected, received, progress)
                    )
                except SoapFault as fault:
                    if page > 1 and _subcode(fault) in ADF_END_SUBCODES:
                        break  # the feeder is empty: the job's normal end
                    raise
                except OSError as exc:
                    raise OutputError(
                        f"cannot write {sink.shown(page)}: {exc.strerror or exc}"
                    ) from exc
                path = await _in_thread(sink.add, page, received)
                if path is not None:
                    written.append(path)
            job.ended = True
            return written + await _in_thread(sink.finish)
        except BaseException as exc:
            await job.cancel()
            sink.abort()
            if isinstance(exc, SoapFault):
                raise await self._device_error(exc, settings.source) from exc
            raise

    async def _receive(
        self,
        job: _Job,
        page: int,
        pages: int | None,
        target: Path,
        progress: ProgressCallback | None,
    ) -> int:
        if progress is not None:
            progress(ScanProgress(page, pages, waiting=True))
        result = await self.client.retrieve_image(
            job_id=job.response.job_id,
            job_token=job.response.job_token,
            document_description=DocumentDescription(document_name=f"IMAGE{page:03d}"),
        )
        report: Callable[[int], None] | None = None
        if progress is not None:
            tell = progress
            total: int | None = getattr(result, "expected_size", None)
            tell(ScanProgress(page, pages, 0, total))

            def on_bytes(received: int) -> None:
                tell(ScanProgress(page, pages, received, total))

            report = on_bytes
        size = await result.save(target, report)
        if progress is not None:
            progress(ScanProgress(page, pages, size, size, done=True))
        return size

    async def save_pages(
        self,
        job: CreateScanJobResponse,
        name_page: Callable[[int], Path],
        *,
        single_page: bool,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[tuple[int, Path, int]]:
        """Retrieve the pages of a created job and save each (atomically) to
        ``name_page(n)``; yields ``(page number, path, bytes)`` as each lands.
        ``single_page`` (a platen job) stops after the first page. A failure cancels
        the job on the device."""
        guard = _Job(self.client, job)
        page = 0
        pages = 1 if single_page else None
        try:
            while True:
                target = name_page(page + 1)
                try:
                    size = await guard.shielded(
                        self._receive(guard, page + 1, pages, target, progress)
                    )
                except SoapFault as fault:
                    if page and _subcode(fault) in ADF_END_SUBCODES:
                        guard.ended = True
                        return
                    raise
                page += 1
                yield page, target, size
                if single_page:
                    guard.ended = True
                    return
        except BaseException:
            await guard.cancel()
            raise

    async def aclose(self) -> None:
        if self._owns_transport:
            await self.transport.aclose()

    async def __aenter__(self) -> ScannerSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

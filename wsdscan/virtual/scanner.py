"""The virtual scanner: a WS-Scan service on the generated ``ScannerServiceBase``, with
its operations and the controls a test or the CLI uses at run time (feeder, jam,
configuration, scan button).

One job at a time (CreateScanJob while a job is active answers
ServerErrorNotAcceptingJobs). Every operation first times out the jobs nobody touched
for ``job_timeout`` seconds. The job table is guarded by an ``asyncio.Lock`` that is
never held while an image is produced: images are rendered and encoded in a worker
thread, one at a time per job (``retrieval.py``). How a job goes from its creation to
its end (the runtime's ``on_complete`` and ``on_abort`` of each image transfer among
them) is in ``joblifecycle.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from wsdscan.generated import ScannerServiceBase
from wsdscan.generated.models.scan import (
    ActiveJobs,
    CancelJobRequest,
    CancelJobResponse,
    CreateScanJobRequest,
    CreateScanJobResponse,
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobElementsRequest,
    GetJobElementsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    GetScannerElementsRequest,
    GetScannerElementsResponse,
    JobHistory,
    RetrieveImageRequest,
    RetrieveImageResponse,
    ValidateScanTicketRequest,
    ValidateScanTicketResponse,
    ValidationInfo,
    ValidScanTicket,
)
from wsdscan.generated.stubs.faults import (
    ClientErrorInvalidDestinationToken,
    ClientErrorInvalidScanIdentifier,
    ClientErrorNoImagesAvailable,
    ServerErrorInternalError,
    ServerErrorNotAcceptingJobs,
)
from wsdscan.runtime.contract import AttachmentReply, RequestContext
from wsdscan.runtime.eventing import SubscriptionManager

from . import capabilities, joblifecycle, reports, retrieval
from .config import VirtualScannerConfig
from .eventing import ScannerEventing
from .images import MAX_MARKED_SHEET, DocumentSpec, PageSpec
from .jobs import JobTable, VirtualJob
from .pagecache import PageCache
from .ticket import resolve_ticket
from .ticketfields import image_information
from .values import requested_name

__all__ = ["VirtualScanner", "requested_name"]


class VirtualScanner(ScannerServiceBase):
    """A scanner with a platen and an ADF that scans synthetic test pages.

    ``VirtualScanner(VirtualScannerConfig(adf_sheets=3, duplex=True))``; hand it to
    the runtime's server like any ``ScannerServiceBase``. ``clock`` (seconds,
    monotonic) is for tests.
    """

    def __init__(
        self,
        config: VirtualScannerConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config if config is not None else VirtualScannerConfig()
        self.jobs = JobTable(
            first_job_id=self.config.first_job_id,
            history_size=self.config.history_size,
            adf_sheets=self.config.adf_sheets if self.config.adf else 0,
            clock=clock,
        )
        self._clock = clock
        self._lock = asyncio.Lock()
        self._pages = PageCache(self.config.image_cache, self.config.png_compress_level)
        self.eventing: ScannerEventing | None = None
        """Events and the scan button, once :meth:`attach_eventing` was called."""
        self.jammed = False

    # --- run-time control -------------------------------------------------------

    @property
    def adf_sheets(self) -> int:
        """Sheets left in the ADF."""
        return self.jobs.adf_sheets

    def load_adf(self, sheets: int, *, duplex: bool | None = None) -> None:
        """Reload the feeder with ``sheets`` sheets (replacing what is left).

        ``duplex`` True turns the duplex unit on, False off (the built-in scanner; a
        profile's ADF has duplex or not, and asking otherwise is a ValueError); None
        leaves it. Call it from the event loop's thread; a running job continues with
        the new sheets."""
        if not 0 <= sheets <= MAX_MARKED_SHEET:
            raise ValueError(f"sheets must be in 0..{MAX_MARKED_SHEET}")
        if not self.config.adf:
            raise ValueError("this scanner has no ADF")
        if duplex is not None and duplex != self.config.duplex:
            if self.config.profile is not None:
                has = "has" if self.config.duplex else "has no"
                raise ValueError(f"this scanner's ADF {has} duplex (its profile)")
            self.update_config(duplex=duplex)
        self.jobs.adf_sheets = sheets
        self._observe()

    def _expire(self) -> None:
        self.jobs.expire(self.config.job_timeout)
        self._observe()

    # --- events and the scan button (wsdscan.virtual.eventing) -------------------

    def attach_eventing(self, manager: SubscriptionManager) -> ScannerEventing:
        """Publish this scanner's events through ``manager`` (serve its handlers on
        the scan endpoint) and enable the scan button."""
        self.eventing = ScannerEventing(manager, clock=self._clock)
        self._observe(emit=False)
        return self.eventing

    def _observe(self, emit: bool = True) -> None:
        if self.eventing is not None:
            self.eventing.observe(
                self.jobs, adf=self.config.adf, jammed=self.jammed, emit=emit
            )

    def press_button(self, destination: str) -> str:
        """The user picks ``destination`` on the panel and presses Start: sends
        ScanAvailableEvent to that PC; returns the ScanIdentifier. LookupError if no
        live subscription registered that name."""
        if self.eventing is None:
            raise LookupError("this scanner has no eventing (attach_eventing)")
        return self.eventing.press(destination)

    def set_jammed(self, jammed: bool) -> None:
        """Simulate a paper jam (Stopped, MediaJam; new jobs are refused) or clear it."""
        self.jammed = jammed
        self._observe()

    def update_config(self, **changes: Any) -> None:
        """Change configuration fields at run time (validated) and send
        ScannerElementsChangeEvent."""
        self.config = dataclasses.replace(self.config, **changes)
        if self.eventing is not None:
            self.eventing.elements_changed(self.config)

    # --- scanner elements -------------------------------------------------------

    async def get_scanner_elements(
        self, request: GetScannerElementsRequest, context: RequestContext
    ) -> GetScannerElementsResponse:
        async with self._lock:
            self._expire()
            busy = bool(self.jobs.active)
            sheets = self.jobs.adf_sheets
        elements = capabilities.scanner_elements(
            self.config,
            request.requested_elements.name,
            busy=busy,
            adf_sheets=sheets,
            jammed=self.jammed,
        )
        return GetScannerElementsResponse(scanner_elements=elements)

    async def validate_scan_ticket(
        self, request: ValidateScanTicketRequest, context: RequestContext
    ) -> ValidateScanTicketResponse:
        ticket = request.scan_ticket
        resolved = resolve_ticket(self.config, ticket, strict=False)
        corrected = None
        if not resolved.valid:
            corrected = ValidScanTicket(
                job_description=ticket.job_description,
                document_parameters=resolved.valid_parameters,
            )
        return ValidateScanTicketResponse(
            validation_info=ValidationInfo(
                valid_ticket=resolved.valid,
                image_information=image_information(resolved.settings),
                valid_scan_ticket=corrected,
            )
        )

    # --- jobs -------------------------------------------------------------------

    async def create_scan_job(
        self, request: CreateScanJobRequest, context: RequestContext
    ) -> CreateScanJobResponse:
        async with self._lock:
            # Checked and consumed under one lock hold (nothing here awaits), so two
            # requests with the same ScanIdentifier cannot both pass. Scan identifiers
            # and destination tokens exist only once eventing is on (a button press
            # issues them); without it, none is valid.
            scan_identifier = None
            if self.eventing is not None:
                scan_identifier = self.eventing.check_job_request(
                    request.scan_identifier, request.destination_token
                )
            elif request.scan_identifier is not None:
                raise ClientErrorInvalidScanIdentifier()
            elif request.destination_token is not None:
                raise ClientErrorInvalidDestinationToken()
            if self.jammed:
                raise ServerErrorNotAcceptingJobs("the scanner is jammed")
            resolved = resolve_ticket(self.config, request.scan_ticket, strict=True)
            settings = resolved.settings
            self._expire()
            joblifecycle.admit(self.jobs, settings, self.config.max_active_jobs)
            job = self.jobs.create(
                request.scan_ticket,
                settings,
                resolved.final_parameters,
                adjusted=not resolved.valid,
            )
            if self.eventing is not None:
                self.eventing.consume(scan_identifier)
            self._observe()
        return CreateScanJobResponse(
            job_id=job.job_id,
            job_token=job.token,
            image_information=image_information(settings),
            document_final_parameters=resolved.final_parameters,
        )

    async def retrieve_image(
        self, request: RetrieveImageRequest, context: RequestContext
    ) -> AttachmentReply[RetrieveImageResponse]:
        async with self._lock:
            self._expire()
            job = joblifecycle.for_retrieval(self.jobs, request)
            reserved = joblifecycle.start_transfer(self.jobs, job, self._clock())
            self._observe()
            if not reserved:
                raise ClientErrorNoImagesAvailable()
        spec = retrieval.image_spec(job, reserved, self.config.name)
        try:
            data = await self._produce(job, spec)
        except BaseException:
            # Plain bookkeeping (no await): safe without the lock.
            joblifecycle.release(job, self._clock())
            raise
        body = RetrieveImageResponse(scan_data=b"")
        document_name = request.document_description.document_name

        async def transfer_done() -> None:
            async with self._lock:
                joblifecycle.release(job, self._clock())
                if job.ended:  # Canceled (or Aborted by another page) meanwhile
                    return
                joblifecycle.delivered(self.jobs, job, len(reserved), document_name)
                self._observe()

        async def transfer_failed() -> None:
            async with self._lock:
                joblifecycle.release(job, self._clock())
                self.jobs.abort_transfer(job)
                self._observe()

        return AttachmentReply(
            body=body,
            content=data,
            content_type=spec.content_type,
            size=len(data),
            on_abort=transfer_failed,
            on_complete=transfer_done,
        )

    async def _produce(self, job: VirtualJob, spec: PageSpec | DocumentSpec) -> bytes:
        """The image for ``spec``, one at a time per job; a failure aborts the job
        (ImageTransferError: "the WSD Scan Service must abort the job") and answers
        ServerErrorInternalError."""
        async with job.render_lock:
            # Ended while waiting for the lock: nothing to render.
            joblifecycle.check_not_ended(job)
            try:
                data = await retrieval.produce(
                    self._pages, spec, self.config.scan_delay
                )
            except Exception as exc:
                self.jobs.abort_transfer(job)
                self._observe()
                raise ServerErrorInternalError() from exc
        joblifecycle.check_not_ended(job)  # canceled (or aborted) while rendering
        return data

    async def cancel_job(
        self, request: CancelJobRequest, context: RequestContext
    ) -> CancelJobResponse:
        async with self._lock:
            self._expire()
            joblifecycle.cancel(self.jobs, request.job_id)
            self._observe()
        return CancelJobResponse()

    async def get_job_elements(
        self, request: GetJobElementsRequest, context: RequestContext
    ) -> GetJobElementsResponse:
        async with self._lock:
            self._expire()
            job = joblifecycle.find(self.jobs, request.job_id)
            elements = reports.job_elements(job, request.requested_elements.name)
        return GetJobElementsResponse(job_elements=elements)

    async def get_active_jobs(
        self, request: GetActiveJobsRequest, context: RequestContext
    ) -> GetActiveJobsResponse:
        async with self._lock:
            self._expire()
            summaries = [reports.job_summary(job) for job in self.jobs.active]
        return GetActiveJobsResponse(active_jobs=ActiveJobs(job_summary=summaries))

    async def get_job_history(
        self, request: GetJobHistoryRequest, context: RequestContext
    ) -> GetJobHistoryResponse:
        """Ended jobs, the most recent first."""
        async with self._lock:
            self._expire()
            summaries = [
                reports.job_summary(job) for job in reversed(self.jobs.history)
            ]
        return GetJobHistoryResponse(job_history=JobHistory(job_summary=summaries))

"""The virtual scanner: a WS-Scan service on the generated ``ScannerServiceBase``.

One job at a time (CreateScanJob while a job is active answers
ServerErrorNotAcceptingJobs); a job that nobody touches for ``job_timeout`` seconds is
Aborted with JobTimedOut, checked at the start of every operation (a job is never idle
while one of its images is produced or sent). The job table is guarded by an
``asyncio.Lock`` that is never held while an image is produced: images are rendered
and encoded in a worker thread, one at a time per job. A job ends once its last image
was sent whole (the runtime's ``on_complete``), or Aborted with ImageTransferError when
a transfer fails (``on_abort``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
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
    JobElementData,
    JobElements,
    JobHistory,
    JobStateKnownValue,
    JobStateReasonKnownValue,
    RetrieveImageRequest,
    RetrieveImageResponse,
    ScannerElementData,
    ScannerElements,
    ValidateScanTicketRequest,
    ValidateScanTicketResponse,
    ValidationInfo,
    ValidScanTicket,
)
from wsdscan.generated.stubs.faults import (
    ClientErrorInvalidDestinationToken,
    ClientErrorInvalidJobToken,
    ClientErrorInvalidScanIdentifier,
    ClientErrorJobCancelled,
    ClientErrorJobIdNotFound,
    ClientErrorNoImagesAvailable,
    ServerErrorInternalError,
    ServerErrorNotAcceptingJobs,
)
from wsdscan.runtime.contract import AttachmentReply, RequestContext
from wsdscan.runtime.eventing import SubscriptionManager

from . import capabilities, encoders, reports, retrieval
from .config import VirtualScannerConfig
from .eventing import ScannerEventing
from .images import MAX_MARKED_SHEET, DocumentSpec, PageSpec
from .jobs import JobTable, VirtualJob
from .pagecache import PageCache
from .ticket import resolve_ticket
from .ticketfields import image_information
from .values import requested_name

__all__ = ["VirtualScanner", "requested_name"]


def _job_id_detail(job_id: int) -> str:
    return f"JobId: {job_id}"


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
        config = self.config
        data: list[ScannerElementData] = []
        for name in request.requested_elements.name:
            local = requested_name(name)
            element = ScannerElementData(name=name, valid=True)
            if local == "ScannerDescription":
                element.scanner_description = capabilities.scanner_description(config)
            elif local == "ScannerConfiguration":
                element.scanner_configuration = capabilities.scanner_configuration(
                    config
                )
            elif local == "DefaultScanTicket":
                element.default_scan_ticket = capabilities.default_scan_ticket(config)
            elif local == "ScannerStatus":
                element.scanner_status = capabilities.scanner_status(
                    config, busy=busy, adf_sheets=sheets, jammed=self.jammed
                )
            else:
                element.valid = False
            data.append(element)
        return GetScannerElementsResponse(
            scanner_elements=ScannerElements(element_data=data)
        )

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
            if len(self.jobs.active) >= self.config.max_active_jobs:
                raise ServerErrorNotAcceptingJobs()
            if settings.source != "Platen" and self.jobs.adf_sheets <= 0:
                raise ClientErrorNoImagesAvailable()
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

    def _job_for_retrieval(self, request: RetrieveImageRequest) -> VirtualJob:
        job = self.jobs.get(request.job_id)
        if job is None:
            raise ClientErrorJobIdNotFound(detail=_job_id_detail(request.job_id))
        given = request.job_token.strip().encode()
        if not _same(given, job.token.encode()):
            raise ClientErrorInvalidJobToken()
        if job.state == JobStateKnownValue.CANCELED:
            raise ClientErrorJobCancelled()
        if job.ended:
            raise ClientErrorJobIdNotFound(detail=_job_id_detail(request.job_id))
        return job

    async def retrieve_image(
        self, request: RetrieveImageRequest, context: RequestContext
    ) -> AttachmentReply[RetrieveImageResponse]:
        async with self._lock:
            self._expire()
            job = self._job_for_retrieval(request)
            job.last_activity = self._clock()
            reserved = retrieval.reserve(self.jobs, job)
            if not reserved:
                # Nothing more to scan (feeder empty or ticket satisfied): the end
                # of the job, as a real ADF finds out when it tries the next sheet;
                # once the images still in flight are delivered.
                if job.in_flight == 0:
                    self.jobs.complete(job)
                else:
                    job.exhausted = True
                self._observe()
                raise ClientErrorNoImagesAvailable()
            # A multi-page document holds every image the job has: nothing is left.
            job.exhausted = encoders.is_multi_page(job.settings.format)
            job.state = JobStateKnownValue.PROCESSING
            job.reasons = [JobStateReasonKnownValue.JOB_SCANNING_AND_TRANSFERRING]
            # In flight until the transfer ends (on_complete/on_abort below), so a
            # transfer slower than job_timeout does not expire the job.
            job.in_flight += 1
            self._observe()
        spec = retrieval.image_spec(job, reserved, self.config.name)
        try:
            async with job.render_lock:
                # Ended while waiting for the lock: nothing to render.
                _check_not_ended(job)
                data = await self._render(job, spec)
            _check_not_ended(job)  # canceled (or aborted) while rendering
        except BaseException:
            # Plain bookkeeping (no await): safe without the lock.
            job.in_flight -= 1
            job.last_activity = self._clock()
            raise
        body = RetrieveImageResponse(scan_data=b"")
        document_name = request.document_description.document_name

        async def transfer_done() -> None:
            async with self._lock:
                job.in_flight -= 1
                job.last_activity = self._clock()
                if job.ended:  # Canceled (or Aborted by another page) meanwhile
                    return
                job.scans_completed += len(reserved)
                job.documents.append(document_name)
                # A job ends once its last image arrived: its end state (and
                # JobEndStateEvent) is then final.
                if job.in_flight == 0 and (job.exhausted or job.limit_reached()):
                    self.jobs.complete(job)
                self._observe()

        async def transfer_failed() -> None:
            async with self._lock:
                job.in_flight -= 1
                job.last_activity = self._clock()
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

    async def _render(self, job: VirtualJob, spec: PageSpec | DocumentSpec) -> bytes:
        """The image for ``spec``; a failure aborts the job (ImageTransferError: "the
        WSD Scan Service must abort the job") and answers ServerErrorInternalError."""
        try:
            if self.config.scan_delay > 0:
                # Per image: a multi-page document takes as long as its pages.
                images = len(spec.pages) if isinstance(spec, DocumentSpec) else 1
                await asyncio.sleep(self.config.scan_delay * images)
            return await self._pages.get(spec)
        except Exception as exc:
            self.jobs.abort_transfer(job)
            self._observe()
            raise ServerErrorInternalError() from exc

    async def cancel_job(
        self, request: CancelJobRequest, context: RequestContext
    ) -> CancelJobResponse:
        async with self._lock:
            self._expire()
            job = self.jobs.get(request.job_id)
            if job is None or job.ended:
                # "It is an error to attempt to cancel a completed or canceled job."
                raise ClientErrorJobIdNotFound(detail=_job_id_detail(request.job_id))
            self.jobs.end(job, JobStateKnownValue.CANCELED)
            self._observe()
        return CancelJobResponse()

    async def get_job_elements(
        self, request: GetJobElementsRequest, context: RequestContext
    ) -> GetJobElementsResponse:
        async with self._lock:
            self._expire()
            job = self.jobs.get(request.job_id)
            if job is None:
                raise ClientErrorJobIdNotFound(detail=_job_id_detail(request.job_id))
            data: list[JobElementData] = []
            for name in request.requested_elements.name:
                local = requested_name(name)
                element = JobElementData(name=name, valid=True)
                if local == "JobStatus":
                    element.job_status = reports.job_status(job)
                elif local == "ScanTicket":
                    element.scan_ticket = job.ticket
                elif local == "Documents":
                    element.documents = reports.documents(job)
                else:
                    element.valid = False
                data.append(element)
        return GetJobElementsResponse(job_elements=JobElements(element_data=data))

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


def _check_not_ended(job: VirtualJob) -> None:
    """The fault for a RetrieveImage whose job ended while its image was produced."""
    if job.state == JobStateKnownValue.CANCELED:
        raise ClientErrorJobCancelled()
    if job.ended:
        raise ClientErrorJobIdNotFound(detail=_job_id_detail(job.job_id))


def _same(given: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(given, expected)

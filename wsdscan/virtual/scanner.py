"""The virtual scanner: a WS-Scan service on the generated ``ScannerServiceBase``.

One job at a time (CreateScanJob while a job is active answers
ServerErrorNotAcceptingJobs); a job that nobody touches for ``job_timeout`` seconds is
Aborted with JobTimedOut, checked at the start of every operation. The job table is
guarded by an ``asyncio.Lock`` that is never held while an image is produced: images
are rendered and encoded in a worker thread.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from xml.etree.ElementTree import QName

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
from wsdscan.generated.server import ScannerServiceBase
from wsdscan.runtime.contract import AttachmentReply, RequestContext
from wsdscan.runtime.faults import (
    ClientErrorInvalidDestinationToken,
    ClientErrorInvalidJobToken,
    ClientErrorInvalidScanIdentifier,
    ClientErrorJobCancelled,
    ClientErrorJobIdNotFound,
    ClientErrorNoImagesAvailable,
    ServerErrorInternalError,
    ServerErrorNotAcceptingJobs,
)
from wsdscan.runtime.namespaces import WSCN, canonical_namespace

from . import capabilities, reports
from .config import VirtualScannerConfig
from .images import PageSpec, make_image
from .jobs import Job, JobTable
from .ticket import image_information, resolve_ticket


def requested_name(name: QName) -> str | None:
    """The local name of a RequestedElements Name in the scan namespace.

    ``{ns}Local`` must be in the scan namespace (any accepted spelling); text that
    did not resolve to a namespace (``Local`` or ``prefix:Local``) is taken leniently.
    """
    value = name.text.strip()
    if value.startswith("{"):
        namespace, _, local = value[1:].partition("}")
        return local if canonical_namespace(namespace) == WSCN else None
    return value.rpartition(":")[2] or None


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

    # --- run-time control -------------------------------------------------------

    @property
    def adf_sheets(self) -> int:
        """Sheets left in the ADF."""
        return self.jobs.adf_sheets

    def load_adf(self, sheets: int) -> None:
        """Reload the feeder with ``sheets`` sheets (replacing what is left).

        Call it from the event loop's thread; a running job continues with the new
        sheets."""
        if sheets < 0:
            raise ValueError("sheets must be >= 0")
        if not self.config.adf:
            raise ValueError("this scanner has no ADF")
        self.jobs.adf_sheets = sheets

    def _expire(self) -> None:
        self.jobs.expire(self.config.job_timeout)

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
                    config, busy=busy, adf_sheets=sheets
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
        # This scanner never announces ScanAvailableEvent, so it has issued no scan
        # identifiers or destination tokens that a request could carry.
        if request.scan_identifier is not None:
            raise ClientErrorInvalidScanIdentifier()
        if request.destination_token is not None:
            raise ClientErrorInvalidDestinationToken()
        resolved = resolve_ticket(self.config, request.scan_ticket, strict=True)
        settings = resolved.settings
        async with self._lock:
            self._expire()
            if self.jobs.active:
                raise ServerErrorNotAcceptingJobs()
            if settings.source != "Platen" and self.jobs.adf_sheets <= 0:
                raise ClientErrorNoImagesAvailable()
            job = self.jobs.create(
                request.scan_ticket,
                settings,
                resolved.final_parameters,
                adjusted=not resolved.valid,
            )
        return CreateScanJobResponse(
            job_id=job.job_id,
            job_token=job.token,
            image_information=image_information(settings),
            document_final_parameters=resolved.final_parameters,
        )

    def _job_for_retrieval(self, request: RetrieveImageRequest) -> Job:
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
            reserved = self.jobs.next_side(job)
            if reserved is None:
                # Nothing more to scan (feeder empty or ticket satisfied): the end
                # of the job, as a real ADF finds out when it tries the next sheet.
                self.jobs.complete(job)
                raise ClientErrorNoImagesAvailable()
            sheet, side = reserved
            job.state = JobStateKnownValue.PROCESSING
            job.reasons = [JobStateReasonKnownValue.JOB_SCANNING_AND_TRANSFERRING]
            job.in_flight += 1
        settings = job.settings
        side_settings = settings.back if side == "back" and settings.back else None
        side_settings = side_settings or settings.front
        spec = PageSpec(
            width=side_settings.pixels_per_line,
            height=side_settings.number_of_lines,
            color_mode=side_settings.color_mode,
            format=settings.format,
            sheet=sheet,
            side=side,
            x_resolution=side_settings.x_resolution,
            y_resolution=side_settings.y_resolution,
            jpeg_quality=settings.jpeg_quality,
            title=self.config.name,
        )
        try:
            if self.config.scan_delay > 0:
                await asyncio.sleep(self.config.scan_delay)
            data = await asyncio.to_thread(make_image, spec)
        except Exception as exc:
            # ImageTransferError: "the WSD Scan Service must abort the job".
            self.jobs.end(
                job,
                JobStateKnownValue.ABORTED,
                JobStateReasonKnownValue.IMAGE_TRANSFER_ERROR,
            )
            raise ServerErrorInternalError() from exc
        finally:
            # No await between here and the lock: plain bookkeeping is safe.
            job.in_flight -= 1
            job.last_activity = self._clock()
        async with self._lock:
            if job.state == JobStateKnownValue.CANCELED:
                raise ClientErrorJobCancelled()
            if job.state == JobStateKnownValue.ABORTED:
                raise ClientErrorJobIdNotFound(detail=_job_id_detail(job.job_id))
            job.scans_completed += 1
            job.documents.append(request.document_description.document_name)
            if (
                not job.ended
                and job.limit_reached()
                and job.scans_completed >= job.images_reserved
            ):
                self.jobs.complete(job)
        body = RetrieveImageResponse(scan_data=b"")
        return AttachmentReply(
            body=body, content=data, content_type=spec.content_type, size=len(data)
        )

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


def _same(given: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(given, expected)

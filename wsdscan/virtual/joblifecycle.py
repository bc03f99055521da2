"""A virtual scanner job from its creation to its end, across requests: admitting it,
finding it for a request (or the fault that it is not there), the start and end of
each image transfer, and cancelling it.

A job ends Completed once its last image was sent whole (the runtime's
``on_complete``); Aborted with ImageTransferError when a transfer fails (``on_abort``);
Canceled by CancelJob; Aborted with JobTimedOut when nobody touched it for
``job_timeout`` seconds (``JobTable.expire``, at the start of every operation). A job
with an image in flight (being produced or sent) is never idle. Everything here is
synchronous, so no other task runs in between: the scanner calls it (under its lock
where a step reads the table) and then publishes the new state.
"""

from __future__ import annotations

import hmac

from wsdscan.generated.models.scan import (
    JobStateKnownValue,
    JobStateReasonKnownValue,
    RetrieveImageRequest,
)
from wsdscan.generated.stubs.faults import (
    ClientErrorInvalidJobToken,
    ClientErrorJobCancelled,
    ClientErrorJobIdNotFound,
    ClientErrorNoImagesAvailable,
    ServerErrorNotAcceptingJobs,
)

from . import encoders, retrieval
from .images import Side
from .jobs import JobTable, VirtualJob
from .jobsettings import ScanSettings


def admit(jobs: JobTable, settings: ScanSettings, max_active_jobs: int) -> None:
    """Refuse a new job while the scanner is busy, or from an empty feeder."""
    if len(jobs.active) >= max_active_jobs:
        raise ServerErrorNotAcceptingJobs()
    if settings.source != "Platen" and jobs.adf_sheets <= 0:
        raise ClientErrorNoImagesAvailable()


def find(jobs: JobTable, job_id: int) -> VirtualJob:
    """The job, active or ended; ClientErrorJobIdNotFound if it is not known."""
    job = jobs.get(job_id)
    if job is None:
        raise ClientErrorJobIdNotFound(detail=_job_id_detail(job_id))
    return job


def for_retrieval(jobs: JobTable, request: RetrieveImageRequest) -> VirtualJob:
    """The active job whose image ``request`` asks for, its token checked."""
    job = find(jobs, request.job_id)
    given = request.job_token.strip().encode()
    if not hmac.compare_digest(given, job.token.encode()):
        raise ClientErrorInvalidJobToken()
    check_not_ended(job)
    return job


def check_not_ended(job: VirtualJob) -> None:
    """The fault for a RetrieveImage of a job that ended (also while its image was
    produced)."""
    if job.state == JobStateKnownValue.CANCELED:
        raise ClientErrorJobCancelled()
    if job.ended:
        raise ClientErrorJobIdNotFound(detail=_job_id_detail(job.job_id))


def start_transfer(
    jobs: JobTable, job: VirtualJob, now: float
) -> list[tuple[int, Side]]:
    """Reserve the images the next RetrieveImage of ``job`` delivers; they are in
    flight until their transfer ends (:func:`release`), so a transfer slower than
    ``job_timeout`` does not expire the job. None left is the end of the job."""
    job.last_activity = now
    images = retrieval.reserve(jobs, job)
    if not images:
        # Nothing more to scan (feeder empty or ticket satisfied): the end of the
        # job, as a real ADF finds out when it tries the next sheet; once the images
        # still in flight are delivered.
        if job.in_flight == 0:
            jobs.complete(job)
        else:
            job.exhausted = True
        return images
    # A multi-page document holds every image the job has: nothing is left.
    job.exhausted = encoders.is_multi_page(job.settings.format)
    job.state = JobStateKnownValue.PROCESSING
    job.reasons = [JobStateReasonKnownValue.JOB_SCANNING_AND_TRANSFERRING]
    job.in_flight += 1
    return images


def release(job: VirtualJob, now: float) -> None:
    """One transfer of ``job`` ended: sent, failed, or its image never produced."""
    job.in_flight -= 1
    job.last_activity = now


def delivered(jobs: JobTable, job: VirtualJob, images: int, document_name: str) -> None:
    """``images`` of an active job arrived whole, as ``document_name``. The job
    completes once its last image arrived: its end state (and JobEndStateEvent) is
    then final."""
    job.scans_completed += images
    job.documents.append(document_name)
    if job.in_flight == 0 and (job.exhausted or job.limit_reached()):
        jobs.complete(job)


def cancel(jobs: JobTable, job_id: int) -> None:
    """End an active job Canceled."""
    job = jobs.get(job_id)
    if job is None or job.ended:
        # "It is an error to attempt to cancel a completed or canceled job."
        raise ClientErrorJobIdNotFound(detail=_job_id_detail(job_id))
    jobs.end(job, JobStateKnownValue.CANCELED)


def _job_id_detail(job_id: int) -> str:
    return f"JobId: {job_id}"

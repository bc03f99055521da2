"""The job table: active jobs, ended jobs (bounded history) and the ADF feeder.

Not thread-safe and not locked by itself: the scanner serializes access with its
``asyncio.Lock`` (every method here is synchronous and quick).
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wsdscan.generated.models.scan import (
    DocumentFinalParameters,
    JobStateKnownValue,
    JobStateReasonKnownValue,
    ScanTicket,
)

from .images import Side
from .jobsettings import ScanSettings

ENDED_STATES = frozenset(
    {
        JobStateKnownValue.COMPLETED,
        JobStateKnownValue.CANCELED,
        JobStateKnownValue.ABORTED,
    }
)


@dataclass
class VirtualJob:
    """One scan job and its progress."""

    job_id: int
    token: str
    ticket: ScanTicket
    settings: ScanSettings
    final_parameters: DocumentFinalParameters
    created: datetime
    last_activity: float
    """Clock time of the last request that touched the job (or of the end of its last
    image transfer)."""
    adjusted: bool = False
    """The service changed the ticket (the job completes WithWarnings)."""
    state: JobStateKnownValue = JobStateKnownValue.PENDING
    reasons: list[JobStateReasonKnownValue] = field(
        default_factory=lambda: [JobStateReasonKnownValue.NONE]
    )
    completed: datetime | None = None
    scans_completed: int = 0
    """Images delivered (sent whole to the client)."""
    images_reserved: int = 0
    """Images handed to a RetrieveImage (delivered or being produced)."""
    sheet: int = 0
    """The sheet being scanned (1-based; 0 before the first)."""
    back_pending: bool = False
    """The current sheet's back side is still to be scanned (duplex)."""
    in_flight: int = 0
    """Images being produced or sent right now (the job cannot time out meanwhile)."""
    exhausted: bool = False
    """A RetrieveImage found nothing more to scan while images were still in flight:
    the job completes once they are delivered."""
    documents: list[str] = field(default_factory=list)
    """DocumentName of each delivered image."""
    render_lock: asyncio.Lock = field(
        default_factory=asyncio.Lock, repr=False, compare=False
    )
    """Held while one of the job's pages is rendered: a job renders one page at a time
    (concurrent RetrieveImage calls would otherwise hold as many full images)."""

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def name(self) -> str:
        return self.ticket.job_description.job_name

    @property
    def user(self) -> str:
        return self.ticket.job_description.job_originating_user_name

    def limit_reached(self) -> bool:
        """Every image the ticket asked for has been handed out."""
        if self.settings.source == "Platen":
            return self.images_reserved >= 1
        wanted = self.settings.images_to_transfer
        return wanted > 0 and self.images_reserved >= wanted


class JobTable:
    """Active jobs by JobId, the most recent ended jobs and the ADF feeder."""

    def __init__(
        self,
        *,
        first_job_id: int = 1,
        history_size: int = 20,
        adf_sheets: int = 0,
        clock: Callable[[], float],
    ) -> None:
        self._next_id = first_job_id
        self._active: dict[int, VirtualJob] = {}
        self._history: deque[VirtualJob] = deque(maxlen=history_size)
        self.adf_sheets = adf_sheets
        """Sheets left in the feeder."""
        self.clock = clock

    def __iter__(self) -> Iterator[VirtualJob]:
        return iter(self._active.values())

    @property
    def active(self) -> list[VirtualJob]:
        return list(self._active.values())

    @property
    def history(self) -> list[VirtualJob]:
        """Ended jobs, oldest first."""
        return list(self._history)

    def create(
        self,
        ticket: ScanTicket,
        settings: ScanSettings,
        final_parameters: DocumentFinalParameters,
        *,
        adjusted: bool,
    ) -> VirtualJob:
        job = VirtualJob(
            job_id=self._next_id,
            token=secrets.token_urlsafe(24),
            ticket=ticket,
            settings=settings,
            final_parameters=final_parameters,
            created=datetime.now(UTC),
            last_activity=self.clock(),
            adjusted=adjusted,
        )
        self._next_id += 1
        self._active[job.job_id] = job
        return job

    def get(self, job_id: int) -> VirtualJob | None:
        """The job, active or remembered in the history."""
        job = self._active.get(job_id)
        if job is not None:
            return job
        return next((j for j in self._history if j.job_id == job_id), None)

    def end(
        self,
        job: VirtualJob,
        state: JobStateKnownValue,
        reason: JobStateReasonKnownValue = JobStateReasonKnownValue.NONE,
    ) -> None:
        """Move an active job to the history in its final state."""
        if job.ended:
            return
        job.state = state
        job.reasons = [reason]
        job.completed = datetime.now(UTC)
        self._active.pop(job.job_id, None)
        self._history.append(job)

    def abort_transfer(self, job: VirtualJob) -> None:
        """An image did not reach the client (it went away or stopped reading
        mid-transfer): the job is Aborted with ImageTransferError ("the WSD Scan Service
        must abort the job"). A job that ended meanwhile (Canceled, or Aborted by
        another page) keeps its end state; it cannot be Completed yet, as a job
        completes only once no transfer is in flight."""
        self.end(
            job,
            JobStateKnownValue.ABORTED,
            JobStateReasonKnownValue.IMAGE_TRANSFER_ERROR,
        )

    def complete(self, job: VirtualJob) -> None:
        reason = (
            JobStateReasonKnownValue.JOB_COMPLETED_WITH_WARNINGS
            if job.adjusted
            else JobStateReasonKnownValue.NONE
        )
        self.end(job, JobStateKnownValue.COMPLETED, reason)

    def expire(self, timeout: float) -> list[VirtualJob]:
        """Abort (JobTimedOut) every active job idle for longer than ``timeout``."""
        now = self.clock()
        expired = [
            job
            for job in self._active.values()
            if job.in_flight == 0 and now - job.last_activity > timeout
        ]
        for job in expired:
            self.end(
                job, JobStateKnownValue.ABORTED, JobStateReasonKnownValue.JOB_TIMED_OUT
            )
        return expired

    def next_side(self, job: VirtualJob) -> tuple[int, Side] | None:
        """Reserve the next image of ``job``: (sheet, side), or ``None`` when there is
        none (ticket satisfied, or ADF feeder empty). Takes sheets from the feeder."""
        if job.limit_reached():
            return None
        if job.settings.source == "Platen":
            job.sheet = 1
            side: Side = "front"
        elif job.back_pending:
            job.back_pending = False
            side = "back"
        else:
            if self.adf_sheets <= 0:
                return None
            self.adf_sheets -= 1
            job.sheet += 1
            job.back_pending = job.settings.duplex
            side = "front"
        job.images_reserved += 1
        return job.sheet, side

"""Jobs as the generated job elements: JobStatus, JobSummary, Documents."""

from __future__ import annotations

from wsdscan.generated.models.scan import (
    Document,
    DocumentDescription,
    Documents,
    JobStateReasonKnownValue,
    JobStateReasons,
    JobStatus,
    JobSummary,
)

from .capabilities import xml_time
from .jobs import VirtualJob


def _reasons(job: VirtualJob) -> JobStateReasons:
    reasons: list[JobStateReasonKnownValue | str] = list(job.reasons)
    return JobStateReasons(job_state_reason=reasons)


def job_status(job: VirtualJob) -> JobStatus:
    return JobStatus(
        job_id=job.job_id,
        job_state=job.state,
        job_state_reasons=_reasons(job),
        scans_completed=job.scans_completed,
        job_created_time=xml_time(job.created),
        job_completed_time=xml_time(job.completed) if job.completed else None,
    )


def job_summary(job: VirtualJob) -> JobSummary:
    return JobSummary(
        job_id=job.job_id,
        job_name=job.name,
        job_originating_user_name=job.user,
        job_state=job.state,
        job_state_reasons=_reasons(job),
        scans_completed=job.scans_completed,
    )


def documents(job: VirtualJob) -> Documents:
    return Documents(
        document_final_parameters=job.final_parameters,
        document=[
            Document(document_description=DocumentDescription(document_name=name))
            for name in job.documents
        ],
    )

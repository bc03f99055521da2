"""Jobs as the generated job elements: JobStatus, JobSummary, Documents, and the
JobElements that a GetJobElementsRequest asks for."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from xml.etree.ElementTree import QName

from wsdscan.generated.models.scan import (
    Document,
    DocumentDescription,
    Documents,
    JobElementData,
    JobElements,
    JobStateReasonKnownValue,
    JobStateReasons,
    JobStatus,
    JobSummary,
)

from .capabilities import xml_time
from .jobs import VirtualJob
from .values import requested_elements


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


def job_elements(job: VirtualJob, names: Iterable[QName]) -> JobElements:
    """The requested elements by name; one this scanner does not know is not valid."""
    answers: dict[str, Callable[[], JobElementData]] = {
        "JobStatus": lambda: JobElementData(job_status=job_status(job)),
        "ScanTicket": lambda: JobElementData(scan_ticket=job.ticket),
        "Documents": lambda: JobElementData(documents=documents(job)),
    }
    data = requested_elements(names, answers, JobElementData)
    return JobElements(element_data=data)

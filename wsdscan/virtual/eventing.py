"""The virtual scanner's events and scan button.

:class:`ScannerEventing` watches the scanner's state rather than being called from
every place that changes it: :meth:`observe` compares jobs, the feeder, the jam flag and
the scanner state with what it saw last and publishes the differences (JobStatusEvent,
JobEndStateEvent, ScannerStatusSummaryEvent, ScannerStatusConditionEvent,
ScannerStatusConditionClearedEvent). It only queues notifications (the subscription
manager delivers them), so the scanner calls it while holding its lock.

The button: :meth:`press` finds the registered ScanDestination with that display name,
issues an unguessable ScanIdentifier and sends ScanAvailableEvent to that one
subscriber; :meth:`check_job_request` is the CreateScanJob side (the identifier must
be current and the DestinationToken the one issued to that destination).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from wsdscan.generated import routes
from wsdscan.generated.models.scan import (
    DeviceCondition,
    DeviceConditionCleared,
    ElementChanges,
    JobCompletedStateKnownValue,
    JobCompletedStateReasons,
    JobEndState,
    JobEndStateEvent,
    JobStateReasonKnownValue,
    JobStatusEvent,
    ScanAvailableEvent,
    ScannerElementsChangeEvent,
    ScannerStateReasons,
    ScannerStatusConditionClearedEvent,
    ScannerStatusConditionEvent,
    ScannerStatusSummaryEvent,
    StatusSummary,
)
from wsdscan.generated.stubs.faults import (
    ClientErrorInvalidDestinationToken,
    ClientErrorInvalidScanIdentifier,
)
from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.eventing import RegisteredDestination, SubscriptionManager

from . import capabilities, reports, status
from .config import VirtualScannerConfig
from .jobs import JobTable, VirtualJob

SCAN_IDENTIFIER_LIFETIME = 300.0
"""Seconds a ScanIdentifier from a button press stays valid for CreateScanJob."""


class UnknownDestination(WsdScanError, LookupError):
    """The button was pressed for a destination nobody registered."""


@dataclass(frozen=True)
class _Pending:
    destination: RegisteredDestination
    expires_at: float


def _job_key(job: VirtualJob) -> tuple[str, tuple[str, ...], int]:
    return (str(job.state), tuple(str(r) for r in job.reasons), job.scans_completed)


class ScannerEventing:
    """Events and the scan button of one virtual scanner (see the module doc)."""

    def __init__(
        self, manager: SubscriptionManager, *, clock: Callable[[], float]
    ) -> None:
        self.manager = manager
        self._clock = clock
        self._jobs: dict[int, tuple[str, tuple[str, ...], int]] = {}
        self._ended: set[int] = set()
        self._summary: tuple[str, ...] | None = None
        self._conditions: dict[int, DeviceCondition] = {}
        self._pending: dict[str, _Pending] = {}

    # --- state changes ----------------------------------------------------------

    def observe(
        self, jobs: JobTable, *, adf: bool, jammed: bool, emit: bool = True
    ) -> None:
        """Publish what changed since the last call (``emit=False``: just remember)."""
        publish = self.manager.publish_nowait if emit else _ignore
        seen: set[int] = set()
        for job in jobs.active + jobs.history:
            seen.add(job.job_id)
            key = _job_key(job)
            if self._jobs.get(job.job_id) != key:
                self._jobs[job.job_id] = key
                publish(
                    routes.JOB_STATUS_EVENT,
                    JobStatusEvent(job_status=reports.job_status(job)),
                )
            if job.ended and job.job_id not in self._ended:
                self._ended.add(job.job_id)
                publish(routes.JOB_END_STATE_EVENT, _end_state(job))
        for job_id in set(self._jobs) - seen:
            del self._jobs[job_id]
            self._ended.discard(job_id)
        self._observe_conditions(jobs, adf=adf, jammed=jammed, publish=publish)

    def _observe_conditions(
        self,
        jobs: JobTable,
        *,
        adf: bool,
        jammed: bool,
        publish: Callable[..., object],
    ) -> None:
        now = capabilities.xml_now()
        wanted = status.conditions(
            adf=adf, adf_sheets=jobs.adf_sheets, jammed=jammed, now=now
        )
        for condition_id in sorted(set(self._conditions) - set(wanted)):
            del self._conditions[condition_id]
            publish(
                routes.SCANNER_STATUS_CONDITION_CLEARED_EVENT,
                ScannerStatusConditionClearedEvent(
                    device_condition_cleared=DeviceConditionCleared(
                        condition_id=condition_id, condition_clear_time=now
                    )
                ),
            )
        for condition_id in sorted(set(wanted) - set(self._conditions)):
            self._conditions[condition_id] = wanted[condition_id]
            publish(
                routes.SCANNER_STATUS_CONDITION_EVENT,
                ScannerStatusConditionEvent(device_condition=wanted[condition_id]),
            )
        state, reasons = status.state(
            busy=bool(jobs.active),
            adf=adf,
            adf_sheets=jobs.adf_sheets,
            jammed=jammed,
        )
        summary = (state.value, *map(status.text, reasons))
        if summary != self._summary:
            self._summary = summary
            publish(
                routes.SCANNER_STATUS_SUMMARY_EVENT,
                ScannerStatusSummaryEvent(
                    status_summary=StatusSummary(
                        scanner_state=state,
                        scanner_state_reasons=ScannerStateReasons(
                            scanner_state_reason=reasons
                        ),
                    )
                ),
            )

    def elements_changed(self, config: VirtualScannerConfig) -> None:
        """Send ScannerElementsChangeEvent with the (new) description, configuration
        and default ticket."""
        self.manager.publish_nowait(
            routes.SCANNER_ELEMENTS_CHANGE_EVENT,
            ScannerElementsChangeEvent(
                element_changes=ElementChanges(
                    scanner_description=capabilities.scanner_description(config),
                    scanner_configuration=capabilities.scanner_configuration(config),
                    default_scan_ticket=capabilities.default_scan_ticket(config),
                )
            ),
        )

    # --- the scan button --------------------------------------------------------

    def destinations(self) -> list[str]:
        """Display names the panel offers (registered by live subscriptions)."""
        return sorted({d.display_name for d in self.manager.destinations()})

    def press(self, display_name: str) -> str:
        """The user picked ``display_name`` and pressed Start: ScanAvailableEvent to
        the most recent subscriber that registered that name. Returns the
        ScanIdentifier the event announced."""
        now = self._clock()
        self._pending = {k: v for k, v in self._pending.items() if v.expires_at > now}
        for destination in reversed(self.manager.destinations()):
            if destination.display_name != display_name:
                continue
            scan_identifier = secrets.token_urlsafe(16)
            event = ScanAvailableEvent(
                client_context=destination.client_context,
                scan_identifier=scan_identifier,
            )
            if self.manager.publish_to(
                destination.identifier, routes.SCAN_AVAILABLE_EVENT, event
            ):
                self._pending[scan_identifier] = _Pending(
                    destination, now + SCAN_IDENTIFIER_LIFETIME
                )
                return scan_identifier
        raise UnknownDestination(
            f"no scan destination named {display_name!r} "
            f"(registered: {', '.join(self.destinations()) or 'none'})"
        )

    def check_job_request(
        self, scan_identifier: str | None, destination_token: str | None
    ) -> str | None:
        """CreateScanJob's ScanIdentifier/DestinationToken check: raises the
        documented fault, else returns the identifier to consume once the job exists."""
        if scan_identifier is None:
            if destination_token is None:
                return None
            if self.manager.destination_for_token(destination_token) is None:
                raise ClientErrorInvalidDestinationToken()
            return None
        pending = self._pending.get(scan_identifier.strip())
        if pending is None or pending.expires_at <= self._clock():
            raise ClientErrorInvalidScanIdentifier()
        given = (destination_token or "").strip().encode()
        if not secrets.compare_digest(given, pending.destination.token.encode()):
            raise ClientErrorInvalidDestinationToken()
        return scan_identifier.strip()

    def consume(self, scan_identifier: str | None) -> None:
        """A job was created for this ScanIdentifier: it cannot start another."""
        if scan_identifier is not None:
            self._pending.pop(scan_identifier, None)


def _end_state(job: VirtualJob) -> JobEndStateEvent:
    reasons: list[JobStateReasonKnownValue | str] = list(job.reasons)
    completed = job.completed
    return JobEndStateEvent(
        job_end_state=JobEndState(
            job_id=job.job_id,
            job_completed_state=JobCompletedStateKnownValue(str(job.state.value)),
            job_completed_state_reasons=JobCompletedStateReasons(
                job_state_reason=reasons
            ),
            job_name=job.name,
            job_originating_user_name=job.user,
            scans_completed=job.scans_completed,
            job_completed_time=capabilities.xml_time(completed) if completed else None,
        )
    )


def _ignore(*args: object) -> int:
    return 0

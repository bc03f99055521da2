"""Scan-to-PC: ``wsdscan receive URL --name NAME --dir DIR``.

Registers NAME as a scan destination (WS-Eventing Subscribe to ScanAvailableEvent with
ScanDestinations), keeps the subscription alive (renewal with jitter; after a scanner
restart or SubscriptionEnd it subscribes again), and on every ScanAvailableEvent for
NAME creates the job with the event's ScanIdentifier and our DestinationToken and saves
every page into DIR. Files are written atomically (a page appears only once whole) and
are named ``<YYYYmmdd-HHMMSS>-job<id>-p<page>.<ext>`` so they sort by job, then page.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from wsdscan.generated import EVENT_ROUTES, ScannerServiceEventSink
from wsdscan.generated.models.scan import ScanAvailableEvent
from wsdscan.generated.stubs.routes import SCAN_AVAILABLE_EVENT
from wsdscan.runtime.defaults import SUBSCRIPTION_EXPIRES
from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.eventing import (
    EventReceiver,
    ScanDestinationRequest,
    Subscription,
    SubscriptionChange,
    local_address_for,
)
from wsdscan.scanning import ScannerCapabilities, ScannerSession
from wsdscan.ticket import scan_ticket

log = logging.getLogger("wsdscan.receive")

RETRY_LIMIT: Final = 30.0
KEPT_JOBS: Final = 100
"""Finished jobs :attr:`ScanToPC.jobs` remembers (a receiver may run for months)."""


@dataclass(frozen=True)
class ReceiveOptions:
    """What a received scan asks for. ``source`` ``auto``: the ADF when it has paper
    (no InputTrayEmpty condition), else the platen."""

    source: str = "auto"
    resolution: int = 300
    color: str = "RGB24"
    format: str = "png"


@dataclass(frozen=True)
class ReceivedJob:
    """One finished scan-to-PC job."""

    scan_identifier: str
    job_id: int
    pages: list[Path]


def _auto_source(info: ScannerCapabilities) -> str:
    sources = info.sources()
    if "ADF" not in sources:
        return "Platen"
    conditions = []
    if info.status is not None and info.status.active_conditions is not None:
        conditions = info.status.active_conditions.device_condition
    empty = any(
        str(getattr(c.name, "value", c.name)) == "InputTrayEmpty" for c in conditions
    )
    if empty and "Platen" in sources:
        return "Platen"
    return "ADF"


class ScanToPC(ScannerServiceEventSink):
    """The receiver: an event sink that runs one scan job per ScanAvailableEvent."""

    def __init__(
        self,
        url: str,
        name: str,
        directory: Path,
        *,
        options: ReceiveOptions | None = None,
        expires: float = SUBSCRIPTION_EXPIRES,
        listen: str | None = None,
        report: Callable[[str], None] = print,
    ) -> None:
        self.url = url
        self.name = name
        self.directory = Path(directory)
        self.options = options or ReceiveOptions()
        self.expires = expires
        self.listen = listen or local_address_for(url)
        self.report = report
        self.context = f"wsdscan-{uuid.uuid4().hex[:12]}"
        self.subscription: Subscription | None = None
        self.jobs: deque[ReceivedJob] = deque(maxlen=KEPT_JOBS)
        """The last :data:`KEPT_JOBS` finished jobs, oldest first."""
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- events -------------------------------------------------------------------

    async def on_scan_available(self, event: ScanAvailableEvent) -> None:
        if event.client_context != self.context:
            log.info("ScanAvailableEvent for another destination ignored")
            return
        self.report(f"scan requested (ScanIdentifier {event.scan_identifier})")
        task = asyncio.create_task(self._job(event.scan_identifier))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _changed(self, change: SubscriptionChange) -> None:
        if change.kind == "lost":
            self.report(f"subscription lost ({change.reason}); subscribing again")
        else:
            self.report(
                f"subscribed again as {change.subscription.identifier} "
                f"({change.subscription.expires:.0f} s)"
            )

    # --- one job ------------------------------------------------------------------

    def _page_path(self, started: datetime, job_id: int, page: int) -> Path:
        extension = ".jpg" if self.options.format == "jfif" else ".png"
        stamp = started.strftime("%Y%m%d-%H%M%S")
        return self.directory / f"{stamp}-job{job_id:06d}-p{page:03d}{extension}"

    async def _job(self, scan_identifier: str) -> None:
        async with self._lock:
            try:
                received = await self._run_job(scan_identifier)
            except (WsdScanError, OSError) as exc:
                self.report(f"scan {scan_identifier} failed: {exc}")
                return
            except Exception:
                log.exception("scan %s failed", scan_identifier)
                return
        self.jobs.append(received)

    async def _run_job(self, scan_identifier: str) -> ReceivedJob:
        subscription = self.subscription
        token = (
            subscription.destination_tokens.get(self.context) if subscription else None
        )
        options = self.options
        async with ScannerSession(self.url) as session:
            info = await session.info()
            source = _auto_source(info) if options.source == "auto" else options.source
            ticket = scan_ticket(
                info,
                source=source,
                resolution=options.resolution,
                color=options.color,
                format=options.format,
            )
            ticket.job_description.job_name = f"Scan to {self.name}"
            job = await session.client.create_scan_job(
                scan_identifier=scan_identifier,
                destination_token=token,
                scan_ticket=ticket,
            )
            started = datetime.now()
            self.report(f"job {job.job_id}: scanning from {source}")
            pages: list[Path] = []
            async for page, target, size in session.save_pages(
                job,
                lambda page: self._page_path(started, job.job_id, page),
                single_page=source == "Platen",
            ):
                pages.append(target)
                self.report(f"job {job.job_id}: page {page} -> {target} ({size} bytes)")
        self.report(f"job {job.job_id}: done, {len(pages)} page(s)")
        return ReceivedJob(scan_identifier, job.job_id, pages)

    # --- running ------------------------------------------------------------------

    async def _subscribe(self, receiver: EventReceiver) -> Subscription:
        delay = 0.5
        while True:
            try:
                return await receiver.subscribe(
                    self.url,
                    self,
                    actions=[SCAN_AVAILABLE_EVENT.action],
                    destinations=[ScanDestinationRequest(self.name, self.context)],
                    expires=self.expires,
                    on_change=self._changed,
                )
            except WsdScanError as exc:
                self.report(f"cannot subscribe to {self.url} ({exc}); retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_LIMIT)

    async def run(self, stop: asyncio.Event) -> None:
        """Receive scans until ``stop`` is set; unsubscribes on the way out."""
        self.directory.mkdir(parents=True, exist_ok=True)
        async with EventReceiver(EVENT_ROUTES, host=self.listen) as receiver:
            self.subscription = await self._subscribe(receiver)
            self.report(
                f"registered {self.name!r} at {self.url} "
                f"(subscription {self.subscription.identifier}, "
                f"{self.subscription.expires:.0f} s); saving to {self.directory}"
            )
            try:
                await stop.wait()
            finally:
                tasks = list(self._tasks)
                for task in tasks:
                    task.cancel()
                # (Not suppress(CancelledError): that would swallow one aimed at us.)
                await asyncio.gather(*tasks, return_exceptions=True)
        self.report("unsubscribed")

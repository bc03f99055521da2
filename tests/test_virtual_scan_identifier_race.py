"""A button press's ScanIdentifier starts exactly one job, even when two
CreateScanJob requests carrying it arrive at once."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from test_virtual_scanner import ctx, make_ticket
from wsdscan.generated import EVENT_ROUTES
from wsdscan.generated.models.scan import CreateScanJobRequest, CreateScanJobResponse
from wsdscan.generated.stubs.faults import ClientErrorInvalidScanIdentifier
from wsdscan.runtime.contract import RequestContext
from wsdscan.runtime.eventing import RegisteredDestination, SubscriptionManager

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig
from wsdscan.virtual.scanner import requested_name


class OneDestination:
    """The part of a SubscriptionManager the scan button uses: one registered
    destination whose subscriber takes every event."""

    def __init__(self) -> None:
        self.destination = RegisteredDestination("urn:uuid:sub", "PC", "ctx", "token")
        self.sent: list[Any] = []

    def destinations(self) -> list[RegisteredDestination]:
        return [self.destination]

    def destination_for_token(self, token: str) -> RegisteredDestination | None:
        return self.destination if token == self.destination.token else None

    def publish_to(self, identifier: str, route: Any, body: Any) -> bool:
        self.sent.append(body)
        return True

    def publish_nowait(self, route: Any, body: Any) -> int:
        return 0


def _scanner() -> tuple[VirtualScanner, OneDestination]:
    scanner = VirtualScanner(VirtualScannerConfig(max_active_jobs=2))
    manager = OneDestination()
    scanner.attach_eventing(cast(SubscriptionManager, manager))
    return scanner, manager


async def test_press_button_returns_the_announced_scan_identifier() -> None:
    scanner, manager = _scanner()
    identifier = scanner.press_button("PC")
    assert [event.scan_identifier for event in manager.sent] == [identifier]
    with pytest.raises(LookupError):
        scanner.press_button("nobody")


async def test_one_scan_identifier_starts_one_job_when_requests_race() -> None:
    scanner, manager = _scanner()
    identifier = scanner.press_button("PC")

    async def create() -> CreateScanJobResponse:
        request = CreateScanJobRequest(
            scan_identifier=identifier,
            destination_token=manager.destination.token,
            scan_ticket=make_ticket(),
        )
        context: RequestContext = ctx("CreateScanJob")
        return await scanner.create_scan_job(request, context)

    # Both requests are in flight before either gets the scanner's lock.
    async with scanner._lock:
        tasks = [asyncio.create_task(create()) for _ in range(2)]
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    created = [r for r in results if isinstance(r, CreateScanJobResponse)]
    refused = [r for r in results if isinstance(r, ClientErrorInvalidScanIdentifier)]
    assert len(created) == 1 and len(refused) == 1, results
    assert len(scanner.jobs.active) == 1


def test_an_empty_requested_name_names_nothing() -> None:
    assert requested_name("") is None


def test_publishing_without_subscribers_does_not_serialize_the_event() -> None:
    manager = SubscriptionManager(routes=EVENT_ROUTES)
    route = next(iter(EVENT_ROUTES.values()))
    assert manager.publish_nowait(route, object()) == 0  # not serializable: unused

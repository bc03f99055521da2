"""The generated stubs as code: client methods through an injected fake transport,
the server base's unsupported-action default, the route table, events."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from ws_scan_names import EVENTS, OPERATIONS, SCAN_NS
from wsdscan.generated import (
    EVENT_ROUTES,
    ROUTES,
    ScannerServiceBase,
    ScannerServiceClient,
    ScannerServiceEvents,
    ScannerServiceEventSink,
    routes,
)
from wsdscan.generated.models import scan
from wsdscan.runtime.contract import EventRoute, RequestContext, Route
from wsdscan.runtime.soap import ActionNotSupported


class FakeTransport:
    """Records what a stub sends and answers with a canned response."""

    def __init__(self) -> None:
        self.calls: list[tuple[Route[Any, Any], Any]] = []

    async def invoke(self, route: Route[Any, Any], request: Any) -> Any:
        self.calls.append((route, request))
        return route.response_type.__new__(route.response_type)

    async def invoke_with_attachment(self, route: Route[Any, Any], request: Any) -> Any:
        self.calls.append((route, request))
        return ("attachment", route.operation)


def test_route_table_has_every_operation_keyed_by_device_action() -> None:
    assert sorted(route.operation for route in ROUTES.values()) == sorted(OPERATIONS)
    for action, route in ROUTES.items():
        assert action == f"{SCAN_NS}/{route.operation}"
        assert route.response_action == f"{SCAN_NS}/{route.operation}Response"
        assert route.request_type is getattr(scan, f"{route.operation}Request")
        assert route.response_type is getattr(scan, f"{route.operation}Response")
        assert route.attachment is (route.operation == "RetrieveImage")


def test_event_routes_cover_the_seven_events() -> None:
    assert sorted(route.event for route in EVENT_ROUTES.values()) == sorted(EVENTS)
    for action, route in EVENT_ROUTES.items():
        assert isinstance(route, EventRoute)
        assert action == f"{SCAN_NS}/{route.event}"
        assert route.body_type is getattr(scan, route.event)
        assert callable(getattr(ScannerServiceEventSink, route.sink_method))


def test_client_has_one_typed_async_method_per_operation() -> None:
    for route in ROUTES.values():
        method = getattr(ScannerServiceClient, route.method)
        assert inspect.iscoroutinefunction(method)
        hints = inspect.signature(method)
        assert "request" in hints.parameters


async def test_client_builds_request_from_keywords() -> None:
    transport = FakeTransport()
    client = ScannerServiceClient(transport)
    await client.cancel_job(job_id=7)
    route, request = transport.calls[-1]
    assert route is routes.CANCEL_JOB
    assert request == scan.CancelJobRequest(job_id=7)


async def test_client_passes_a_request_object_through() -> None:
    transport = FakeTransport()
    request = scan.CancelJobRequest(job_id=3)
    await ScannerServiceClient(transport).cancel_job(request)
    assert transport.calls[-1][1] is request


async def test_client_refuses_request_and_keywords_together() -> None:
    client = ScannerServiceClient(FakeTransport())
    with pytest.raises(TypeError, match="not both"):
        await client.cancel_job(scan.CancelJobRequest(job_id=3), job_id=4)


async def test_missing_required_field_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        await ScannerServiceClient(FakeTransport()).cancel_job()


async def test_attachment_operation_uses_the_attachment_path() -> None:
    transport = FakeTransport()
    result = await ScannerServiceClient(transport).retrieve_image(
        job_id=1,
        job_token="t",
        document_description=scan.DocumentDescription(document_name="a"),
    )
    assert result == ("attachment", "RetrieveImage")


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_server_base_answers_action_not_supported(operation: str) -> None:
    route = ROUTES[f"{SCAN_NS}/{operation}"]
    context = RequestContext(action=route.action)
    with pytest.raises(ActionNotSupported) as raised:
        await getattr(ScannerServiceBase(), route.method)(object(), context)
    assert route.action.encode() in __import__("lxml.etree").etree.tostring(
        raised.value.detail
    )


async def test_overridden_method_is_used_and_others_still_fault() -> None:
    class Service(ScannerServiceBase):
        async def cancel_job(
            self, request: scan.CancelJobRequest, context: RequestContext
        ) -> scan.CancelJobResponse:
            return scan.CancelJobResponse()

    service = Service()
    assert (
        await service.cancel_job(
            scan.CancelJobRequest(job_id=1), RequestContext(action="a")
        )
        == scan.CancelJobResponse()
    )
    with pytest.raises(ActionNotSupported):
        await service.get_active_jobs(
            scan.GetActiveJobsRequest(), RequestContext(action="b")
        )


async def test_event_sink_defaults_ignore_and_overrides_receive() -> None:
    received = []

    class Sink(ScannerServiceEventSink):
        async def on_scan_available(self, event: scan.ScanAvailableEvent) -> None:
            received.append(event)

    sink = Sink()
    event = scan.ScanAvailableEvent(client_context="c", scan_identifier="s")
    await getattr(sink, EVENT_ROUTES[f"{SCAN_NS}/ScanAvailableEvent"].sink_method)(
        event
    )
    assert received == [event]
    for route in EVENT_ROUTES.values():
        if route.event != "ScanAvailableEvent":
            assert await getattr(sink, route.sink_method)(object()) is None


async def test_emitter_publishes_with_the_event_route() -> None:
    published: list[tuple[EventRoute[Any], Any]] = []

    class Publisher:
        async def publish(self, route: EventRoute[Any], body: Any) -> None:
            published.append((route, body))

    emitter = ScannerServiceEvents(Publisher())
    event = scan.ScanAvailableEvent(client_context="c", scan_identifier="s")
    await emitter.emit_scan_available(event)
    assert published == [(routes.SCAN_AVAILABLE_EVENT, event)]
    for route in EVENT_ROUTES.values():
        assert callable(
            getattr(emitter, "emit_" + route.sink_method.removeprefix("on_"))
        )

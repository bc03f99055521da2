"""WS-Eventing on both sides, in one process over real HTTP on 127.0.0.1: the virtual
scanner's subscription manager and delivery, the self-renewing client subscription and
the event sink; all seven events; ScanIdentifier/DestinationToken checks."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from lxml import etree
from wsdscan.generated import EVENT_ROUTES, ScannerServiceClient, ScannerServiceEvents
from wsdscan.generated import ScannerServiceEventSink as Sink
from wsdscan.generated import routes as gen_routes
from wsdscan.generated.models import scan
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.runtime import soap
from wsdscan.runtime.eventing import (
    DeliveryPolicy,
    EventReceiver,
    EventSinkApp,
    ScanDestinationRequest,
    SubscriptionChange,
    SubscriptionManager,
    wire,
)
from wsdscan.runtime.eventing.receiver import running_sink
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.soap.envelope import ANONYMOUS, build_envelope
from wsdscan.runtime.transport import UNLIMITED, HttpTransport, SoapClient
from wsdscan.runtime.xmlbind import WSA, WSCN, WSE

from wsdscan.cli import press as press_cli
from wsdscan.press import press, serve_eventing
from wsdscan.scanning import ScannerSession
from wsdscan.ticket import scan_ticket
from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

ALL = list(EVENT_ROUTES)
# Independent of the modules under test on purpose.
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSE_2004_08 = "http://schemas.xmlsoap.org/ws/2004/08/eventing"


class Recorder(Sink):
    """Records every event by sink method; ``wait`` for a count."""

    def __init__(self) -> None:
        self.events: dict[str, list[object]] = {}
        self.changed = asyncio.Event()

    def _add(self, name: str, event: object) -> None:
        self.events.setdefault(name, []).append(event)
        self.changed.set()

    async def on_scan_available(self, event: scan.ScanAvailableEvent) -> None:
        self._add("scan_available", event)

    async def on_job_status(self, event: scan.JobStatusEvent) -> None:
        self._add("job_status", event)

    async def on_job_end_state(self, event: scan.JobEndStateEvent) -> None:
        self._add("job_end_state", event)

    async def on_scanner_elements_change(
        self, event: scan.ScannerElementsChangeEvent
    ) -> None:
        self._add("scanner_elements_change", event)

    async def on_scanner_status_summary(
        self, event: scan.ScannerStatusSummaryEvent
    ) -> None:
        self._add("scanner_status_summary", event)

    async def on_scanner_status_condition(
        self, event: scan.ScannerStatusConditionEvent
    ) -> None:
        self._add("scanner_status_condition", event)

    async def on_scanner_status_condition_cleared(
        self, event: scan.ScannerStatusConditionClearedEvent
    ) -> None:
        self._add("scanner_status_condition_cleared", event)

    def of(self, name: str) -> list[object]:
        return self.events.get(name, [])

    async def wait(self, name: str, count: int = 1, timeout: float = 10.0) -> None:
        async def until() -> None:
            while len(self.of(name)) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), timeout)


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@dataclass
class Scanner:
    url: str
    scanner: VirtualScanner
    manager: SubscriptionManager
    stop: Callable[[], Awaitable[None]] = field(repr=False)


@contextlib.asynccontextmanager
async def served(
    port: int = 0,
    *,
    policy: DeliveryPolicy | None = None,
    adf_sheets: int = 2,
    send_end: bool = True,
) -> AsyncIterator[Scanner]:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=adf_sheets, duplex=False))
    eventing = serve_eventing(scanner)
    if policy is not None:
        eventing.manager.policy = policy
    app = SoapApp(scanner, handlers=eventing.handlers)
    async with running(app, port=port) as server:
        stopped = False

        async def stop() -> None:
            nonlocal stopped
            if not stopped:
                stopped = True
                if send_end:
                    await eventing.aclose()
                server.server.should_exit = True
                await server.task

        try:
            yield Scanner(server.url("/WSDScanner"), scanner, eventing.manager, stop)
        finally:
            if not stopped:
                await eventing.aclose()


@pytest.fixture
async def source() -> AsyncIterator[Scanner]:
    async with served() as scanner:
        yield scanner


@pytest.fixture
async def receiver() -> AsyncIterator[EventReceiver]:
    async with EventReceiver(EVENT_ROUTES) as events:
        yield events


async def _ticket(url: str, source: str = "ADF") -> scan.ScanTicket:
    async with ScannerSession(url) as session:
        info = await session.info()
    return scan_ticket(
        info, source=source, resolution=75, color="Grayscale8", format="png"
    )


def _subscribe_body(filter_xml: str, *, expires: str = "PT1H") -> etree._Element:
    return etree.fromstring(
        f'<wse:Subscribe xmlns:wse="{WSE}" xmlns:wsa="{WSA}" xmlns:wscn="{WSCN}">'
        "<wse:Delivery><wse:NotifyTo><wsa:Address>http://127.0.0.1:9/x</wsa:Address>"
        f"</wse:NotifyTo></wse:Delivery><wse:Expires>{expires}</wse:Expires>"
        f"{filter_xml}</wse:Subscribe>"
    )


async def _wire_subcode(
    client: httpx.AsyncClient, url: str, body: etree._Element
) -> tuple[str, str]:
    """POST a Subscribe and read the fault's subcode from the raw reply bytes with
    lxml alone: (the namespace its prefix is declared as in scope, local name)."""
    data = build_envelope(body, action=wire.SUBSCRIBE, to=url, reply_to=ANONYMOUS)
    response = await client.post(
        url, content=data, headers={"Content-Type": "application/soap+xml"}
    )
    assert response.status_code == 400
    root = etree.fromstring(response.content)
    (value,) = root.xpath(
        "/s:Envelope/s:Body/s:Fault/s:Code/s:Subcode/s:Value",
        namespaces={"s": SOAP12},
    )
    prefix, _, local = (value.text or "").strip().rpartition(":")
    namespace = value.nsmap.get(prefix or None)
    assert namespace is not None, f"{prefix!r} undeclared: {response.content!r}"
    return namespace, local


# --- wire details -------------------------------------------------------------------


def test_durations_round_trip() -> None:
    assert wire.parse_duration("PT15M") == 900
    assert wire.parse_duration("P0Y0M0DT30H0M0S") == 30 * 3600
    assert wire.parse_duration("P1DT1.5S") == 86401.5
    assert wire.format_duration(900) == "PT15M"
    assert wire.format_duration(3661) == "PT1H1M1S"
    assert wire.format_duration(0) == "PT0S"
    assert wire.format_duration(2.5) == "PT2.5S"
    for bad in ("", "P", "PT", "15M", "PTXS"):
        with pytest.raises(ValueError):
            wire.parse_duration(bad)


# --- subscribing --------------------------------------------------------------------


async def test_subscribe_gives_identifier_expiry_and_tokens(
    source: Scanner, receiver: EventReceiver
) -> None:
    destinations = [
        ScanDestinationRequest("PC A", "ctx-a"),
        ScanDestinationRequest("PC B", "ctx-b"),
    ]
    sub = await receiver.subscribe(
        source.url, Recorder(), destinations=destinations, expires=120
    )
    assert sub.identifier.startswith("urn:uuid:")
    assert sub.expires == 120
    assert sorted(sub.destination_tokens) == ["ctx-a", "ctx-b"]
    tokens = list(sub.destination_tokens.values())
    assert tokens[0] != tokens[1] and all(len(t) >= 32 for t in tokens)
    assert 100 < await sub.get_status() <= 120
    # The manager knows the same destinations and tokens; the panel shows both names.
    registered = {d.client_context: d.token for d in source.manager.destinations()}
    assert registered == sub.destination_tokens
    assert source.scanner.eventing is not None
    assert source.scanner.eventing.destinations() == ["PC A", "PC B"]


async def test_filters_windows_and_spec_forms(source: Scanner) -> None:
    async with SoapClient(timeout=5, limits=UNLIMITED) as client:

        async def actions(filter_xml: str) -> frozenset[str]:
            reply = await client.request(
                source.url, wire.SUBSCRIBE, _subscribe_body(filter_xml)
            )
            identifier = reply.body.findtext(f".//{{{WSE}}}Identifier")
            (found,) = [
                s for s in source.manager.subscriptions if s.identifier == identifier
            ]
            return found.actions

        windows = (
            f'<wse:Filter Dialect="{wire.DPWS_ACTION_DIALECT}">'
            f"{gen_routes.JOB_STATUS_EVENT.action} "
            f"{gen_routes.JOB_END_STATE_EVENT.action}</wse:Filter>"
        )
        assert await actions(windows) == {
            gen_routes.JOB_STATUS_EVENT.action,
            gen_routes.JOB_END_STATE_EVENT.action,
        }
        # The spec pages' plain form: event names, no Dialect.
        assert await actions("<wse:Filter>ScanAvailableEvent</wse:Filter>") == {
            gen_routes.SCAN_AVAILABLE_EVENT.action
        }
        assert await actions(
            "<wse:Filter>wscn:ScannerStatusSummaryEvent</wse:Filter>"
        ) == {gen_routes.SCANNER_STATUS_SUMMARY_EVENT.action}
        # DPWS prefix matching: the scan namespace selects every event.
        prefix = f'<wse:Filter Dialect="{wire.DPWS_ACTION_DIALECT}">{WSCN}</wse:Filter>'
        assert await actions(prefix) == frozenset(EVENT_ROUTES)
        assert await actions("") == frozenset(EVENT_ROUTES)

        refused = [
            (
                _subscribe_body('<wse:Filter Dialect="urn:xpath">/a</wse:Filter>'),
                wire.FilteringNotSupported,
            ),
            (
                _subscribe_body("<wse:Filter>NoSuchEvent</wse:Filter>"),
                wire.FilteringRequestedUnavailable,
            ),
            (_subscribe_body("", expires="-PT1M"), wire.InvalidExpirationTime),
        ]
        for body, fault_class in refused:
            # On the wire: the subcode's prefix is declared, as the wse namespace.
            assert await _wire_subcode(client.http, source.url, body) == (
                WSE_2004_08,
                fault_class.__name__,
            )
            # And the client raises the typed fault.
            with pytest.raises(fault_class) as caught:
                await client.request(source.url, wire.SUBSCRIBE, body)
            assert caught.value.subcode == f"{{{WSE_2004_08}}}{fault_class.__name__}"


async def test_renew_happens_before_expiry(
    source: Scanner, receiver: EventReceiver
) -> None:
    sub = await receiver.subscribe(source.url, Recorder(), expires=1.0)
    await asyncio.sleep(2.6)
    # Without renewals the manager would have dropped it after 1 s.
    assert sub.renewals >= 2
    assert [s.identifier for s in source.manager.subscriptions] == [sub.identifier]
    assert 0 < await sub.get_status() <= 1.0
    assert sub.resubscriptions == 0


async def test_unsubscribe_stops_events(
    source: Scanner, receiver: EventReceiver
) -> None:
    sink = Recorder()
    sub = await receiver.subscribe(source.url, sink)
    source.scanner.set_jammed(True)
    await sink.wait("scanner_status_condition")
    await sub.unsubscribe()
    assert source.manager.subscriptions == []
    source.scanner.set_jammed(False)
    await source.manager.drain()
    await asyncio.sleep(0.2)
    assert sink.of("scanner_status_condition_cleared") == []
    with pytest.raises(soap.DestinationUnreachable):
        await sub.get_status()


# --- the seven events ---------------------------------------------------------------


async def test_virtual_scanner_emits_all_seven_events(
    source: Scanner, receiver: EventReceiver
) -> None:
    sink = Recorder()
    sub = await receiver.subscribe(
        source.url, sink, destinations=[ScanDestinationRequest("Desk", "ctx")]
    )
    scanner = source.scanner
    async with HttpTransport(source.url) as transport:
        client = ScannerServiceClient(transport)
        job = await client.create_scan_job(scan_ticket=await _ticket(source.url))
        await sink.wait("scanner_status_summary")
        for _ in range(2):
            result = await client.retrieve_image(
                job_id=job.job_id,
                job_token=job.job_token,
                document_description=scan.DocumentDescription(document_name="x"),
            )
            await result.read()
        with pytest.raises(scan_faults.ClientErrorNoImagesAvailable):
            await client.retrieve_image(
                job_id=job.job_id,
                job_token=job.job_token,
                document_description=scan.DocumentDescription(document_name="x"),
            )
    await sink.wait("job_end_state")
    await sink.wait("scanner_status_condition")  # the feeder ran empty
    scanner.load_adf(3)
    await sink.wait("scanner_status_condition_cleared")
    scanner.update_config(name="Renamed Scanner")
    await sink.wait("scanner_elements_change")
    identifier = await press(source.url, "Desk")
    await sink.wait("scan_available")

    states = [e.job_status.job_state for e in sink.of("job_status")]  # type: ignore[attr-defined]
    assert states[0] == scan.JobStateKnownValue.PENDING
    assert scan.JobStateKnownValue.PROCESSING in states
    assert states[-1] == scan.JobStateKnownValue.COMPLETED
    (end,) = sink.of("job_end_state")
    assert end.job_end_state.job_id == job.job_id  # type: ignore[attr-defined]
    assert end.job_end_state.scans_completed == 2  # type: ignore[attr-defined]
    condition = sink.of("scanner_status_condition")[0]
    assert condition.device_condition.name == (  # type: ignore[attr-defined]
        scan.DeviceConditionNameKnownValue.INPUT_TRAY_EMPTY
    )
    cleared = sink.of("scanner_status_condition_cleared")[0]
    assert cleared.device_condition_cleared.condition_id == 1  # type: ignore[attr-defined]
    summaries = [
        e.status_summary  # type: ignore[attr-defined]
        for e in sink.of("scanner_status_summary")
    ]
    states = [s.scanner_state for s in summaries]
    # One event per change of state or reasons: the states in a row repeat when only
    # the reasons changed (the feeder ran empty while the job was processing).
    assert [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]][:2] == [
        scan.ScannerStateKnownValue.PROCESSING,
        scan.ScannerStateKnownValue.IDLE,
    ]
    reasons = [
        [
            str(getattr(r, "value", r))
            for r in s.scanner_state_reasons.scanner_state_reason
        ]
        for s in summaries
    ]
    assert ["InputTrayEmpty"] in reasons  # the empty feeder, a state reason
    assert reasons[-1] == ["None"]  # loaded again
    change = sink.of("scanner_elements_change")[0]
    names = change.element_changes.scanner_description.scanner_name  # type: ignore[attr-defined]
    assert "Renamed Scanner" in [n.value for n in names]
    available = sink.of("scan_available")[0]
    assert available.client_context == "ctx"  # type: ignore[attr-defined]
    assert available.scan_identifier == identifier  # type: ignore[attr-defined]
    assert sub.active


async def test_jam_is_reported_and_refuses_jobs(
    source: Scanner, receiver: EventReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    sink = Recorder()
    await receiver.subscribe(
        source.url,
        sink,
        actions=[
            gen_routes.SCANNER_STATUS_CONDITION_EVENT.action,
            gen_routes.SCANNER_STATUS_CONDITION_CLEARED_EVENT.action,
            gen_routes.SCANNER_STATUS_SUMMARY_EVENT.action,
        ],
    )
    await press(source.url, jammed=True)
    await sink.wait("scanner_status_condition")
    await sink.wait("scanner_status_summary")
    jam = sink.of("scanner_status_condition")[0]
    assert jam.device_condition.name == scan.DeviceConditionNameKnownValue.MEDIA_JAM  # type: ignore[attr-defined]
    summary = sink.of("scanner_status_summary")[0].status_summary  # type: ignore[attr-defined]
    assert summary.scanner_state == scan.ScannerStateKnownValue.STOPPED
    async with HttpTransport(source.url) as transport:
        client = ScannerServiceClient(transport)
        with pytest.raises(scan_faults.ServerErrorNotAcceptingJobs):
            await client.create_scan_job(scan_ticket=await _ticket(source.url))
    assert sink.of("scanner_status_condition_cleared") == []
    # What `wsdscan press URL --clear-jam` runs.
    args = argparse.Namespace(
        url=source.url, destination=None, jam=False, clear_jam=True
    )
    assert await press_cli.run(args) == 0
    assert "jam cleared" in capsys.readouterr().out
    await sink.wait("scanner_status_condition_cleared")
    await sink.wait("scanner_status_summary", 2)
    (cleared,) = sink.of("scanner_status_condition_cleared")
    condition_cleared = cleared.device_condition_cleared  # type: ignore[attr-defined]
    assert condition_cleared.condition_id == jam.device_condition.id  # type: ignore[attr-defined]
    assert condition_cleared.condition_clear_time is not None
    summary = sink.of("scanner_status_summary")[1].status_summary  # type: ignore[attr-defined]
    assert summary.scanner_state == scan.ScannerStateKnownValue.IDLE
    assert len(sink.of("scanner_status_condition")) == 1  # the jam, once
    assert sink.of("job_status") == []  # not subscribed to it


async def test_generated_emit_helpers_publish_through_the_manager(
    source: Scanner, receiver: EventReceiver
) -> None:
    sink = Recorder()
    await receiver.subscribe(source.url, sink)
    status = scan.JobStatus(
        job_id=42,
        job_state=scan.JobStateKnownValue.STARTED,
        job_state_reasons=scan.JobStateReasons(
            job_state_reason=[scan.JobStateReasonKnownValue.NONE]
        ),
        scans_completed=0,
    )
    await ScannerServiceEvents(source.manager).emit_job_status(
        scan.JobStatusEvent(job_status=status)
    )
    await sink.wait("job_status")
    assert sink.of("job_status")[0].job_status == status  # type: ignore[attr-defined]


# --- the scan button and destination tokens -----------------------------------------


async def test_destination_token_is_checked(
    source: Scanner, receiver: EventReceiver
) -> None:
    sink = Recorder()
    sub = await receiver.subscribe(
        source.url,
        sink,
        actions=[gen_routes.SCAN_AVAILABLE_EVENT.action],
        destinations=[ScanDestinationRequest("Desk", "ctx")],
    )
    with pytest.raises(scan_faults.InvalidArgs):
        await press(source.url, "Nobody")
    await press(source.url, "Desk")
    await sink.wait("scan_available")
    event = sink.of("scan_available")[0]
    identifier = event.scan_identifier  # type: ignore[attr-defined]
    ticket = await _ticket(source.url, "Platen")
    async with HttpTransport(source.url) as transport:
        client = ScannerServiceClient(transport)
        with pytest.raises(scan_faults.ClientErrorInvalidDestinationToken):
            await client.create_scan_job(
                scan_identifier=identifier,
                destination_token="not-the-token",
                scan_ticket=ticket,
            )
        with pytest.raises(scan_faults.ClientErrorInvalidScanIdentifier):
            await client.create_scan_job(
                scan_identifier="made-up",
                destination_token=sub.destination_tokens["ctx"],
                scan_ticket=ticket,
            )
        job = await client.create_scan_job(
            scan_identifier=identifier,
            destination_token=sub.destination_tokens["ctx"],
            scan_ticket=ticket,
        )
        assert job.job_id > 0
        await client.cancel_job(job_id=job.job_id)
        # One press, one job: the identifier is used up.
        with pytest.raises(scan_faults.ClientErrorInvalidScanIdentifier):
            await client.create_scan_job(
                scan_identifier=identifier,
                destination_token=sub.destination_tokens["ctx"],
                scan_ticket=ticket,
            )


# --- delivery -----------------------------------------------------------------------


async def test_200_subscribers_all_get_job_status(
    source: Scanner, receiver: EventReceiver
) -> None:
    sinks = [Recorder() for _ in range(200)]
    await asyncio.gather(
        *(
            receiver.subscribe(
                source.url, sink, actions=[gen_routes.JOB_STATUS_EVENT.action]
            )
            for sink in sinks
        )
    )
    assert len(source.manager.subscriptions) == 200
    async with HttpTransport(source.url) as transport:
        client = ScannerServiceClient(transport)
        job = await client.create_scan_job(scan_ticket=await _ticket(source.url))
    await eventually(lambda: all(s.of("job_status") for s in sinks))
    for sink in sinks:
        (event,) = sink.of("job_status")
        assert event.job_status.job_id == job.job_id  # type: ignore[attr-defined]


@contextlib.asynccontextmanager
async def black_hole() -> AsyncIterator[str]:
    """An HTTP address that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        held.append(writer)
        with contextlib.suppress(Exception):
            await reader.read(-1)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/sink"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_dead_sink_delays_no_one_and_is_dropped(receiver: EventReceiver) -> None:
    timeout = 4.0
    policy = DeliveryPolicy(timeout=timeout, max_failures=1)
    ends: list[tuple[str, str]] = []

    async def on_end(status: str, reason: str, identifier: str | None) -> None:
        ends.append((status, reason))

    end_app = EventSinkApp(EVENT_ROUTES)
    end_path = end_app.register("end", object(), on_end)
    async with (
        served(policy=policy) as source,
        black_hole() as dead,
        running_sink(end_app, "127.0.0.1", 0) as end_server,
    ):
        body = etree.fromstring(
            etree.tostring(_subscribe_body("")).replace(
                b"http://127.0.0.1:9/x", dead.encode()
            )
        )
        end_to = wire.EndpointReference(end_server.url(end_path))
        body.insert(0, end_to.element(wire.wse("EndTo")))
        async with SoapClient(timeout=5, limits=UNLIMITED) as client:
            await client.request(source.url, wire.SUBSCRIBE, body)
        others = [Recorder() for _ in range(20)]
        await asyncio.gather(*(receiver.subscribe(source.url, s) for s in others))
        assert len(source.manager.subscriptions) == 21
        started = time.monotonic()
        source.scanner.set_jammed(True)
        await eventually(lambda: all(s.of("scanner_status_condition") for s in others))
        # Every live sink had it well before the dead one's timeout ran out.
        assert time.monotonic() - started < timeout
        assert ends == []
        # After the timeout the dead sink is dropped with SubscriptionEnd to its EndTo.
        await eventually(lambda: bool(ends), timeout * 3)
        assert ends[0][0] == "DeliveryFailure"
        assert len(source.manager.subscriptions) == 20


# --- losing the event source --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_subscription_end_on_shutdown_reaches_client(
    receiver: EventReceiver,
) -> None:
    changes: list[SubscriptionChange] = []
    async with served() as source:
        sub = await receiver.subscribe(source.url, Recorder(), on_change=changes.append)
        await source.stop()
    await eventually(lambda: bool(changes))
    assert changes[0].kind == "lost"
    assert "SubscriptionEnd (SourceShuttingDown" in changes[0].reason
    assert not sub.active


async def test_scanner_restart_is_survived(receiver: EventReceiver) -> None:
    port = _free_port()
    changes: list[SubscriptionChange] = []
    sink = Recorder()
    destinations = [ScanDestinationRequest("Desk", "ctx")]
    # A crash: no SubscriptionEnd; the client finds out when its renew fails.
    async with served(port, send_end=False) as first:
        sub = await receiver.subscribe(
            first.url,
            sink,
            destinations=destinations,
            expires=1.0,
            on_change=changes.append,
        )
        old_identifier, old_token = sub.identifier, sub.destination_tokens["ctx"]
        await first.stop()
    async with served(port) as second:
        await eventually(lambda: [c.kind for c in changes] == ["lost", "resubscribed"])
        assert "renew failed" in changes[0].reason
        assert sub.identifier != old_identifier
        assert sub.destination_tokens["ctx"] != old_token
        assert [s.identifier for s in second.manager.subscriptions] == [sub.identifier]
        await press(second.url, "Desk")
        await sink.wait("scan_available")


async def test_sink_accepts_notification_without_action(
    receiver: EventReceiver,
) -> None:
    sink = Recorder()
    async with served() as source:
        sub = await receiver.subscribe(source.url, sink)
    # As the Epson corpus message: no Header at all, prefixes of its own.
    data = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        b'xmlns:wscn="http://schemas.microsoft.com/windows/2006/08/wdp/scan"><s:Body>'
        b"<wscn:ScanAvailableEvent><wscn:ClientContext>Scan</wscn:ClientContext>"
        b"<wscn:ScanIdentifier>DCCD2F4A1F89_117_0</wscn:ScanIdentifier>"
        b"</wscn:ScanAvailableEvent></s:Body></s:Envelope>"
    )
    async with httpx.AsyncClient() as client:
        response = await client.post(sub.sink_url, content=data)
        assert response.status_code == 202
        missing = await client.post(sub.sink_url + "x", content=data)
        assert missing.status_code == 404
        junk = await client.post(sub.sink_url, content=b"<not-soap/>")
        assert junk.status_code == 400
    await sink.wait("scan_available")
    event = sink.of("scan_available")[0]
    assert event == scan.ScanAvailableEvent(
        client_context="Scan", scan_identifier="DCCD2F4A1F89_117_0"
    )

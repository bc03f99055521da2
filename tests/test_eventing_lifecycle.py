"""WS-Eventing edge cases over real HTTP on 127.0.0.1: a renew that fails while the
subscription lives on at the event source (no event handled twice), SubscriptionEnd
naming another subscription, an event sink dropped for an overflowing queue or for
repeated failures, renew jitter, and the Epson ET-2750's SubscribeResponse without
ClientContext (served by a fake device)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from lxml import etree
from project_data import CORPUS_DIR
from test_eventing import Recorder, eventually
from wsdscan.generated import EVENT_ROUTES, ScannerServiceEvents
from wsdscan.generated import routes as gen_routes
from wsdscan.generated.models import scan
from wsdscan.runtime.contract import RequestContext
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
from wsdscan.runtime.server import (
    RawHandler,
    Receive,
    Scope,
    Send,
    SoapApp,
    SoapReply,
    running,
)
from wsdscan.runtime.soap import ServerFault
from wsdscan.runtime.soap.envelope import Envelope
from wsdscan.runtime.transport import UNLIMITED, SoapClient

from wsdscan.press import serve_eventing
from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

# Independent of the modules under test on purpose.
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSE = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
SCAN = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"

EPSON = CORPUS_DIR / "occino-wsd-scan-receiver-epson-et2750"
JOB_STATUS = gen_routes.JOB_STATUS_EVENT


def _job_status_event() -> scan.JobStatusEvent:
    return scan.JobStatusEvent(
        job_status=scan.JobStatus(
            job_id=42,
            job_state=scan.JobStateKnownValue.STARTED,
            job_state_reasons=scan.JobStateReasons(
                job_state_reason=[scan.JobStateReasonKnownValue.NONE]
            ),
            scans_completed=0,
        )
    )


@dataclass
class Device:
    """The virtual scanner's event source; Renew and Unsubscribe are recorded (arrival
    time, wse:Identifier) and answer HTTP 500 while ``failures[action]`` > 0."""

    manager: SubscriptionManager
    url: str = ""
    calls: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)

    def identifiers(self, action: str) -> list[str]:
        return [identifier for _, identifier in self.calls.get(action, [])]

    def live(self) -> list[str]:
        return [s.identifier for s in self.manager.subscriptions]

    def wrap(self, action: str, inner: RawHandler) -> RawHandler:
        async def handle(envelope: Envelope, context: RequestContext) -> SoapReply:
            header = envelope.header(WSE, "Identifier")
            identifier = (header.text or "").strip() if header is not None else ""
            self.calls.setdefault(action, []).append((time.monotonic(), identifier))
            if self.failures.get(action, 0) > 0:
                self.failures[action] -= 1
                # Transient (HTTP 500): the subscription itself is left as it was.
                raise ServerFault()
            return await inner(envelope, context)

        return handle


@contextlib.asynccontextmanager
async def device(policy: DeliveryPolicy | None = None) -> AsyncIterator[Device]:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=1, duplex=False))
    eventing = serve_eventing(scanner)
    if policy is not None:
        eventing.manager.policy = policy
    found = Device(eventing.manager)
    handlers = dict(eventing.handlers)
    for action in (wire.RENEW, wire.UNSUBSCRIBE):
        handlers[action] = found.wrap(action, handlers[action])
    async with running(SoapApp(scanner, handlers=handlers)) as server:
        found.url = server.url("/WSDScanner")
        try:
            yield found
        finally:
            await eventing.aclose()


def _sink_key(sink_base: str) -> str:
    return sink_base.rstrip("/").rpartition("/")[2]


def _subscription_end(address: str, identifier: str) -> bytes:
    """A SubscriptionEnd (SourceCancelling) naming ``identifier``, with prefixes of
    its own."""
    return (
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:e="{WSE}"><s:Header>'
        f"<a:Action>{WSE}/SubscriptionEnd</a:Action></s:Header><s:Body>"
        f"<e:SubscriptionEnd><e:SubscriptionManager><a:Address>{address}</a:Address>"
        f"<a:ReferenceParameters><e:Identifier>{identifier}</e:Identifier>"
        "</a:ReferenceParameters></e:SubscriptionManager>"
        "<e:Status>e:SourceCancelling</e:Status></e:SubscriptionEnd></s:Body>"
        "</s:Envelope>"
    ).encode()


# --- a renew that fails while the subscription lives on -------------------------------


async def test_failed_renew_unsubscribes_the_replaced_subscription() -> None:
    changes: list[SubscriptionChange] = []
    sink = Recorder()
    async with device() as dev, EventReceiver(EVENT_ROUTES) as receiver:
        dev.failures[wire.RENEW] = 1
        sub = await receiver.subscribe(
            dev.url, sink, expires=3.0, on_change=changes.append
        )
        old = sub.identifier
        await eventually(lambda: [c.kind for c in changes] == ["lost", "resubscribed"])
        assert "renew failed" in changes[0].reason
        assert sub.identifier != old
        # Unsubscribed, not left to expire (it had 3 s, renewed at 1.5-2.1 s).
        assert dev.identifiers(wire.UNSUBSCRIBE) == [old]
        assert dev.live() == [sub.identifier]
        await ScannerServiceEvents(dev.manager).emit_job_status(_job_status_event())
        await dev.manager.drain()
        await receiver.app.join(_sink_key(sub.sink_base))
        assert len(sink.of("job_status")) == 1


async def test_replaced_subscription_that_lives_on_is_not_heard() -> None:
    changes: list[SubscriptionChange] = []
    sink = Recorder()
    async with (
        device() as dev,
        EventReceiver(EVENT_ROUTES) as receiver,
        httpx.AsyncClient() as client,
    ):
        dev.failures[wire.RENEW] = 1
        dev.failures[wire.UNSUBSCRIBE] = 1  # the best-effort Unsubscribe fails too
        sub = await receiver.subscribe(
            dev.url, sink, expires=3.0, on_change=changes.append
        )
        key = _sink_key(sub.sink_base)
        old, old_sink = sub.identifier, sub.sink_url
        await eventually(lambda: [c.kind for c in changes] == ["lost", "resubscribed"])
        assert dev.identifiers(wire.UNSUBSCRIBE) == [old]
        assert sub.sink_url != old_sink
        # Both live at the event source, so the event is sent twice...
        targets = {s.identifier: s.notify_to.address for s in dev.manager.subscriptions}
        assert targets == {old: old_sink, sub.identifier: sub.sink_url}
        await ScannerServiceEvents(dev.manager).emit_job_status(_job_status_event())
        await dev.manager.drain()
        await receiver.app.join(key)
        # ... but handled once: the copy for the replaced one is acknowledged, dropped.
        assert len(sink.of("job_status")) == 1
        assert receiver.app.dropped(key) == 1

        # A SubscriptionEnd for the replaced subscription: dropped at its own path,
        # ignored by identifier at the current one.
        for url in (old_sink, sub.sink_url):
            response = await client.post(url, content=_subscription_end(dev.url, old))
            assert response.status_code == 202
        await receiver.app.join(key)
        assert receiver.app.dropped(key) == 2
        assert len(changes) == 2 and sub.active
        # One for the current subscription ends it (and it subscribes again).
        current = sub.identifier
        response = await client.post(
            sub.sink_url, content=_subscription_end(dev.url, current)
        )
        assert response.status_code == 202
        await eventually(lambda: len(changes) == 4)
        assert changes[2].kind == "lost"
        assert changes[2].reason.startswith("SubscriptionEnd (SourceCancelling")
        assert sub.identifier != current
        # A path tag the sink never issued is refused, not silently accepted.
        response = await client.post(
            sub.sink_base + "/0000", content=_subscription_end(dev.url, current)
        )
        assert response.status_code == 404


# --- the event source drops sinks -----------------------------------------------------


async def test_sink_whose_queue_overflows_is_dropped_with_delivery_failure() -> None:
    changes: list[SubscriptionChange] = []
    async with (
        device(DeliveryPolicy(queue_size=2)) as dev,
        EventReceiver(EVENT_ROUTES) as receiver,
    ):
        sub = await receiver.subscribe(
            dev.url, Recorder(), actions=[JOB_STATUS.action], on_change=changes.append
        )
        old = sub.identifier
        # Queued in one go, before the outbox's task takes any: the third overflows.
        offered = [
            dev.manager.publish_nowait(JOB_STATUS, _job_status_event())
            for _ in range(3)
        ]
        assert offered == [1, 1, 0]
        assert old not in dev.live()
        await eventually(lambda: bool(changes))
        assert changes[0].kind == "lost"
        assert changes[0].reason == (
            "SubscriptionEnd (DeliveryFailure: queue of 2 notifications is full)"
        )


async def test_default_policy_drops_a_sink_at_the_third_failure_in_a_row() -> None:
    assert DeliveryPolicy().max_failures == 3
    posts: list[str] = []

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        posts.append(scope["path"])
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    ends: list[tuple[str, str, str | None]] = []

    async def on_end(status: str, reason: str, identifier: str | None) -> None:
        ends.append((status, reason, identifier))

    end_app = EventSinkApp(EVENT_ROUTES)
    end_path = end_app.register("end", object(), on_end)
    async with (
        device() as dev,
        running(failing) as bad,
        running_sink(end_app, "127.0.0.1", 0) as end_server,
        SoapClient(timeout=5, limits=UNLIMITED) as client,
    ):
        body = etree.Element(f"{{{WSE}}}Subscribe", nsmap={"wse": WSE})
        body.append(
            wire.EndpointReference(end_server.url(end_path)).element(f"{{{WSE}}}EndTo")
        )
        delivery = etree.SubElement(body, f"{{{WSE}}}Delivery")
        delivery.append(
            wire.EndpointReference(bad.url("/sink")).element(f"{{{WSE}}}NotifyTo")
        )
        reply = await client.request(dev.url, wire.SUBSCRIBE, body)
        assert reply.body is not None
        identifier = reply.body.findtext(f".//{{{WSE}}}Identifier")
        assert dev.manager.policy == DeliveryPolicy()
        for attempt in (1, 2, 3):
            dev.manager.publish_nowait(JOB_STATUS, _job_status_event())
            await dev.manager.drain()
            assert len(posts) == attempt
            # Kept after the first and second failure, dropped at the third.
            assert (identifier in dev.live()) == (attempt < 3), attempt
        await eventually(lambda: bool(ends))
        assert ends == [("DeliveryFailure", "3 deliveries failed in a row", identifier)]


# --- renewal --------------------------------------------------------------------------


async def test_renewals_are_jittered_within_the_documented_window() -> None:
    lifetime = 2.0
    async with device() as dev, EventReceiver(EVENT_ROUTES) as receiver:
        subs = await asyncio.gather(
            *(
                receiver.subscribe(dev.url, Recorder(), expires=lifetime)
                for _ in range(8)
            )
        )
        granted_at = {s.identifier: s.expires_at - s.expires for s in subs}
        await eventually(
            lambda: set(dev.identifiers(wire.RENEW)) >= set(granted_at),
            timeout=3 * lifetime,
        )
        first: dict[str, float] = {}
        for at, identifier in dev.calls[wire.RENEW]:
            first.setdefault(identifier, at)
        delays = sorted(first[i] - granted_at[i] for i in granted_at)
        # The documented window: a random point between 50 % and 70 % of the
        # lifetime (0.25 s of slack for a busy machine), always before it runs out.
        assert 0.5 * lifetime - 0.05 <= delays[0], delays
        assert delays[-1] <= 0.7 * lifetime + 0.25, delays
        # Not in step: without jitter all eight would renew within milliseconds.
        assert delays[-1] - delays[0] > 0.05, delays
        assert sorted(dev.live()) == sorted(granted_at)


# --- Epson ET-2750: DestinationResponse without ClientContext -------------------------


@dataclass
class FakeDevice:
    url: str
    requests: list[etree._Element] = field(default_factory=list)

    def actions(self) -> list[str]:
        return [r.findtext(f".//{{{WSA}}}Action") or "" for r in self.requests]


@contextlib.asynccontextmanager
async def fake_epson() -> AsyncIterator[FakeDevice]:
    """Answers Subscribe with the corpus's Epson SubscribeResponse, anything else with
    an empty envelope; records every request."""
    response = (EPSON / "SubscribeResponse.handmade.xml").read_bytes()
    empty = f'<s:Envelope xmlns:s="{SOAP12}"><s:Body/></s:Envelope>'.encode()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:  # keep-alive: one request after another
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                message = etree.fromstring(await reader.readexactly(length))
                found.requests.append(message)
                subscribe = message.findtext(f".//{{{WSA}}}Action") == wire.SUBSCRIBE
                # The corpus's placeholder address (RFC 5737) becomes ours, so that
                # Renew and Unsubscribe stay on 127.0.0.1.
                reply = (
                    response.replace(
                        b"http://192.0.2.21:80/WDP/SCAN", found.url.encode()
                    )
                    if subscribe
                    else empty
                )
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
                    + f"Content-Length: {len(reply)}\r\n\r\n".encode()
                    + reply
                )
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    found = FakeDevice(f"http://127.0.0.1:{port}/WDP/SCAN")
    try:
        yield found
    finally:
        server.close()


async def test_epson_destination_tokens_are_matched_by_position() -> None:
    async with fake_epson() as epson, EventReceiver(EVENT_ROUTES) as receiver:
        sub = await receiver.subscribe(
            epson.url,
            Recorder(),
            actions=[gen_routes.SCAN_AVAILABLE_EVENT.action],
            destinations=[ScanDestinationRequest("Epson PC", "ctx-epson")],
        )
        # The response has no ClientContext: the token is the first destination's.
        assert sub.destination_tokens == {"ctx-epson": "token"}
        assert sub.identifier == "urn:uuid:subscription"
        assert sub.expires == 15 * 60
        assert sub.manager.address == epson.url
        (subscribe,) = epson.requests
        assert subscribe.findtext(f".//{{{SCAN}}}ClientContext") == "ctx-epson"
        await receiver.close_subscription(sub)
    # Unsubscribe went to the SubscriptionManager with its reference parameter.
    assert epson.actions() == [wire.SUBSCRIBE, wire.UNSUBSCRIBE]
    identifier = epson.requests[1].find(f"{{{SOAP12}}}Header/{{{WSE}}}Identifier")
    assert identifier is not None and identifier.text == "urn:uuid:subscription"

"""WS-Eventing limits and robustness over real HTTP on 127.0.0.1: the event source's
caps on subscriptions and ScanDestinations (wse:EventSourceUnableToProcess), token
lookup and pruning in a full table, the event sink's body deadline and size cap
(408 / 413 with the connection closed), cancellation of a sink's shutdown, a
keep-alive task that survives an invalid SubscriptionManager address or an unforeseen
error, and the scan-to-PC receiver's bounded job history."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from lxml import etree
from test_eventing import Recorder, eventually, served
from wsdscan.generated import EVENT_ROUTES
from wsdscan.runtime.errors import TransportError
from wsdscan.runtime.eventing import (
    EventReceiver,
    EventSinkApp,
    SubscriptionChange,
    SubscriptionManager,
    wire,
)
from wsdscan.runtime.eventing.receiver import running_sink
from wsdscan.runtime.server import ServerLimits, SoapApp, running
from wsdscan.runtime.transport import UNLIMITED, SoapClient

from wsdscan.receive import ReceivedJob, ScanToPC
from wsdscan.virtual import VirtualScanner

# Independent of the modules under test on purpose.
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSE = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
SCAN = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
NS = {"s": SOAP12, "a": WSA, "e": WSE, "n": SCAN}

SUBSCRIPTION_CAP = 256
DESTINATION_CAP = 16


# --- an event source spoken to in raw SOAP ---------------------------------------------


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _envelope(action: str, body: str, identifier: str | None = None) -> bytes:
    header = (
        f"<a:Action>{WSE}/{action}</a:Action>"
        f"<a:MessageID>urn:uuid:{uuid.uuid4()}</a:MessageID>"
    )
    if identifier is not None:
        header += f"<e:Identifier>{identifier}</e:Identifier>"
    return (
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:e="{WSE}" '
        f'xmlns:n="{SCAN}"><s:Header>{header}</s:Header><s:Body>{body}</s:Body>'
        "</s:Envelope>"
    ).encode()


def _subscribe(destinations: int = 0, expires: str = "PT1H", tag: str = "") -> str:
    items = "".join(
        f"<n:ScanDestination><n:ClientDisplayName>PC {tag}{i}</n:ClientDisplayName>"
        f"<n:ClientContext>{tag}ctx-{i}</n:ClientContext></n:ScanDestination>"
        for i in range(destinations)
    )
    holder = f"<n:ScanDestinations>{items}</n:ScanDestinations>" if items else ""
    return (
        "<e:Subscribe><e:Delivery><e:NotifyTo><a:Address>http://127.0.0.1:9/sink"
        f"</a:Address></e:NotifyTo></e:Delivery><e:Expires>{expires}</e:Expires>"
        f"{holder}</e:Subscribe>"
    )


@dataclass
class Reply:
    status: int
    root: etree._Element

    def subcode(self) -> tuple[str, str]:
        """The fault's subcode as (namespace its prefix is declared as, local name)."""
        value = self.root.find("s:Body/s:Fault/s:Code/s:Subcode/s:Value", NS)
        assert value is not None, etree.tostring(self.root)
        prefix, _, local = (value.text or "").strip().rpartition(":")
        return value.nsmap.get(prefix or None, ""), local

    def identifier(self) -> str:
        return (
            self.root.findtext(
                "s:Body/e:SubscribeResponse/e:SubscriptionManager/"
                "a:ReferenceParameters/e:Identifier",
                namespaces=NS,
            )
            or ""
        ).strip()

    def tokens(self) -> dict[str, str]:
        return {
            item.findtext("n:ClientContext", "", NS): item.findtext(
                "n:DestinationToken", "", NS
            )
            for item in self.root.iterfind(
                "s:Body/e:SubscribeResponse/n:DestinationResponses/"
                "n:DestinationResponse",
                namespaces=NS,
            )
        }


@dataclass
class Source:
    url: str
    manager: SubscriptionManager
    client: httpx.AsyncClient
    # httpcore's pool is slow with hundreds of requests in flight: 16 at a time.
    gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))

    async def send(
        self, action: str, body: str, identifier: str | None = None
    ) -> Reply:
        async with self.gate:
            response = await self.client.post(
                self.url,
                content=_envelope(action, body, identifier),
                headers={"Content-Type": "application/soap+xml"},
            )
        return Reply(response.status_code, etree.fromstring(response.content))

    async def subscribe(self, destinations: int = 0, **options: str) -> Reply:
        reply = await self.send("Subscribe", _subscribe(destinations, **options))
        assert reply.status == 200, etree.tostring(reply.root)
        return reply


@contextlib.asynccontextmanager
async def event_source(
    clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[Source]:
    """The virtual scanner with a subscription manager of default limits."""
    manager = SubscriptionManager(routes=EVENT_ROUTES, clock=clock)
    app = SoapApp(VirtualScanner(), handlers=manager.handlers())
    # (TCP_NODELAY: a plain client waits for delayed ACKs, ~40 ms per request.)
    async with (
        running(app) as server,
        SoapClient(timeout=10.0, limits=UNLIMITED) as client,
    ):
        try:
            yield Source(server.url("/WSDScanner"), manager, client.http)
        finally:
            await manager.aclose()


# --- the event source's caps -----------------------------------------------------------


async def test_subscription_beyond_the_cap_is_refused() -> None:
    async with event_source() as source:
        replies = await asyncio.gather(
            *(source.subscribe() for _ in range(SUBSCRIPTION_CAP))
        )
        identifiers = [reply.identifier() for reply in replies]
        refused = await source.send("Subscribe", _subscribe())
        assert refused.subcode() == (WSE, "EventSourceUnableToProcess")
        assert len(source.manager.subscriptions) == SUBSCRIPTION_CAP
        # The cap counts live subscriptions: one ends, one more fits.
        gone = await source.send("Unsubscribe", "<e:Unsubscribe/>", identifiers[0])
        assert gone.status == 200
        await source.subscribe()


async def test_subscribe_with_too_many_destinations_is_refused() -> None:
    async with event_source() as source:
        refused = await source.send("Subscribe", _subscribe(DESTINATION_CAP + 1))
        assert refused.subcode() == (WSE, "EventSourceUnableToProcess")
        assert source.manager.subscriptions == []
        accepted = await source.subscribe(DESTINATION_CAP)
        assert len(accepted.tokens()) == DESTINATION_CAP


async def test_token_lookup_in_a_full_table_is_fast_and_never_stale() -> None:
    clock = Clock()
    async with event_source(clock) as source:
        # A quarter expire after 10 s, the rest after an hour.
        replies = await asyncio.gather(
            *(
                source.subscribe(
                    DESTINATION_CAP,
                    expires="PT10S" if n % 4 == 0 else "PT1H",
                    tag=f"{n}-",
                )
                for n in range(SUBSCRIPTION_CAP)
            )
        )
        manager = source.manager
        tokens = [t for r in replies for t in r.tokens().values()]
        assert len(set(tokens)) == SUBSCRIPTION_CAP * DESTINATION_CAP

        # A DestinationToken check runs on the event loop for each CreateScanJob:
        # it must not scan all 4096 destinations (~0.4 ms that way, ~1 µs by a
        # dict). The best of 5 rounds, so that a busy machine does not count.
        sample = tokens[:: len(tokens) // 200]
        rounds = []
        for _ in range(5):
            started = time.perf_counter()
            for token in sample:
                assert manager.destination_for_token(token) is not None
            rounds.append((time.perf_counter() - started) / len(sample))
        assert min(rounds) < 50e-6, f"{min(rounds) * 1e6:.0f} µs per lookup"
        assert manager.destination_for_token("not-a-token") is None

        renewed, unsubscribed = replies[0], replies[1]
        renew = "<e:Renew><e:Expires>PT1H</e:Expires></e:Renew>"
        assert (await source.send("Renew", renew, renewed.identifier())).status == 200
        reply = await source.send(
            "Unsubscribe", "<e:Unsubscribe/>", unsubscribed.identifier()
        )
        assert reply.status == 200
        clock.now += 11

        expired = {r.identifier() for r in replies[4::4]}
        live = {s.identifier for s in manager.subscriptions}
        assert len(live) == SUBSCRIPTION_CAP - len(expired) - 1
        assert renewed.identifier() in live
        assert not live & expired and unsubscribed.identifier() not in live
        for reply in replies:
            found = [manager.destination_for_token(t) for t in reply.tokens().values()]
            if reply.identifier() in live:
                assert [d and d.identifier for d in found] == [reply.identifier()] * 16
            else:
                assert found == [None] * DESTINATION_CAP
        status = await source.send(
            "GetStatus", "<e:GetStatus/>", replies[4].identifier()
        )
        assert status.subcode()[1] == "DestinationUnreachable"
        # Room again for as many as expired or were unsubscribed.
        await asyncio.gather(*(source.subscribe() for _ in range(len(expired) + 1)))
        refused = await source.send("Subscribe", _subscribe())
        assert refused.subcode() == (WSE, "EventSourceUnableToProcess")
        # The renewed one outlives its first expiry but not its second.
        clock.now += 3600
        assert renewed.identifier() not in {s.identifier for s in manager.subscriptions}


# --- the event sink's body deadline and size cap ---------------------------------------


@contextlib.asynccontextmanager
async def sink(limits: ServerLimits | None = None) -> AsyncIterator[tuple[int, str]]:
    app = EventSinkApp(EVENT_ROUTES, limits=limits)
    path = app.register("key", Recorder(), None)
    async with running_sink(app, "127.0.0.1", 0) as server:
        yield server.port, path


async def _exchange(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send ``data`` and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


def _head(path: str, *lines: str) -> bytes:
    return "\r\n".join(
        [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *lines, "", ""]
    ).encode()


async def test_sink_answers_a_stalled_body_with_408_and_closes() -> None:
    async with sink(ServerLimits(read_timeout=0.5)) as (port, path):
        started = time.monotonic()
        answer = await _exchange(
            port, _head(path, "Content-Length: 1000") + b"<s:Envelope"
        )
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"\r\nconnection: close\r\n" in answer.lower()
        assert time.monotonic() - started < 3


async def test_sink_refuses_an_oversized_body_with_413_and_closes() -> None:
    async with sink() as (port, path):  # the default cap: 1 MiB
        # Declared too large: refused before a byte of the body is read.
        declared = await _exchange(port, _head(path, "Content-Length: 2000000"))
        assert declared.startswith(b"HTTP/1.1 413 ")
        assert b"\r\nconnection: close\r\n" in declared.lower()
        # Chunked, no length given: refused once the body passes the cap.
        size = 1024 * 1024 + 1
        chunk = f"{size:x}\r\n".encode() + b"x" * size
        sent = await _exchange(port, _head(path, "Transfer-Encoding: chunked") + chunk)
        assert sent.startswith(b"HTTP/1.1 413 ")
        assert b"\r\nconnection: close\r\n" in sent.lower()


# --- cancellation is not swallowed -----------------------------------------------------


async def test_cancelling_a_sink_that_is_shutting_down_cancels_the_caller() -> None:
    app = EventSinkApp(EVENT_ROUTES)
    path = app.register("key", Recorder(), None)
    stopping = asyncio.Event()
    carried_on: list[str] = []
    writers: list[asyncio.StreamWriter] = []

    async def use_sink() -> None:
        async with running_sink(app, "127.0.0.1", 0) as server:
            # A request in progress: uvicorn's shutdown waits for it.
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writers.append(writer)
            writer.write(_head(path, "Content-Length: 100") + b"<")
            await writer.drain()
            await asyncio.sleep(0.2)
            stopping.set()
        carried_on.append("the caller went on after being cancelled")

    task = asyncio.create_task(use_sink())
    try:
        await asyncio.wait_for(stopping.wait(), 5)
        await asyncio.sleep(0.3)  # inside running_sink's exit now
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        assert carried_on == []
    finally:
        for writer in writers:
            writer.close()


# --- the keep-alive task survives ------------------------------------------------------


@dataclass
class FakeSource:
    """Answers every request with a SubscribeResponse (PT1S) whose
    SubscriptionManager has ``manager`` for its address."""

    manager: str
    url: str = ""
    subscribes: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)


@contextlib.asynccontextmanager
async def fake_source(manager: str) -> AsyncIterator[FakeSource]:
    found = FakeSource(manager)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        found.writers.append(writer)
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                found.subscribes += 1
                reply = (
                    f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" '
                    f'xmlns:e="{WSE}"><s:Header><a:Action>{WSE}/SubscribeResponse'
                    "</a:Action></s:Header><s:Body><e:SubscribeResponse>"
                    f"<e:SubscriptionManager><a:Address>{manager}</a:Address>"
                    "<a:ReferenceParameters><e:Identifier>urn:uuid:"
                    f"{uuid.uuid4()}</e:Identifier></a:ReferenceParameters>"
                    "</e:SubscriptionManager><e:Expires>PT1S</e:Expires>"
                    "</e:SubscribeResponse></s:Body></s:Envelope>"
                ).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
                    + f"Content-Length: {len(reply)}\r\n\r\n".encode()
                    + reply
                )
                await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    found.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/scan"
    try:
        yield found
    finally:
        server.close()
        for writer in found.writers:
            writer.close()


async def test_request_to_an_invalid_port_is_a_transport_error() -> None:
    client = SoapClient(timeout=2.0, limits=UNLIMITED)
    try:
        with pytest.raises(TransportError, match="99999"):
            await client.request("http://127.0.0.1:99999/x", wire.RENEW, None)
    finally:
        await client.aclose()


async def test_invalid_manager_address_makes_the_subscription_resubscribe() -> None:
    changes: list[SubscriptionChange] = []
    async with fake_source("http://127.0.0.1:99999/manager") as source:
        async with EventReceiver(EVENT_ROUTES) as receiver:
            await receiver.subscribe(source.url, Recorder(), on_change=changes.append)
            # Renew fails at once each time: lost, resubscribed, and again.
            await eventually(lambda: len(changes) >= 4)
            kinds = [c.kind for c in changes[:4]]
            assert kinds == ["lost", "resubscribed", "lost", "resubscribed"]
            assert "renew failed" in changes[0].reason
            assert "99999" in changes[0].reason
            assert source.subscribes >= 3


async def test_an_unforeseen_renew_error_is_logged_and_resubscribed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    changes: list[SubscriptionChange] = []
    async with served() as scanner, EventReceiver(EVENT_ROUTES) as receiver:
        subscription = await receiver.subscribe(
            scanner.url, Recorder(), expires=1.0, on_change=changes.append
        )
        first = subscription.identifier
        renew = subscription.renew

        async def broken_once() -> float:
            monkeypatch.setattr(subscription, "renew", renew)
            raise RuntimeError("a bug in renew")

        monkeypatch.setattr(subscription, "renew", broken_once)
        with caplog.at_level(logging.ERROR, logger="wsdscan.eventing"):
            await eventually(
                lambda: [c.kind for c in changes] == ["lost", "resubscribed"]
            )
        assert "a bug in renew" in changes[0].reason
        assert any(r.exc_info for r in caplog.records)
        assert subscription.identifier != first
        # The task lives on: it renews the new subscription.
        await eventually(lambda: subscription.renewals >= 1)


# --- the receiver's job history --------------------------------------------------------


async def test_scan_to_pc_keeps_only_the_last_100_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = ScanToPC(
        "http://127.0.0.1:9/scan", "PC", tmp_path, listen="127.0.0.1", report=str
    )
    numbers = iter(range(1000))

    async def run_job(scan_identifier: str) -> ReceivedJob:
        return ReceivedJob(scan_identifier, next(numbers), [])

    monkeypatch.setattr(receiver, "_run_job", run_job)
    for n in range(150):
        await receiver._job(f"scan-{n}")
    assert [job.job_id for job in receiver.jobs] == list(range(50, 150))

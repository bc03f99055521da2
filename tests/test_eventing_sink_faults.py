"""The event sink over real HTTP on 127.0.0.1: an envelope the SOAP layer refuses with a
fault of its own (a foreign envelope namespace: VersionMismatch; a header it must but
cannot understand: MustUnderstand) is answered like any other unreadable message (400),
with nothing logged as an internal error, and the sink keeps working."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from test_eventing import Recorder
from wsdscan.generated import EVENT_ROUTES
from wsdscan.runtime.eventing import EventSinkApp
from wsdscan.runtime.eventing.receiver import running_sink

# Independent of the modules under test on purpose.
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSE = "http://schemas.xmlsoap.org/ws/2004/08/eventing"

FOREIGN = (
    b'<s:Envelope xmlns:s="urn:example:not-soap"><s:Header/><s:Body>'
    b"<x:Event xmlns:x='urn:example'/></s:Body></s:Envelope>"
)
NOT_UNDERSTOOD = (
    f'<s:Envelope xmlns:s="{SOAP12}"><s:Header>'
    f'<x:Secret xmlns:x="urn:example" s:mustUnderstand="true"/></s:Header>'
    "<s:Body><x:Event xmlns:x='urn:example'/></s:Body></s:Envelope>"
).encode()
SUBSCRIPTION_END = (
    f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:e="{WSE}"><s:Header>'
    f"<a:Action>{WSE}/SubscriptionEnd</a:Action></s:Header><s:Body>"
    "<e:SubscriptionEnd><e:Status>e:SourceShuttingDown</e:Status>"
    "<e:Reason>bye</e:Reason></e:SubscriptionEnd></s:Body></s:Envelope>"
).encode()


async def _post(client: httpx.AsyncClient, url: str, data: bytes) -> int:
    response = await client.post(
        url, content=data, headers={"Content-Type": "application/soap+xml"}
    )
    return response.status_code


@pytest.fixture
async def ends() -> AsyncIterator[tuple[str, list[tuple[str, str, str | None]]]]:
    """A served sink's notification URL and the SubscriptionEnds it was given."""
    received: list[tuple[str, str, str | None]] = []

    async def on_end(status: str, reason: str, identifier: str | None) -> None:
        received.append((status, reason, identifier))

    app = EventSinkApp(EVENT_ROUTES)
    path = app.register("key", Recorder(), on_end)
    async with running_sink(app, "127.0.0.1", 0) as server:
        yield f"http://127.0.0.1:{server.port}{path}", received
    await app.unregister("key")


@pytest.mark.parametrize("data", [FOREIGN, NOT_UNDERSTOOD], ids=["version", "header"])
async def test_an_envelope_refused_with_a_soap_fault_is_a_400_and_the_sink_lives(
    ends: tuple[str, list[tuple[str, str, str | None]]],
    data: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, received = ends
    with caplog.at_level(logging.WARNING):
        async with httpx.AsyncClient(timeout=5.0) as client:
            assert await _post(client, url, data) == 400
            assert await _post(client, url, data) == 400
            # Still serving, on the same connection and on a new one.
            assert await _post(client, url, SUBSCRIPTION_END) == 202
        async with httpx.AsyncClient(timeout=5.0) as client:
            assert await _post(client, url, SUBSCRIPTION_END) == 202
    for _ in range(100):
        if len(received) == 2:
            break
        await asyncio.sleep(0.02)
    assert received == [("SourceShuttingDown", "bye", None)] * 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("unreadable notification" in r.getMessage() for r in caplog.records)

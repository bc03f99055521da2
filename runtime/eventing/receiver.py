"""The subscriber's side of WS-Eventing: :class:`EventReceiver` hosts the event sink
and makes subscriptions that keep themselves alive.

    async with EventReceiver(EVENT_ROUTES) as receiver:
        subscription = await receiver.subscribe(
            "http://192.0.2.10:5358/WSDScanner", MySink(),   # a ScannerServiceEventSink
            actions=[SCAN_AVAILABLE_EVENT.action],
            destinations=[ScanDestinationRequest("My PC", "ctx-1")],
            on_change=print,
        )
        print(subscription.identifier, subscription.destination_tokens)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from ..contract import EventRoute
from ..defaults import SUBSCRIPTION_EXPIRES, SUBSCRIPTION_REQUEST_TIMEOUT
from ..server.serve import RunningServer, running
from ..transport.soap_client import UNLIMITED, SoapClient
from .sink import EventSinkApp
from .subscription import (
    ChangeCallback,
    ScanDestinationRequest,
    Subscription,
)

SINK_BACKLOG: Final = 1024
"""Accept backlog of the sink server (see :func:`running_sink`)."""


def local_address_for(url: str) -> str:
    """The local IP address the system would use to reach ``url``'s host (a UDP
    connect sends nothing); that is where a scanner can reach our event sink."""
    host = urlsplit(url).hostname or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1" if family == socket.AF_INET else "::1"


class EventReceiver:
    """Hosts an event sink on ``host:port`` (uvicorn in this event loop) and makes
    subscriptions whose notifications it receives.

    ``advertise`` is the host name or address put in NotifyTo (default: ``host``, or
    when that is a wildcard, the local address that routes to each scanner)."""

    def __init__(
        self,
        routes: Mapping[str, EventRoute[Any]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        advertise: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.app = EventSinkApp(routes)
        self.routes = routes
        self.host = host
        self.port = port
        self.advertise = advertise
        self._client = SoapClient(
            client, timeout=SUBSCRIPTION_REQUEST_TIMEOUT, limits=UNLIMITED
        )
        self._server: contextlib.AbstractAsyncContextManager[RunningServer] | None = (
            None
        )
        self.server: RunningServer | None = None
        self._subscriptions: dict[str, Subscription] = {}

    async def __aenter__(self) -> EventReceiver:
        self._server = running_sink(self.app, self.host, self.port)
        self.server = await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _sink_base(self, url: str) -> str:
        if self.server is None:
            raise RuntimeError("use the EventReceiver in `async with` first")
        host = self.advertise or self.host
        if host in ("0.0.0.0", "::", ""):
            host = local_address_for(url)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.server.port}"

    async def subscribe(
        self,
        url: str,
        sink: object,
        *,
        actions: Iterable[str] | None = None,
        destinations: Sequence[ScanDestinationRequest] = (),
        expires: float = SUBSCRIPTION_EXPIRES,
        on_change: ChangeCallback | None = None,
    ) -> Subscription:
        """Subscribe ``sink`` (an object with ``on_<event>`` methods, e.g. a
        ``ScannerServiceEventSink``) to ``actions`` (default: every event in the
        routes) of the event source at ``url``; renewed until closed."""
        key = uuid.uuid4().hex
        base = self._sink_base(url)

        async def ended(status: str, reason: str, identifier: str | None) -> None:
            subscription.end_received(status, reason, identifier)

        path = self.app.register(key, sink, ended)
        subscription = Subscription(
            url=url,
            sink_url=base + path,
            actions=list(actions) if actions is not None else list(self.routes),
            destinations=destinations,
            expires=expires,
            client=self._client,
            on_change=on_change,
            generations=self.app.generations(key),
        )
        try:
            await subscription.subscribe()
        except BaseException:
            await self.app.unregister(key)
            raise
        subscription.start()
        self._subscriptions[key] = subscription
        return subscription

    async def close_subscription(
        self, subscription: Subscription, *, unsubscribe: bool = True
    ) -> None:
        for key, known in list(self._subscriptions.items()):
            if known is subscription:
                del self._subscriptions[key]
                await subscription.aclose(unsubscribe=unsubscribe)
                await self.app.unregister(key)

    async def aclose(self) -> None:
        """Unsubscribe everything (best effort), stop the sink server."""
        await asyncio.gather(
            *(self.close_subscription(s) for s in list(self._subscriptions.values()))
        )
        if self._server is not None:
            await self._server.__aexit__(None, None, None)
            self._server = None
        await self._client.aclose()


def running_sink(
    app: EventSinkApp, host: str, port: int
) -> contextlib.AbstractAsyncContextManager[RunningServer]:
    """``serve.running`` with a long accept backlog: a scanner with many subscribers
    connects to all of them at once, and with many sinks here a short backlog drops
    SYNs (1 s, 3 s, ... retransmits)."""
    return running(app, host, port, backlog=SINK_BACKLOG)

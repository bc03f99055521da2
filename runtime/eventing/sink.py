"""The event sink: an ASGI app that receives notifications and SubscriptionEnd.

Each subscription gets its own path (``/events/<key>``), so notifications are routed
by URL and need no reference parameters echoed back (devices differ in that). Each
Subscribe of it names its own ``/events/<key>/<tag>`` (:class:`Generations`): after a
resubscription, what the replaced subscription still sends is acknowledged and dropped,
so no event is handled twice. The end handler is given the ``wse:Identifier`` a
SubscriptionEnd names, to check it. A notification is answered ``202 Accepted`` at
once; its body is then bound to the generated event dataclass (by ``wsa:Action``, or
by the Body element's name when a device sends no Action) and handed to the sink's
``on_<event>`` method by one task per subscription, in arrival order, so a slow handler
never makes the device wait. As for :class:`server.SoapApp`, a body over
``limits.max_body`` is refused (413) and one not received within
``limits.read_timeout`` of the headers times out (408), closing the connection.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Literal

from lxml import etree

from ..contract import EventRoute
from ..errors import ProtocolError
from ..server.asgi import (
    BodyRefused,
    Receive,
    Scope,
    Send,
    ServerLimits,
    read_body,
    request_headers,
    serve_lifespan,
)
from ..soap.envelope import parse_envelope
from ..soap.faults import SoapFault
from ..xmlbind.binding import bind
from . import wire
from .delivery import wait_ended

log = logging.getLogger("wsdscan.eventing")

MAX_NOTIFICATION: Final = 1024 * 1024
QUEUE_SIZE: Final = 256
MAX_RETIRED: Final = 16

EndHandler = Callable[[str, str, str | None], Awaitable[None]]
"""Called with (status local name, reason text, the wse:Identifier the message names or
None) when a SubscriptionEnd arrives."""


class Generations:
    """The path tags of one target's Subscribe attempts: ``issue`` one per Subscribe,
    ``retire`` it when that subscription is replaced or the attempt failed. Posts to a
    live tag are handled, to a retired one acknowledged and dropped, to any other tag
    refused (404). The last :data:`MAX_RETIRED` retired tags are remembered."""

    def __init__(self) -> None:
        self._live: set[str] = set()
        self._retired: deque[str] = deque(maxlen=MAX_RETIRED)

    def issue(self) -> str:
        tag = secrets.token_hex(6)
        self._live.add(tag)
        return tag

    def retire(self, tag: str) -> None:
        if tag in self._live:
            self._live.discard(tag)
            self._retired.append(tag)

    def state(self, tag: str) -> Literal["live", "retired", "unknown"]:
        if tag in self._live:
            return "live"
        return "retired" if tag in self._retired else "unknown"


class _Target:
    """One subscription's sink object, end handler and dispatch queue."""

    def __init__(self, sink: object, on_end: EndHandler | None) -> None:
        self.sink = sink
        self.on_end = on_end
        self.queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue(
            QUEUE_SIZE
        )
        self.task: asyncio.Task[None] | None = None
        self.received = 0
        self.dropped = 0
        self.generations = Generations()

    def submit(self, call: Callable[[], Awaitable[None]]) -> None:
        try:
            self.queue.put_nowait(call)
        except asyncio.QueueFull:
            log.warning("event handler is %d events behind: event dropped", QUEUE_SIZE)
            return
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            call = await self.queue.get()
            try:
                await call()
            except Exception:
                log.exception("event handler failed")
            finally:
                self.queue.task_done()

    async def aclose(self) -> None:
        if self.task is not None:
            await wait_ended(self.task)


class EventSinkApp:
    """ASGI app for notifications under ``prefix``; :meth:`register` adds a target.

    ``limits`` (default: bodies up to :data:`MAX_NOTIFICATION`) bounds a request's body
    size and the time it may take to arrive; ``serve.make_server`` also takes its
    header deadline from ``limits.read_timeout``."""

    def __init__(
        self,
        routes: Mapping[str, EventRoute[Any]],
        prefix: str = "/events",
        *,
        limits: ServerLimits | None = None,
    ) -> None:
        self.routes = routes
        self.prefix = prefix.rstrip("/")
        self.limits = limits or ServerLimits(max_body=MAX_NOTIFICATION)
        self._by_event = {route.event: route for route in routes.values()}
        self._targets: dict[str, _Target] = {}

    def register(self, key: str, sink: object, on_end: EndHandler | None) -> str:
        """Deliver notifications posted to the returned path (or below it, to a live
        tag of :meth:`generations`) to ``sink``."""
        self._targets[key] = _Target(sink, on_end)
        return f"{self.prefix}/{key}"

    def generations(self, key: str) -> Generations:
        """The path tags of a registered target (KeyError if there is none)."""
        return self._targets[key].generations

    async def unregister(self, key: str) -> None:
        target = self._targets.pop(key, None)
        if target is not None:
            await target.aclose()

    async def join(self, key: str) -> None:
        """Wait until the handlers have run for everything received so far."""
        target = self._targets.get(key)
        if target is not None:
            await target.queue.join()

    def received(self, key: str) -> int:
        target = self._targets.get(key)
        return target.received if target is not None else 0

    def dropped(self, key: str) -> int:
        """Messages acknowledged but not handled: posted to a retired tag."""
        target = self._targets.get(key)
        return target.dropped if target is not None else 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        rest = scope["path"][len(self.prefix) + 1 :].strip("/")
        key, _, tag = rest.partition("/")
        target = (
            self._targets.get(key) if scope["path"].startswith(self.prefix) else None
        )
        state = target.generations.state(tag) if target is not None and tag else None
        if target is None or state == "unknown":
            await _status(send, 404)
            return
        if scope["method"] != "POST":
            await _status(send, 405)
            return
        try:
            body = await read_body(request_headers(scope), receive, self.limits)
        except BodyRefused as refused:
            if refused.status == 408:
                log.info("notification body not received within the read timeout")
            # The rest of the body was not read: the connection cannot be reused.
            await _status(send, refused.status, close=True)
            return
        if body is None:
            return
        if state == "retired":
            # From a subscription we replaced (it may outlive a failed renew at the
            # event source): already handled through the current one.
            target.dropped += 1
            log.info("message for a replaced subscription dropped")
            await _status(send, 202)
            return
        try:
            call = self._dispatch(body, target)
        except (ProtocolError, SoapFault) as exc:
            log.warning("unreadable notification: %s", exc)
            await _status(send, 400)
            return
        if call is None:
            await _status(send, 400)
            return
        target.received += 1
        target.submit(call)
        await _status(send, 202)

    def _dispatch(
        self, data: bytes, target: _Target
    ) -> Callable[[], Awaitable[None]] | None:
        envelope = parse_envelope(data)
        body = envelope.body
        if body is None:
            return None
        action = envelope.addressing.action or ""
        local = etree.QName(body).localname
        if action == wire.SUBSCRIPTION_END or (
            not action and local == "SubscriptionEnd"
        ):
            status = wire.subscription_end_status(body)
            reason = body.findtext(wire.wse("Reason")) or ""
            identifier = wire.subscription_end_identifier(body)
            on_end = target.on_end
            if on_end is None:
                return _nothing
            return lambda: on_end(status, reason.strip(), identifier)
        route = self.routes.get(action) or self._by_event.get(local)
        if route is None or route.event != local:
            log.warning(
                "notification with unknown Action %r / body <%s>", action, local
            )
            return None
        method = getattr(target.sink, route.sink_method, None)
        if method is None:
            return _nothing
        handler: Callable[[Any], Awaitable[None]] = method
        body_type = route.body_type

        async def call() -> None:
            # Bound after the 202 went out: binding is the costly part, and the
            # event source should not wait for it.
            await handler(bind(body, body_type))

        return call


async def _nothing() -> None:
    return None


async def _status(send: Send, status: int, *, close: bool = False) -> None:
    headers = [(b"content-length", b"0")]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})

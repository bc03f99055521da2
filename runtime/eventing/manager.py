"""The event source's side of WS-Eventing: a subscription manager for one service.

    manager = SubscriptionManager(routes=EVENT_ROUTES)
    app = SoapApp(service, handlers=manager.handlers())
    events = ScannerServiceEvents(manager)      # manager is the EventPublisher
    await events.emit_job_status(...)
    await manager.aclose()                      # SubscriptionEnd (SourceShuttingDown)

Subscribe, Renew, GetStatus and Unsubscribe arrive at the service endpoint itself (the
SubscriptionManager address is the service URL, as devices do; device-quirks.md #27:
Subscribe goes to the scan service, not the device endpoint); the subscription is named
by the ``wse:Identifier`` reference parameter. WS-Scan's Subscribe extension
``ScanDestinations`` is answered with ``DestinationResponses`` carrying an unguessable
DestinationToken per destination.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from lxml import etree

from ..contract import EventRoute, RequestContext
from ..defaults import (
    GRANTED_EXPIRES,
    MAX_DESTINATIONS,
    MAX_GRANTED_EXPIRES,
    MAX_SUBSCRIPTIONS,
)
from ..server.dispatch import RawHandler, SoapReply
from ..soap.envelope import Envelope, build_envelope, new_message_id
from ..soap.faults import DestinationUnreachable
from ..transport.soap_client import UNLIMITED, SoapClient
from ..xmlbind.binding import to_element
from ..xmlbind.namespaces import WSE
from . import wire
from .delivery import DeliveryPolicy, Outbox
from .destinations import (
    RegisteredDestination,
    destination_responses,
    new_token,
    read_destinations,
)
from .table import ServerSubscription, SubscriptionTable

log = logging.getLogger("wsdscan.eventing")

BodyT = TypeVar("BodyT")


def _expires_reply(name: str, seconds: float, action: str) -> SoapReply:
    """A ``wse:<name>`` reply holding just ``wse:Expires`` (Renew, GetStatus)."""
    response = etree.Element(wire.wse(name), nsmap={"wse": WSE})
    response.append(wire.expires_element(wire.wse("Expires"), seconds))
    return SoapReply(response, action)


class SubscriptionManager:
    """Subscriptions to one service's events and the delivery of those events.

    ``routes`` (Action -> EventRoute, e.g. the generated ``EVENT_ROUTES``) are the
    events a filter may select. At most ``max_subscriptions`` live at once and
    ``max_destinations`` ScanDestinations per Subscribe (EventSourceUnableToProcess
    beyond). Implements the runtime's ``EventPublisher``."""

    def __init__(
        self,
        *,
        routes: Mapping[str, EventRoute[Any]],
        policy: DeliveryPolicy | None = None,
        default_expires: float = GRANTED_EXPIRES,
        max_expires: float = MAX_GRANTED_EXPIRES,
        address: str | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_subscriptions: int = MAX_SUBSCRIPTIONS,
        max_destinations: int = MAX_DESTINATIONS,
    ) -> None:
        self.routes: Mapping[str, EventRoute[object]] = routes
        self.policy = policy or DeliveryPolicy()
        self.default_expires = default_expires
        self.max_expires = max_expires
        self.address = address
        self.max_subscriptions = max_subscriptions
        self.max_destinations = max_destinations
        self._http = client
        self._client: SoapClient | None = None
        self._clock = clock
        self._table = SubscriptionTable()
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False

    # --- bookkeeping ------------------------------------------------------------

    @property
    def client(self) -> SoapClient:
        """Where SubscriptionEnds go out (made when first needed)."""
        if self._client is None:
            self._client = SoapClient(
                self._http, timeout=self.policy.timeout, limits=UNLIMITED
            )
        return self._client

    @property
    def subscriptions(self) -> list[ServerSubscription]:
        """The live subscriptions (expired ones are removed first)."""
        self._prune()
        return list(self._table)

    def destinations(self) -> list[RegisteredDestination]:
        """Every registered scan destination of a live subscription, oldest first."""
        return [d for s in self.subscriptions for d in s.destinations]

    def destination_for_token(self, token: str) -> RegisteredDestination | None:
        """The live destination a DestinationToken was issued for, or None."""
        self._prune()
        return self._table.destination_for_token(token)

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _remove(self, identifier: str) -> ServerSubscription | None:
        subscription = self._table.detach(identifier)
        if subscription is not None:
            self._spawn(subscription.outbox.aclose())
        return subscription

    def _prune(self) -> None:
        """Remove expired subscriptions: called by every operation, so it only looks
        at the heap entries that are due."""
        for identifier in self._table.expired(self._clock()):
            log.info("subscription %s expired", identifier)
            self._remove(identifier)

    def _granted(self, element: etree._Element | None) -> float:
        if element is None or not wire.text(element):
            return self.default_expires
        try:
            requested = wire.parse_expires(wire.text(element))
        except ValueError as exc:
            raise wire.InvalidExpirationTime(str(exc)) from exc
        if requested <= 0:
            raise wire.InvalidExpirationTime("the expiration must be in the future")
        return min(requested, self.max_expires)

    def _lookup(self, envelope: Envelope) -> ServerSubscription:
        self._prune()
        header = envelope.header(WSE, "Identifier")
        identifier = wire.text(header)
        subscription = self._table.get(identifier)
        if subscription is None:
            raise DestinationUnreachable(
                f"no subscription {identifier or '(no wse:Identifier header)'}"
            )
        return subscription

    def _address_for(self, context: RequestContext) -> str:
        """The SubscriptionManager address: ``address`` if configured, else the URL
        the subscriber used (its wsa:To), else one made from the Host header."""
        if self.address:
            return self.address
        if context.to and context.to.startswith(("http://", "https://")):
            return context.to
        return f"http://{context.headers.get('host', 'localhost')}/"

    # --- the WS-Eventing operations ---------------------------------------------

    def handlers(self) -> dict[str, RawHandler]:
        """Raw SoapApp handlers for Subscribe, Renew, GetStatus and Unsubscribe."""
        return {
            wire.SUBSCRIBE: self._subscribe,
            wire.RENEW: self._renew,
            wire.GET_STATUS: self._get_status,
            wire.UNSUBSCRIBE: self._unsubscribe,
        }

    async def _subscribe(
        self, envelope: Envelope, context: RequestContext
    ) -> SoapReply:
        body = envelope.body
        if body is None or body.tag != wire.wse("Subscribe"):
            raise wire.InvalidMessage("Subscribe needs <wse:Subscribe> in the Body")
        if self._closed:
            raise wire.EventSourceUnableToProcess("the event source is shutting down")
        self._prune()
        if len(self._table) >= self.max_subscriptions:
            raise wire.EventSourceUnableToProcess(
                f"{self.max_subscriptions} subscriptions already; try again later"
            )
        notify_to, end_to = wire.read_delivery(body)
        granted = self._granted(body.find(wire.wse("Expires")))
        actions = wire.parse_filter(body.find(wire.wse("Filter")), self.routes)
        names = read_destinations(body, self.max_destinations)
        identifier = new_message_id()
        destinations = [
            RegisteredDestination(identifier, name, client_context, new_token())
            for name, client_context in names
        ]
        outbox = Outbox(
            notify_to.address,
            self.policy,
            lambda why: self._delivery_failed(identifier, why),
        )
        subscription = ServerSubscription(
            identifier,
            notify_to,
            end_to,
            actions,
            self._clock() + granted,
            outbox,
            self._address_for(context),
            destinations,
        )
        self._table.add(subscription)
        log.info(
            "subscription %s for %s (%d events, %d destinations, %.0f s)",
            identifier,
            notify_to.address,
            len(actions),
            len(destinations),
            granted,
        )
        response = wire.subscribe_response(subscription.manager_reference(), granted)
        if destinations:
            response.append(destination_responses(destinations))
        return SoapReply(response, wire.SUBSCRIBE_RESPONSE)

    async def _renew(self, envelope: Envelope, context: RequestContext) -> SoapReply:
        try:
            subscription = self._lookup(envelope)
        except DestinationUnreachable as exc:
            raise wire.UnableToRenew(exc.reason) from None
        body = envelope.body
        granted = self._granted(
            body.find(wire.wse("Expires")) if body is not None else None
        )
        subscription.expires_at = self._clock() + granted
        self._table.schedule(subscription)
        return _expires_reply("RenewResponse", granted, wire.RENEW_RESPONSE)

    async def _get_status(
        self, envelope: Envelope, context: RequestContext
    ) -> SoapReply:
        subscription = self._lookup(envelope)
        left = max(0.0, subscription.expires_at - self._clock())
        return _expires_reply("GetStatusResponse", left, wire.GET_STATUS_RESPONSE)

    async def _unsubscribe(
        self, envelope: Envelope, context: RequestContext
    ) -> SoapReply:
        subscription = self._lookup(envelope)
        self._remove(subscription.identifier)
        log.info("subscription %s cancelled", subscription.identifier)
        return SoapReply(None, wire.UNSUBSCRIBE_RESPONSE)

    # --- publishing -------------------------------------------------------------

    def _offer(
        self, subscription: ServerSubscription, action: str, body: etree._Element
    ) -> bool:
        """Queue ``body`` for one subscription; ``body`` is moved into the message,
        so pass each subscription its own element."""
        notify = subscription.notify_to
        data = build_envelope(
            body, action=action, to=notify.address, extra_headers=notify.headers()
        )
        return subscription.outbox.offer(data)

    def publish_nowait(self, route: EventRoute[BodyT], body: BodyT) -> int:
        """Queue ``body`` for every subscription whose filter selects the event;
        returns how many. Never waits for a sink."""
        self._prune()
        wanting = [s for s in self._table if route.action in s.actions]
        if not wanting:
            return 0
        element = to_element(body)
        last = len(wanting) - 1
        return sum(
            self._offer(
                subscription,
                route.action,
                element if index == last else copy.deepcopy(element),
            )
            for index, subscription in enumerate(wanting)
        )

    async def publish(self, route: EventRoute[BodyT], body: BodyT) -> None:
        """``EventPublisher``: queue the event for its subscribers (no waiting)."""
        self.publish_nowait(route, body)

    def publish_to(
        self, identifier: str, route: EventRoute[BodyT], body: BodyT
    ) -> bool:
        """Queue an event for one subscription only (ScanAvailableEvent goes to the
        destination the user picked). False if it is gone or does not select it."""
        self._prune()
        subscription = self._table.get(identifier)
        if subscription is None or route.action not in subscription.actions:
            return False
        return self._offer(subscription, route.action, to_element(body))

    async def drain(self) -> None:
        """Wait until every queued notification was delivered or given up on."""
        await asyncio.gather(*(s.outbox.join() for s in self.subscriptions))

    # --- ending subscriptions ---------------------------------------------------

    async def _send_end(
        self, subscription: ServerSubscription, status: str, reason: str
    ) -> None:
        end_to = subscription.end_to
        if end_to is None:
            return
        body = wire.subscription_end(subscription.manager_reference(), status, reason)
        data = build_envelope(
            body,
            action=wire.SUBSCRIPTION_END,
            to=end_to.address,
            extra_headers=end_to.headers(),
        )
        try:
            await asyncio.wait_for(
                self.client.post_one_way(end_to.address, data, limit=wire.MAX_REPLY),
                self.policy.timeout,
            )
        except Exception as exc:
            log.info("SubscriptionEnd to %s failed: %r", end_to.address, exc)

    def _delivery_failed(self, identifier: str, why: str) -> None:
        subscription = self._table.detach(identifier)
        if subscription is not None:
            self._spawn(self._send_end(subscription, wire.DELIVERY_FAILURE, why[:200]))

    async def end_all(self, status: str = wire.SOURCE_CANCELLING) -> None:
        """End every subscription, telling each EndTo (concurrently, each bounded by
        the delivery timeout)."""
        ended = self._table.clear()
        await asyncio.gather(
            *(self._send_end(s, status, "the event source ended it") for s in ended)
        )
        await asyncio.gather(*(s.outbox.aclose() for s in ended))

    async def aclose(self) -> None:
        """Shut down: queued notifications get one delivery timeout to go out, then
        every subscriber is sent SubscriptionEnd (SourceShuttingDown)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), self.policy.timeout)
        await self.end_all(wire.SOURCE_SHUTTING_DOWN)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

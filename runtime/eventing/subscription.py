"""The subscriber's side of WS-Eventing: a subscription that keeps itself alive
(:class:`Subscription`, made by :class:`.receiver.EventReceiver`).

A subscription renews itself at a random point between 50 % and 70 % of its lifetime
(jitter, so many PCs do not renew in step). When a renew fails, or the scanner sends
SubscriptionEnd (it rebooted or shut down: device-quirks.md #28, scanners forget PCs),
it subscribes again, retrying with backoff until the scanner answers, and tells the
application through ``on_change``. New subscriptions get new DestinationTokens:
always read them from :attr:`Subscription.destination_tokens` when an event arrives.

A renew can fail while the subscription lives on at the scanner (a timeout, an HTTP
500): the replaced subscription is then unsubscribed (best effort), and each Subscribe
names its own sink path, so whatever the replaced one still sends is dropped rather
than handled twice (:class:`.sink.Generations`). A SubscriptionEnd that names
another subscription than the current one is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import time
from collections.abc import (
    Awaitable,
    Callable,
    Sequence,
)
from dataclasses import dataclass
from typing import Final, Literal

from lxml import etree

from ..defaults import SUBSCRIPTION_REQUEST_TIMEOUT
from ..errors import ProtocolError, WsdScanError
from ..transport.soap_client import SoapClient
from ..xmlbind.namespaces import WSA, WSCN, WSE
from . import wire
from .delivery import wait_ended
from .sink import Generations

log = logging.getLogger("wsdscan.eventing")

STALE_UNSUBSCRIBE_TIMEOUT: Final = 2.0
"""Seconds the best-effort Unsubscribe of a replaced subscription may take."""
MAX_BACKOFF: Final = 30.0
"""Longest wait between two Subscribes to an event source that does not answer."""


@dataclass(frozen=True)
class ScanDestinationRequest:
    """A scan destination to register: the name the scanner's panel shows and the
    client context the scanner echoes in ScanAvailableEvent."""

    display_name: str
    client_context: str


@dataclass(frozen=True)
class SubscriptionChange:
    """What ``on_change`` is told: ``lost`` (why in ``reason``), then ``resubscribed``
    once a new subscription is in place (new identifier and DestinationTokens)."""

    kind: Literal["lost", "resubscribed"]
    reason: str
    subscription: Subscription


ChangeCallback = Callable[[SubscriptionChange], Awaitable[None] | None]


def _expires_seconds(element: etree._Element | None, fallback: float) -> float:
    if element is None or not wire.text(element):
        return fallback
    try:
        return max(0.0, wire.parse_expires(wire.text(element)))
    except ValueError as exc:
        raise ProtocolError(f"unreadable wse:Expires {wire.text(element)!r}") from exc


class Subscription:
    """One subscription to an event source; keeps itself alive until closed."""

    def __init__(
        self,
        *,
        url: str,
        sink_url: str,
        actions: Sequence[str],
        destinations: Sequence[ScanDestinationRequest],
        expires: float,
        client: SoapClient,
        on_change: ChangeCallback | None,
        generations: Generations | None = None,
    ) -> None:
        self.url = url
        self.sink_base = sink_url
        self.sink_url = sink_url
        """NotifyTo/EndTo of the current subscription: ``sink_base``, plus a path tag
        per Subscribe when ``generations`` is given."""
        self.actions = list(actions)
        self.requested_destinations = list(destinations)
        self.requested_expires = expires
        self.identifier = ""
        self.manager = wire.EndpointReference(url)
        self.expires = 0.0
        """Seconds the event source granted at the last Subscribe or Renew."""
        self.expires_at = 0.0
        """time.monotonic() when the subscription runs out unless renewed."""
        self.destination_tokens: dict[str, str] = {}
        """ClientContext -> DestinationToken."""
        self.renewals = 0
        self.resubscriptions = 0
        self.active = False
        self._client = client
        self._on_change = on_change
        self._wake = asyncio.Event()
        self._lost_reason: str | None = None
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._generations = generations
        self._tag: str | None = None

    # --- the four operations ----------------------------------------------------

    def _subscribe_body(self, sink_url: str) -> etree._Element:
        body = etree.Element(wire.wse("Subscribe"), nsmap={"wse": WSE, "wsa": WSA})
        body.append(wire.EndpointReference(sink_url).element(wire.wse("EndTo")))
        delivery = etree.SubElement(body, wire.wse("Delivery"), Mode=wire.PUSH_MODE)
        delivery.append(wire.EndpointReference(sink_url).element(wire.wse("NotifyTo")))
        body.append(wire.expires_element(wire.wse("Expires"), self.requested_expires))
        body.append(wire.filter_element(self.actions))
        if self.requested_destinations:
            holder = etree.SubElement(
                body, wire.wscn("ScanDestinations"), nsmap={"wscn": WSCN}
            )
            for destination in self.requested_destinations:
                item = etree.SubElement(holder, wire.wscn("ScanDestination"))
                name = etree.SubElement(item, wire.wscn("ClientDisplayName"))
                name.text = destination.display_name
                context = etree.SubElement(item, wire.wscn("ClientContext"))
                context.text = destination.client_context
        return body

    async def subscribe(self) -> None:
        """Send Subscribe (a new identifier, expiry and DestinationTokens); the
        subscription it replaces, if any, is no longer listened to."""
        tag = self._generations.issue() if self._generations is not None else None
        sink_url = f"{self.sink_base}/{tag}" if tag is not None else self.sink_base
        try:
            envelope = await self._client.request(
                self.url,
                wire.SUBSCRIBE,
                self._subscribe_body(sink_url),
                limit=wire.MAX_REPLY,
            )
            body = envelope.body
            if body is None or body.tag != wire.wse("SubscribeResponse"):
                raise ProtocolError("Subscribe: expected <wse:SubscribeResponse>")
            manager = body.find(wire.wse("SubscriptionManager"))
            if manager is None:
                raise ProtocolError("SubscribeResponse without wse:SubscriptionManager")
            reference = wire.EndpointReference.read(manager)
            expires = _expires_seconds(body.find(wire.wse("Expires")), 0.0)
        except BaseException:
            # The event source may still have made it (the reply got lost): ignore it.
            if tag is not None and self._generations is not None:
                self._generations.retire(tag)
            raise
        if self._tag is not None and self._generations is not None:
            self._generations.retire(self._tag)
        self._tag = tag
        self.sink_url = sink_url
        self.manager = reference
        self.identifier = wire.find_identifier(reference.parameters) or ""
        self._granted(expires)
        tokens: dict[str, str] = {}
        responses = body.find(wire.wscn("DestinationResponses"))
        items = (
            responses.findall(wire.wscn("DestinationResponse"))
            if responses is not None
            else []
        )
        for index, item in enumerate(items):
            context = wire.text(item.find(wire.wscn("ClientContext")))
            if not context and index < len(self.requested_destinations):
                # Epson ET-2750: DestinationResponse without ClientContext, so match
                # by position (occino/wsd-scan-receiver's hand-made test literal,
                # shared/corpus/occino-wsd-scan-receiver-epson-et2750; unverified).
                context = self.requested_destinations[index].client_context
            tokens[context] = wire.text(item.find(wire.wscn("DestinationToken")))
        self.destination_tokens = tokens
        self.active = True

    def _granted(self, seconds: float) -> None:
        if seconds <= 0:
            # No (or a zero) expiry: treat as the requested one.
            seconds = self.requested_expires
        self.expires = seconds
        self.expires_at = time.monotonic() + seconds

    async def renew(self) -> float:
        """Send Renew; returns the granted seconds."""
        body = etree.Element(wire.wse("Renew"), nsmap={"wse": WSE})
        body.append(wire.expires_element(wire.wse("Expires"), self.requested_expires))
        envelope = await self._client.request(
            self.manager.address,
            wire.RENEW,
            body,
            headers=self.manager.headers(),
            limit=wire.MAX_REPLY,
        )
        reply = envelope.body
        self._granted(
            _expires_seconds(
                reply.find(wire.wse("Expires")) if reply is not None else None,
                self.requested_expires,
            )
        )
        self.renewals += 1
        return self.expires

    async def get_status(self) -> float:
        """Send GetStatus; returns the seconds the event source says are left."""
        envelope = await self._client.request(
            self.manager.address,
            wire.GET_STATUS,
            etree.Element(wire.wse("GetStatus"), nsmap={"wse": WSE}),
            headers=self.manager.headers(),
            limit=wire.MAX_REPLY,
        )
        reply = envelope.body
        if reply is None or reply.tag != wire.wse("GetStatusResponse"):
            raise ProtocolError("GetStatus: expected <wse:GetStatusResponse>")
        return _expires_seconds(reply.find(wire.wse("Expires")), 0.0)

    async def unsubscribe(self) -> None:
        """Send Unsubscribe and stop renewing."""
        self._closed = True
        self._wake.set()
        self.active = False
        await self._send_unsubscribe(self.manager)

    async def _send_unsubscribe(self, manager: wire.EndpointReference) -> None:
        """Send Unsubscribe for the subscription ``manager`` refers to."""
        await self._client.request(
            manager.address,
            wire.UNSUBSCRIBE,
            etree.Element(wire.wse("Unsubscribe"), nsmap={"wse": WSE}),
            headers=manager.headers(),
            limit=wire.MAX_REPLY,
        )

    # --- keeping it alive -------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._keep_alive(), name="wse renew")

    def _renew_delay(self) -> float:
        left = self.expires_at - time.monotonic()
        return max(0.05, left * random.uniform(0.5, 0.7))

    def end_received(
        self, status: str, reason: str, identifier: str | None = None
    ) -> None:
        """The event source sent SubscriptionEnd: subscribe again, unless it names
        (by ``identifier``) another subscription than the current one."""
        if identifier and self.identifier and identifier != self.identifier:
            log.info(
                "SubscriptionEnd for %s ignored: the current subscription is %s",
                identifier,
                self.identifier,
            )
            return
        self.active = False
        self._lost_reason = (
            f"SubscriptionEnd ({status}{': ' + reason if reason else ''})"
        )
        self._wake.set()

    async def _keep_alive(self) -> None:
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._renew_delay())
            self._wake.clear()
            if self._closed:
                return
            reason, self._lost_reason = self._lost_reason, None
            replaced: tuple[wire.EndpointReference, str] | None = None
            if reason is None:
                try:
                    await self.renew()
                    continue
                except Exception as exc:
                    if not isinstance(exc, WsdScanError):
                        # Unforeseen: log it, but let the task live on, or the
                        # subscription would silently run out.
                        log.exception("renew of %s failed", self.identifier)
                    reason = f"renew failed: {exc}"
                    # It may live on at the event source (timeout, HTTP 500): end it
                    # once the new one is in place, or events would come twice.
                    replaced = (self.manager, self.identifier)
            self.active = False
            log.info("subscription %s lost: %s", self.identifier, reason)
            await self._notify(SubscriptionChange("lost", reason, self))
            if await self._resubscribe():
                # (Not when the source reused the identifier: that ends the new one.)
                if replaced is not None and replaced[1] != self.identifier:
                    await self._unsubscribe_replaced(replaced[0])
                await self._notify(SubscriptionChange("resubscribed", reason, self))

    async def _unsubscribe_replaced(self, manager: wire.EndpointReference) -> None:
        """Best-effort Unsubscribe of a replaced subscription: short, errors ignored
        (its messages are dropped by the sink anyway)."""
        try:
            await asyncio.wait_for(
                self._send_unsubscribe(manager), STALE_UNSUBSCRIBE_TIMEOUT
            )
        except Exception as exc:  # best effort, whatever went wrong
            log.info("Unsubscribe of the replaced subscription failed: %r", exc)

    async def _resubscribe(self) -> bool:
        delay = 0.25
        while not self._closed:
            try:
                await self.subscribe()
            except Exception as exc:
                if isinstance(exc, WsdScanError):
                    log.info("subscribe to %s failed (%s); retrying", self.url, exc)
                else:  # unforeseen: keep retrying all the same (see _keep_alive)
                    log.exception("subscribe to %s failed; retrying", self.url)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), delay * random.uniform(0.8, 1.2)
                    )
                self._wake.clear()
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            self.resubscriptions += 1
            log.info("subscribed again to %s as %s", self.url, self.identifier)
            return True
        return False

    async def _notify(self, change: SubscriptionChange) -> None:
        if self._on_change is None:
            return
        try:
            result = self._on_change(change)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("on_change callback failed")

    async def aclose(self, *, unsubscribe: bool = True) -> None:
        """Stop renewing; send Unsubscribe first (best effort) if still subscribed."""
        was_active = self.active and not self._closed
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await wait_ended(self._task)
        if unsubscribe and was_active:
            with contextlib.suppress(WsdScanError, TimeoutError):
                await asyncio.wait_for(self.unsubscribe(), SUBSCRIPTION_REQUEST_TIMEOUT)

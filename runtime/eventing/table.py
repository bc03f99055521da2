"""What an event source keeps of its live subscriptions: each one
(:class:`ServerSubscription`), found by identifier or by a DestinationToken it
issued, and a heap of expiries so that pruning looks only at what is due."""

from __future__ import annotations

import hashlib
import heapq
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import wire
from .delivery import Outbox
from .destinations import RegisteredDestination, token_key


@dataclass
class ServerSubscription:
    """One live subscription as the event source keeps it."""

    identifier: str
    notify_to: wire.EndpointReference
    end_to: wire.EndpointReference | None
    actions: frozenset[str]
    expires_at: float
    outbox: Outbox
    manager_address: str = ""
    destinations: list[RegisteredDestination] = field(default_factory=list)

    def manager_reference(self) -> wire.EndpointReference:
        """The SubscriptionManager reference a subscriber addresses it by."""
        return wire.EndpointReference(
            self.manager_address, [wire.identifier_element(self.identifier)]
        )


class SubscriptionTable:
    """The live subscriptions by identifier, and their DestinationTokens."""

    def __init__(self) -> None:
        self._by_identifier: dict[str, ServerSubscription] = {}
        self._expiry: list[tuple[float, str]] = []
        """Heap of (expires_at, identifier), one entry per add and renewal: an entry
        whose subscription is gone or was renewed since is skipped."""
        self._by_token: dict[bytes, RegisteredDestination] = {}
        """SHA-256 of a live DestinationToken -> its destination."""

    def __len__(self) -> int:
        return len(self._by_identifier)

    def __iter__(self) -> Iterator[ServerSubscription]:
        return iter(list(self._by_identifier.values()))

    def get(self, identifier: str) -> ServerSubscription | None:
        return self._by_identifier.get(identifier)

    def add(self, subscription: ServerSubscription) -> None:
        self._by_identifier[subscription.identifier] = subscription
        for destination in subscription.destinations:
            self._by_token[token_key(destination.token)] = destination
        self.schedule(subscription)

    def schedule(self, subscription: ServerSubscription) -> None:
        """Note the subscription's (new) ``expires_at``."""
        heapq.heappush(self._expiry, (subscription.expires_at, subscription.identifier))
        if len(self._expiry) > 2 * len(self._by_identifier) + 64:
            # Renewals leave stale entries behind: rebuild, so that the heap stays
            # proportional to the table however often a subscriber renews.
            self._expiry = [(s.expires_at, i) for i, s in self._by_identifier.items()]
            heapq.heapify(self._expiry)

    def detach(self, identifier: str) -> ServerSubscription | None:
        """Take a subscription out (its tokens stop being valid)."""
        subscription = self._by_identifier.pop(identifier, None)
        if subscription is not None:
            for destination in subscription.destinations:
                self._by_token.pop(token_key(destination.token), None)
        return subscription

    def expired(self, now: float) -> list[str]:
        """The identifiers whose expiry has passed at ``now`` (still in the table)."""
        found = []
        while self._expiry and self._expiry[0][0] <= now:
            _, identifier = heapq.heappop(self._expiry)
            subscription = self._by_identifier.get(identifier)
            if subscription is not None and subscription.expires_at <= now:
                found.append(identifier)
        return found

    def clear(self) -> list[ServerSubscription]:
        """Empty the table; returns what it held."""
        held = list(self._by_identifier.values())
        self._by_identifier.clear()
        self._expiry.clear()
        self._by_token.clear()
        return held

    def destination_for_token(self, token: str) -> RegisteredDestination | None:
        """The live destination a DestinationToken was issued for, or None."""
        given = token.strip().encode()
        # Keyed by a digest, so the dict's own comparisons leak nothing about the
        # token; the one candidate is compared in constant time.
        found = self._by_token.get(hashlib.sha256(given).digest())
        if found is None or not secrets.compare_digest(given, found.token.encode()):
            return None
        return found

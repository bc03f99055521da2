"""Defaults a user can change, in one light module (standard library only): the CLI
shows them in ``--help`` without loading the runtime."""

from __future__ import annotations

from typing import Final

# What a server accepts (ServerLimits; the README's "What the server accepts").
DEFAULT_MAX_BODY: Final = 4 * 1024 * 1024
"""Largest request body, in bytes."""
DEFAULT_READ_TIMEOUT: Final = 30.0
"""Seconds a client gets to send its request line and headers, and again its body."""
DEFAULT_WRITE_TIMEOUT: Final = 30.0
"""Seconds a response may stay unread before the connection is dropped."""
MAX_DEPTH: Final = 64
"""Deepest element nesting accepted (a WS-Scan message needs about 12 levels)."""
MAX_DEPTH_CEILING: Final = 256
"""libxml2's own nesting cap without huge_tree: a ``max_depth`` above it has no effect."""

HTTP_TIMEOUT: Final = 30.0
"""Seconds an HTTP exchange of a client may wait for the peer at each step (sending,
each read), unless told otherwise."""
HTTP_CONNECT_TIMEOUT: Final = 10.0
"""Seconds a client waits for a connection to a scanner."""

DISCOVERY_TIMEOUT: Final = 4.0
"""Seconds a WS-Discovery Probe waits for answers."""
SUBSCRIPTION_EXPIRES: Final = 3600.0
"""Seconds of subscription a WS-Eventing subscriber asks for (renewed before the end)."""
SUBSCRIPTION_REQUEST_TIMEOUT: Final = 10.0
"""Seconds a subscriber's Subscribe, Renew, GetStatus or Unsubscribe may take."""

# What an event source grants (SubscriptionManager).
GRANTED_EXPIRES: Final = 3600.0
"""Seconds an event source grants a Subscribe that asks for no expiry."""
MAX_GRANTED_EXPIRES: Final = 24 * 3600.0
"""Most seconds an event source grants (a longer request gets this)."""
MAX_SUBSCRIPTIONS: Final = 256
"""Live subscriptions at once; Subscribe beyond it is answered
wse:EventSourceUnableToProcess."""
MAX_DESTINATIONS: Final = 16
"""wscn:ScanDestination elements one Subscribe may register."""
DELIVERY_TIMEOUT: Final = 5.0
"""Seconds one notification may take to reach an event sink."""

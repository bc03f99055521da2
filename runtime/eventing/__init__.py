"""WS-Eventing 2004/08 for WS-Scan: the event source's subscription manager and
delivery (:class:`SubscriptionManager`), and the subscriber's self-renewing
subscriptions and event sink (:class:`EventReceiver`, :class:`Subscription`)."""

from __future__ import annotations

from ..transport import httpx_without_cli  # noqa: F401  (before httpx is imported)
from .delivery import DeliveryPolicy
from .destinations import RegisteredDestination
from .manager import SubscriptionManager
from .receiver import EventReceiver, local_address_for
from .sink import EventSinkApp
from .subscription import ScanDestinationRequest, Subscription, SubscriptionChange
from .table import ServerSubscription
from .wire import DPWS_ACTION_DIALECT, EventingFault

__all__ = [
    "DPWS_ACTION_DIALECT",
    "DeliveryPolicy",
    "EventReceiver",
    "EventSinkApp",
    "EventingFault",
    "RegisteredDestination",
    "ScanDestinationRequest",
    "ServerSubscription",
    "Subscription",
    "SubscriptionChange",
    "SubscriptionManager",
    "local_address_for",
]

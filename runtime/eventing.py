"""WS-Eventing 2004/08 for WS-Scan: the event source's subscription manager and
delivery (:class:`SubscriptionManager`), and the subscriber's self-renewing
subscriptions and event sink (:class:`EventReceiver`, :class:`Subscription`)."""

from __future__ import annotations

from .eventing_delivery import DeliveryPolicy
from .eventing_manager import (
    RegisteredDestination,
    ServerSubscription,
    SubscriptionManager,
)
from .eventing_sink import EventSinkApp
from .eventing_subscriber import (
    EventReceiver,
    ScanDestinationRequest,
    Subscription,
    SubscriptionChange,
)
from .eventing_wire import DPWS_ACTION_DIALECT, EventingFault

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
]

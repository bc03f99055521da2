"""WS-Eventing 2004/08 on the wire: Action URIs, Expires values, filters, endpoint
references, SubscriptionEnd and the faults an event source answers.

Everything here works on lxml elements so that receipt stays lenient (any prefixes, the
namespace variants folded by :func:`xmlbind.canonicalize`, unknown extensions ignored).
The fault classes are defined in :mod:`..soap.faults` (so that clients receive them
typed) and re-exported here.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from ..contract import EventRoute
from ..soap.faults import (
    DeliveryModeRequestedUnavailable as DeliveryModeRequestedUnavailable,
)
from ..soap.faults import EventingFault as EventingFault
from ..soap.faults import EventSourceUnableToProcess as EventSourceUnableToProcess
from ..soap.faults import FilteringNotSupported as FilteringNotSupported
from ..soap.faults import FilteringRequestedUnavailable as FilteringRequestedUnavailable
from ..soap.faults import InvalidExpirationTime as InvalidExpirationTime
from ..soap.faults import InvalidMessage as InvalidMessage
from ..soap.faults import UnableToRenew as UnableToRenew
from ..soap.faults import UnsupportedExpirationType as UnsupportedExpirationType
from ..xmlbind.namespaces import WSA, WSCN, WSDP, WSE

MAX_REPLY: Final = 1024 * 1024
"""Largest reply read to Subscribe/Renew/GetStatus/Unsubscribe or to a notification:
they are small."""

SUBSCRIBE: Final = f"{WSE}/Subscribe"
SUBSCRIBE_RESPONSE: Final = f"{WSE}/SubscribeResponse"
RENEW: Final = f"{WSE}/Renew"
RENEW_RESPONSE: Final = f"{WSE}/RenewResponse"
GET_STATUS: Final = f"{WSE}/GetStatus"
GET_STATUS_RESPONSE: Final = f"{WSE}/GetStatusResponse"
UNSUBSCRIBE: Final = f"{WSE}/Unsubscribe"
UNSUBSCRIBE_RESPONSE: Final = f"{WSE}/UnsubscribeResponse"
SUBSCRIPTION_END: Final = f"{WSE}/SubscriptionEnd"
PUSH_MODE: Final = f"{WSE}/DeliveryModes/Push"

DPWS_ACTION_DIALECT: Final = f"{WSDP}/Action"
"""The filter dialect Windows sends: the text is a space-separated list of Actions."""

DELIVERY_FAILURE: Final = "DeliveryFailure"
SOURCE_SHUTTING_DOWN: Final = "SourceShuttingDown"
SOURCE_CANCELLING: Final = "SourceCancelling"


def text(element: etree._Element | None) -> str:
    """An element's text, stripped ("" for none or no element)."""
    return (element.text or "").strip() if element is not None else ""


def wse(local: str) -> str:
    return f"{{{WSE}}}{local}"


def wsa(local: str) -> str:
    return f"{{{WSA}}}{local}"


def wscn(local: str) -> str:
    return f"{{{WSCN}}}{local}"


# --- expiration -----------------------------------------------------------------------

_DURATION: Final = re.compile(
    r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> float:
    """An xs:duration in seconds (a year is 365 days, a month 30). ValueError if bad."""
    value = text.strip()
    match = _DURATION.match(value)
    if match is None or value in ("P", "-P") or value.endswith("T"):
        raise ValueError(f"not an xs:duration: {text!r}")
    sign, years, months, days, hours, minutes, seconds = match.groups()
    total = (
        int(years or 0) * 365 * 86400
        + int(months or 0) * 30 * 86400
        + int(days or 0) * 86400
        + int(hours or 0) * 3600
        + int(minutes or 0) * 60
        + float(seconds or 0)
    )
    return -total if sign else total


def format_duration(seconds: float) -> str:
    """Seconds as a compact xs:duration (``PT15M``, ``PT1H0M30S``, ``PT2.5S``)."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("a duration must be finite and >= 0")
    whole = int(seconds)
    fraction = seconds - whole
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if fraction > 1e-6:
        text += f"{secs + fraction:.3f}".rstrip("0").rstrip(".") + "S"
    elif secs or text == "PT":
        text += f"{secs}S"
    return text


def parse_expires(text: str, now: datetime | None = None) -> float:
    """A wse:Expires value (duration, or dateTime as the spec also allows) as seconds
    from now. ValueError when it is neither."""
    value = text.strip()
    if value.lstrip("-").startswith("P"):
        return parse_duration(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a duration or dateTime: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - (now or datetime.now(UTC))).total_seconds()


# --- filters --------------------------------------------------------------------------


def _event_action(token: str, routes: Mapping[str, EventRoute[object]]) -> list[str]:
    """The event Actions one filter token selects: a full Action URI or a prefix of
    some (DPWS matching by path segments), or an event name (``ScanAvailableEvent``,
    ``wscn:ScanAvailableEvent``: the form the spec pages print)."""
    if token in routes:
        return [token]
    if "/" in token:
        prefix = token.rstrip("/") + "/"
        found = [action for action in routes if action.startswith(prefix)]
        if found:
            return found
        # Namespace variants (https://, 2006/01): match the event name.
        token = token.rstrip("/").rpartition("/")[2]
    local = token.rpartition(":")[2]
    return [action for action, route in routes.items() if route.event == local]


def parse_filter(
    element: etree._Element | None, routes: Mapping[str, EventRoute[object]]
) -> frozenset[str]:
    """The set of event Actions a wse:Filter selects (no filter: every event).

    Accepts the DPWS Action dialect Windows sends and a filter without Dialect whose
    text lists Actions or event names. Tokens naming no event are ignored; a filter
    that selects nothing is refused (FilteringRequestedUnavailable)."""
    if element is None:
        return frozenset(routes)
    dialect = (element.get("Dialect") or "").strip()
    if dialect and dialect != DPWS_ACTION_DIALECT:
        detail = etree.Element(wse("SupportedDialect"), nsmap={"wse": WSE})
        detail.text = DPWS_ACTION_DIALECT
        raise FilteringNotSupported(detail=detail)
    selected: set[str] = set()
    for token in (element.text or "").split():
        selected.update(_event_action(token, routes))
    if not selected:
        raise FilteringRequestedUnavailable()
    return frozenset(selected)


def filter_element(actions: Iterable[str]) -> etree._Element:
    """A wse:Filter as Windows sends it (DPWS Action dialect)."""
    element = etree.Element(wse("Filter"), Dialect=DPWS_ACTION_DIALECT)
    element.text = " ".join(actions)
    return element


# --- endpoint references --------------------------------------------------------------


@dataclass
class EndpointReference:
    """A WS-Addressing 2004/08 endpoint reference: its address and the reference
    parameters (and properties) a message to it carries as header blocks."""

    address: str
    parameters: list[etree._Element] = field(default_factory=list)

    @classmethod
    def read(cls, element: etree._Element) -> EndpointReference:
        address = element.find(wsa("Address"))
        if address is None or not (address.text or "").strip():
            raise InvalidMessage(
                f"{etree.QName(element).localname} without a wsa:Address"
            )
        parameters: list[etree._Element] = []
        for holder in ("ReferenceParameters", "ReferenceProperties"):
            found = element.find(wsa(holder))
            if found is not None:
                parameters += [
                    copy.deepcopy(child)
                    for child in found
                    if isinstance(child.tag, str)
                ]
        return cls((address.text or "").strip(), parameters)

    def headers(self) -> list[etree._Element]:
        """Fresh copies of the reference parameters, to add as header blocks."""
        return [copy.deepcopy(parameter) for parameter in self.parameters]

    def element(self, tag: str) -> etree._Element:
        element = etree.Element(tag, nsmap={"wsa": WSA, "wse": WSE})
        etree.SubElement(element, wsa("Address")).text = self.address
        if self.parameters:
            holder = etree.SubElement(element, wsa("ReferenceParameters"))
            for parameter in self.headers():
                holder.append(parameter)
        return element


def read_delivery(
    subscribe: etree._Element,
) -> tuple[EndpointReference, EndpointReference | None]:
    """NotifyTo and EndTo (if any) of a Subscribe, whose Delivery must be push mode
    (DeliveryModeRequestedUnavailable otherwise)."""
    delivery = subscribe.find(wse("Delivery"))
    if delivery is None:
        raise InvalidMessage("Subscribe without wse:Delivery")
    mode = (delivery.get("Mode") or PUSH_MODE).strip()
    if mode != PUSH_MODE:
        detail = etree.Element(wse("SupportedDeliveryMode"))
        detail.text = PUSH_MODE
        raise DeliveryModeRequestedUnavailable(detail=detail)
    notify_to = delivery.find(wse("NotifyTo"))
    if notify_to is None:
        raise InvalidMessage("Subscribe without wse:NotifyTo")
    end_to = subscribe.find(wse("EndTo"))
    return EndpointReference.read(notify_to), (
        EndpointReference.read(end_to) if end_to is not None else None
    )


def subscribe_response(manager: EndpointReference, granted: float) -> etree._Element:
    """A SubscribeResponse body: the subscription manager's reference, the expiry."""
    response = etree.Element(wse("SubscribeResponse"), nsmap={"wse": WSE, "wsa": WSA})
    response.append(manager.element(wse("SubscriptionManager")))
    response.append(expires_element(wse("Expires"), granted))
    return response


def identifier_element(identifier: str) -> etree._Element:
    """The wse:Identifier reference parameter / header block."""
    element = etree.Element(wse("Identifier"), nsmap={"wse": WSE})
    element.text = identifier
    return element


def find_identifier(parameters: Sequence[etree._Element]) -> str | None:
    for parameter in parameters:
        if parameter.tag == wse("Identifier"):
            return (parameter.text or "").strip()
    return None


def expires_element(tag: str, seconds: float) -> etree._Element:
    element = etree.Element(tag, nsmap={"wse": WSE})
    element.text = format_duration(seconds)
    return element


def subscription_end(
    manager: EndpointReference, status: str, reason: str | None = None
) -> etree._Element:
    """A wse:SubscriptionEnd body (status: DeliveryFailure, SourceShuttingDown, ...)."""
    body = etree.Element(wse("SubscriptionEnd"), nsmap={"wse": WSE, "wsa": WSA})
    body.append(manager.element(wse("SubscriptionManager")))
    etree.SubElement(body, wse("Status")).text = f"wse:{status}"
    if reason:
        text = etree.SubElement(body, wse("Reason"))
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
        text.text = reason
    return body


def subscription_end_status(body: etree._Element) -> str:
    """The local name of a received SubscriptionEnd's Status (``DeliveryFailure``...)."""
    status = body.find(wse("Status"))
    return (status.text or "").strip().rpartition(":")[2] if status is not None else ""


def subscription_end_identifier(body: etree._Element) -> str | None:
    """The wse:Identifier a received SubscriptionEnd names (in the reference parameters
    of its SubscriptionManager EPR), or None when it names none."""
    manager = body.find(wse("SubscriptionManager"))
    if manager is None:
        return None
    for holder in ("ReferenceParameters", "ReferenceProperties"):
        found = manager.find(wsa(holder))
        if found is not None:
            identifier = find_identifier(list(found))
            if identifier:
                return identifier
    return None

"""SOAP faults as exceptions: the bases and the protocol faults the runtime raises.

Every fault is a :class:`SoapFault` with a SOAP 1.2 ``code``, an optional ``subcode``
(both QNames in Clark notation, ``{namespace}local``), an English ``reason`` and an
optional ``detail``. A subclass fixes ``CODE``, ``SUBCODE`` and ``REASON``, so ::

    raise DestinationUnreachable()
    raise DestinationUnreachable("no subscription 42", detail=element)

both work. This module holds the bases and the protocol faults the runtime raises
itself: the SOAP 1.2 codes, WS-Addressing 2004/08 and WS-Eventing 2004/08. The WS-Scan
faults (``wscn:`` subcodes, :class:`ScanFault` subclasses) are generated from the
schema's fault table into the stubs (``wsdscan.generated.stubs.faults``), whose
``FAULTS`` registry extends :data:`.fault_registry.PROTOCOL_FAULTS`; the runtime raises the one WS-Scan
fault it needs itself, ``wscn:InvalidArgs`` for a request it cannot read, by subcode
(:func:`invalid_args`), and a client typing the reply with the stubs' registry gets the
generated class (docs/architecture.md).

``detail`` is always either ``None`` or a ``soap:Detail`` element; a non-Detail element
or a string passed to a constructor is wrapped into one. A server must never put
exception text into a fault: for unexpected errors raise :class:`ServerFault`.
"""

from __future__ import annotations

import copy
from typing import ClassVar, Final

from lxml import etree

from ..errors import WsdScanError
from ..xmlbind.namespaces import SOAP_ENV, WSA, WSCN, WSE
from ..xmlbind.qnames import clark, local_name, split_clark

__all__ = [
    "SOAP_SENDER",
    "SOAP_RECEIVER",
    "SOAP_VERSION_MISMATCH",
    "SOAP_MUST_UNDERSTAND",
    "SOAP_DATA_ENCODING_UNKNOWN",
    "SoapFault",
    "ScanFault",
    "AddressingFault",
    "ServerFault",
    "VersionMismatch",
    "MustUnderstand",
    "DataEncodingUnknown",
    "ActionNotSupported",
    "DestinationUnreachable",
    "InvalidMessageInformationHeader",
    "MessageInformationHeaderRequired",
    "EventingFault",
    "InvalidExpirationTime",
    "UnsupportedExpirationType",
    "FilteringNotSupported",
    "FilteringRequestedUnavailable",
    "DeliveryModeRequestedUnavailable",
    "EventSourceUnableToProcess",
    "UnableToRenew",
    "InvalidMessage",
    "INVALID_ARGS",
    "invalid_args",
]

SOAP_SENDER: Final = clark(SOAP_ENV, "Sender")
SOAP_RECEIVER: Final = clark(SOAP_ENV, "Receiver")
SOAP_VERSION_MISMATCH: Final = clark(SOAP_ENV, "VersionMismatch")
SOAP_MUST_UNDERSTAND: Final = clark(SOAP_ENV, "MustUnderstand")
SOAP_DATA_ENCODING_UNKNOWN: Final = clark(SOAP_ENV, "DataEncodingUnknown")

_DETAIL_TAG: Final = clark(SOAP_ENV, "Detail")


def _make_detail(detail: etree._Element | str | None) -> etree._Element | None:
    """Normalize a detail argument to a ``soap:Detail`` element (or ``None``)."""
    if detail is None:
        return None
    if isinstance(detail, str):
        wrapper = etree.Element(_DETAIL_TAG, nsmap={"soap": SOAP_ENV})
        wrapper.text = detail
        return wrapper
    if detail.tag == _DETAIL_TAG:
        return detail
    wrapper = etree.Element(_DETAIL_TAG, nsmap={"soap": SOAP_ENV})
    wrapper.append(copy.deepcopy(detail))
    return wrapper


class SoapFault(WsdScanError):
    """A SOAP 1.2 fault, raised by servers and by clients on receipt.

    ``code`` and ``subcode`` are Clark-notation QNames; ``detail`` is a ``soap:Detail``
    element or ``None``. Subclasses fix ``CODE``/``SUBCODE``/``REASON`` (and may name
    other spellings of their subcode accepted on receipt, ``ALIASES``); a plain
    ``SoapFault`` stands for a fault the registry has no class for.
    """

    CODE: ClassVar[str] = SOAP_RECEIVER
    SUBCODE: ClassVar[str | None] = None
    REASON: ClassVar[str] = "The service can't perform the requested operation."
    ALIASES: ClassVar[tuple[str, ...]] = ()

    code: str
    subcode: str | None
    reason: str
    detail: etree._Element | None

    def __init__(
        self,
        reason: str | None = None,
        detail: etree._Element | str | None = None,
        *,
        code: str | None = None,
        subcode: str | None = None,
    ) -> None:
        cls = type(self)
        if subcode is not None and cls.SUBCODE is not None and subcode != cls.SUBCODE:
            raise ValueError(
                f"{cls.__name__} has the fixed subcode {cls.SUBCODE!r}, not {subcode!r}"
            )
        self.code = code if code is not None else cls.CODE
        self.subcode = subcode if subcode is not None else cls.SUBCODE
        split_clark(self.code)
        if self.subcode is not None:
            split_clark(self.subcode)
        self.reason = reason if reason is not None else cls.REASON
        self.detail = _make_detail(detail)
        super().__init__(self.reason)

    @property
    def http_status(self) -> int:
        """HTTP status of the fault response: 400 for ``soap:Sender``, else 500."""
        return 400 if self.code == SOAP_SENDER else 500

    def __str__(self) -> str:
        name = local_name(self.code)
        if self.subcode is not None:
            name = f"{name}/{local_name(self.subcode)}"
        return f"{name}: {self.reason}"

    def __repr__(self) -> str:
        has_detail = "yes" if self.detail is not None else None
        return (
            f"{type(self).__name__}(code={self.code!r}, subcode={self.subcode!r}, "
            f"reason={self.reason!r}, detail={has_detail})"
        )


class ScanFault(SoapFault):
    """Base of the faults whose subcode is in the WS-Scan namespace (``wscn:``); the
    classes are generated from the schema's fault table."""


class AddressingFault(SoapFault):
    """Base of the WS-Addressing 2004/08 faults (subcode ``wsa:``)."""

    CODE = SOAP_SENDER


class ServerFault(SoapFault):
    """Generic internal error (``soap:Receiver``, no subcode).

    Its reason is a fixed text: never put exception messages or tracebacks in it.
    """

    CODE = SOAP_RECEIVER
    REASON = "The service had an unexpected error."

    @classmethod
    def from_exception(cls, exc: BaseException) -> ServerFault:
        """Wrap an unexpected exception without leaking its text.

        The original exception is kept only as ``__cause__`` (for local logging); it
        is never serialized.
        """
        fault = cls()
        fault.__cause__ = exc
        return fault


# --- SOAP 1.2 fault codes without subcode ---------------------------------------------


class VersionMismatch(SoapFault):
    """SOAP 1.2 ``env:VersionMismatch``: the message is not a SOAP 1.2 envelope."""

    CODE = SOAP_VERSION_MISMATCH
    REASON = "The message is not a SOAP 1.2 envelope."


class MustUnderstand(SoapFault):
    """SOAP 1.2 ``env:MustUnderstand``: a mandatory header block was not understood."""

    CODE = SOAP_MUST_UNDERSTAND
    REASON = "One or more mandatory SOAP header blocks were not understood."


class DataEncodingUnknown(SoapFault):
    """SOAP 1.2 ``env:DataEncodingUnknown``: unsupported ``encodingStyle``."""

    CODE = SOAP_DATA_ENCODING_UNKNOWN
    REASON = "The data encoding of a header block or body element is not supported."


# --- WS-Addressing 2004/08 ------------------------------------------------------------


class ActionNotSupported(AddressingFault):
    """The service does not support the requested ``wsa:Action`` (common error code).

    Documented detail: the invalid operation name (see :meth:`for_action`).
    """

    SUBCODE = clark(WSA, "ActionNotSupported")
    REASON = "The [wsa:action] can't be processed at the receiver."

    @classmethod
    def for_action(cls, action: str) -> ActionNotSupported:
        """The fault with the offending action as ``<wsa:Action>`` in the detail."""
        element = etree.Element(clark(WSA, "Action"), nsmap={"wsa": WSA})
        element.text = action
        return cls(detail=element)


class DestinationUnreachable(AddressingFault):
    """No route can be determined to the ``wsa:To`` endpoint."""

    SUBCODE = clark(WSA, "DestinationUnreachable")
    REASON = (
        "No route can be determined to reach the destination role defined by the "
        "WS-Addressing To."
    )


class InvalidMessageInformationHeader(AddressingFault):
    """A WS-Addressing header is structurally or semantically invalid."""

    SUBCODE = clark(WSA, "InvalidMessageInformationHeader")
    REASON = (
        "A message information header is not valid and the message cannot be processed."
    )


class MessageInformationHeaderRequired(AddressingFault):
    """A required WS-Addressing header (To, MessageID or Action) is missing."""

    SUBCODE = clark(WSA, "MessageInformationHeaderRequired")
    REASON = (
        "A required message information header, To, MessageID, or Action, "
        "is not present."
    )


# --- WS-Eventing 2004/08 -------------------------------------------------------------


class EventingFault(SoapFault):
    """Base of the WS-Eventing 2004/08 faults (subcode ``wse:``)."""

    CODE = SOAP_SENDER


class InvalidExpirationTime(EventingFault):
    SUBCODE = clark(WSE, "InvalidExpirationTime")
    REASON = "The expiration time requested is invalid."


class UnsupportedExpirationType(EventingFault):
    SUBCODE = clark(WSE, "UnsupportedExpirationType")
    REASON = "Only expiration durations are supported."


class FilteringNotSupported(EventingFault):
    SUBCODE = clark(WSE, "FilteringNotSupported")
    REASON = "Filtering over the requested dialect is not supported."


class FilteringRequestedUnavailable(EventingFault):
    SUBCODE = clark(WSE, "FilteringRequestedUnavailable")
    REASON = "The requested filter selects no event this source sends."


class DeliveryModeRequestedUnavailable(EventingFault):
    SUBCODE = clark(WSE, "DeliveryModeRequestedUnavailable")
    REASON = "The requested delivery mode is not supported."


class EventSourceUnableToProcess(EventingFault):
    SUBCODE = clark(WSE, "EventSourceUnableToProcess")
    REASON = "The event source cannot process the subscription."


class UnableToRenew(EventingFault):
    SUBCODE = clark(WSE, "UnableToRenew")
    REASON = "The subscription cannot be renewed."


class InvalidMessage(EventingFault):
    SUBCODE = clark(WSE, "InvalidMessage")
    REASON = "The request message has unknown or invalid content."


# --- the WS-Scan fault the runtime raises itself ----------------------------------------

INVALID_ARGS: Final = clark(WSCN, "InvalidArgs")
"""``wscn:InvalidArgs`` (soap:Sender, a common error code of every operation)."""


def invalid_args(reason: str) -> ScanFault:
    """``wscn:InvalidArgs`` for a request the runtime cannot read (too large, not XML,
    malformed MTOM, not the expected body): raised by subcode, since the class is
    generated above the runtime; tests/test_faults.py checks it against the table."""
    return ScanFault(reason, code=SOAP_SENDER, subcode=INVALID_ARGS)

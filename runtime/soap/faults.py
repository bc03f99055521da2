"""The typed SOAP fault taxonomy of WS-Scan.

Every fault is a :class:`SoapFault` (an :class:`Exception`) with a SOAP 1.2 ``code``, an
optional ``subcode`` (both QNames in Clark notation, ``{namespace}local``), an
English ``reason`` and an optional ``detail``. Each fault documented by the WS-Scan
reference (common error codes and the per-operation fault tables), the WS-Addressing
2004/08 faults and the SOAP 1.2 fault codes has its own subclass whose class attributes
``CODE``, ``SUBCODE`` and ``REASON`` hold the documented values, so ::

    raise ClientErrorJobIdNotFound()
    raise ClientErrorJobIdNotFound("no job 42", detail=job_id_element)

both work. The WS-Eventing 2004/08 faults (subcode ``wse:``) live here too, so that a
client receives them typed like the others. :func:`fault_to_element` builds the
``soap:Fault`` element to send and :func:`fault_from_element` turns a received
``soap:Fault`` (SOAP 1.2, or SOAP 1.1 tolerated) back into the typed exception.
Receipt is liberal: the QName text may use any declared prefix, the scan namespace may
be ``2006/01`` or spelled ``https://``.

``detail`` is always either ``None`` or a ``soap:Detail`` element; a non-Detail element
or a string passed to a constructor is wrapped into one.

A server must never put exception text into a fault: for unexpected errors raise
:class:`ServerFault` (see :meth:`ServerFault.from_exception`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import ClassVar, Final

from lxml import etree

from ..xmlbind.binding import WIRE_PREFIXES, WSE
from ..xmlbind.namespaces import (
    PREFIXES,
    SOAP11_ENV,
    SOAP_ENV,
    WPRT,
    WSA,
    WSA_2003_03,
    WSA_2005_08,
    WSCN,
    XML_NS,
    canonical_namespace,
)

__all__ = [
    "WSA_FAULT_ACTION",
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
    "InvalidArgs",
    "OperationFailed",
    "ServerErrorTemporaryError",
    "ServerErrorInternalError",
    "ServerErrorNotAcceptingJobs",
    "ClientErrorFormatNotSupported",
    "ClientErrorDocumentFormatNotSupported",
    "ClientErrorInvalidScanIdentifier",
    "ClientErrorInvalidDestinationToken",
    "ClientErrorNoImagesAvailable",
    "ClientErrorJobIdNotFound",
    "ClientErrorInvalidJobToken",
    "ClientErrorJobCancelled",
    "ClientErrorConflictingRequiredParameters",
    "EventingFault",
    "InvalidExpirationTime",
    "UnsupportedExpirationType",
    "FilteringNotSupported",
    "FilteringRequestedUnavailable",
    "DeliveryModeRequestedUnavailable",
    "EventSourceUnableToProcess",
    "UnableToRenew",
    "InvalidMessage",
    "FAULTS_BY_SUBCODE",
    "FAULTS_BY_CODE",
    "fault_class_for_subcode",
    "fault_from_subcode",
    "fault_to_element",
    "fault_from_element",
]

WSA_FAULT_ACTION: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
"""The ``wsa:Action`` of every fault message (WS-Addressing 2004/08)."""


def _clark(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


SOAP_SENDER: Final = _clark(SOAP_ENV, "Sender")
SOAP_RECEIVER: Final = _clark(SOAP_ENV, "Receiver")
SOAP_VERSION_MISMATCH: Final = _clark(SOAP_ENV, "VersionMismatch")
SOAP_MUST_UNDERSTAND: Final = _clark(SOAP_ENV, "MustUnderstand")
SOAP_DATA_ENCODING_UNKNOWN: Final = _clark(SOAP_ENV, "DataEncodingUnknown")

_SOAP12_CODE_NAMES: Final = frozenset(
    {"Sender", "Receiver", "VersionMismatch", "MustUnderstand", "DataEncodingUnknown"}
)
_SOAP11_TO_SOAP12: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Client": SOAP_SENDER,
        "Server": SOAP_RECEIVER,
        "VersionMismatch": SOAP_VERSION_MISMATCH,
        "MustUnderstand": SOAP_MUST_UNDERSTAND,
    }
)

_DETAIL_TAG: Final = _clark(SOAP_ENV, "Detail")
_XML_LANG: Final = _clark(XML_NS, "lang")


def _split_clark(qname: str) -> tuple[str, str]:
    """``{ns}local`` -> ``(ns, local)``; a bare ``local`` -> ``("", local)``."""
    if qname.startswith("{"):
        end = qname.find("}")
        if end < 0 or end == len(qname) - 1:
            raise ValueError(f"not a Clark-notation QName: {qname!r}")
        return qname[1:end], qname[end + 1 :]
    if not qname or "}" in qname or ":" in qname:
        raise ValueError(f"not a Clark-notation QName: {qname!r}")
    return "", qname


def _local(qname: str) -> str:
    return _split_clark(qname)[1]


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


class SoapFault(Exception):
    """A SOAP 1.2 fault, raised by servers and by clients on receipt.

    ``code`` and ``subcode`` are Clark-notation QNames; ``detail`` is a ``soap:Detail``
    element or ``None``. Subclasses fix ``CODE``/``SUBCODE``/``REASON``; a plain
    ``SoapFault`` stands for a fault this module has no class for.
    """

    CODE: ClassVar[str] = SOAP_RECEIVER
    SUBCODE: ClassVar[str | None] = None
    REASON: ClassVar[str] = "The service can't perform the requested operation."

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
        _split_clark(self.code)
        if self.subcode is not None:
            _split_clark(self.subcode)
        self.reason = reason if reason is not None else cls.REASON
        self.detail = _make_detail(detail)
        super().__init__(self.reason)

    @property
    def http_status(self) -> int:
        """HTTP status of the fault response: 400 for ``soap:Sender``, else 500."""
        return 400 if self.code == SOAP_SENDER else 500

    def __str__(self) -> str:
        name = _local(self.code)
        if self.subcode is not None:
            name = f"{name}/{_local(self.subcode)}"
        return f"{name}: {self.reason}"

    def __repr__(self) -> str:
        has_detail = "yes" if self.detail is not None else None
        return (
            f"{type(self).__name__}(code={self.code!r}, subcode={self.subcode!r}, "
            f"reason={self.reason!r}, detail={has_detail})"
        )


class ScanFault(SoapFault):
    """Base of the faults whose subcode is in the WS-Scan namespace (``wscn:``)."""


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

    SUBCODE = _clark(WSA, "ActionNotSupported")
    REASON = "The [wsa:action] can't be processed at the receiver."

    @classmethod
    def for_action(cls, action: str) -> ActionNotSupported:
        """The fault with the offending action as ``<wsa:Action>`` in the detail."""
        element = etree.Element(_clark(WSA, "Action"), nsmap={"wsa": WSA})
        element.text = action
        return cls(detail=element)


class DestinationUnreachable(AddressingFault):
    """No route can be determined to the ``wsa:To`` endpoint."""

    SUBCODE = _clark(WSA, "DestinationUnreachable")
    REASON = (
        "No route can be determined to reach the destination role defined by the "
        "WS-Addressing To."
    )


class InvalidMessageInformationHeader(AddressingFault):
    """A WS-Addressing header is structurally or semantically invalid."""

    SUBCODE = _clark(WSA, "InvalidMessageInformationHeader")
    REASON = (
        "A message information header is not valid and the message cannot be processed."
    )


class MessageInformationHeaderRequired(AddressingFault):
    """A required WS-Addressing header (To, MessageID or Action) is missing."""

    SUBCODE = _clark(WSA, "MessageInformationHeaderRequired")
    REASON = (
        "A required message information header, To, MessageID, or Action, "
        "is not present."
    )


# --- WS-Scan: common error codes ------------------------------------------------------


class InvalidArgs(ScanFault):
    """An argument of the operation is missing, extra, unknown or of the wrong type."""

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "InvalidArgs")
    REASON = "At least one input argument is invalid."


class OperationFailed(ScanFault):
    """The current state of the service prevents the operation.

    Documented as ``soap:Receiver``; the documentation's sample and some devices (Ricoh,
    HTTP 500 on CreateScanJob) send it too; the received code is kept on receipt.
    """

    CODE = SOAP_RECEIVER
    SUBCODE = _clark(WSCN, "OperationFailed")
    REASON = "The service can't perform the requested operation."


class ServerErrorTemporaryError(ScanFault):
    """A temporary internal error; the unmodified request can be retried later.

    The documentation's table names the subcode ``wprt:ServerErrorTemporaryError``
    (WS-Print namespace); we send it in the scan namespace and accept both.
    """

    CODE = SOAP_RECEIVER
    SUBCODE = _clark(WSCN, "ServerErrorTemporaryError")
    REASON = "The service had an unexpected error."


class ServerErrorInternalError(ScanFault):
    """A permanent internal error; resending returns the same fault."""

    CODE = SOAP_RECEIVER
    SUBCODE = _clark(WSCN, "ServerErrorInternalError")
    REASON = "The service had an unexpected error."


# --- WS-Scan: operation-specific faults -----------------------------------------------


class ServerErrorNotAcceptingJobs(ScanFault):
    """CreateScanJob: the scanner is temporarily not accepting new jobs."""

    CODE = SOAP_RECEIVER
    SUBCODE = _clark(WSCN, "ServerErrorNotAcceptingJobs")
    REASON = (
        "The service is temporarily blocked and cannot accept new job or document "
        "requests."
    )


class ClientErrorFormatNotSupported(ScanFault):
    """CreateScanJob: the requested Format is not supported.

    Detail (optional): the supported formats (``wscn:FormatSupportedType``).
    """

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorFormatNotSupported")
    REASON = "The Document Format parameter value is not supported."


class ClientErrorDocumentFormatNotSupported(ScanFault):
    """The image Format is unsupported (named on the Format page, no fault table).

    Code and reason are not documented; they follow ClientErrorFormatNotSupported.
    """

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorDocumentFormatNotSupported")
    REASON = "The Document Format parameter value is not supported."


class ClientErrorInvalidScanIdentifier(ScanFault):
    """CreateScanJob: the ScanIdentifier is not currently valid."""

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorInvalidScanIdentifier")
    REASON = "The ScanIdentifier parameter value is not currently valid."


class ClientErrorInvalidDestinationToken(ScanFault):
    """CreateScanJob: the DestinationToken is not valid for the device."""

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorInvalidDestinationToken")
    REASON = "The DestinationToken parameter value is not currently valid."


class ClientErrorNoImagesAvailable(ScanFault):
    """CreateScanJob/RetrieveImage: no (more) images to acquire (e.g. ADF empty)."""

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorNoImagesAvailable")
    REASON = "The server has no images available to acquire."


class ClientErrorJobIdNotFound(ScanFault):
    """RetrieveImage/GetJobElements/CancelJob: no job matches the JobId."""

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorJobIdNotFound")
    REASON = "The specified JobId was not found."


class ClientErrorInvalidJobToken(ScanFault):
    """RetrieveImage: the JobToken does not belong to the JobId."""

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorInvalidJobToken")
    REASON = "The JobToken parameter value is not valid with the JobId parameter."


class ClientErrorJobCancelled(ScanFault):
    """RetrieveImage: the scan job has been canceled."""

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorJobCancelled")
    REASON = "The current scan job has been canceled."


class ClientErrorConflictingRequiredParameters(ScanFault):
    """ValidateScanTicket: MustHonor elements conflict with each other."""

    CODE = SOAP_SENDER
    SUBCODE = _clark(WSCN, "ClientErrorConflictingRequiredParameters")
    REASON = (
        "Multiple elements in the DocumentParameters element have MustHonor set to "
        "true, but applying all settings set to true causes a conflict in the scanner "
        "device."
    )


# --- WS-Eventing 2004/08 -------------------------------------------------------------


class EventingFault(SoapFault):
    """Base of the WS-Eventing 2004/08 faults (subcode ``wse:``)."""

    CODE = SOAP_SENDER


class InvalidExpirationTime(EventingFault):
    SUBCODE = _clark(WSE, "InvalidExpirationTime")
    REASON = "The expiration time requested is invalid."


class UnsupportedExpirationType(EventingFault):
    SUBCODE = _clark(WSE, "UnsupportedExpirationType")
    REASON = "Only expiration durations are supported."


class FilteringNotSupported(EventingFault):
    SUBCODE = _clark(WSE, "FilteringNotSupported")
    REASON = "Filtering over the requested dialect is not supported."


class FilteringRequestedUnavailable(EventingFault):
    SUBCODE = _clark(WSE, "FilteringRequestedUnavailable")
    REASON = "The requested filter selects no event this source sends."


class DeliveryModeRequestedUnavailable(EventingFault):
    SUBCODE = _clark(WSE, "DeliveryModeRequestedUnavailable")
    REASON = "The requested delivery mode is not supported."


class EventSourceUnableToProcess(EventingFault):
    SUBCODE = _clark(WSE, "EventSourceUnableToProcess")
    REASON = "The event source cannot process the subscription."


class UnableToRenew(EventingFault):
    SUBCODE = _clark(WSE, "UnableToRenew")
    REASON = "The subscription cannot be renewed."


class InvalidMessage(EventingFault):
    SUBCODE = _clark(WSE, "InvalidMessage")
    REASON = "The request message has unknown or invalid content."


# --- registries -----------------------------------------------------------------------

_SUBCODE_CLASSES: Final[tuple[type[SoapFault], ...]] = (
    ActionNotSupported,
    DestinationUnreachable,
    InvalidMessageInformationHeader,
    MessageInformationHeaderRequired,
    InvalidArgs,
    OperationFailed,
    ServerErrorTemporaryError,
    ServerErrorInternalError,
    ServerErrorNotAcceptingJobs,
    ClientErrorFormatNotSupported,
    ClientErrorDocumentFormatNotSupported,
    ClientErrorInvalidScanIdentifier,
    ClientErrorInvalidDestinationToken,
    ClientErrorNoImagesAvailable,
    ClientErrorJobIdNotFound,
    ClientErrorInvalidJobToken,
    ClientErrorJobCancelled,
    ClientErrorConflictingRequiredParameters,
    InvalidExpirationTime,
    UnsupportedExpirationType,
    FilteringNotSupported,
    FilteringRequestedUnavailable,
    DeliveryModeRequestedUnavailable,
    EventSourceUnableToProcess,
    UnableToRenew,
    InvalidMessage,
)


def _index(
    classes: Iterable[type[SoapFault]], key: str
) -> Mapping[str, type[SoapFault]]:
    table: dict[str, type[SoapFault]] = {}
    for cls in classes:
        value = getattr(cls, key)
        if not isinstance(value, str):
            raise TypeError(f"{cls.__name__}.{key} is not set")
        if value in table:
            raise TypeError(f"{value} is claimed by {table[value].__name__} and {cls}")
        table[value] = cls
    return MappingProxyType(table)


FAULTS_BY_SUBCODE: Final[Mapping[str, type[SoapFault]]] = _index(
    _SUBCODE_CLASSES, "SUBCODE"
)
"""Canonical subcode (Clark QName) -> fault class."""

FAULTS_BY_CODE: Final[Mapping[str, type[SoapFault]]] = _index(
    (VersionMismatch, MustUnderstand, DataEncodingUnknown, ServerFault), "CODE"
)
"""Code -> fault class for faults without subcode (``soap:Receiver`` -> ServerFault)."""

# Subcodes accepted on receipt besides the canonical ones.
_SUBCODE_ALIASES: Final[Mapping[str, type[SoapFault]]] = MappingProxyType(
    {_clark(WPRT, "ServerErrorTemporaryError"): ServerErrorTemporaryError}
)
# Other WS-Addressing versions use the same local names for these faults.
_WSA_ALIASES: Final = frozenset({WSA_2003_03, WSA_2005_08})
# For QName text whose prefix is not declared (seen in documentation samples).
_BY_LOCAL_NAME: Final[Mapping[str, type[SoapFault]]] = MappingProxyType(
    {_local(subcode): cls for subcode, cls in FAULTS_BY_SUBCODE.items()}
)


def _canonical_subcode(subcode: str) -> str:
    namespace, local = _split_clark(subcode)
    namespace = canonical_namespace(namespace)
    if namespace in _WSA_ALIASES:
        namespace = WSA
    return _clark(namespace, local) if namespace else local


def fault_class_for_subcode(subcode: str) -> type[SoapFault] | None:
    """The fault class for a received subcode (any accepted spelling), or ``None``."""
    canonical = _canonical_subcode(subcode)
    found = FAULTS_BY_SUBCODE.get(canonical) or _SUBCODE_ALIASES.get(canonical)
    if found is None and not canonical.startswith("{"):
        found = _BY_LOCAL_NAME.get(canonical)
    return found


def fault_from_subcode(
    code: str | None,
    subcode: str | None,
    reason: str | None = None,
    detail: etree._Element | str | None = None,
) -> SoapFault:
    """Build the typed fault for a received code/subcode.

    Known subcodes (also in the ``2006/01``, ``https://`` and other accepted
    spellings) give their class with the canonical subcode; the received ``code`` and
    ``reason`` are kept (``None`` means the class default). A code without subcode
    gives its class from :data:`FAULTS_BY_CODE` (VersionMismatch, ..., and
    ``soap:Receiver`` -> :class:`ServerFault`). Anything else gives a plain
    :class:`SoapFault`.
    """
    if subcode is not None:
        cls = fault_class_for_subcode(subcode)
        if cls is not None:
            return cls(reason, detail, code=code)
        return SoapFault(reason, detail, code=code, subcode=_canonical_subcode(subcode))
    if code is not None and code in FAULTS_BY_CODE:
        return FAULTS_BY_CODE[code](reason, detail)
    return SoapFault(reason, detail, code=code)


# --- serialization --------------------------------------------------------------------


# The prefixes build_envelope declares on the Envelope, then the other preferred ones.
# They must match: lxml, when the Fault is appended into an envelope that already
# declares a namespace (under any prefix), drops the Fault's own declaration and renames
# the element prefixes to the envelope's, but not the QName text in soap:Value. With a
# prefix of our own (it was ns1 for wse:) the subcode went out undeclared.
_SEND_PREFIXES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **PREFIXES,
        **{namespace: prefix for prefix, namespace in WIRE_PREFIXES.items()},
    }
)


def _qname_text(qname: str, prefixes: Mapping[str, str]) -> str:
    namespace, local = _split_clark(qname)
    return f"{prefixes[namespace]}:{local}" if namespace else local


# Characters XML 1.0 cannot carry at all (not even as character references).
_NOT_XML_CHAR: Final = re.compile(
    "[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def xml_safe_text(text: str) -> str:
    """``text`` with every character XML cannot carry written as ``\\xNN``: a reason
    may quote client input (a header, an href) holding control characters, and the
    fault must still be sent."""
    return _NOT_XML_CHAR.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def fault_to_element(fault: SoapFault) -> etree._Element:
    """Build the SOAP 1.2 ``soap:Fault`` element for ``fault``.

    The namespaces of the code and subcode QNames are declared on the Fault element
    itself, with the prefixes :func:`envelope.build_envelope` declares (``soap``,
    ``wsa``, ``wscn``, ``wse``; ``wprt``, then ``ns1``... for others), so the QName
    text stays resolvable on its own and inside our envelopes. Only the code, subcode,
    reason and detail are serialized: never a traceback or ``__cause__``.
    """
    prefixes: dict[str, str] = {SOAP_ENV: "soap"}
    for qname in (fault.code, fault.subcode):
        if qname is None:
            continue
        namespace = _split_clark(qname)[0]
        if not namespace or namespace in prefixes:
            continue
        prefix = _SEND_PREFIXES.get(namespace)
        if prefix is None or prefix in prefixes.values():
            prefix = f"ns{len(prefixes)}"
        prefixes[namespace] = prefix
    nsmap = {prefix: namespace for namespace, prefix in prefixes.items()}

    element = etree.Element(_clark(SOAP_ENV, "Fault"), nsmap=nsmap)
    code = etree.SubElement(element, _clark(SOAP_ENV, "Code"))
    etree.SubElement(code, _clark(SOAP_ENV, "Value")).text = _qname_text(
        fault.code, prefixes
    )
    if fault.subcode is not None:
        subcode = etree.SubElement(code, _clark(SOAP_ENV, "Subcode"))
        etree.SubElement(subcode, _clark(SOAP_ENV, "Value")).text = _qname_text(
            fault.subcode, prefixes
        )
    reason = etree.SubElement(element, _clark(SOAP_ENV, "Reason"))
    text = etree.SubElement(reason, _clark(SOAP_ENV, "Text"), {_XML_LANG: "en"})
    text.text = xml_safe_text(fault.reason)
    if fault.detail is not None:
        element.append(copy.deepcopy(fault.detail))
    return element


# --- parsing --------------------------------------------------------------------------

_SOAPISH_PREFIXES: Final = frozenset({"soap", "s", "env", "soapenv", "soap12", "se"})
_WELL_KNOWN_PREFIXES: Final[Mapping[str, str]] = MappingProxyType(
    {"wscn": WSCN, "sca": WSCN, "scan": WSCN, "wsa": WSA, "wprt": WPRT, "wse": WSE}
)


def _localname(element: etree._Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return None
    return etree.QName(tag).localname


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Element children with local name ``name``, in any namespace (receipt is lax)."""
    for child in element:
        if _localname(child) == name:
            yield child


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return next(_children(element, name), None)


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    parts = element.itertext()
    return "".join(p if isinstance(p, str) else p.decode() for p in parts).strip()


def _resolve_qname(element: etree._Element, envelope: str) -> str | None:
    """Resolve the QName text of ``element`` to Clark notation.

    Uses the in-scope namespaces (any prefix works); an undeclared prefix falls back to
    the usual prefixes (``soap``/``env``/... -> ``envelope``, ``wscn``/``sca`` -> scan,
    ``wsa``); an unresolvable prefix leaves the bare local name.
    """
    text = _text(element)
    if not text:
        return None
    if text.startswith("{"):
        _split_clark(text)
        return text
    prefix, _, local = text.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if namespace is None and prefix:
        if prefix.lower() in _SOAPISH_PREFIXES or prefix.upper() == "SOAP-ENV":
            namespace = envelope
        else:
            namespace = _WELL_KNOWN_PREFIXES.get(prefix.lower())
    if not namespace:
        return local
    return _clark(canonical_namespace(namespace), local)


def _find_fault(element: etree._Element) -> etree._Element:
    if _localname(element) == "Fault":
        return element
    for candidate in element.iter():
        if _localname(candidate) == "Fault":
            return candidate
    raise ValueError(f"no SOAP Fault element in {element.tag!r}")


def _soap12_code(code: str | None) -> str | None:
    if code is None:
        return None
    namespace, local = _split_clark(code)
    if local in _SOAP12_CODE_NAMES and namespace != SOAP11_ENV:
        return _clark(SOAP_ENV, local)  # the only valid namespace for a 1.2 code
    return code


def _pick_reason(reason: etree._Element | None) -> str | None:
    if reason is None:
        return None
    texts = list(_children(reason, "Text"))
    for text in texts:
        if (text.get(_XML_LANG) or "").lower().startswith("en"):
            return _text(text)
    return _text(texts[0]) if texts else _text(reason)


def _copy_detail(detail: etree._Element | None) -> etree._Element | None:
    if detail is None:
        return None
    wrapper = etree.Element(_DETAIL_TAG, nsmap={"soap": SOAP_ENV})
    wrapper.text = detail.text
    for child in detail:
        wrapper.append(copy.deepcopy(child))
    for name, value in detail.attrib.items():
        wrapper.set(name, value)
    return wrapper


def fault_from_element(element: etree._Element) -> SoapFault:
    """Parse a received ``soap:Fault`` (or an Envelope/Body containing one).

    SOAP 1.2 (``Code/Value``, ``Subcode/Value``, ``Reason/Text``, ``Detail``) and
    SOAP 1.1 (``faultcode``, ``faultstring``, ``detail``; ``Client``/``Server`` map to
    ``Sender``/``Receiver``) are accepted. The most specific known subcode of a nested
    ``Subcode`` chain wins. Returns the typed class when the subcode is known.
    """
    fault = _find_fault(element)
    code_element = _child(fault, "Code")
    if code_element is not None:
        value = _child(code_element, "Value")
        code = _soap12_code(
            _resolve_qname(value, SOAP_ENV) if value is not None else None
        )
        subcodes: list[str] = []
        level = _child(code_element, "Subcode")
        while level is not None:
            value = _child(level, "Value")
            resolved = _resolve_qname(value, SOAP_ENV) if value is not None else None
            if resolved is not None:
                subcodes.append(resolved)
            level = _child(level, "Subcode")
        known = [s for s in subcodes if fault_class_for_subcode(s) is not None]
        subcode = known[-1] if known else (subcodes[0] if subcodes else None)
        reason = _pick_reason(_child(fault, "Reason"))
        detail = _copy_detail(_child(fault, "Detail"))
        return fault_from_subcode(code, subcode, reason, detail)

    faultcode = _child(fault, "faultcode")
    if faultcode is None:
        raise ValueError("SOAP Fault without Code (1.2) or faultcode (1.1)")
    resolved = _resolve_qname(faultcode, SOAP11_ENV)
    reason = _text(_child(fault, "faultstring"))
    detail = _copy_detail(_child(fault, "detail"))
    if resolved is None:
        return fault_from_subcode(None, None, reason, detail)
    namespace, local = _split_clark(resolved)
    base = local.split(".", 1)[0]  # SOAP 1.1 dotted codes: Client.Authentication
    if namespace in (SOAP11_ENV, SOAP_ENV, "") and base in _SOAP11_TO_SOAP12:
        return fault_from_subcode(_SOAP11_TO_SOAP12[base], None, reason, detail)
    if namespace in (SOAP11_ENV, SOAP_ENV, "") and base in _SOAP12_CODE_NAMES:
        return fault_from_subcode(_clark(SOAP_ENV, base), None, reason, detail)
    # A non-SOAP faultcode (e.g. wscn:ClientErrorJobIdNotFound) is the subcode itself.
    return fault_from_subcode(None, resolved, reason, detail)

"""What scanners and the network say, in words: one table of fault subcodes, scanner
state reasons, device conditions and job state reasons (from the WS-Scan reference:
the common and per-operation fault tables, ScannerStateReason, the DeviceCondition
Name list, JobStateReason), and :func:`error_words` for any error a user or a device
can cause, as one line naming the URL or path concerned.

Standard library only at import: the command line loads it to report an error.
"""

from __future__ import annotations

import errno
import http
import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Final

from wsdscan.quirks import feeder_reported_empty

# Fault subcodes (or codes, for faults without one), by local name.
FAULT_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ClientErrorNoImagesAvailable": "the scanner has no images to give",
        "ServerErrorNotAcceptingJobs": (
            "the scanner is not accepting jobs now (busy with another job, or waiting at "
            "its panel: some models accept network scans only while their panel is at "
            "the scan-to-computer screen)"
        ),
        "ClientErrorJobIdNotFound": "the scanner no longer knows the job (it ended)",
        "ClientErrorJobCancelled": "the job was cancelled at the scanner",
        "ClientErrorInvalidJobToken": "the scanner refused the job's token",
        "ClientErrorFormatNotSupported": "the scanner does not support that file format",
        "ClientErrorDocumentFormatNotSupported": (
            "the scanner does not support that file format"
        ),
        "ClientErrorInvalidScanIdentifier": "the scan started at the panel is no longer valid",
        "ClientErrorInvalidDestinationToken": (
            "the scanner does not know this computer as a scan destination"
        ),
        "ClientErrorConflictingRequiredParameters": (
            "the scan settings conflict with each other"
        ),
        "InvalidArgs": "the scanner refused the request as invalid",
        "OperationFailed": "the scanner cannot do that in its present state",
        "ServerErrorTemporaryError": "the scanner had a temporary error; try again",
        "ServerErrorInternalError": "the scanner had an internal error",
        "ActionNotSupported": "the scanner does not support that operation",
        "DestinationUnreachable": "the scanner has no such service at this address",
        "InvalidMessageInformationHeader": "the scanner refused the request's headers",
        "MessageInformationHeaderRequired": "the scanner wants a header it did not get",
        "VersionMismatch": "the scanner speaks another SOAP version",
        "MustUnderstand": "the scanner does not understand a required header",
    }
)

# ScannerStateReason values, DeviceCondition names and JobStateReason values.
REASON_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AttentionRequired": "the scanner needs attention at its panel",
        "Calibrating": "the scanner is calibrating",
        "CoverOpen": "a cover is open",
        "InputTrayEmpty": "the document feeder is empty",
        "InterlockOpen": "an interlock is open",
        "InternalStorageFull": "the scanner's storage is full",
        "LampError": "the lamp has failed",
        "LampWarming": "the lamp is warming up",
        "MediaJam": "paper jam",
        "MultipleFeedError": "the feeder took several sheets at once",
        "Paused": "the scanner is paused",
        "InvalidScanTicket": "the scanner could not use the scan settings",
        "DocumentFormatError": "the scanner does not support the requested format",
        "ImageTransferError": "an image transfer failed",
        "JobCanceledAtDevice": "cancelled at the scanner's panel",
        "JobCompletedWithErrors": "completed with errors",
        "JobCompletedWithWarnings": "completed with warnings (settings adjusted)",
        "JobScanning": "scanning",
        "JobScanningAndTransferring": "scanning and sending",
        "JobTimedOut": "timed out (its images were not fetched in time)",
        "JobTransferring": "sending",
        "ScannerStopped": "the scanner stopped",
    }
)

STATE_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Idle": "idle",
        "Processing": "busy",
        "Stopped": "stopped",
    }
)

# Reasons that explain a refused job better than the fault does (a jam, an open cover).
_BLOCKING: Final = frozenset(
    {
        "AttentionRequired",
        "CoverOpen",
        "InterlockOpen",
        "InternalStorageFull",
        "LampError",
        "MediaJam",
        "MultipleFeedError",
        "Paused",
    }
)
_MAX_LINE: Final = 400


def reason_words(name: str) -> str:
    """A state reason, condition or job reason in words (a vendor's value as it is)."""
    return REASON_WORDS.get(name, name)


def _local(qname: str | None) -> str:
    return (qname or "").rpartition("}")[2]


def fault_words(
    fault: BaseException, *, source: str | None = None, reasons: Iterable[str] = ()
) -> str:
    """A fault in words, with the subcode in brackets; ``reasons`` (the scanner's
    state reasons and conditions after the fault) explain a refused job when they
    name a cause, as sane-airscan does (``wsd_status_decode``)."""
    code = _local(getattr(fault, "code", None))
    subcode = _local(getattr(fault, "subcode", None)) or code
    reason = one_line(str(getattr(fault, "reason", "") or fault))
    reasons = list(reasons)
    # A state reason and a device condition often name the same cause: say it once.
    blocking = list(dict.fromkeys(r for r in reasons if r in _BLOCKING))
    if blocking:
        words = ", ".join(reason_words(r) for r in blocking)
    elif source is not None and feeder_reported_empty(subcode, reasons, source):
        words = reason_words("InputTrayEmpty")
    elif subcode in FAULT_WORDS:
        words = FAULT_WORDS[subcode]
    else:
        words = f"the scanner answered a fault: {reason}"
    # The device's own text when it says more than the spec's standard reason.
    standard = getattr(type(fault), "REASON", None)
    if reason and reason != standard and reason not in words:
        words = f"{words}: {reason}"
    return one_line(f"{words} ({subcode})" if subcode else words)


def one_line(text: str) -> str:
    """``text`` on one line of bounded length (a device's text may hold anything)."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= _MAX_LINE else text[: _MAX_LINE - 3] + "..."


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _connection_words(exc: BaseException, url: str) -> str | None:
    chain = list(_chain(exc))
    names = {type(link).__name__ for link in chain}
    errnos = {link.errno for link in chain if isinstance(link, OSError)}
    if any(isinstance(link, socket.gaierror) for link in chain):
        return f"cannot reach {url}: its host name is not known"
    if errno.ECONNREFUSED in errnos or any(
        isinstance(link, ConnectionRefusedError) for link in chain
    ):
        return (
            f"cannot connect to {url}: connection refused (is the scanner on, and "
            "is this its WS-Scan address and port?)"
        )
    if errnos & {errno.EHOSTUNREACH, errno.ENETUNREACH}:
        return f"cannot reach {url}: no route to the host"
    if names & {"ConnectTimeout", "PoolTimeout"}:
        return f"cannot connect to {url}: no answer (timed out)"
    if any(
        isinstance(link, TimeoutError) or type(link).__name__.endswith("Timeout")
        for link in chain
    ):
        return f"{url} stopped answering (timed out)"
    if "RemoteProtocolError" in names:
        return f"{url} closed the connection without a complete answer"
    if names & {"ReadError", "WriteError"} or errno.ECONNRESET in errnos:
        return f"the connection to {url} broke (closed or reset)"
    if "ConnectError" in names:
        reasons = [link.strerror for link in chain if isinstance(link, OSError)]
        return f"cannot connect to {url}" + (f": {reasons[-1]}" if reasons else "")
    return None


def error_words(exc: BaseException, url: str = "the scanner") -> str:
    """One line for ``exc``, naming ``url`` where the network or the device is
    concerned. Errors this project raises in words keep their own message."""
    from wsdscan.errors import ScanError
    from wsdscan.runtime.errors import (
        ProtocolError,
        TransportError,
        TruncatedAttachmentError,
    )
    from wsdscan.runtime.soap import SoapFault

    if isinstance(exc, ScanError):
        return one_line(str(exc))
    if isinstance(exc, SoapFault):
        return fault_words(exc)
    if isinstance(exc, TruncatedAttachmentError):
        return f"the image transfer from {url} broke off (connection closed or reset)"
    if isinstance(exc, TransportError):
        if exc.status is not None:
            return _status_words(exc.status, url)
        return one_line(_connection_words(exc, url) or f"{url}: {exc}")
    if isinstance(exc, ProtocolError):
        content_type = exc.content_type or ""
        if "html" in content_type.lower() or "got <html>" in str(exc):
            return (
                f"{url} answered with a web page, not WS-Scan: is this the scanner's "
                "WS-Scan address (often http://HOST:5358/WSDScanner)?"
            )
        return one_line(f"{url} sent something that is not WS-Scan: {exc}")
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        return one_line(f"{where}: {exc.strerror or exc}" if where else str(exc))
    return one_line(str(exc) or type(exc).__name__)


def _status_words(status: int, url: str) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    label = f"HTTP {status} {phrase}".strip()
    if status in (404, 405, 501):
        return f"{url} is not a WS-Scan service ({label}): check the address and path"
    return f"{url} answered {label} without a WS-Scan message"

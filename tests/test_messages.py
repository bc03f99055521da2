"""wsdscan.messages: faults, state reasons and conditions in words; network errors
in words naming the URL; every line one line. wsdscan.quirks: the workarounds."""

from __future__ import annotations

import errno
import socket

import httpx
import pytest
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.runtime import soap as faults
from wsdscan.runtime.errors import (
    ProtocolError,
    TransportError,
    TruncatedAttachmentError,
    WsdScanError,
)

from wsdscan.errors import ScanError
from wsdscan.messages import (
    FAULT_WORDS,
    REASON_WORDS,
    error_words,
    fault_words,
    reason_words,
)
from wsdscan.quirks import feeder_reported_empty, maximum_size

URL = "http://192.0.2.10:5358/WSDScanner"


def test_every_documented_scan_fault_and_reason_has_words() -> None:
    documented = [
        cls
        for name in scan_faults.__all__
        if isinstance(cls := getattr(scan_faults, name), type)
        and issubclass(cls, faults.ScanFault)
    ]
    assert len(documented) >= 14  # every row of schema/faults.toml
    for cls in documented:
        assert cls.SUBCODE is not None
        assert cls.SUBCODE.rpartition("}")[2] in FAULT_WORDS, cls.__name__
    for reason in (
        "AttentionRequired",
        "Calibrating",
        "CoverOpen",
        "InterlockOpen",
        "InternalStorageFull",
        "LampError",
        "LampWarming",
        "MediaJam",
        "MultipleFeedError",
        "Paused",
        "InputTrayEmpty",
        "JobCanceledAtDevice",
        "JobTimedOut",
    ):
        assert reason in REASON_WORDS
    assert reason_words("InputTrayEmpty") == "the document feeder is empty"
    assert reason_words("MediaJam") == "paper jam"
    assert reason_words("VendorSmoke") == "VendorSmoke"


def test_faults_in_words_with_their_subcode() -> None:
    empty = scan_faults.ClientErrorNoImagesAvailable()
    assert fault_words(empty, source="ADF") == (
        "the document feeder is empty (ClientErrorNoImagesAvailable)"
    )
    assert "no images" in fault_words(empty, source="Platen")
    busy = scan_faults.ServerErrorNotAcceptingJobs()
    assert fault_words(busy).startswith("the scanner is not accepting jobs now")
    # The state explains the refusal: a jam, or (Canon MF410) the empty feeder.
    assert fault_words(busy, reasons=["MediaJam", "CoverOpen"]) == (
        "paper jam, a cover is open (ServerErrorNotAcceptingJobs)"
    )
    assert fault_words(busy, source="ADF", reasons=["InputTrayEmpty"]).startswith(
        "the document feeder is empty"
    )
    odd = faults.SoapFault(
        "smoke\n\n  rising",
        subcode="{urn:vendor}PaperOnFire",
        code=faults.SOAP_RECEIVER,
    )
    assert (
        fault_words(odd) == "the scanner answered a fault: smoke rising (PaperOnFire)"
    )
    told = scan_faults.InvalidArgs("no destination 'X' (registered: Test PC)")
    assert fault_words(told).endswith(
        ": no destination 'X' (registered: Test PC) (InvalidArgs)"
    )


def test_one_exception_root() -> None:
    assert issubclass(faults.SoapFault, WsdScanError)
    assert issubclass(ScanError, WsdScanError)


def _transport(cause: BaseException) -> TransportError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise httpx.ConnectError(str(inner)) from inner
    except httpx.ConnectError as outer:
        error = TransportError("GetScannerElements: failed")
        error.__cause__ = outer
        return error


@pytest.mark.parametrize(
    "error, words",
    [
        (
            _transport(ConnectionRefusedError(errno.ECONNREFUSED, "refused")),
            "connection refused",
        ),
        (
            _transport(socket.gaierror(-2, "Name or service not known")),
            "host name is not known",
        ),
        (_transport(OSError(errno.EHOSTUNREACH, "No route")), "no route to the host"),
        (_transport(TimeoutError()), "stopped answering (timed out)"),
        (
            TransportError("x", status=404),
            "is not a WS-Scan service (HTTP 404 Not Found)",
        ),
        (TransportError("x", status=503), "answered HTTP 503 Service Unavailable"),
        (TruncatedAttachmentError("x"), "broke off"),
        (ProtocolError("not well-formed XML"), "sent something that is not WS-Scan"),
    ],
)
def test_network_errors_in_words_name_the_url(error: Exception, words: str) -> None:
    line = error_words(error, URL)
    assert words in line and URL in line
    assert "\n" not in line


def test_a_web_page_is_recognised() -> None:
    page = ProtocolError("expected a SOAP Envelope, got <body>")
    page.content_type = "text/html; charset=utf-8"
    assert "answered with a web page" in error_words(page, URL)


def test_quirks() -> None:
    # Kyocera ECOSYS M2040dn: 14016 x 8504 is a portrait 8504 x 14016.
    assert maximum_size(14016, 8504) == (8504, 14016)
    assert maximum_size(8500, 11690) == (8500, 11690)
    assert feeder_reported_empty(
        "ServerErrorNotAcceptingJobs", ["InputTrayEmpty"], "ADF"
    )
    assert not feeder_reported_empty("ClientErrorNoImagesAvailable", [], "Platen")

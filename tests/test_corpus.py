"""Every real WS-Scan message in the project's corpus (tests/data/corpus, copied from
the shared corpus) parses into the generated classes, with concrete values checked where
the corpus documents them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from project_data import CORPUS_DIR
from wsdscan.generated import EVENT_ROUTES, ROUTES
from wsdscan.generated.models.eventing import SubscribeResponse
from wsdscan.generated.models.scan import (
    DestinationResponses,
    GetScannerElementsResponse,
    ScanAvailableEvent,
)
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.runtime import soap
from wsdscan.runtime.mtom import detach_includes
from wsdscan.runtime.soap.envelope import parse_envelope
from wsdscan.runtime.xmlbind import bind, canonicalize, parse_xml

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
CAPTURES = CORPUS_DIR / "sane-airscan-0.99.27-captures"
RESPONSES = {route.response_action: route.response_type for route in ROUTES.values()}


def _http_body(path: Path) -> tuple[str, bytes]:
    """(Content-Type, body) of a recorded HTTP request or response."""
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    if not _:
        head, _, body = raw.partition(b"\n\n")
    content_type = ""
    for line in head.decode("latin-1").splitlines()[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            content_type = value.strip()
    return content_type, body


def _soap_part(content_type: str, body: bytes) -> bytes:
    """The SOAP part of a body: itself, or the first MIME part of an MTOM reply."""
    if not content_type.lower().startswith("multipart/"):
        return body
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    assert boundary, content_type
    part = body.split(b"--" + boundary.group(1).encode())[1]
    return part.partition(b"\r\n\r\n")[2].rstrip(b"\r\n")


SOAP_CAPTURES = sorted(
    path
    for path in CAPTURES.rglob("*.http")
    if "TransferGet" not in path.name  # device metadata: the discovery issue's schema
)


@pytest.mark.parametrize(
    "path", SOAP_CAPTURES, ids=lambda p: str(p.relative_to(CAPTURES))
)
def test_capture_parses_into_generated_classes(path: Path) -> None:
    content_type, body = _http_body(path)
    envelope = parse_envelope(_soap_part(content_type, body))
    action = envelope.addressing.action
    assert action, "every captured message carries wsa:Action"
    assert envelope.body is not None
    if action == soap.WSA_FAULT_ACTION:
        fault = scan_faults.FAULTS.from_element(envelope.body)
        assert (
            type(fault) is not soap.SoapFault
        ), "a documented subcode maps to its class"
        return
    if action in ROUTES:
        expected = ROUTES[action].request_type
    else:
        assert action in RESPONSES, action
        expected = RESPONSES[action]
    if content_type.lower().startswith("multipart/"):
        assert detach_includes(envelope.body), "an MTOM reply references its attachment"
    message = bind(envelope.body, expected)
    assert isinstance(message, expected)
    # Round trip: what we parsed is not empty where the wire had content.
    if len(envelope.body):
        assert any(value not in (None, [], "") for value in vars(message).values())


@pytest.fixture(scope="module")
def kyocera() -> GetScannerElementsResponse:
    data = (
        CORPUS_DIR / "go-mfp-kyocera-m2040dn" / "GetScannerElementsResponse.xml"
    ).read_bytes()
    envelope = parse_envelope(data)
    assert envelope.addressing.action == f"{SCAN_NS}/GetScannerElementsResponse"
    assert envelope.body is not None
    return bind(envelope.body, GetScannerElementsResponse)


def _value(item: object) -> str:
    value = getattr(item, "value", item)
    return str(getattr(value, "value", value))


def test_kyocera_element_data_sections(kyocera: GetScannerElementsResponse) -> None:
    data = kyocera.scanner_elements.element_data
    names = [
        item.name.text if hasattr(item.name, "text") else str(item.name)
        for item in data
    ]
    assert names == [
        f"{{{SCAN_NS}}}ScannerDescription",
        f"{{{SCAN_NS}}}ScannerConfiguration",
        f"{{{SCAN_NS}}}DefaultScanTicket",
    ]
    assert all(item.valid is True for item in data)


def test_kyocera_scanner_configuration_values(
    kyocera: GetScannerElementsResponse,
) -> None:
    configuration = next(
        item.scanner_configuration
        for item in kyocera.scanner_elements.element_data
        if item.scanner_configuration is not None
    )
    formats = [
        _value(f) for f in configuration.device_settings.formats_supported.format_value
    ]
    assert len(formats) == 8
    assert {"jfif", "pdf-a", "exif", "xps"} <= set(formats)
    adf = configuration.adf
    assert adf is not None
    assert adf.adf_supports_duplex is True
    colours = {_value(c) for c in adf.adf_front.adf_color.color_entry}
    assert colours == {"BlackAndWhite1", "Grayscale8", "RGB24"}
    platen_colours = {_value(c) for c in configuration.platen.platen_color.color_entry}
    assert platen_colours == {"BlackAndWhite1", "Grayscale8", "RGB24"}
    widths = [_value(w) for w in configuration.platen.platen_resolutions.widths.width]
    assert "300" in widths and "600" in widths


def test_kyocera_description_and_default_ticket(
    kyocera: GetScannerElementsResponse,
) -> None:
    items = kyocera.scanner_elements.element_data
    description = next(i.scanner_description for i in items if i.scanner_description)
    assert "Scanning System" in [_value(v) for v in description.scanner_info]
    ticket = next(i.default_scan_ticket for i in items if i.default_scan_ticket)
    parameters = ticket.document_parameters
    assert _value(parameters.input_source) == "Platen"
    assert parameters.media_sides.media_front.resolution is not None


def test_unknown_values_and_vendor_elements_are_not_fatal() -> None:
    data = f"""<wscn:ScanAvailableEvent xmlns:wscn="{SCAN_NS}" xmlns:km="urn:vendor">
      <km:Extra>ignored</km:Extra>
      <wscn:ClientContext>ctx</wscn:ClientContext>
      <wscn:ScanIdentifier>id-1</wscn:ScanIdentifier>
    </wscn:ScanAvailableEvent>""".encode()
    event = bind(canonicalize(parse_xml(data)), ScanAvailableEvent)
    assert event.client_context == "ctx" or _value(event.client_context) == "ctx"
    assert _value(event.scan_identifier) == "id-1"


def test_epson_scan_available_event_parses() -> None:
    path = (
        CORPUS_DIR
        / "occino-wsd-scan-receiver-epson-et2750"
        / "ScanAvailableEvent.handmade.xml"
    )
    root = canonicalize(parse_xml(path.read_bytes()))
    body = (
        root
        if root.tag.endswith("ScanAvailableEvent")
        else next(
            e
            for e in root.iter()
            if isinstance(e.tag, str) and e.tag.endswith("ScanAvailableEvent")
        )
    )
    assert body.tag == f"{{{SCAN_NS}}}ScanAvailableEvent"
    event = bind(body, EVENT_ROUTES[f"{SCAN_NS}/ScanAvailableEvent"].body_type)
    assert _value(event.scan_identifier)
    assert _value(event.client_context)


def test_epson_subscribe_response_carries_destination_tokens() -> None:
    path = (
        CORPUS_DIR
        / "occino-wsd-scan-receiver-epson-et2750"
        / "SubscribeResponse.handmade.xml"
    )
    root = canonicalize(parse_xml(path.read_bytes()))
    body = next(
        e
        for e in root.iter()
        if isinstance(e.tag, str) and e.tag.endswith("}SubscribeResponse")
    )
    response = bind(body, SubscribeResponse)
    assert (
        response.subscription_manager.address.value == "http://192.0.2.21:80/WDP/SCAN"
    )
    # The WS-Scan extension inside the eventing wildcard binds to our generated class.
    extensions = [
        e for e in response.other_element if isinstance(e, DestinationResponses)
    ]
    assert len(extensions) == 1
    tokens = [r.destination_token for r in extensions[0].destination_response]
    assert tokens == ["token"]


def test_value_lists_admit_vendor_values() -> None:
    """Value lists are enumerations, but the pages say they can be extended: an unknown
    value parses as its text instead of failing, a known one as the enum member."""
    from wsdscan.generated.models.scan import ColorEntryKnownValue, MediaFront

    data = f"""<wscn:MediaFront xmlns:wscn="{SCAN_NS}">
      <wscn:ColorProcessing>RGB48Vendor</wscn:ColorProcessing>
      <wscn:Resolution><wscn:Width>300</wscn:Width><wscn:Height>300</wscn:Height></wscn:Resolution>
    </wscn:MediaFront>""".encode()
    front = bind(canonicalize(parse_xml(data)), MediaFront)
    assert front.color_processing is not None
    assert front.color_processing.value == "RGB48Vendor"
    known = bind(
        canonicalize(parse_xml(data.replace(b"RGB48Vendor", b"Grayscale8"))), MediaFront
    )
    assert known.color_processing is not None
    assert known.color_processing.value is ColorEntryKnownValue.GRAYSCALE8
    assert bind(canonicalize(parse_xml(data)), MediaFront) == front  # deterministic

"""Real discovery messages and device metadata from the project's corpus
(``tests/data/corpus``, copied from the shared corpus) read with concrete values checked
(no network). The corpus is looked up as in test_corpus.py; without it these tests fail
(they are the evidence for the lenient reading)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import QName

import pytest
from project_data import CORPUS_DIR
from wsdscan.runtime.discovery.messages import parse_discovery_message
from wsdscan.runtime.discovery.metadata import parse_metadata
from wsdscan.runtime.discovery.names import (
    DEVICE_TYPE,
    SCAN_DEVICE_TYPE,
    SCANNER_SERVICE_TYPE,
)
from wsdscan.runtime.soap.envelope import parse_envelope

CORPUS = CORPUS_DIR
CAPTURES = CORPUS / "sane-airscan-0.99.27-captures" / "discovery-netns"
PRINT = "http://schemas.microsoft.com/windows/2006/08/wdp/print"


@pytest.fixture(autouse=True)
def _corpus_present() -> Iterator[None]:
    if not CORPUS.is_dir():
        pytest.fail(f"the corpus is missing: {CORPUS}", pytrace=False)
    yield


def _http_body(path: Path) -> bytes:
    return path.read_bytes().split(b"\r\n\r\n", 1)[-1].split(b"\n\n", 1)[-1]


def test_kyocera_probe_matches() -> None:
    data = (CORPUS / "go-mfp-kyocera-m2040dn" / "ProbeMatches.xml").read_bytes()
    message = parse_discovery_message(data)
    assert message.kind == "ProbeMatches"
    assert message.relates_to == "urn:uuid:f9f56956-7662-4b32-9459-d0f2823424fe"
    # AppSequence without SequenceId (MessageNumber first).
    assert message.app_sequence is not None
    assert message.app_sequence.instance_id == 1727722437
    assert message.app_sequence.message_number == 525
    assert message.app_sequence.sequence_id is None
    (match,) = message.matches
    assert match.endpoint == "uuid:4509a320-00a0-008f-00b6-002507510eca"
    assert match.types == (
        DEVICE_TYPE,
        SCAN_DEVICE_TYPE,
        QName(PRINT, "PrintDeviceType"),
    )
    assert match.has_type(SCAN_DEVICE_TYPE)
    assert match.xaddrs == (
        "http://192.168.1.102:5358/DeviceService/",
        "http://[fe80::217:c8ff:fe7b:6a91]:5358/DeviceService/",
    )
    assert match.metadata_version == 1
    assert match.scopes == ()


def test_kyocera_metadata() -> None:
    data = CORPUS / "go-mfp-kyocera-m2040dn" / "TransferGetResponse-Metadata.xml"
    envelope = parse_envelope(data.read_bytes())
    assert envelope.addressing.action == (
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    )
    assert envelope.body is not None
    metadata = parse_metadata(envelope.body)
    assert metadata.friendly_name == "Kyocera:ECOSYS M2040dn:KM7B6A91"
    assert metadata.firmware_version == "2S0_2000.001.828"
    assert metadata.serial_number == "VCF9192281"
    assert metadata.manufacturer == "Kyocera"
    assert metadata.model_name == "ECOSYS M2040dn"
    assert metadata.model_number == "ECOSYS M2040dn"
    assert metadata.presentation_url == "http://192.168.1.102"
    assert len(metadata.hosted) == 24
    (scan,) = metadata.scan_services()
    assert scan.types == (SCANNER_SERVICE_TYPE,)
    assert scan.service_id == "uri:4509a320-00a0-008f-00b6-002507510eca/WSDScanner"
    # PnP-X: what Windows picks a driver by (we serve the same entries).
    assert metadata.device_category == "MFP MobilePrinter"
    assert scan.hardware_ids == ("VEN_0103&DEV_069D",)
    assert scan.compatible_ids == (
        "http://schemas.microsoft.com/windows/2006/08/wdp/scan/ScannerServiceType",
    )
    assert metadata.scan_service_urls == (
        "http://192.168.1.102:5358/WSDScanner",
        "http://[fe80::217:c8ff:fe7b:6a91]:5358/WSDScanner",
    )
    printer = [
        s for s in metadata.hosted if s.has_type(QName(PRINT, "PrinterServiceType"))
    ]
    assert printer[0].addresses[0] == "http://192.168.1.102:5358/WSDPrinter"


def test_canon_resolve_and_resolve_matches() -> None:
    folder = CORPUS / "roncapat-wsd-python-canon"
    resolve = parse_discovery_message((folder / "Resolve.client.xml").read_bytes())
    assert resolve.kind == "Resolve"
    assert resolve.resolve_address == "urn:uuid:00000000-0000-1000-8000-f4813944662e"
    matches = parse_discovery_message((folder / "ResolveMatches.xml").read_bytes())
    assert matches.kind == "ResolveMatches"
    assert matches.relates_to == resolve.message_id
    assert matches.app_sequence is not None
    assert (matches.app_sequence.instance_id, matches.app_sequence.message_number) == (
        66,
        38,
    )
    (match,) = matches.matches
    assert match.endpoint == "urn:uuid:00000000-0000-1000-8000-f4813944662e"
    assert match.types == (
        DEVICE_TYPE,
        QName(PRINT, "PrintDeviceType"),
        SCAN_DEVICE_TYPE,
    )
    assert match.xaddrs == ("http://192.168.1.5:80/wsd/pnpx-metadata.cgi",)
    assert match.metadata_version == 1


@pytest.mark.parametrize("name", ["udp-airscan-Probe.xml", "udp-wsdd-Probe.xml"])
def test_client_probes(name: str) -> None:
    message = parse_discovery_message((CAPTURES / name).read_bytes())
    assert message.kind == "Probe"
    assert message.probe_types == (DEVICE_TYPE,)
    assert message.message_id and message.message_id.startswith("urn:uuid:")


def test_recorder_hello_and_metadata_capture() -> None:
    hello = parse_discovery_message((CAPTURES / "udp-recorder-Hello.xml").read_bytes())
    assert hello.kind == "Hello"
    (item,) = hello.matches
    assert item.endpoint == "urn:uuid:3f1b6c2e-0d1a-4c55-9a8e-1b2c3d4e5f60"
    assert item.xaddrs == ("http://198.51.100.2:5358/WSDScanner",)
    body = parse_envelope(
        _http_body(CAPTURES / "airscan-TransferGet.response.http")
    ).body
    assert body is not None
    metadata = parse_metadata(body)
    assert (metadata.manufacturer, metadata.model_name, metadata.friendly_name) == (
        "Recorder",
        "WSD Recorder 1",
        "WSD Recorder",
    )
    assert metadata.host is not None
    assert metadata.host.addresses == ("urn:uuid:3f1b6c2e-0d1a-4c55-9a8e-1b2c3d4e5f60",)
    assert metadata.scan_service_urls == ("http://198.51.100.2:5358/WSDScanner",)

"""Namespace canonicalization on receipt (xmlbind.canonicalize): the aliases Microsoft's
pages and some devices use (scan 2006/01, ``https://`` spellings, WS-Addressing 2003/03)
are read as the canonical URIs wherever they are declared, and a message without them
is passed through untouched."""

from __future__ import annotations

import pytest
from lxml import etree
from wsdscan.generated.models.scan import GetScannerElementsRequest
from wsdscan.runtime.soap.envelope import parse_envelope
from wsdscan.runtime.xmlbind import WSA, WSCN, bind, canonicalize, parse_xml

OLD_SCAN = "http://schemas.microsoft.com/windows/2006/01/wdp/scan"
HTTPS_SCAN = "https://schemas.microsoft.com/windows/2006/08/wdp/scan"


def _request(root_ns: str, name_decl: str, name_text: str) -> str:
    return (
        f'<wscn:GetScannerElementsRequest xmlns:wscn="{root_ns}">'
        f"<wscn:RequestedElements><wscn:Name {name_decl}>{name_text}</wscn:Name>"
        "</wscn:RequestedElements></wscn:GetScannerElementsRequest>"
    )


@pytest.mark.parametrize("alias", [OLD_SCAN, HTTPS_SCAN])
def test_alias_declared_on_the_root_is_canonical(alias: str) -> None:
    root = canonicalize(parse_xml(_request(alias, "", "wscn:ScannerStatus").encode()))
    assert etree.QName(root).namespace == WSCN
    request = bind(root, GetScannerElementsRequest)
    assert [str(n) for n in request.requested_elements.name] == [
        f"{{{WSCN}}}ScannerStatus"
    ]


def test_alias_declared_deep_and_used_only_in_qname_text() -> None:
    # The alias appears in no tag: only a descendant's declaration and its text.
    xml = _request(WSCN, f'xmlns:old="{OLD_SCAN}"', "old:ScannerConfiguration")
    request = bind(canonicalize(parse_xml(xml.encode())), GetScannerElementsRequest)
    assert [str(n) for n in request.requested_elements.name] == [
        f"{{{WSCN}}}ScannerConfiguration"
    ]


def test_alias_in_a_utf16_document() -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?>' + _request(
        OLD_SCAN, "", "wscn:ScannerStatus"
    )
    root = canonicalize(parse_xml(xml.encode("utf-16")))
    assert etree.QName(root).namespace == WSCN


def test_canonical_message_is_returned_as_is() -> None:
    root = parse_xml(_request(WSCN, "", "wscn:ScannerStatus").encode())
    assert canonicalize(root) is root


def test_wsa_2003_03_header_reads_as_2004_08() -> None:
    envelope = parse_envelope(
        (
            '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:a="http://schemas.xmlsoap.org/ws/2003/03/addressing">'
            "<s:Header><a:Action>urn:x</a:Action><a:MessageID>urn:uuid:1</a:MessageID>"
            "</s:Header><s:Body>"
            + _request(WSCN, "", "wscn:ScannerStatus")
            + "</s:Body></s:Envelope>"
        ).encode()
    )
    assert envelope.addressing.action == "urn:x"
    assert all(etree.QName(h).namespace == WSA for h in envelope.headers)

"""The schema loads in independent tools: lxml as an XMLSchema, zeep as a WSDL."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from ws_scan_names import EVENTS, OPERATIONS, SCAN_NS
from wsdscan.codegen.load import load
from wsdscan.codegen.pipeline import DEFAULT_SCHEMA


@pytest.mark.parametrize(
    "path",
    load(DEFAULT_SCHEMA).xsd_files,
    ids=lambda p: str(p.relative_to(DEFAULT_SCHEMA)),
)
def test_lxml_loads_every_entry_schema(path: Path) -> None:
    """Every entry schema (section files load through scan.xsd, which includes them)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    schema = etree.XMLSchema(etree.parse(str(path), parser))
    assert schema is not None


def test_lxml_schema_validates_a_real_client_request() -> None:
    """The scan schema is a real XSD: it accepts a body element and rejects a wrong type."""
    schema = etree.XMLSchema(etree.parse(str(DEFAULT_SCHEMA / "scan" / "scan.xsd")))
    good = etree.fromstring(
        f'<wscn:GetScannerElementsRequest xmlns:wscn="{SCAN_NS}"><wscn:RequestedElements>'
        "<wscn:Name>wscn:ScannerConfiguration</wscn:Name></wscn:RequestedElements>"
        "</wscn:GetScannerElementsRequest>"
    )
    assert schema.validate(good), schema.error_log
    bad = etree.fromstring(
        f'<wscn:CancelJobRequest xmlns:wscn="{SCAN_NS}"><wscn:JobId>not-a-number</wscn:JobId>'
        "</wscn:CancelJobRequest>"
    )
    assert not schema.validate(bad)


def test_zeep_loads_the_wsdl_and_lists_the_operations() -> None:
    zeep = pytest.importorskip(
        "zeep", reason="zeep is a test dependency (pip install .[test])"
    )
    client = zeep.Client(str(DEFAULT_SCHEMA / "wsdl" / "scan.wsdl"))
    binding = client.wsdl.bindings[f"{{{SCAN_NS}}}ScannerServiceBinding"]
    names = set(binding._operations)
    assert set(OPERATIONS) <= names
    # Every request-response operation has both messages, with our element bodies.
    for name in OPERATIONS:
        operation = binding.get(name)
        assert operation.input.body.qname == etree.QName(SCAN_NS, f"{name}Request")
        assert operation.output.body.qname == etree.QName(SCAN_NS, f"{name}Response")


def test_wsdl_port_type_has_operations_and_events_with_device_actions() -> None:
    wsdl_ns = "http://schemas.xmlsoap.org/wsdl/"
    wsa = "{http://schemas.xmlsoap.org/ws/2004/08/addressing}Action"
    tree = etree.parse(str(DEFAULT_SCHEMA / "wsdl" / "scan.wsdl"))
    actions = {}
    for op in tree.iterfind(f"{{{wsdl_ns}}}portType/{{{wsdl_ns}}}operation"):
        messages = [
            child
            for child in op
            if child.tag in {f"{{{wsdl_ns}}}input", f"{{{wsdl_ns}}}output"}
        ]
        actions[op.get("name")] = [m.get(wsa) for m in messages]
    assert set(actions) == set(OPERATIONS) | set(EVENTS)
    for name in OPERATIONS:
        assert actions[name] == [f"{SCAN_NS}/{name}", f"{SCAN_NS}/{name}Response"]
    for name in EVENTS:
        assert actions[name] == [f"{SCAN_NS}/{name}"]

"""Tests for the faults: the runtime's bases, protocol faults, registry and codec
(wsdscan.runtime.soap) and the WS-Scan classes generated from the fault table
(wsdscan.generated.stubs.faults).

The documented faults come from the WS-Scan reference pages, not from a hand-typed
list: ``schema/faults.toml`` is derived from every "Fault property" table and every
ClientError*/ServerError* name on the pages (``tests/data/spec/derive.py``; checked
against the pages by tests/test_spec_data.py where they are present), and each must have
a class with the documented code, subcode and reason.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from project_data import CORPUS_DIR, FAULTS_TOML
from spec_pages import page_xml
from ws_scan_names import OPERATIONS
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.generated.stubs.faults import (
    FAULTS,
    ClientErrorJobIdNotFound,
    ClientErrorNoImagesAvailable,
    OperationFailed,
    ServerErrorNotAcceptingJobs,
    ServerErrorTemporaryError,
)
from wsdscan.runtime.soap import (
    INVALID_ARGS,
    PROTOCOL_FAULTS,
    SOAP_SENDER,
    WSA_FAULT_ACTION,
    ActionNotSupported,
    ScanFault,
    ServerFault,
    SoapFault,
    VersionMismatch,
    fault_to_element,
    faults,
    invalid_args,
)
from wsdscan.runtime.soap.envelope import build_envelope

# Independent of the module under test on purpose.
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SCAN = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
SCAN_0601 = "http://schemas.microsoft.com/windows/2006/01/wdp/scan"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSE = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
PRINT = "http://schemas.microsoft.com/windows/2006/08/wdp/print"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Prefixes as the pages use them. wprt: one table (ServerErrorTemporaryError) names the
# WS-Print namespace; we send that fault in the scan namespace and accept both.
PAGE_PREFIXES = {"soap": SOAP12, "wscn": SCAN, "wsa": WSA, "wprt": PRINT}
SEND_NAMESPACE = {SCAN: SCAN, WSA: WSA, PRINT: SCAN}


@dataclass(frozen=True)
class DocumentedFault:
    page: str
    code: str  # Clark
    subcode: str  # Clark, as the page writes it
    reason: str

    @property
    def local(self) -> str:
        return self.subcode.rpartition("}")[2]

    @property
    def canonical_subcode(self) -> str:
        namespace = self.subcode[1:].partition("}")[0]
        return f"{{{SEND_NAMESPACE[namespace]}}}{self.local}"


_PAGE_QNAME = re.compile(r"^([A-Za-z]+):([A-Za-z]+)$")
_SCAN_ERROR_NAME = re.compile(r"(?:Client|Server)Error[A-Z][A-Za-z]+")
COMMON_PAGE = "common-wsd-scan-service-operation-error-codes.md"


def _clark_from_page(text: str) -> str:
    match = _PAGE_QNAME.match(text)
    assert match, f"not a prefixed QName on a page: {text!r}"
    return f"{{{PAGE_PREFIXES[match.group(1)]}}}{match.group(2)}"


def _read_table() -> dict[str, Any]:
    with FAULTS_TOML.open("rb") as file:
        return tomllib.load(file)


TABLE = _read_table()


def read_documented_faults() -> list[DocumentedFault]:
    """Every fault table on every page (one per page the table entry names)."""
    return sorted(
        (
            DocumentedFault(
                page=page,
                code=_clark_from_page(entry["code"]),
                subcode=_clark_from_page(entry["subcode"]),
                reason=entry["reason"],
            )
            for entry in TABLE["fault"]
            if entry["source"] == "pages"
            for page in entry["pages"]
        ),
        key=lambda doc: (doc.page, doc.subcode),
    )


def mentioned_scan_fault_names() -> set[str]:
    """Every ClientError*/ServerError* name the pages use: those with a fault table and
    those the pages only name in their text."""
    tabled = {entry["subcode"].partition(":")[2] for entry in TABLE["fault"]}
    return {name for name in tabled if _SCAN_ERROR_NAME.fullmatch(name)} | {
        entry["name"] for entry in TABLE.get("mentioned", [])
    }


DOCUMENTED = read_documented_faults()
ALL_CLASSES: list[type[SoapFault]] = sorted(
    {*FAULTS.by_subcode.values(), *FAULTS.by_code.values(), ServerFault},
    key=lambda cls: cls.__name__,
)


# Every fault class the runtime and the stubs define, found by introspection rather
# than from their registries, so that a class missing from them is caught too.
DEFINED_CLASSES: list[type[SoapFault]] = [
    cls
    for module in (faults, scan_faults)
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, SoapFault) and cls.__module__ == module.__name__
]
# Bases without a code/subcode of their own: on receipt they cannot be told apart from
# the generic fault for their code (plain SoapFault, or ServerFault for Receiver).
ABSTRACT_BASES = {SoapFault, ScanFault, faults.AddressingFault, faults.EventingFault}


def _roundtrip(fault: SoapFault) -> SoapFault:
    data = etree.tostring(fault_to_element(fault))
    return FAULTS.from_element(etree.fromstring(data))


def _fault_xml(code: str, subcode: str, ns_decls: str, reason: str = "r") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP12}" {ns_decls}><s:Body><s:Fault>'
        f"<s:Code><s:Value>{code}</s:Value>"
        f"<s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en">{reason}</s:Text></s:Reason>'
        f"</s:Fault></s:Body></s:Envelope>"
    ).encode()


# --- the spec is read, and covered ----------------------------------------------------


def test_spec_tables_are_found_on_the_common_and_operation_pages() -> None:
    # That these are all the pages with a fault table: tests/test_spec_data.py.
    pages = {doc.page for doc in DOCUMENTED}
    assert COMMON_PAGE in pages
    assert "createscanjobrequest.md" in pages
    assert "retrieveimagerequest.md" in pages


def test_fault_table_is_complete_sorted_and_typed() -> None:
    entries = TABLE["fault"]
    documented = [entry for entry in entries if entry["source"] == "pages"]
    added = [entry for entry in entries if entry["source"] != "pages"]
    assert len(documented) >= 14
    assert entries == documented + added  # the pages' rows first, then the project's
    for rows in (documented, added):
        subcodes = [entry["subcode"] for entry in rows]
        assert subcodes == sorted(subcodes)
    subcodes = [entry["subcode"] for entry in entries]
    assert len(set(subcodes)) == len(subcodes)
    page_keys = {"code", "subcode", "reason", "detail", "operations", "pages", "source"}
    for entry in entries:
        if entry["source"] == "pages":
            assert set(entry) == page_keys, entry
        else:
            assert entry["source"] == "wsdscan", entry
            assert set(entry) - {"aliases"} == page_keys | {"note"}, entry
            assert entry["note"].strip(), entry
        assert entry["code"] in {"soap:Sender", "soap:Receiver"}, entry
        assert _PAGE_QNAME.match(entry["subcode"]), entry
        assert entry["reason"].strip() and entry["detail"].strip(), entry
        for key in ("operations", "pages"):
            assert entry[key] and entry[key] == sorted(set(entry[key])), entry
        assert set(entry["operations"]) <= set(OPERATIONS), entry
        assert all(page.endswith(".md") for page in entry["pages"]), entry
    documented_names = {e["subcode"].partition(":")[2] for e in documented}
    added_names = {e["subcode"].partition(":")[2] for e in added}
    for entry in TABLE.get("mentioned", []):
        assert set(entry) == {"name", "pages"}
        assert entry["name"] not in documented_names
        # A name the pages use without a table gets a row of the project's own.
        assert entry["name"] in added_names
        assert entry["pages"] == sorted(set(entry["pages"])) and entry["pages"]


def _clark_row(text: str) -> str:
    prefix, _, local = text.partition(":")
    return f"{{{TABLE['prefixes'][prefix]}}}{local}"


def test_generated_classes_are_the_tables_scan_rows() -> None:
    """Every row in the scan namespace is a generated class with its code, subcode,
    reason and aliases; a documented row that a project row names as an alias is
    read as that row's class; nothing else is generated."""
    superseded = {a for e in TABLE["fault"] for a in e.get("aliases", [])}
    expected = {}
    for entry in TABLE["fault"]:
        if entry["subcode"] in superseded or not entry["subcode"].startswith("wscn:"):
            continue
        expected[entry["subcode"].partition(":")[2]] = entry
    generated = {
        cls.__name__: cls
        for cls in DEFINED_CLASSES
        if cls.__module__ == scan_faults.__name__
    }
    assert set(generated) == set(expected)
    assert sorted(scan_faults.__all__) == sorted([*expected, "FAULTS"])
    for name, entry in expected.items():
        cls = generated[name]
        assert issubclass(cls, ScanFault)
        assert cls.CODE == _clark_row(entry["code"])
        assert cls.SUBCODE == _clark_row(entry["subcode"])
        assert cls.REASON == entry["reason"]
        assert cls.ALIASES == tuple(_clark_row(a) for a in entry.get("aliases", []))
        assert FAULTS.by_subcode[cls.SUBCODE] is cls
        for alias in cls.ALIASES:
            assert FAULTS.class_for_subcode(alias) is cls
    # The wsa: rows are the runtime's protocol faults.
    for entry in TABLE["fault"]:
        if entry["subcode"].startswith("wsa:"):
            cls = PROTOCOL_FAULTS.by_subcode[_clark_row(entry["subcode"])]
            assert (cls.CODE, cls.REASON) == (
                _clark_row(entry["code"]),
                entry["reason"],
            )


def test_the_runtime_raises_invalid_args_by_subcode() -> None:
    """The runtime cannot import the generated class: it raises the table's
    wscn:InvalidArgs through the ScanFault base, and a client typing the reply with
    the stubs' registry gets the generated class."""
    fault = invalid_args("body too large")
    cls = scan_faults.InvalidArgs
    assert type(fault) is ScanFault and fault.reason == "body too large"
    assert (
        (fault.code, fault.subcode)
        == (cls.CODE, cls.SUBCODE)
        == (
            SOAP_SENDER,
            INVALID_ARGS,
        )
    )
    back = _roundtrip(fault)
    assert type(back) is cls and back.reason == "body too large"
    # Without the stubs' registry a WS-Scan subcode stays a plain fault.
    data = etree.tostring(fault_to_element(fault))
    plain = PROTOCOL_FAULTS.from_element(etree.fromstring(data))
    assert type(plain) is SoapFault and plain.subcode == INVALID_ARGS


def test_fault_table_operations() -> None:
    by_local = {
        entry["subcode"].partition(":")[2]: entry
        for entry in TABLE["fault"]
        if entry["source"] == "pages"
    }
    for entry in by_local.values():
        if COMMON_PAGE in entry["pages"]:  # every operation returns the common ones
            assert entry["operations"] == sorted(OPERATIONS), entry
    # CancelJob's page lists ClientErrorJobIdNotFound without a table of its own.
    assert by_local["ClientErrorJobIdNotFound"]["operations"] == [
        "CancelJob",
        "GetJobElements",
        "RetrieveImage",
    ]
    assert by_local["ClientErrorJobIdNotFound"]["pages"] == [
        "getjobelementsrequest.md",
        "retrieveimagerequest.md",
    ]
    assert by_local["ClientErrorNoImagesAvailable"]["operations"] == [
        "CreateScanJob",
        "RetrieveImage",
    ]
    assert by_local["ServerErrorTemporaryError"]["subcode"] == (
        "wprt:ServerErrorTemporaryError"
    )
    assert {m["name"] for m in TABLE["mentioned"]} == {
        "ClientErrorDocumentFormatNotSupported"
    }


def test_same_subcode_is_documented_consistently_across_pages() -> None:
    by_local: dict[str, DocumentedFault] = {}
    for doc in DOCUMENTED:
        first = by_local.setdefault(doc.local, doc)
        assert (doc.code, doc.reason) == (first.code, first.reason), doc


@pytest.mark.parametrize("doc", DOCUMENTED, ids=lambda d: f"{d.page}:{d.local}")
def test_documented_fault_has_its_class(doc: DocumentedFault) -> None:
    cls = getattr(
        scan_faults if doc.canonical_subcode.startswith(f"{{{SCAN}}}") else faults,
        doc.local,
    )
    assert issubclass(cls, SoapFault)
    assert cls.__name__ == doc.local
    assert cls.CODE == doc.code
    assert cls.SUBCODE == doc.canonical_subcode
    assert cls.REASON == doc.reason
    assert FAULTS.by_subcode[doc.canonical_subcode] is cls
    # the subcode exactly as the page writes it resolves too (wprt: included)
    assert type(FAULTS.from_subcode(doc.code, doc.subcode)) is cls
    instance = cls()
    assert (instance.code, instance.subcode, instance.reason) == (
        doc.code,
        doc.canonical_subcode,
        doc.reason,
    )
    assert instance.http_status == (400 if doc.code.endswith("}Sender") else 500)


@pytest.mark.parametrize("name", sorted(mentioned_scan_fault_names()))
def test_every_scan_error_name_in_the_spec_has_a_class(name: str) -> None:
    cls = getattr(scan_faults, name)
    assert issubclass(cls, ScanFault)
    assert FAULTS.by_subcode[f"{{{SCAN}}}{name}"] is cls
    assert name in scan_faults.__all__


def test_registry_has_one_class_per_subcode_and_no_strays() -> None:
    for subcode, cls in FAULTS.by_subcode.items():
        assert cls.SUBCODE == subcode
        assert subcode.startswith("{")
        assert subcode.rpartition("}")[2] == cls.__name__
    assert len({cls.__name__ for cls in FAULTS.by_subcode.values()}) == len(
        FAULTS.by_subcode
    )
    with pytest.raises(TypeError):
        FAULTS.by_subcode["x"] = SoapFault  # type: ignore[index]


def test_addressing_and_soap_faults() -> None:
    assert WSA_FAULT_ACTION == "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
    for name in (
        "ActionNotSupported",
        "DestinationUnreachable",
        "InvalidMessageInformationHeader",
        "MessageInformationHeaderRequired",
    ):
        cls = FAULTS.by_subcode[f"{{{WSA}}}{name}"]
        assert cls.__name__ == name
        assert cls.CODE == f"{{{SOAP12}}}Sender"
        assert cls().http_status == 400
    for name in ("VersionMismatch", "MustUnderstand", "DataEncodingUnknown"):
        cls = FAULTS.by_code[f"{{{SOAP12}}}{name}"]
        assert cls.__name__ == name and cls.SUBCODE is None
        assert cls().http_status == 500
    assert OperationFailed.SUBCODE == f"{{{SCAN}}}OperationFailed"


# --- construction ---------------------------------------------------------------------


def test_raise_with_class_defaults_and_overrides() -> None:
    with pytest.raises(ClientErrorJobIdNotFound) as info:
        raise ClientErrorJobIdNotFound()
    assert info.value.reason == "The specified JobId was not found."
    assert info.value.detail is None
    assert "ClientErrorJobIdNotFound" in str(info.value)

    job_id = etree.Element(f"{{{SCAN}}}JobId")
    job_id.text = "7"
    fault = ClientErrorJobIdNotFound("no job 7", detail=job_id)
    assert fault.reason == "no job 7"
    assert fault.detail is not None and fault.detail.tag == f"{{{SOAP12}}}Detail"
    assert fault.detail[0].tag == f"{{{SCAN}}}JobId" and fault.detail[0].text == "7"
    assert isinstance(fault, ScanFault) and isinstance(fault, Exception)

    with pytest.raises(ValueError):
        ClientErrorJobIdNotFound(subcode=f"{{{SCAN}}}InvalidArgs")
    with pytest.raises(ValueError):
        SoapFault("x", code="soap:Sender")


def test_http_status_follows_the_code() -> None:
    assert ClientErrorNoImagesAvailable().http_status == 400
    assert ServerErrorNotAcceptingJobs().http_status == 500
    assert ClientErrorNoImagesAvailable(code=f"{{{SOAP12}}}Receiver").http_status == 500
    assert ServerFault().http_status == 500


def test_server_fault_never_leaks_exception_text() -> None:
    try:
        raise RuntimeError("secret /etc/passwd Traceback")
    except RuntimeError as exc:
        fault = ServerFault.from_exception(exc)
    data = etree.tostring(fault_to_element(fault))
    assert b"secret" not in data and b"Traceback" not in data
    assert fault.code == f"{{{SOAP12}}}Receiver" and fault.subcode is None
    assert isinstance(fault.__cause__, RuntimeError)


# --- serialization and round trip -----------------------------------------------------


def test_fault_element_shape() -> None:
    element = fault_to_element(ClientErrorJobIdNotFound("no job 1"))
    parsed = etree.fromstring(etree.tostring(element))
    ns = {"soap": SOAP12}
    assert parsed.tag == f"{{{SOAP12}}}Fault"
    (code,) = parsed.xpath("soap:Code/soap:Value", namespaces=ns)
    (subcode,) = parsed.xpath("soap:Code/soap:Subcode/soap:Value", namespaces=ns)
    (text,) = parsed.xpath("soap:Reason/soap:Text", namespaces=ns)
    assert subcode.text == "wscn:ClientErrorJobIdNotFound"
    assert subcode.nsmap["wscn"] == SCAN
    assert code.nsmap[code.text.partition(":")[0]] == SOAP12
    assert text.get(XML_LANG) == "en" and text.text == "no job 1"
    assert not parsed.xpath("soap:Detail", namespaces=ns)
    # children in SOAP 1.2 order
    assert [etree.QName(c).localname for c in parsed] == ["Code", "Reason"]

    wsa_value = fault_to_element(ActionNotSupported()).find(
        f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value"
    )
    assert wsa_value is not None and wsa_value.text == "wsa:ActionNotSupported"
    assert wsa_value.nsmap["wsa"] == WSA


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_every_class_round_trips(cls: type[SoapFault]) -> None:
    back = _roundtrip(cls())
    assert type(back) is cls
    assert (back.code, back.subcode, back.reason) == (cls.CODE, cls.SUBCODE, cls.REASON)
    assert back.detail is None

    detail = etree.Element("{urn:vendor}Info", nsmap={"v": "urn:vendor"})
    detail.text = "x & <y>"
    back = _roundtrip(cls("custom reason", detail=detail))
    assert type(back) is cls and back.reason == "custom reason"
    assert back.detail is not None
    assert back.detail[0].tag == "{urn:vendor}Info" and back.detail[0].text == "x & <y>"


def _value_qnames(data: bytes) -> list[tuple[str, str]]:
    """(namespace, local) of each Code/Subcode Value in serialized bytes, resolved
    with the prefixes declared in scope of the Value; fails on an undeclared one."""
    root = etree.fromstring(data)
    found = []
    for value in root.iter(f"{{{SOAP12}}}Value"):
        prefix, _, local = (value.text or "").strip().rpartition(":")
        namespace = value.nsmap.get(prefix or None)
        assert namespace, f"prefix {prefix!r} of {value.text!r} undeclared in {data!r}"
        found.append((namespace, local))
    return found


def test_every_defined_fault_class_is_checked() -> None:
    assert ABSTRACT_BASES <= set(DEFINED_CLASSES)
    assert set(DEFINED_CLASSES) - ABSTRACT_BASES == set(ALL_CLASSES)
    assert {cls.__name__ for cls in DEFINED_CLASSES} >= {
        "FilteringNotSupported",
        "ClientErrorJobIdNotFound",
        "ActionNotSupported",
        "VersionMismatch",
    }


@pytest.mark.parametrize("cls", DEFINED_CLASSES, ids=lambda c: c.__name__)
def test_wire_fault_qnames_are_declared_and_round_trip(cls: type[SoapFault]) -> None:
    fault = cls()
    expected = [cls.CODE, *([cls.SUBCODE] if cls.SUBCODE else [])]
    # As the server sends it (inside build_envelope's envelope), and on its own.
    wire = build_envelope(fault_to_element(fault), action=WSA_FAULT_ACTION, to="x")
    alone = etree.tostring(fault_to_element(fault))
    for data in (wire, alone):
        assert [f"{{{ns}}}{local}" for ns, local in _value_qnames(data)] == expected
        back = FAULTS.from_element(etree.fromstring(data))
        if cls in ABSTRACT_BASES:
            assert (back.code, back.subcode) == (cls.CODE, None)
        else:
            assert type(back) is cls
            assert (back.code, back.subcode) == (cls.CODE, cls.SUBCODE)


def test_eventing_subcodes_use_the_wse_prefix() -> None:
    data = build_envelope(
        fault_to_element(faults.FilteringNotSupported()), action=WSA_FAULT_ACTION
    )
    assert b"<soap:Value>wse:FilteringNotSupported</soap:Value>" in data
    assert _value_qnames(data)[1] == (WSE, "FilteringNotSupported")


def test_round_trip_inside_an_envelope_with_other_prefixes() -> None:
    envelope = etree.Element(
        f"{{{SOAP12}}}Envelope", nsmap={"env": SOAP12, "soap": "urn:not-soap"}
    )
    body = etree.SubElement(envelope, f"{{{SOAP12}}}Body")
    body.append(fault_to_element(ClientErrorNoImagesAvailable()))
    back = FAULTS.from_element(etree.fromstring(etree.tostring(envelope)))
    assert type(back) is ClientErrorNoImagesAvailable
    assert back.code == f"{{{SOAP12}}}Sender"


def test_unknown_namespace_gets_a_declared_prefix_and_round_trips() -> None:
    fault = SoapFault(
        "vendor", code=f"{{{SOAP12}}}Sender", subcode="{urn:vendor:x}Jammed"
    )
    back = _roundtrip(fault)
    assert type(back) is SoapFault
    assert back.subcode == "{urn:vendor:x}Jammed" and back.reason == "vendor"


# --- parsing what devices send --------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "subcode", "decls"),
    [
        ("s:Sender", "sca:ClientErrorJobIdNotFound", f'xmlns:sca="{SCAN}"'),
        ("s:Sender", "scan:ClientErrorJobIdNotFound", f'xmlns:scan="{SCAN}"'),
        ("s:Sender", "x1:ClientErrorJobIdNotFound", f'xmlns:x1="{SCAN}"'),
        ("s:Sender", "wscn:ClientErrorJobIdNotFound", f'xmlns:wscn="{SCAN_0601}"'),
        (
            "s:Sender",
            "wscn:ClientErrorJobIdNotFound",
            'xmlns:wscn="https://schemas.microsoft.com/windows/2006/08/wdp/scan"',
        ),
        (
            "s:Sender",
            "wscn:ClientErrorJobIdNotFound",
            'xmlns:wscn="https://schemas.microsoft.com/windows/2006/01/wdp/scan"',
        ),
    ],
)
def test_any_prefix_and_namespace_variant_resolves(
    code: str, subcode: str, decls: str
) -> None:
    fault = FAULTS.from_element(etree.fromstring(_fault_xml(code, subcode, decls)))
    assert type(fault) is ClientErrorJobIdNotFound
    assert fault.code == f"{{{SOAP12}}}Sender"
    assert fault.subcode == f"{{{SCAN}}}ClientErrorJobIdNotFound"
    assert fault.reason == "r"


def test_prefix_is_resolved_in_scope_not_by_name() -> None:
    # "wscn" bound to an unrelated namespace must NOT resolve to the scan fault.
    xml = _fault_xml("s:Sender", "wscn:ClientErrorJobIdNotFound", 'xmlns:wscn="urn:x"')
    fault = FAULTS.from_element(etree.fromstring(xml))
    assert type(fault) is SoapFault
    assert fault.subcode == "{urn:x}ClientErrorJobIdNotFound"


def test_prefix_declared_on_the_value_element_and_default_namespace() -> None:
    xml = (
        f'<soap:Fault xmlns:soap="{SOAP12}"><soap:Code><soap:Value>soap:Receiver'
        f'</soap:Value><soap:Subcode><soap:Value xmlns:q="{SCAN}">'
        " q:ServerErrorNotAcceptingJobs </soap:Value></soap:Subcode></soap:Code>"
        '<soap:Reason><soap:Text xml:lang="de">belegt</soap:Text>'
        '<soap:Text xml:lang="en-US">busy</soap:Text></soap:Reason></soap:Fault>'
    ).encode()
    fault = FAULTS.from_element(etree.fromstring(xml))
    assert type(fault) is ServerErrorNotAcceptingJobs and fault.reason == "busy"

    xml = (
        f'<soap:Fault xmlns:soap="{SOAP12}"><soap:Code><soap:Value>soap:Sender'
        f'</soap:Value><soap:Subcode><soap:Value xmlns="{SCAN}">InvalidArgs'
        "</soap:Value></soap:Subcode></soap:Code></soap:Fault>"
    ).encode()
    fault = FAULTS.from_element(etree.fromstring(xml))
    assert type(fault) is scan_faults.InvalidArgs


def test_2006_01_and_print_subcodes_map_to_the_same_class() -> None:
    for namespace in (
        SCAN_0601,
        "https://schemas.microsoft.com/windows/2006/01/wdp/scan",
    ):
        fault = FAULTS.from_subcode(
            f"{{{SOAP12}}}Sender", f"{{{namespace}}}ClientErrorNoImagesAvailable"
        )
        assert type(fault) is ClientErrorNoImagesAvailable
        assert fault.subcode == f"{{{SCAN}}}ClientErrorNoImagesAvailable"
    fault = FAULTS.from_subcode(None, f"{{{PRINT}}}ServerErrorTemporaryError")
    assert type(fault) is ServerErrorTemporaryError
    assert fault.code == f"{{{SOAP12}}}Receiver"  # class default when code is None


def test_received_code_and_reason_are_kept() -> None:
    # The documentation's own sample sends OperationFailed under Sender.
    fault = FAULTS.from_subcode(
        f"{{{SOAP12}}}Sender", f"{{{SCAN}}}OperationFailed", "x"
    )
    assert type(fault) is OperationFailed
    assert fault.code == f"{{{SOAP12}}}Sender" and fault.http_status == 400
    assert fault.reason == "x"


def test_unknown_subcode_gives_plain_soap_fault() -> None:
    xml = _fault_xml("s:Receiver", "sca:VendorPaperJam", f'xmlns:sca="{SCAN}"', "jam")
    fault = FAULTS.from_element(etree.fromstring(xml))
    assert type(fault) is SoapFault
    assert fault.code == f"{{{SOAP12}}}Receiver"
    assert fault.subcode == f"{{{SCAN}}}VendorPaperJam"
    assert fault.reason == "jam" and fault.http_status == 500
    assert type(FAULTS.from_subcode(f"{{{SOAP12}}}Sender", None, "x")) is SoapFault
    generic = FAULTS.from_subcode(f"{{{SOAP12}}}Receiver", None, "boom")
    assert type(generic) is ServerFault and generic.reason == "boom"
    assert type(FAULTS.from_subcode(f"{{{SOAP12}}}VersionMismatch", None)) is (
        VersionMismatch
    )


def test_nested_subcode_most_specific_known_wins() -> None:
    xml = (
        f'<s:Fault xmlns:s="{SOAP12}" xmlns:sca="{SCAN}" xmlns:v="urn:v">'
        "<s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>v:Outer</s:Value>"
        "<s:Subcode><s:Value>sca:ClientErrorJobCancelled</s:Value></s:Subcode>"
        "</s:Subcode></s:Code><s:Reason><s:Text>c</s:Text></s:Reason></s:Fault>"
    ).encode()
    assert type(FAULTS.from_element(etree.fromstring(xml))) is (
        scan_faults.ClientErrorJobCancelled
    )


def test_undeclared_prefixes_in_the_documentation_sample() -> None:
    page = page_xml("wsd-scan-service-operation-error-reporting.md")
    sample = [block for block in page if "env:" in block]
    assert len(sample) == 1
    # The sample binds xml: to a wrong URI, which is not well-formed: recover.
    root = etree.fromstring(sample[0].encode(), etree.XMLParser(recover=True))
    fault = FAULTS.from_element(root)
    assert type(fault) is OperationFailed
    assert fault.code == f"{{{SOAP12}}}Sender"  # env: undeclared, as on the page
    assert fault.reason == "Service cannot perform the requested operation"


def test_soap11_faults_are_tolerated() -> None:
    def soap11(faultcode: str, extra: str = "") -> etree._Element:
        xml = (
            f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP11}" xmlns:sca="{SCAN}">'
            f"<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>{faultcode}</faultcode>"
            f"<faultstring>text here</faultstring>{extra}</SOAP-ENV:Fault>"
            "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
        )
        return etree.fromstring(xml.encode())

    client = FAULTS.from_element(soap11("SOAP-ENV:Client"))
    assert type(client) is SoapFault
    assert client.code == f"{{{SOAP12}}}Sender" and client.http_status == 400
    assert client.reason == "text here" and client.subcode is None

    server = FAULTS.from_element(soap11("SOAP-ENV:Server.Busy"))
    assert server.code == f"{{{SOAP12}}}Receiver" and server.http_status == 500

    assert type(FAULTS.from_element(soap11("SOAP-ENV:VersionMismatch"))) is (
        VersionMismatch
    )

    typed = FAULTS.from_element(
        soap11(
            "sca:ClientErrorNoImagesAvailable",
            "<detail><sca:JobId>3</sca:JobId></detail>",
        )
    )
    assert type(typed) is ClientErrorNoImagesAvailable
    assert typed.code == f"{{{SOAP12}}}Sender" and typed.reason == "text here"
    assert typed.detail is not None and typed.detail[0].text == "3"


def test_not_a_fault_is_rejected() -> None:
    with pytest.raises(ValueError):
        FAULTS.from_element(etree.fromstring(f'<s:Body xmlns:s="{SOAP12}"/>'))


def _corpus_faults() -> list[Path]:
    return sorted(
        path
        for path in CORPUS_DIR.rglob("*.response.http")
        if b"addressing/fault" in path.read_bytes()
    )


def test_recorded_device_faults_are_in_the_project() -> None:
    scenarios = {path.parent.name for path in _corpus_faults()}
    assert len(_corpus_faults()) >= 8
    assert {"create-fault-not-accepting-jobs", "adf-empty-accepted-job"} <= scenarios


@pytest.mark.parametrize("path", _corpus_faults(), ids=lambda p: p.parent.name)
def test_recorded_device_faults_parse_to_typed_classes(path: Path) -> None:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b"\r\n", 1)[0].split()[1])
    fault = FAULTS.from_element(etree.fromstring(body))
    assert type(fault) is not SoapFault
    assert isinstance(fault, ScanFault)
    assert fault.http_status == status


@pytest.mark.parametrize(
    "namespace",
    [
        "http://schemas.xmlsoap.org/ws/2003/03/addressing",
        "http://www.w3.org/2005/08/addressing",
        "https://schemas.xmlsoap.org/ws/2004/08/addressing",
    ],
)
def test_other_addressing_spellings_map_to_the_2004_08_class(namespace: str) -> None:
    xml = _fault_xml("s:Sender", "a:ActionNotSupported", f'xmlns:a="{namespace}"')
    fault = FAULTS.from_element(etree.fromstring(xml))
    assert type(fault) is ActionNotSupported
    assert fault.subcode == f"{{{WSA}}}ActionNotSupported"


def test_action_not_supported_carries_the_action_in_the_detail() -> None:
    back = _roundtrip(ActionNotSupported.for_action("urn:example:Nope"))
    assert type(back) is ActionNotSupported
    assert back.detail is not None
    assert back.detail[0].tag == f"{{{WSA}}}Action"
    assert back.detail[0].text == "urn:example:Nope"

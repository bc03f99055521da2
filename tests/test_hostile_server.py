"""Hostile requests against ``wsdscan serve`` (a real subprocess on 127.0.0.1).

Every request below is answered with the right SOAP fault and HTTP status, never with a
traceback; the server keeps serving (checked after every test) and the job table is
what it should be (no job created, leaked or lost). The XML parser never resolves an
entity and never touches the network: a listener we run sees no connection and a local
file's content never comes back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import httpx
import pytest
from interop_support import ServedScanner
from job_support import scan_ticket
from lxml import etree
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models.scan import (
    CreateScanJobRequest,
    CreateScanJobResponse,
    DocumentDescription,
    RequestedElements,
    ScanTicket,
)
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.generated.stubs.faults import FAULTS
from wsdscan.runtime import soap
from wsdscan.runtime.soap import SoapFault
from wsdscan.runtime.soap.envelope import build_envelope, parse_envelope
from wsdscan.runtime.transport import HttpTransport
from wsdscan.runtime.xmlbind import SOAP_ENV, WSA, to_string

SCAN = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_BODY = 256 * 1024
READ_TIMEOUT = 1.0
SERVE_ARGS = [
    "--max-body",
    str(MAX_BODY),
    "--read-timeout",
    str(READ_TIMEOUT),
    "--scan-delay",
    "0.4",
    "--adf-sheets",
    "50",
]
SOAP_TYPE = "application/soap+xml; charset=utf-8"
_DOC = DocumentDescription(document_name="page.png")


@pytest.fixture(scope="module")
def served() -> Iterator[ServedScanner]:
    with ServedScanner(SERVE_ARGS) as srv:
        yield srv


@pytest.fixture
def url(served: ServedScanner) -> str:
    return served.url


@pytest.fixture
async def client(url: str) -> AsyncIterator[ScannerServiceClient]:
    async with HttpTransport(url, timeout=httpx.Timeout(20.0)) as transport:
        yield ScannerServiceClient(transport)


@pytest.fixture(autouse=True)
async def still_serving(served: ServedScanner) -> AsyncIterator[None]:
    """After every test: the server is alive, answers a normal request, and has no
    active job left (each test ends its jobs)."""
    yield
    assert served.alive(), served.log_tail()
    async with HttpTransport(served.url) as transport:
        stub = ScannerServiceClient(transport)
        status = await stub.get_scanner_elements(
            requested_elements=RequestedElements(name=[_scan_qname("ScannerStatus")])
        )
        assert status.scanner_elements.element_data[0].valid is True
        active = await stub.get_active_jobs()
        assert active.active_jobs.job_summary == [], "a test leaked an active job"


def _scan_qname(local: str) -> object:
    from xml.etree.ElementTree import QName

    return QName(SCAN, local)


# -- request builders -------------------------------------------------------------------


def envelope(
    body: str,
    *,
    action: str | None = f"{SCAN}/GetActiveJobs",
    soap_ns: str = SOAP_ENV,
    prolog: str = '<?xml version="1.0" encoding="UTF-8"?>',
    extra_header: str = "",
) -> bytes:
    action_xml = f"<wsa:Action>{action}</wsa:Action>" if action is not None else ""
    return (
        f'{prolog}<soap:Envelope xmlns:soap="{soap_ns}" xmlns:wsa="{WSA}" '
        f'xmlns:wscn="{SCAN}"><soap:Header>'
        f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:To>http://127.0.0.1/WSDScanner</wsa:To>{action_xml}{extra_header}"
        f"</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


GET_ACTIVE = "<wscn:GetActiveJobsRequest/>"


async def post(
    url: str, content: bytes, content_type: str | None = SOAP_TYPE
) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    async with httpx.AsyncClient(timeout=20.0) as http:
        return await http.post(url, content=content, headers=headers)


def read_fault(response: httpx.Response) -> SoapFault:
    """The response must be a SOAP 1.2 fault envelope without any traceback."""
    assert b"Traceback" not in response.content
    assert b'File "' not in response.content
    assert response.headers["content-type"].startswith("application/soap+xml")
    parsed = parse_envelope(response.content)
    assert parsed.body is not None and parsed.body.tag == f"{{{SOAP_ENV}}}Fault"
    assert parsed.addressing.action == soap.WSA_FAULT_ACTION
    return FAULTS.from_element(parsed.body)


def expect_fault(
    response: httpx.Response, status: int, fault_class: type[SoapFault]
) -> SoapFault:
    assert response.status_code == status, response.text[:500]
    fault = read_fault(response)
    assert type(fault) is fault_class, repr(fault)
    return fault


# -- XML: entities, DTDs, depth, size, encoding ------------------------------------------


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    watcher = Listener()
    yield watcher
    watcher.close()


def _entity_requests(port: int, secret_file: Path) -> dict[str, bytes]:
    http = f"http://127.0.0.1:{port}"
    file_url = secret_file.as_uri()
    name = "<wscn:Name>wscn:{}</wscn:Name>"
    get_elements = (
        "<wscn:GetScannerElementsRequest><wscn:RequestedElements>"
        + name.format("&x;")
        + "</wscn:RequestedElements></wscn:GetScannerElementsRequest>"
    )
    action = f"{SCAN}/GetScannerElements"
    dtd = '<?xml version="1.0"?><!DOCTYPE soap:Envelope [{}]>'
    lol = "".join(
        f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">'
        for i in range(1, 10)
    )
    return {
        "general external entity (http)": envelope(
            get_elements,
            action=action,
            prolog=dtd.format(f'<!ENTITY x SYSTEM "{http}/general">'),
        ),
        "general external entity (file)": envelope(
            get_elements,
            action=action,
            prolog=dtd.format(f'<!ENTITY x SYSTEM "{file_url}">'),
        ),
        "parameter entity (http)": envelope(
            GET_ACTIVE,
            prolog=dtd.format(f'<!ENTITY % p SYSTEM "{http}/parameter"> %p;'),
        ),
        "parameter entity (file)": envelope(
            GET_ACTIVE,
            prolog=dtd.format(f'<!ENTITY % p SYSTEM "{file_url}"> %p;'),
        ),
        "external DTD subset": envelope(
            GET_ACTIVE,
            prolog=f'<?xml version="1.0"?><!DOCTYPE soap:Envelope SYSTEM "{http}/dtd">',
        ),
        "entity expansion bomb": envelope(
            get_elements.replace("&x;", "&l9;"),
            action=action,
            prolog=dtd.format('<!ENTITY l0 "lol">' + lol),
        ),
        "quadratic blowup": envelope(
            get_elements.replace("&x;", "&big;" * 2000),
            action=action,
            prolog=dtd.format(f'<!ENTITY big "{"A" * 50_000}">'),
        ),
        "harmless internal DTD": envelope(
            GET_ACTIVE, prolog=dtd.format('<!ENTITY ok "ok">')
        ),
        "bare DOCTYPE": envelope(
            GET_ACTIVE, prolog='<?xml version="1.0"?><!DOCTYPE soap:Envelope>'
        ),
    }


async def test_no_entity_is_resolved_and_no_network_is_touched(
    url: str, listener: Listener, tmp_path: Path
) -> None:
    secret = f"SECRET-{uuid.uuid4()}"
    secret_file = tmp_path / "secret.xml"
    secret_file.write_text(secret)
    for label, request in _entity_requests(listener.port, secret_file).items():
        started = time.monotonic()
        response = await post(url, request)
        fault = expect_fault(response, 400, scan_faults.InvalidArgs)
        assert "DTD" in fault.reason, (label, fault.reason)
        assert secret.encode() not in response.content, label
        assert time.monotonic() - started < 5, f"{label} took too long"
    await asyncio.sleep(0.3)
    assert listener.connections == 0, "the XML parser connected to the network"
    # The listener does see connections (so the zero above means something).
    with socket.create_connection(("127.0.0.1", listener.port), timeout=2):
        pass
    for _ in range(50):
        if listener.connections:
            break
        await asyncio.sleep(0.02)
    assert listener.connections == 1


async def test_undeclared_entity_reference_is_refused(url: str) -> None:
    response = await post(
        url, envelope("<wscn:GetActiveJobsRequest>&x;</wscn:GetActiveJobsRequest>")
    )
    fault = expect_fault(response, 400, scan_faults.InvalidArgs)
    assert "not well-formed" in fault.reason


@pytest.mark.parametrize("depth", [65, 5_000, 12_000])
async def test_deep_nesting_is_refused(url: str, depth: int) -> None:
    body = "<wscn:X>" * depth + "</wscn:X>" * depth
    response = await post(url, envelope(body))
    fault = expect_fault(response, 400, scan_faults.InvalidArgs)
    assert "nested deeper than 64" in fault.reason


async def test_moderate_nesting_is_not_refused_for_depth(url: str) -> None:
    """The depth limit leaves room for real messages (unknown elements are ignored)."""
    body = "<wscn:GetActiveJobsRequest>" + "<v:X xmlns:v='urn:v'>" * 40
    body += "</v:X>" * 40 + "</wscn:GetActiveJobsRequest>"
    response = await post(url, envelope(body))
    assert response.status_code == 200, response.text[:300]


@pytest.mark.parametrize("declared", [True, False])
async def test_body_over_the_limit_is_413(url: str, declared: bool) -> None:
    big = envelope(
        "<wscn:GetActiveJobsRequest>"
        + "<v:Pad xmlns:v='urn:v'>"
        + "A" * (MAX_BODY + 10)
        + "</v:Pad>"
        + "</wscn:GetActiveJobsRequest>"
    )

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 16384):
            yield big[start : start + 16384]

    async with httpx.AsyncClient(timeout=20.0) as http:
        response = await http.post(
            url,
            content=big if declared else chunked(),
            headers={"Content-Type": SOAP_TYPE},
        )
    fault = expect_fault(response, 413, scan_faults.InvalidArgs)
    assert str(MAX_BODY) in fault.reason
    assert response.headers.get("connection") == "close"


async def test_body_just_under_the_limit_is_served(url: str) -> None:
    request = envelope(
        "<wscn:GetActiveJobsRequest><v:Pad xmlns:v='urn:v'>"
        + "A" * (MAX_BODY - 1000)
        + "</v:Pad></wscn:GetActiveJobsRequest>"
    )
    assert len(request) <= MAX_BODY
    response = await post(url, request)
    assert response.status_code == 200


async def test_huge_text_node_is_refused() -> None:
    """A text node over 10 MB (libxml2's cap, here below a raised body limit)."""
    with ServedScanner(["--max-body", str(32 * 1024 * 1024)]) as big:
        request = envelope(
            "<wscn:GetActiveJobsRequest><v:Pad xmlns:v='urn:v'>"
            + "A" * 11_000_000
            + "</v:Pad></wscn:GetActiveJobsRequest>"
        )
        response = await post(big.url, request)
        fault = expect_fault(response, 400, scan_faults.InvalidArgs)
        assert "text node over" in fault.reason
        ok = await post(big.url, envelope(GET_ACTIVE))
        assert ok.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        "<wscn:JobName>Caf\xe9</wscn:JobName>".encode("latin-1"),
        b"\xff\xfe\xfd",
        b"\xc3\x28",
        b"\xed\xa0\x80",  # an encoded UTF-16 surrogate
        b"\x00",
    ],
)
async def test_bytes_that_are_not_utf8_are_refused(url: str, raw: bytes) -> None:
    request = envelope(GET_ACTIVE).replace(
        b"<wscn:GetActiveJobsRequest/>",
        b"<wscn:GetActiveJobsRequest>" + raw + b"</wscn:GetActiveJobsRequest>",
    )
    fault = expect_fault(await post(url, request), 400, scan_faults.InvalidArgs)
    assert "not well-formed" in fault.reason


# -- HTTP and SOAP framing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/json", "image/png", "garbage"]
)
async def test_wrong_content_type_is_refused(
    url: str, content_type: str | None
) -> None:
    response = await post(url, envelope(GET_ACTIVE), content_type)
    fault = expect_fault(response, 400, scan_faults.InvalidArgs)
    assert "Content-Type" in fault.reason
    assert response.headers.get("connection") == "close"


@pytest.mark.parametrize("content_type", ["text/xml", "application/soap+xml"])
async def test_accepted_content_types(url: str, content_type: str) -> None:
    response = await post(url, envelope(GET_ACTIVE), content_type)
    assert response.status_code == 200
    assert b"GetActiveJobsResponse" in response.content


async def test_unknown_action_is_action_not_supported(url: str) -> None:
    request = envelope(GET_ACTIVE, action=f"{SCAN}/FormatHardDisk")
    fault = expect_fault(await post(url, request), 400, soap.ActionNotSupported)
    assert "FormatHardDisk" in fault.reason or fault.detail is not None


async def test_missing_action_with_an_unknown_body(url: str) -> None:
    request = envelope("<wscn:FormatHardDiskRequest/>", action=None)
    expect_fault(await post(url, request), 400, soap.ActionNotSupported)


async def test_missing_action_with_a_known_body_is_served(url: str) -> None:
    """Lenient on receipt: the Body element names the operation."""
    response = await post(url, envelope(GET_ACTIVE, action=None))
    assert response.status_code == 200
    assert b"GetActiveJobsResponse" in response.content


async def test_empty_action_with_empty_body(url: str) -> None:
    request = envelope("", action="")
    expect_fault(await post(url, request), 400, soap.ActionNotSupported)


async def test_wrong_soap_version_is_version_mismatch(url: str) -> None:
    request = envelope(GET_ACTIVE, soap_ns="http://example.com/not-soap")
    fault = expect_fault(await post(url, request), 500, soap.VersionMismatch)
    assert "not-soap" in fault.reason


async def test_soap11_envelope_is_served(url: str) -> None:
    response = await post(url, envelope(GET_ACTIVE, soap_ns=SOAP11), "text/xml")
    assert response.status_code == 200


async def test_unknown_must_understand_header(url: str) -> None:
    request = envelope(
        GET_ACTIVE,
        extra_header='<v:Tx xmlns:v="urn:v" soap:mustUnderstand="true">1</v:Tx>',
    )
    expect_fault(await post(url, request), 500, soap.MustUnderstand)


MALFORMED = {
    "empty": b"",
    "not xml": b"hello",
    "truncated": envelope(GET_ACTIVE)[:-30],
    "no envelope": b"<wscn:GetActiveJobsRequest xmlns:wscn='%s'/>" % SCAN.encode(),
    "no body": envelope(GET_ACTIVE)
    .replace(b"<soap:Body>", b"<soap:Bogus>")
    .replace(b"</soap:Body>", b"</soap:Bogus>"),
    "two roots": envelope(GET_ACTIVE) + b"<again/>",
    "unbound prefix": envelope("<nope:GetActiveJobsRequest/>"),
    "mismatched tags": envelope("<wscn:GetActiveJobsRequest></wscn:Other>"),
    "bad attribute": envelope("<wscn:GetActiveJobsRequest a='1' a='2'/>"),
    "wrong body for the action": envelope(
        "<wscn:CancelJobRequest><wscn:JobId>1</wscn:JobId></wscn:CancelJobRequest>"
    ),
    "unbindable field": envelope(
        "<wscn:CreateScanJobRequest><wscn:ScanTicket>text</wscn:ScanTicket>"
        "</wscn:CreateScanJobRequest>",
        action=f"{SCAN}/CreateScanJob",
    ),
    "missing required field": envelope(
        "<wscn:RetrieveImageRequest><wscn:JobId>1</wscn:JobId></wscn:RetrieveImageRequest>",
        action=f"{SCAN}/RetrieveImage",
    ),
}


@pytest.mark.parametrize("label", sorted(MALFORMED))
async def test_malformed_envelopes_are_invalid_args(url: str, label: str) -> None:
    response = await post(url, MALFORMED[label])
    expect_fault(response, 400, scan_faults.InvalidArgs)


async def test_job_id_that_is_not_a_number(url: str) -> None:
    request = envelope(
        "<wscn:CancelJobRequest><wscn:JobId>one</wscn:JobId></wscn:CancelJobRequest>",
        action=f"{SCAN}/CancelJob",
    )
    fault = expect_fault(await post(url, request), 400, scan_faults.InvalidArgs)
    assert "CancelJobRequest.job_id" in fault.reason and "`one`" in fault.reason


async def test_requested_name_that_is_not_a_qname(url: str) -> None:
    """An unbound prefix in a QName value is read leniently, never a crash."""
    request = envelope(
        "<wscn:GetScannerElementsRequest><wscn:RequestedElements>"
        "<wscn:Name>nope:ScannerStatus</wscn:Name><wscn:Name>a:b:c</wscn:Name>"
        "</wscn:RequestedElements></wscn:GetScannerElementsRequest>",
        action=f"{SCAN}/GetScannerElements",
    )
    response = await post(url, request)
    assert response.status_code == 200, response.text[:300]
    assert b"ScannerState" in response.content


async def test_not_post_and_wrong_path(url: str) -> None:
    async with httpx.AsyncClient() as http:
        got = await http.get(url)
        elsewhere = await http.post(url + "/../../etc/passwd", content=b"x")
    assert got.status_code == 405
    assert elsewhere.status_code == 404
    assert b"Traceback" not in got.content + elsewhere.content


# -- MTOM requests ----------------------------------------------------------------------


def multipart(
    parts: list[tuple[dict[str, str], bytes]], boundary: str, *, close: bool = True
) -> bytes:
    out = b""
    for headers, body in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
        out += b"\r\n" + body + b"\r\n"
    if close:
        out += b"--" + boundary.encode() + b"--\r\n"
    return out


ROOT_HEADERS = {
    "Content-Type": 'application/xop+xml; charset=UTF-8; type="application/soap+xml"',
    "Content-ID": "<root@x>",
}


def mtom_type(boundary: str, start: str = "<root@x>") -> str:
    return (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="{start}"; start-info="application/soap+xml"'
    )


def _xop_get_elements(href: str) -> bytes:
    body = (
        "<wscn:GetScannerElementsRequest><wscn:RequestedElements><wscn:Name>"
        f'<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="{href}"/>'
        "</wscn:Name></wscn:RequestedElements></wscn:GetScannerElementsRequest>"
    )
    return envelope(body, action=f"{SCAN}/GetScannerElements")


async def test_valid_mtom_request_is_served(url: str) -> None:
    """XOP decoded: the Include is replaced by the (base64 of the) part it names."""
    body = multipart(
        [
            (ROOT_HEADERS, envelope(GET_ACTIVE)),
        ],
        "b1",
    )
    response = await post(url, body, mtom_type("b1"))
    assert response.status_code == 200, response.text[:300]
    assert b"GetActiveJobsResponse" in response.content


async def test_mtom_include_of_a_present_part_is_inlined(url: str) -> None:
    body = multipart(
        [
            (ROOT_HEADERS, _xop_get_elements("cid:name@x")),
            ({"Content-Type": "text/plain", "Content-ID": "<name@x>"}, b"anything"),
        ],
        "b2",
    )
    response = await post(url, body, mtom_type("b2"))
    # The Name's text is base64 of "anything": not a known element, so Valid=false.
    assert response.status_code == 200, response.text[:300]
    assert b'Valid="false"' in response.content or b"Valid>false" in response.content


MTOM_BAD = {
    "boundary not in the body": (
        lambda: multipart([(ROOT_HEADERS, envelope(GET_ACTIVE))], "real"),
        mtom_type("other"),
    ),
    "no boundary parameter": (
        lambda: multipart([(ROOT_HEADERS, envelope(GET_ACTIVE))], "b"),
        'multipart/related; type="application/xop+xml"',
    ),
    "no closing boundary": (
        lambda: multipart([(ROOT_HEADERS, envelope(GET_ACTIVE))], "b", close=False),
        mtom_type("b"),
    ),
    "start names a missing part": (
        lambda: multipart([(ROOT_HEADERS, envelope(GET_ACTIVE))], "b"),
        mtom_type("b", start="<elsewhere@x>"),
    ),
    "include names a missing part": (
        lambda: multipart([(ROOT_HEADERS, _xop_get_elements("cid:gone@x"))], "b"),
        mtom_type("b"),
    ),
    "root part is not XML": (
        lambda: multipart(
            [({"Content-Type": "image/png", "Content-ID": "<root@x>"}, b"\x89PNG")],
            "b",
        ),
        mtom_type("b"),
    ),
    "root part is not an envelope": (
        lambda: multipart([(ROOT_HEADERS, b"<notsoap/>")], "b"),
        mtom_type("b"),
    ),
    "empty body": (lambda: b"", mtom_type("b")),
    "headers never end": (
        lambda: b"--b\r\nContent-Type: text/xml\r\n" + b"X: y\r\n" * 5000,
        mtom_type("b"),
    ),
}


@pytest.mark.parametrize("label", sorted(MTOM_BAD))
async def test_bad_mtom_requests_are_invalid_args(url: str, label: str) -> None:
    make, content_type = MTOM_BAD[label]
    response = await post(url, make(), content_type)
    expect_fault(response, 400, scan_faults.InvalidArgs)


_CONTROL_CHARACTER_REQUESTS = {
    "part Content-Type with a NUL": (
        lambda: multipart(
            [
                (
                    {**ROOT_HEADERS, "Content-Type": "\x00application/xop+xml"},
                    envelope(GET_ACTIVE),
                )
            ],
            "b",
        ),
        mtom_type("b"),
    ),
    "start naming %00": (
        lambda: multipart([(ROOT_HEADERS, envelope(GET_ACTIVE))], "b"),
        mtom_type("b", start="<%00>"),
    ),
    "xop:Include href cid:%01": (
        lambda: multipart([(ROOT_HEADERS, _xop_get_elements("cid:%01"))], "b"),
        mtom_type("b"),
    ),
}


async def test_fault_reason_with_control_characters() -> None:
    with ServedScanner() as own:  # its own server: the bug prints a traceback
        for label, (make, content_type) in _CONTROL_CHARACTER_REQUESTS.items():
            response = await post(own.url, make(), content_type)
            assert response.status_code == 400, (label, response.text[:200])
            fault = expect_fault(response, 400, scan_faults.InvalidArgs)
            assert "\x00" not in fault.reason and "\x01" not in fault.reason


# -- jobs: tokens, ids, races, busy ------------------------------------------------------


async def _create(client: ScannerServiceClient) -> CreateScanJobResponse:
    return await client.create_scan_job(
        scan_ticket=await scan_ticket(client, color="Grayscale8")
    )


async def _retrieve_all(
    client: ScannerServiceClient, job: CreateScanJobResponse
) -> bytes:
    image = await client.retrieve_image(
        job_id=job.job_id, job_token=job.job_token, document_description=_DOC
    )
    return await image.read()


async def _history_state(client: ScannerServiceClient, job_id: int) -> str:
    history = await client.get_job_history()
    for summary in history.job_history.job_summary:
        if summary.job_id == job_id:
            state = summary.job_state
            return str(getattr(state, "value", state))
    raise AssertionError(f"job {job_id} is not in the history")


async def _active_ids(client: ScannerServiceClient) -> list[int]:
    active = await client.get_active_jobs()
    return [s.job_id for s in active.active_jobs.job_summary]


def wire_fault(
    response: httpx.Response, fault_class: type[SoapFault]
) -> etree._Element:
    """The raw fault as sent: HTTP status as the runtime maps the code (Sender 400,
    Receiver 500), code and subcode QNames resolved from the wire prefixes, no
    traceback. Returns the soap:Fault element."""
    expected_status = 400 if fault_class.CODE == soap.SOAP_SENDER else 500
    assert response.status_code == expected_status, response.text[:500]
    expect_fault(response, expected_status, fault_class)
    assert not TRACEBACK.search(response.content), response.text[:500]
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    code = fault.find(f"{{{SOAP_ENV}}}Code/{{{SOAP_ENV}}}Value")
    subcode = fault.find(
        f"{{{SOAP_ENV}}}Code/{{{SOAP_ENV}}}Subcode/{{{SOAP_ENV}}}Value"
    )
    assert code is not None and subcode is not None
    assert _wire_qname(code) == fault_class.CODE
    assert _wire_qname(subcode) == fault_class.SUBCODE
    return fault


TRACEBACK = re.compile(rb'Traceback|File "|\.py", line \d|Error\(|Exception:')


def _wire_qname(element: etree._Element) -> str:
    prefix, _, local = (element.text or "").strip().rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    assert namespace, f"unbound prefix in {element.text!r}"
    return f"{{{namespace}}}{local}"


def raw_retrieve(job_id: int | str, token: str) -> bytes:
    return envelope(
        f"<wscn:RetrieveImageRequest><wscn:JobId>{job_id}</wscn:JobId>"
        f"<wscn:JobToken>{xml_escape(token)}</wscn:JobToken>"
        "<wscn:DocumentDescription><wscn:DocumentName>page.png</wscn:DocumentName>"
        "</wscn:DocumentDescription></wscn:RetrieveImageRequest>",
        action=f"{SCAN}/RetrieveImage",
    )


def raw_cancel(job_id: int | str) -> bytes:
    return envelope(
        f"<wscn:CancelJobRequest><wscn:JobId>{job_id}</wscn:JobId>"
        "</wscn:CancelJobRequest>",
        action=f"{SCAN}/CancelJob",
    )


def raw_job_elements(job_id: int | str) -> bytes:
    return envelope(
        f"<wscn:GetJobElementsRequest><wscn:JobId>{job_id}</wscn:JobId>"
        "<wscn:RequestedElements><wscn:Name>wscn:JobStatus</wscn:Name>"
        "</wscn:RequestedElements></wscn:GetJobElementsRequest>",
        action=f"{SCAN}/GetJobElements",
    )


async def _history_ids(client: ScannerServiceClient) -> list[int]:
    history = await client.get_job_history()
    return [s.job_id for s in history.job_history.job_summary]


async def test_job_token_of_another_job(client: ScannerServiceClient, url: str) -> None:
    first = await _create(client)
    assert (await _retrieve_all(client, first)).startswith(b"\x89PNG")
    second = await _create(client)
    try:
        with pytest.raises(scan_faults.ClientErrorInvalidJobToken):
            await client.retrieve_image(
                job_id=second.job_id,
                job_token=first.job_token,
                document_description=_DOC,
            )
        tokens = ("", "x" * 10_000, second.job_token + "x", second.job_token[:-1])
        for token in tokens:
            with pytest.raises(scan_faults.ClientErrorInvalidJobToken):
                await client.retrieve_image(
                    job_id=second.job_id, job_token=token, document_description=_DOC
                )
        # The same on the wire: status, subcode QName, no traceback.
        for token in (first.job_token, *tokens, "<&>'\""):
            response = await post(url, raw_retrieve(second.job_id, token))
            wire_fault(response, scan_faults.ClientErrorInvalidJobToken)
        # The wrong tokens changed nothing: the owner still gets its image.
        assert await _active_ids(client) == [second.job_id]
        assert await _history_state(client, first.job_id) == "Completed"
        assert second.job_id not in await _history_ids(client)
        assert (await _retrieve_all(client, second)).startswith(b"\x89PNG")
    finally:
        if second.job_id in await _active_ids(client):
            await client.cancel_job(job_id=second.job_id)
    assert await _history_state(client, second.job_id) == "Completed"


@pytest.mark.parametrize("job_id", [987_654, 0, -1, 2**31 - 1])
async def test_job_id_that_never_existed(
    client: ScannerServiceClient, url: str, job_id: int
) -> None:
    history_before = await _history_ids(client)
    with pytest.raises(scan_faults.ClientErrorJobIdNotFound):
        await client.retrieve_image(
            job_id=job_id, job_token="x", document_description=_DOC
        )
    with pytest.raises(scan_faults.ClientErrorJobIdNotFound):
        await client.cancel_job(job_id=job_id)
    with pytest.raises(scan_faults.ClientErrorJobIdNotFound):
        await client.get_job_elements(
            job_id=job_id,
            requested_elements=RequestedElements(name=[_scan_qname("JobStatus")]),
        )
    for request in (raw_retrieve(job_id, "x"), raw_cancel(job_id)):
        wire_fault(await post(url, request), scan_faults.ClientErrorJobIdNotFound)
    wire_fault(
        await post(url, raw_job_elements(job_id)), scan_faults.ClientErrorJobIdNotFound
    )
    # Nothing was created or ended by the faults.
    assert await _active_ids(client) == []
    assert await _history_ids(client) == history_before


async def test_job_that_already_ended(client: ScannerServiceClient, url: str) -> None:
    done = await _create(client)
    await _retrieve_all(client, done)
    assert await _history_state(client, done.job_id) == "Completed"
    with pytest.raises(scan_faults.ClientErrorJobIdNotFound):
        await client.retrieve_image(
            job_id=done.job_id, job_token=done.job_token, document_description=_DOC
        )
    with pytest.raises(scan_faults.ClientErrorJobIdNotFound):
        await client.cancel_job(job_id=done.job_id)
    response = await post(url, raw_retrieve(done.job_id, done.job_token))
    wire_fault(response, scan_faults.ClientErrorJobIdNotFound)
    wire_fault(
        await post(url, raw_cancel(done.job_id)), scan_faults.ClientErrorJobIdNotFound
    )

    cancelled = await _create(client)
    await client.cancel_job(job_id=cancelled.job_id)
    with pytest.raises(scan_faults.ClientErrorJobCancelled):
        await client.retrieve_image(
            job_id=cancelled.job_id,
            job_token=cancelled.job_token,
            document_description=_DOC,
        )
    with pytest.raises(scan_faults.ClientErrorJobIdNotFound):
        await client.cancel_job(job_id=cancelled.job_id)
    response = await post(url, raw_retrieve(cancelled.job_id, cancelled.job_token))
    wire_fault(response, scan_faults.ClientErrorJobCancelled)
    response = await post(url, raw_cancel(cancelled.job_id))
    wire_fault(response, scan_faults.ClientErrorJobIdNotFound)
    # An ended job still answers GetJobElements (it is in the history).
    response = await post(url, raw_job_elements(cancelled.job_id))
    assert response.status_code == 200, response.text[:300]
    assert b"Canceled" in response.content
    assert await _active_ids(client) == []
    assert await _history_state(client, cancelled.job_id) == "Canceled"
    assert await _history_state(client, done.job_id) == "Completed"


async def test_cancel_job_racing_retrieve_image(
    client: ScannerServiceClient, url: str
) -> None:
    """Cancel while the image is being produced (scan delay 0.4 s): the retrieval gets
    ClientErrorJobCancelled, the job ends Canceled, nothing stays active."""
    job = await _create(client)
    retrieval = asyncio.create_task(_retrieve_all(client, job))
    await asyncio.sleep(0.15)
    assert not retrieval.done()
    await client.cancel_job(job_id=job.job_id)
    with pytest.raises(scan_faults.ClientErrorJobCancelled):
        await retrieval
    assert await _active_ids(client) == []
    assert await _history_state(client, job.job_id) == "Canceled"


async def test_cancel_job_racing_retrieve_image_on_the_wire(
    client: ScannerServiceClient, url: str
) -> None:
    """The same race with raw requests: CancelJob answers 200 while the RetrieveImage
    is pending, which then answers 400 ClientErrorJobCancelled (not a broken MTOM
    stream); the table agrees."""
    job = await _create(client)
    retrieval = asyncio.create_task(post(url, raw_retrieve(job.job_id, job.job_token)))
    await asyncio.sleep(0.15)
    assert not retrieval.done()
    cancelled = await post(url, raw_cancel(job.job_id))
    assert cancelled.status_code == 200, cancelled.text[:300]
    assert b"CancelJobResponse" in cancelled.content
    wire_fault(await retrieval, scan_faults.ClientErrorJobCancelled)
    assert await _active_ids(client) == []
    assert await _history_state(client, job.job_id) == "Canceled"
    # A second cancel of the now ended job is refused, the table unchanged.
    wire_fault(
        await post(url, raw_cancel(job.job_id)), scan_faults.ClientErrorJobIdNotFound
    )
    assert await _history_state(client, job.job_id) == "Canceled"


def _create_scan_job_xml(ticket: ScanTicket, prolog: str, job_name: str) -> bytes:
    """A real CreateScanJob request (as the client stub sends it) whose JobName is
    ``job_name`` (raw XML, e.g. an entity reference) under ``prolog``."""
    placeholder = f"SLOT-{uuid.uuid4().hex}"
    named = dataclasses.replace(
        ticket,
        job_description=dataclasses.replace(
            ticket.job_description, job_name=placeholder
        ),
    )
    body = to_string(CreateScanJobRequest(scan_ticket=named))
    assert placeholder in body
    return envelope(
        body.replace(placeholder, job_name),
        action=f"{SCAN}/CreateScanJob",
        prolog=prolog,
    )


async def test_xxe_in_create_scan_job_creates_no_job(
    client: ScannerServiceClient, url: str, listener: Listener, tmp_path: Path
) -> None:
    secret = f"SECRET-{uuid.uuid4()}"
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(secret)
    ticket = await scan_ticket(client, color="Grayscale8")
    history_before = await _history_ids(client)
    http = f"http://127.0.0.1:{listener.port}"
    dtd = '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE soap:Envelope [{}]>'
    payloads = {
        "external entity (file)": (
            dtd.format(f'<!ENTITY x SYSTEM "{secret_file.as_uri()}">'),
            "&x;",
        ),
        "external entity (http)": (
            dtd.format(f'<!ENTITY x SYSTEM "{http}/xxe">'),
            "&x;",
        ),
        "parameter entity": (
            dtd.format(f'<!ENTITY % p SYSTEM "{http}/p"> %p;'),
            "name",
        ),
        "external DTD": (
            f'<?xml version="1.0"?><!DOCTYPE soap:Envelope SYSTEM "{http}/d">',
            "name",
        ),
        "internal entity": (dtd.format('<!ENTITY x "innocent">'), "&x;"),
    }
    for label, (prolog, job_name) in payloads.items():
        request = _create_scan_job_xml(ticket, prolog, job_name)
        response = await post(url, request)
        fault = expect_fault(response, 400, scan_faults.InvalidArgs)
        assert "DTD" in fault.reason, (label, fault.reason)
        assert secret.encode() not in response.content, label
        assert not TRACEBACK.search(response.content), label
    # The same DTD in UTF-16 (libxml2 detects it by itself) is refused as well.
    utf16 = _create_scan_job_xml(
        ticket,
        dtd.replace("UTF-8", "UTF-16").format(
            f'<!ENTITY x SYSTEM "{secret_file.as_uri()}">'
        ),
        "&x;",
    )
    response = await post(
        url, utf16.decode().encode("utf-16"), "application/soap+xml; charset=utf-16"
    )
    fault = expect_fault(response, 400, scan_faults.InvalidArgs)
    assert "DTD" in fault.reason and secret.encode() not in response.content
    # No job was created, nothing was fetched.
    assert await _active_ids(client) == []
    assert await _history_ids(client) == history_before
    await asyncio.sleep(0.2)
    assert listener.connections == 0
    # Control: the same request without the DTD does create a job.
    plain = _create_scan_job_xml(ticket, "", "plain name")
    response = await post(url, plain)
    assert response.status_code == 200, response.text[:300]
    job_id = int(
        etree.fromstring(response.content).findtext(f".//{{{SCAN}}}JobId") or "0"
    )
    assert await _active_ids(client) == [job_id]
    await client.cancel_job(job_id=job_id)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3, 0.6])
async def test_cancel_and_retrieve_sent_together(
    client: ScannerServiceClient, delay: float
) -> None:
    """Whatever the interleaving, the outcomes agree with each other and the table."""
    job = await _create(client)

    async def cancel() -> bool:
        await asyncio.sleep(delay)
        try:
            await client.cancel_job(job_id=job.job_id)
        except scan_faults.ClientErrorJobIdNotFound:
            return False
        return True

    image, cancelled = await asyncio.gather(
        _retrieve_all(client, job), cancel(), return_exceptions=True
    )
    state = await _history_state(client, job.job_id)
    assert await _active_ids(client) == []
    if cancelled is True:
        assert state == "Canceled"
        assert isinstance(image, scan_faults.ClientErrorJobCancelled), repr(image)
    else:
        assert cancelled is False
        assert state == "Completed"
        assert isinstance(image, bytes) and image.startswith(b"\x89PNG")


async def test_create_scan_job_while_busy(client: ScannerServiceClient) -> None:
    job = await _create(client)
    try:
        results = await asyncio.gather(
            *(_create(client) for _ in range(5)), return_exceptions=True
        )
        assert all(
            isinstance(r, scan_faults.ServerErrorNotAcceptingJobs) for r in results
        ), results
        assert await _active_ids(client) == [job.job_id]
        assert (await _retrieve_all(client, job)).startswith(b"\x89PNG")
    finally:
        if job.job_id in await _active_ids(client):
            await client.cancel_job(job_id=job.job_id)
    assert await _history_state(client, job.job_id) == "Completed"


async def test_busy_fault_on_the_wire(client: ScannerServiceClient, url: str) -> None:
    job = await _create(client)
    try:
        ticket = await scan_ticket(client, color="Grayscale8")
        from wsdscan.generated.models.scan import CreateScanJobRequest
        from wsdscan.runtime.xmlbind import to_element

        request = build_envelope(
            to_element(CreateScanJobRequest(scan_ticket=ticket)),
            action=f"{SCAN}/CreateScanJob",
            to=url,
        )
        response = await post(url, request)
        expect_fault(response, 500, scan_faults.ServerErrorNotAcceptingJobs)
    finally:
        await client.cancel_job(job_id=job.job_id)


# -- stalled clients --------------------------------------------------------------------


def _server_sockets(pid: int) -> int:
    fd_dir = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd).startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def _stall(url: str, head_only: bytes, hold: float) -> tuple[bytes, float]:
    """Send ``head_only`` (headers and part of a body), then nothing; return what the
    server answered until it closed the connection, and how long that took."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=hold) as sock:
        sock.sendall(head_only)
        started = time.monotonic()
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received, time.monotonic() - started


async def test_client_stalling_mid_request_times_out_and_frees_resources(
    served: ServedScanner, client: ScannerServiceClient
) -> None:
    assert served.proc is not None
    pid = served.proc.pid
    assert await _active_ids(client) == []  # the client's own connection is open
    await asyncio.sleep(0.2)
    before = _server_sockets(pid)
    body = envelope(GET_ACTIVE)
    head = (
        b"POST /WSDScanner HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/soap+xml\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:40]
    )
    stalls = [asyncio.to_thread(_stall, served.url, head, 15.0) for _ in range(5)]
    # While they stall, the server keeps serving others.
    await asyncio.sleep(0.3)
    assert await _active_ids(client) == []
    results = await asyncio.gather(*stalls)
    for received, waited in results:
        assert received.startswith(b"HTTP/1.1 408"), received[:200]
        assert b"InvalidArgs" in received and b"Traceback" not in received
        assert READ_TIMEOUT - 0.3 <= waited < READ_TIMEOUT + 5
    await asyncio.sleep(0.3)
    assert _server_sockets(pid) <= before, "stalled connections were not closed"


def _stall_before_headers(
    url: str, chunks: list[bytes], interval: float, hold: float
) -> tuple[bytes, float]:
    """Connect, send ``chunks`` ``interval`` s apart (none: send nothing), never finish
    the request headers; return what the server answered until it closed the
    connection and how long after connecting that took."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=hold) as sock:
        started = time.monotonic()
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:  # closed by the server while we were still trickling
                break
            time.sleep(interval)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received, time.monotonic() - started


HEAD = b"POST /WSDScanner HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/soap"
STALLS = {
    "nothing": [],
    "half a request line": [HEAD[:12]],
    "partial headers": [HEAD],
    "request line, no blank line": [b"POST /WSDScanner HTTP/1.1\r\n"],
}


async def test_client_stalling_before_its_headers_is_closed(
    served: ServedScanner, client: ScannerServiceClient
) -> None:
    """uvicorn alone never times out a connection before its first response; the
    header deadline (--read-timeout) closes it: silently if nothing came, with 408 if
    part of a request did. The sockets are freed and others are served meanwhile."""
    assert served.proc is not None
    pid = served.proc.pid
    assert await _active_ids(client) == []
    await asyncio.sleep(0.2)
    before = _server_sockets(pid)
    labels = [label for label in STALLS for _ in range(2)]
    # Our own pool: the default executor has too few threads for all at once.
    pool = ThreadPoolExecutor(len(labels))
    loop = asyncio.get_running_loop()
    stalls = [
        loop.run_in_executor(
            pool, _stall_before_headers, served.url, STALLS[label], 0.0, 15.0
        )
        for label in labels
    ]
    gathered = asyncio.gather(*stalls)
    await asyncio.sleep(0.4)
    # The stalled connections are open on the server (so the count below means
    # something) and the server keeps serving others.
    assert _server_sockets(pid) >= before + len(stalls) - 1
    assert await _active_ids(client) == []
    try:
        results = await gathered
    finally:
        pool.shutdown(wait=False)
    for label, (received, waited) in zip(labels, results, strict=True):
        assert READ_TIMEOUT - 0.3 <= waited < READ_TIMEOUT + 3, (label, waited)
        if label == "nothing":
            assert received == b"", received[:200]
        else:
            assert received.startswith(b"HTTP/1.1 408"), (label, received[:200])
            assert b"connection: close" in received.lower()
            assert b"Traceback" not in received
    await asyncio.sleep(0.3)
    assert _server_sockets(pid) <= before, "stalled connections were not closed"
    assert await _active_ids(client) == []


async def test_trickling_header_bytes_does_not_extend_the_deadline(
    served: ServedScanner,
) -> None:
    """A byte every 0.2 s (slowloris): the deadline counts from the connection, so the
    server closes it after --read-timeout although bytes keep coming."""
    trickle = [bytes([b]) for b in HEAD * 2]
    received, waited = await asyncio.to_thread(
        _stall_before_headers, served.url, trickle, 0.2, 15.0
    )
    assert waited < READ_TIMEOUT + 3, waited
    assert received.startswith(b"HTTP/1.1 408"), received[:200]


async def test_stall_in_the_next_request_on_a_kept_alive_connection(
    served: ServedScanner,
) -> None:
    """After a complete exchange, a partial next request on the same connection is
    also timed out (any byte cancels uvicorn's keep-alive timer)."""
    host, port = served.url.split("//")[1].split("/")[0].split(":")
    body = envelope(GET_ACTIVE)
    request = (
        b"POST /WSDScanner HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/soap+xml\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )

    def exchange() -> tuple[bytes, bytes, float]:
        with socket.create_connection((host, int(port)), timeout=15) as sock:
            sock.sendall(request)
            first = b""
            while b"</soap:Envelope>" not in first:
                chunk = sock.recv(65536)
                assert chunk, first
                first += chunk
            sock.sendall(HEAD[:20])
            started = time.monotonic()
            rest = b""
            while chunk := sock.recv(65536):
                rest += chunk
            return first, rest, time.monotonic() - started

    first, rest, waited = await asyncio.to_thread(exchange)
    assert first.startswith(b"HTTP/1.1 200"), first[:200]
    assert rest.startswith(b"HTTP/1.1 408"), rest[:200]
    assert READ_TIMEOUT - 0.3 <= waited < READ_TIMEOUT + 3, waited


# -- limits from the command line -------------------------------------------------------


def _nested_get_active(levels: int) -> bytes:
    """GetActiveJobs whose document is ``levels`` elements deep in all (Envelope, Body,
    the request element, then unknown vendor elements, which are ignored)."""
    extra = levels - 3
    body = "<wscn:GetActiveJobsRequest>" + "<v:X xmlns:v='urn:v'>" * extra
    body += "</v:X>" * extra + "</wscn:GetActiveJobsRequest>"
    return envelope(body)


async def test_max_depth_flag_sets_the_depth_limit(url: str) -> None:
    with ServedScanner(["--max-depth", "20"]) as shallow:
        response = await post(shallow.url, _nested_get_active(20))
        assert response.status_code == 200, response.text[:300]
        for levels in (21, 43):
            response = await post(shallow.url, _nested_get_active(levels))
            fault = expect_fault(response, 400, scan_faults.InvalidArgs)
            assert "nested deeper than 20" in fault.reason
        # The device endpoint (WS-Transfer Get) on the same port has the same limit.
        device = shallow.url.replace("/WSDScanner", "/WSD/Device")
        response = await post(device, _nested_get_active(21))
        fault = expect_fault(response, 400, scan_faults.InvalidArgs)
        assert "nested deeper than 20" in fault.reason
    # The module's server (default 64) serves the 43-level request.
    assert (await post(url, _nested_get_active(43))).status_code == 200


@pytest.mark.parametrize(
    "flags",
    [
        ["--max-depth", "0"],
        ["--max-depth", "257"],
        ["--max-depth", "deep"],
        ["--read-timeout", "0"],
        ["--read-timeout", "-1"],
        ["--read-timeout", "inf"],
        ["--write-timeout", "0"],
        ["--write-timeout", "nan"],
    ],
)
def test_out_of_range_limits_are_refused_at_start(flags: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wsdscan", "serve", "--port", "0", *flags],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert flags[0] in result.stderr and "Traceback" not in result.stderr

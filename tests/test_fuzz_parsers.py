"""Fuzzing the parsers that face the network: the SOAP envelope reader
(``runtime.envelope.parse_envelope``) and the MTOM multipart reader
(``runtime.mtom.MultipartReader``).

Whatever bytes arrive, the only exceptions allowed out are our typed ones
(:class:`WsdScanError` subclasses and :class:`SoapFault`). The runs are bounded and
derandomized (the same inputs on every CI run); raise ``WSDSCAN_FUZZ_EXAMPLES`` for a
longer local run.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsdscan.generated.models.scan import CancelJobRequest
from wsdscan.generated.stubs.faults import FAULTS
from wsdscan.runtime import mtom
from wsdscan.runtime.errors import ProtocolError, WsdScanError
from wsdscan.runtime.server import ServerLimits, SoapApp
from wsdscan.runtime.soap import ServerFault, SoapFault
from wsdscan.runtime.soap.envelope import build_envelope, parse_envelope
from wsdscan.runtime.xmlbind import SOAP_ENV, WSA, to_element

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

TYPED = (WsdScanError, SoapFault)
EXAMPLES = int(os.environ.get("WSDSCAN_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SCAN = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"

VALID_ENVELOPE = build_envelope(
    to_element(CancelJobRequest(job_id=7)),
    action=f"{SCAN}/CancelJob",
    to="http://127.0.0.1/WSDScanner",
)
# Tokens that tend to break XML readers: markup openers, entity syntax, DTDs, CDATA,
# namespace declarations, SOAP names, odd bytes.
XML_TOKENS = [
    b"<",
    b">",
    b"</",
    b"/>",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&lt",
    b"<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>",
    b"<!ENTITY % p SYSTEM 'http://127.0.0.1:1/'>",
    b"<![CDATA[",
    b"]]>",
    b"<?xml version='1.0' encoding='UTF-16'?>",
    b"<?pi x?>",
    b"<!--",
    b"-->",
    b'xmlns="',
    b'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"',
    b"soap:mustUnderstand='true'",
    b"<soap:Header>",
    b"<soap:Body>",
    b"</soap:Body>",
    b"<wsa:Action>",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"\xed\xa0\x80",
    b'"',
    b"'",
    b"=",
    b":",
    b"{",
]


def _mutate(base: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    data = bytearray(base)
    for position, delete, insert in edits:
        at = position % (len(data) + 1)
        data[at : at + delete] = insert
    return bytes(data)


edits = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.integers(0, 8),
        st.one_of(st.sampled_from(XML_TOKENS), st.binary(max_size=8)),
    ),
    min_size=1,
    max_size=6,
)


def _check_envelope(data: bytes) -> None:
    try:
        envelope = parse_envelope(data)
    except TYPED:
        return
    # Accepted: it must be usable as an envelope.
    assert envelope.soap_namespace
    assert envelope.addressing is not None


@FUZZ
@given(st.binary(max_size=2048))
def test_envelope_parser_on_random_bytes(data: bytes) -> None:
    _check_envelope(data)


@FUZZ
@given(edits)
def test_envelope_parser_on_mutated_envelopes(
    changes: list[tuple[int, int, bytes]]
) -> None:
    _check_envelope(_mutate(VALID_ENVELOPE, changes))


@FUZZ
@given(st.integers(0, len(VALID_ENVELOPE)))
def test_envelope_parser_on_truncated_envelopes(cut: int) -> None:
    _check_envelope(VALID_ENVELOPE[:cut])


def test_the_unmutated_envelope_parses() -> None:
    """The base of the mutations is valid, so the mutations explore near-valid input."""
    envelope = parse_envelope(VALID_ENVELOPE)
    assert envelope.addressing.action == f"{SCAN}/CancelJob"


# -- MTOM ------------------------------------------------------------------------------

FRAME = mtom.MtomEnvelope("uuid:fuzz-boundary", "root@fuzz", "image@fuzz")
VALID_MTOM = (
    FRAME.head(VALID_ENVELOPE, "image/png") + b"\x89PNG not really" * 8 + FRAME.tail()
)
MIME_TOKENS = [
    b"\r\n",
    b"\n",
    b"--",
    b"--uuid:fuzz-boundary",
    b"--uuid:fuzz-boundary--",
    b"\r\n--uuid:fuzz-boundary\r\n",
    b"Content-Type: application/xop+xml\r\n",
    b"Content-ID: <x>\r\n\r\n",
    b"\r\n\r\n",
    b":",
    b"\x00",
    b"\xff",
]
mime_edits = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.integers(0, 8),
        st.one_of(st.sampled_from(MIME_TOKENS), st.binary(max_size=8)),
    ),
    min_size=1,
    max_size=6,
)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _read_multipart(data: bytes, boundary: str, chunk: int) -> None:
    reader = mtom.MultipartReader(_chunks(data, chunk), boundary)
    parts = 0
    while (part := await reader.next_part()) is not None:
        parts += 1
        assert isinstance(part.headers, dict)
        async for piece in part.body:
            assert isinstance(piece, bytes)
        assert parts < 10_000


def _check_multipart(data: bytes, boundary: str, chunk: int) -> None:
    try:
        asyncio.run(_read_multipart(data, boundary, chunk))
    except TYPED:
        pass


@FUZZ
@given(st.binary(max_size=2048), st.integers(1, 64))
def test_multipart_reader_on_random_bytes(data: bytes, chunk: int) -> None:
    _check_multipart(data, FRAME.boundary, chunk)


@FUZZ
@given(mime_edits, st.integers(1, 300))
def test_multipart_reader_on_mutated_messages(
    changes: list[tuple[int, int, bytes]], chunk: int
) -> None:
    _check_multipart(_mutate(VALID_MTOM, changes), FRAME.boundary, chunk)


latin1_text = st.text(st.characters(max_codepoint=255), max_size=80)


@FUZZ
@given(latin1_text, st.binary(max_size=512), st.integers(1, 64))
def test_multipart_reader_with_odd_boundaries(
    boundary: str, data: bytes, chunk: int
) -> None:
    body = b"--" + boundary.encode("latin-1") + b"\r\n" + data
    _check_multipart(body, boundary, chunk)


def test_multipart_reader_boundary_outside_latin1_is_a_protocol_error() -> None:
    """httpx decodes a UTF-8 Content-Type header to a str outside latin-1."""
    with pytest.raises(ProtocolError):
        mtom.MultipartReader(_chunks(b"", 1), "bound\u2603ary")


def test_the_unmutated_multipart_message_reads() -> None:
    async def read() -> list[bytes]:
        reader = mtom.MultipartReader(_chunks(VALID_MTOM, 17), FRAME.boundary)
        bodies = []
        while (part := await reader.next_part()) is not None:
            bodies.append(b"".join([piece async for piece in part.body]))
        return bodies

    bodies = asyncio.run(read())
    assert bodies == [VALID_ENVELOPE, b"\x89PNG not really" * 8]


# -- Content-Type parameters and Content-IDs ---------------------------------------------

header_text = st.text(st.characters(max_codepoint=255), max_size=200)
# Parameter names and unquoted values: RFC 2045 token characters (no separators).
TOKEN = st.text(
    st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
    ),
    min_size=1,
    max_size=16,
)
MEDIA = st.builds(lambda a, b: f"{a}/{b}", TOKEN, TOKEN)


@FUZZ
@given(header_text)
def test_parse_content_type_on_any_header_value(value: str) -> None:
    """Any header text (a header arrives as latin-1): a result, never an exception."""
    media, params = mtom.parse_content_type(value)
    assert isinstance(media, str) and media == media.strip().lower()
    assert all(isinstance(v, str) for v in params.values())
    assert all(name == name.strip().lower() for name in params)


@FUZZ
@given(
    MEDIA,
    st.dictionaries(
        TOKEN.map(str.lower),
        st.one_of(
            TOKEN.map(lambda v: (v, v)),
            # Quoted: any latin-1 text, with quotes and backslashes escaped.
            header_text.map(
                lambda v: (v, '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"')
            ),
        ),
        max_size=5,
    ),
    st.sampled_from(["; ", ";", ";\t", " ; "]),
)
def test_parse_content_type_reads_back_what_was_written(
    media: str, params: dict[str, tuple[str, str]], separator: str
) -> None:
    header = media + "".join(
        f"{separator}{name}={written}" for name, (_, written) in params.items()
    )
    parsed_media, parsed = mtom.parse_content_type(header)
    assert parsed_media == media.lower()
    expected = {
        name: (value if written.startswith('"') else value.strip())
        for name, (value, written) in params.items()
    }
    assert parsed == expected, header


@FUZZ
@given(st.text(max_size=200))
def test_content_id_on_any_text(value: str) -> None:
    assert isinstance(mtom.content_id(value), str)
    assert isinstance(mtom.cid_href(value), str)


# A Content-ID's id-left@id-right.
CID = st.text(
    st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_characters="<> \x7f"),
    min_size=1,
    max_size=40,
)


@FUZZ
@given(CID, st.sampled_from(["", "cid:", "CID:", "Cid:"]))
def test_content_id_header_matches_its_cid_href(cid: str, scheme: str) -> None:
    """A part's ``Content-ID: <id>`` and an ``href="cid:..."`` naming it (RFC 2392:
    the id URL-encoded, or sent as is, as some clients do) normalize alike."""
    from urllib.parse import quote

    header = mtom.content_id(f"<{cid}>")
    assert mtom.cid_href("cid:" + quote(cid, safe="")) == header
    assert mtom.cid_href(f"{scheme}{quote(cid, safe='@')}") == header


def test_content_id_with_a_percent_sign_matches_its_href() -> None:
    from urllib.parse import quote

    assert mtom.content_id("<a%25b>") == mtom.cid_href("cid:" + quote("a%25b"))
    assert mtom.content_id("<a%25b>") == "a%25b"


# -- the server's MTOM request path (SoapApp in-process) ---------------------------------

XOP_NS = "http://www.w3.org/2004/08/xop/include"
REQUEST_BOUNDARY = "uuid:fuzz-request"
_GET_ELEMENTS = (
    f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:wsa="{WSA}" xmlns:wscn="{SCAN}">'
    "<soap:Header><wsa:MessageID>urn:uuid:0</wsa:MessageID>"
    f"<wsa:Action>{SCAN}/GetScannerElements</wsa:Action></soap:Header><soap:Body>"
    "<wscn:GetScannerElementsRequest><wscn:RequestedElements><wscn:Name>"
    f'<xop:Include xmlns:xop="{XOP_NS}" href="cid:name@fuzz"/>'
    "</wscn:Name></wscn:RequestedElements></wscn:GetScannerElementsRequest>"
    "</soap:Body></soap:Envelope>"
).encode()


def _mtom_request(boundary: str, parts: list[tuple[str, str, bytes]]) -> bytes:
    out = b""
    for content_type, cid, body in parts:
        out += f"--{boundary}\r\nContent-Type: {content_type}\r\n".encode()
        out += f"Content-ID: <{cid}>\r\n\r\n".encode() + body + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _request_type(boundary: str, start: str = "<root@fuzz>") -> str:
    return (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="{start}"; start-info="application/soap+xml"'
    )


VALID_MTOM_REQUEST = _mtom_request(
    REQUEST_BOUNDARY,
    [
        (
            'application/xop+xml; type="application/soap+xml"',
            "root@fuzz",
            _GET_ELEMENTS,
        ),
        ("text/plain", "name@fuzz", b"ScannerStatus"),
    ],
)


class _Errors(logging.Handler):
    """Collects ERROR records: SoapApp logs any exception it did not expect (then
    answers a generic ServerFault), which is what the fuzzing must never provoke."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _post_in_process(
    body: bytes, content_type: str, chunk: int
) -> tuple[int, bytes, list[logging.LogRecord]]:
    app = SoapApp(
        VirtualScanner(VirtualScannerConfig()),
        path="/WSDScanner",
        limits=ServerLimits(max_body=64 * 1024, read_timeout=5.0),
    )
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pieces:
            piece = pieces.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(pieces)}
        await asyncio.sleep(3600)  # only a disconnect would come: never
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/WSDScanner",
        # A header value arrives as bytes: latin-1 covers any of them.
        "headers": [(b"content-type", content_type.encode("latin-1"))],
        "client": ("127.0.0.1", 1),
    }
    errors = _Errors()
    server_log = logging.getLogger("wsdscan.server")
    server_log.addHandler(errors)
    try:
        asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    finally:
        server_log.removeHandler(errors)
    assert sent and sent[0]["type"] == "http.response.start", sent
    assert not sent[-1].get("more_body"), "the response was left incomplete"
    return (
        sent[0]["status"],
        b"".join(m.get("body", b"") for m in sent[1:]),
        errors.records,
    )


def _check_mtom_request(body: bytes, content_type: str, chunk: int) -> None:
    """Any outcome but an unexpected exception: a normal answer, or a SOAP fault of
    the runtime (typed, no traceback, the HTTP status its code maps to)."""
    status, answer, errors = _post_in_process(body, content_type, chunk)
    assert not errors, [r.getMessage() for r in errors]
    assert b"Traceback" not in answer and b'File "' not in answer
    envelope = parse_envelope(answer)  # every answer is a SOAP envelope
    if status == 200:
        return
    assert envelope.body is not None
    fault = FAULTS.from_element(envelope.body)
    assert type(fault) is not ServerFault, fault
    assert status in (fault.http_status, 413), (status, fault)


def test_the_unmutated_mtom_request_is_served() -> None:
    status, answer, errors = _post_in_process(
        VALID_MTOM_REQUEST, _request_type(REQUEST_BOUNDARY), 4096
    )
    assert (status, errors) == (200, []), answer[:300]
    assert b"GetScannerElementsResponse" in answer


MTOM_REQUEST_TOKENS = [
    *MIME_TOKENS,
    *XML_TOKENS,
    b"--uuid:fuzz-request\r\n",
    b"--uuid:fuzz-request--",
    b"Content-ID: <name@fuzz>\r\n",
    b"Content-ID: <root@fuzz>\r\n",
    b"Content-Type: image/png\r\n",
    b'<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:',
    b'href="cid:name@fuzz"/>',
    b"cid:",
    b"%",
    b"%4",
    b"<wscn:JobId>",
]
mtom_request_edits = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.integers(0, 8),
        st.one_of(st.sampled_from(MTOM_REQUEST_TOKENS), st.binary(max_size=8)),
    ),
    min_size=1,
    max_size=6,
)
# The in-process app path costs more per example than the bare parsers.
APP_FUZZ = settings(FUZZ, max_examples=max(EXAMPLES // 2, 1))


@APP_FUZZ
@given(mtom_request_edits, st.integers(1, 600))
def test_mtom_request_path_on_mutated_requests(
    changes: list[tuple[int, int, bytes]], chunk: int
) -> None:
    _check_mtom_request(
        _mutate(VALID_MTOM_REQUEST, changes), _request_type(REQUEST_BOUNDARY), chunk
    )


@APP_FUZZ
@given(
    st.one_of(
        st.just(REQUEST_BOUNDARY),
        st.text(st.characters(max_codepoint=255), max_size=80),
    ),
    st.one_of(
        st.sampled_from(["<root@fuzz>", "root@fuzz", "<name@fuzz>", "", "<>"]),
        st.text(st.characters(max_codepoint=255), max_size=40),
    ),
    st.sampled_from(
        ["multipart/related", "Multipart/Related", "multipart/related;;", ""]
    ),
)
def test_mtom_request_path_on_odd_content_types(
    boundary: str, start: str, media: str
) -> None:
    """The Content-Type parameters are the client's: a boundary or start that is
    absent, empty, quoted oddly or names nothing is refused as InvalidArgs."""
    quoted_start = start.replace("\\", "\\\\").replace('"', '\\"')
    quoted_boundary = boundary.replace("\\", "\\\\").replace('"', '\\"')
    content_type = (
        f'{media}; type="application/xop+xml"; boundary="{quoted_boundary}"; '
        f'start="{quoted_start}"'
    )
    _check_mtom_request(VALID_MTOM_REQUEST, content_type, 4096)


@APP_FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    'application/xop+xml; type="application/soap+xml"',
                    "application/soap+xml",
                    "text/plain",
                    "image/png",
                    "",
                ]
            ),
            st.sampled_from(
                ["root@fuzz", "name@fuzz", "other@fuzz", "", "name%40fuzz"]
            ),
            st.sampled_from(
                [_GET_ELEMENTS, b"ScannerStatus", b"", b"<a/>", b"\x89PNG"]
            ),
        ),
        max_size=5,
    ),
)
def test_mtom_request_path_on_shuffled_parts(
    parts: list[tuple[str, str, bytes]],
) -> None:
    """Parts in any order, duplicated, missing, or of the wrong type."""
    _check_mtom_request(
        _mtom_request(REQUEST_BOUNDARY, parts), _request_type(REQUEST_BOUNDARY), 4096
    )

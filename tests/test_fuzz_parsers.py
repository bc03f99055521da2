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
import os
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsdscan.generated.models.scan import CancelJobRequest
from wsdscan.runtime import mtom
from wsdscan.runtime.envelope import build_envelope, parse_envelope
from wsdscan.runtime.errors import ProtocolError, WsdScanError
from wsdscan.runtime.faults import SoapFault
from wsdscan.runtime.xmlbind import to_element

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

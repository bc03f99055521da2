"""Datagrams that parse as SOAP but must be faulted (a foreign envelope namespace, a
mustUnderstand header we do not know) are ignored on UDP by both the client collector
and the target, which keep working for the next valid datagram (127.0.0.1 sockets)."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from lxml import etree
from wsdscan.runtime.discovery.client import probe
from wsdscan.runtime.discovery.messages import (
    Announcement,
    app_sequence_element,
    build_probe,
    build_probe_matches,
    parse_discovery_message,
    probe_matches_element,
    read_datagram,
)
from wsdscan.runtime.discovery.names import (
    DEVICE_TYPE,
    PROBE_MATCHES,
    SCAN_DEVICE_TYPE,
)
from wsdscan.runtime.discovery.target import DiscoveryTarget
from wsdscan.runtime.soap.envelope import ANONYMOUS, build_envelope
from wsdscan.runtime.xmlbind import SOAP_ENV

ENDPOINT = "urn:uuid:0b5a51ad-0000-4000-8000-0000000000fa"
MATCH = Announcement(ENDPOINT, (SCAN_DEVICE_TYPE,), ("http://127.0.0.1:1/d",), 1)


def _faulting(relates_to: str) -> list[bytes]:
    """A ProbeMatches answering ``relates_to`` in a foreign envelope namespace, and one
    carrying a mustUnderstand header nobody understands."""
    valid = build_probe_matches([MATCH], relates_to, app_sequence_element(1, 1))
    header = etree.Element("{urn:example:unknown}Extension")
    header.set(f"{{{SOAP_ENV}}}mustUnderstand", "true")
    must_understand = build_envelope(
        probe_matches_element([MATCH]),
        action=PROBE_MATCHES,
        to=ANONYMOUS,
        relates_to=relates_to,
        extra_headers=[header, app_sequence_element(1, 2)],
    )
    return [valid.replace(SOAP_ENV.encode(), b"urn:example:not-soap"), must_understand]


def test_read_datagram_ignores_what_would_be_faulted() -> None:
    for data in [*_faulting("urn:uuid:r"), b"", b"not xml", b"<a/>"]:
        assert read_datagram(data, ("127.0.0.1", 3702)) is None
    valid = build_probe_matches([MATCH], "urn:uuid:r", app_sequence_element(1, 3))
    message = read_datagram(valid, ("127.0.0.1", 3702))
    assert message is not None and message.kind == "ProbeMatches"


def _record_loop_errors() -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, c: errors.append(c))
    return errors


async def test_client_ignores_faulting_answers_and_takes_a_later_valid_one() -> None:
    errors = _record_loop_errors()
    device = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    device.bind(("127.0.0.1", 0))
    device.setblocking(False)
    loop = asyncio.get_running_loop()

    async def answer() -> None:
        data, sender = await loop.sock_recvfrom(device, 65535)
        message_id = parse_discovery_message(data).message_id or ""
        for reply in _faulting(message_id):
            await loop.sock_sendto(device, reply, sender)
        await asyncio.sleep(0.05)
        valid = build_probe_matches([MATCH], message_id, app_sequence_element(1, 3))
        await loop.sock_sendto(device, valid, sender)

    try:
        responder = asyncio.create_task(answer())
        found = await probe(
            timeout=1.0, multicast=False, targets=[device.getsockname()]
        )
        await responder
    finally:
        device.close()
    assert [a.endpoint for a in found] == [ENDPOINT]
    assert errors == []


async def test_target_ignores_faulting_requests_and_answers_a_later_probe(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = _record_loop_errors()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    asker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    asker.bind(("127.0.0.1", 0))
    asker.setblocking(False)
    loop = asyncio.get_running_loop()
    target = DiscoveryTarget(
        ENDPOINT,
        types=(DEVICE_TYPE, SCAN_DEVICE_TYPE),
        xaddrs=["http://127.0.0.1:1/d"],
        interface="127.0.0.1",
        port=0,
        join_multicast=False,
        announce_to=sink.getsockname(),
    )
    probe_message = build_probe([SCAN_DEVICE_TYPE], "urn:uuid:faulting-probe")
    header = etree.Element("{urn:example:unknown}Extension")
    header.set(f"{{{SOAP_ENV}}}mustUnderstand", "true")
    must_understand = build_envelope(
        etree.fromstring(probe_message).find(f"{{{SOAP_ENV}}}Body")[0],
        action="http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe",
        to="urn:schemas-xmlsoap-org:ws:2005:04:discovery",
        message_id="urn:uuid:must-understand-probe",
        extra_headers=[header],
    )
    foreign = probe_message.replace(SOAP_ENV.encode(), b"urn:example:not-soap")
    try:
        with caplog.at_level(logging.DEBUG, logger="wsdscan.discovery"):
            async with target:
                for bad in (foreign, must_understand):
                    await loop.sock_sendto(asker, bad, target.address)
                await asyncio.sleep(0.1)
                assert target.answered == 0
                valid = build_probe([SCAN_DEVICE_TYPE], "urn:uuid:valid-probe")
                await loop.sock_sendto(asker, valid, target.address)
                data = await asyncio.wait_for(loop.sock_recv(asker, 65535), 5)
    finally:
        sink.close()
        asker.close()
    answer = parse_discovery_message(data)
    assert answer.kind == "ProbeMatches" and answer.relates_to == "urn:uuid:valid-probe"
    assert target.answered == 1
    assert errors == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("ignoring a datagram" in r.getMessage() for r in caplog.records)

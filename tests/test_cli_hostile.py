"""``wsdscan`` against devices and networks that misbehave: every failure is one line
in words naming the URL, exit 1, never a traceback, and nothing is left on disk."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from cli_support import (
    Send,
    answer,
    hostile,
    jobs,
    one_error_line,
    virtual_scanner,
    wsdscan,
)
from lxml import etree
from wsdscan.runtime.soap import WSA_FAULT_ACTION

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"


def _fault(subcode: str, reason: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP12}" xmlns:wsa="{WSA}" '
        'xmlns:v="urn:vendor"><soap:Header>'
        f"<wsa:Action>{WSA_FAULT_ACTION}</wsa:Action></soap:Header><soap:Body>"
        "<soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value><soap:Subcode>"
        f"<soap:Value>{subcode}</soap:Value></soap:Subcode></soap:Code><soap:Reason>"
        f'<soap:Text xml:lang="en">{reason}</soap:Text></soap:Reason></soap:Fault>'
        "</soap:Body></soap:Envelope>"
    ).encode()


async def _garbage(scope: Any, body: bytes, send: Send, call: Any) -> None:
    await answer(send, 200, b"application/soap+xml", b"\x00\xffnot <xml at all")


async def _html(scope: Any, body: bytes, send: Send, call: Any) -> None:
    page = b"<html><head><title>Printer</title></head><body>Welcome</body></html>"
    await answer(send, 200, b"text/html; charset=utf-8", page)


async def _not_found(scope: Any, body: bytes, send: Send, call: Any) -> None:
    await answer(send, 404, b"text/html", b"<html><body>Not Found</body></html>")


async def _vendor_fault(scope: Any, body: bytes, send: Send, call: Any) -> None:
    fault = _fault("v:PaperOnFire", "the paper\n   is on fire")
    await answer(send, 500, b"application/soap+xml", fault)


async def _drop_mid_image(scope: Any, body: bytes, send: Send, call: Any) -> None:
    """The real answer, cut off after some of the image: the connection drops."""
    sent = 0

    async def cut(message: dict[str, Any]) -> None:
        nonlocal sent
        if message["type"] == "http.response.body":
            sent += len(message.get("body", b""))
            if sent > 20_000:
                raise ConnectionResetError("the device lost power")
        await send(message)

    await call(cut)


@pytest.mark.parametrize(
    "operation, behaviour, words",
    [
        ("GetScannerElements", _garbage, "sent something that is not WS-Scan"),
        ("GetScannerElements", _html, "answered with a web page, not WS-Scan"),
        ("GetScannerElements", _not_found, "is not a WS-Scan service (HTTP 404"),
        (
            "CreateScanJob",
            _vendor_fault,
            "the scanner answered a fault: the paper is on fire (PaperOnFire)",
        ),
        ("RetrieveImage", _drop_mid_image, "broke off"),
    ],
)
@pytest.mark.parametrize("output", ["page.png", "doc.pdf"])
async def test_a_misbehaving_device_is_one_line_in_words(
    operation: str, behaviour: Any, words: str, output: str, tmp_path: Path
) -> None:
    wrap = lambda app: hostile(app, operation, behaviour)  # noqa: E731
    async with virtual_scanner(wrap=wrap) as (url, _):
        code, _, err = await wsdscan(
            "scan", url, "--resolution", "150", "-o", output, cwd=tmp_path
        )
        active, _ = await jobs(url)
    assert code == 1
    line = one_error_line(err)
    assert words in line
    if operation != "RetrieveImage":
        assert url in line or operation == "CreateScanJob"
    assert not any(tmp_path.iterdir())
    assert active == []  # a job that failed on the way was cancelled


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "url, words",
    [
        (f"http://127.0.0.1:{_free_port()}/WSDScanner", "connection refused"),
        ("http://no-such-scanner.invalid:5358/WSDScanner", "host name is not known"),
    ],
)
@pytest.mark.parametrize("command", [["info"], ["scan", "-o", "x.png"]])
async def test_network_failures_name_the_url(
    url: str, words: str, command: list[str], tmp_path: Path
) -> None:
    code, _, err = await wsdscan(command[0], url, *command[1:], cwd=tmp_path)
    assert code == 1
    line = one_error_line(err)
    assert words in line and url in line
    assert not any(tmp_path.iterdir())


async def test_a_fault_element_the_parser_refuses_is_still_one_line() -> None:
    body = etree.tostring(etree.Element("{urn:x}NotAFault"))

    async def odd(scope: Any, request: bytes, send: Send, call: Any) -> None:
        await answer(send, 200, b"application/soap+xml", body)

    async with virtual_scanner(
        wrap=lambda app: hostile(app, "GetScannerElements", odd)
    ) as (
        url,
        _,
    ):
        code, _, err = await wsdscan("info", url)
    assert code == 1
    assert url in one_error_line(err)

"""The client against hostile or broken devices: small raw ASGI stand-ins served on
127.0.0.1. Device faults become typed exceptions; a malformed response becomes a clear
parse error naming what failed; a stalled or truncated response times out or is
reported truncated; nothing half-written is left on disk."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models.scan import DocumentDescription, RetrieveImageResponse
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.runtime.errors import (
    ProtocolError,
    TransportError,
    TruncatedAttachmentError,
)
from wsdscan.runtime.mtom import MtomEnvelope
from wsdscan.runtime.server import running
from wsdscan.runtime.soap import (
    WSA_FAULT_ACTION,
    ActionNotSupported,
    SoapFault,
    fault_to_element,
)
from wsdscan.runtime.soap.envelope import build_envelope
from wsdscan.runtime.transport import HttpTransport
from wsdscan.runtime.xmlbind import XmlInputError, to_element

SCAN = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
SCAN_2006_01 = "http://schemas.microsoft.com/windows/2006/01/wdp/scan"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
_DOC = DocumentDescription(document_name="page.png")

Send = Callable[[dict[str, Any]], Awaitable[None]]


def device(
    status: int,
    content_type: bytes,
    *parts: bytes,
    content_length: int | None = None,
    stall: asyncio.Event | None = None,
) -> Any:
    """An ASGI device that answers every request with ``parts`` (then stalls until
    ``stall`` is set, if given)."""

    async def app(scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", content_type)]
        if content_length is not None:
            headers.append((b"content-length", str(content_length).encode()))
        await send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )
        for part in parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        if stall is not None:
            await stall.wait()
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


def soap(body: str, action: str = f"{SCAN}/CreateScanJobResponse") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP12}" '
        f'xmlns:wsa="{WSA}" xmlns:wscn="{SCAN}"><soap:Header>'
        f"<wsa:Action>{action}</wsa:Action><wsa:RelatesTo>urn:x</wsa:RelatesTo>"
        f"</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


async def call_create(app: Any, timeout: float = 10.0) -> Any:
    async with running(app) as srv:
        async with HttpTransport(srv.url("/"), timeout=timeout) as transport:
            return await ScannerServiceClient(transport).create_scan_job(
                scan_ticket=_ticket()
            )


def _ticket() -> Any:
    from wsdscan.generated.models.scan import JobDescription, ScanTicket

    return ScanTicket(
        job_description=JobDescription(
            job_name="j", job_originating_user_name="u", job_information="i"
        )
    )


# -- device faults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault_class",
    [
        scan_faults.ServerErrorNotAcceptingJobs,
        scan_faults.ClientErrorInvalidJobToken,
        scan_faults.ClientErrorFormatNotSupported,
        scan_faults.InvalidArgs,
        ActionNotSupported,
    ],
)
@pytest.mark.parametrize("status", [400, 500, 200])
async def test_device_faults_become_typed_exceptions(
    fault_class: type[SoapFault], status: int
) -> None:
    body = etree.tostring(fault_to_element(fault_class("device says no"))).decode()
    app = device(status, b"application/soap+xml", soap(body, WSA_FAULT_ACTION))
    with pytest.raises(fault_class) as raised:
        await call_create(app)
    assert raised.value.reason == "device says no"


async def test_fault_in_the_2006_01_namespace_and_soap11() -> None:
    body = (
        f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault>'
        f'<faultcode xmlns:w="{SCAN_2006_01}">w:ServerErrorNotAcceptingJobs</faultcode>'
        "<faultstring>busy</faultstring></s:Fault></s:Body></s:Envelope>"
    ).encode()
    with pytest.raises(scan_faults.ServerErrorNotAcceptingJobs):
        await call_create(device(500, b"text/xml", body))


async def test_unknown_vendor_subcode_is_a_soap_fault_with_its_subcode() -> None:
    body = (
        '<soap:Fault xmlns:v="urn:vendor"><soap:Code><soap:Value>soap:Receiver'
        "</soap:Value><soap:Subcode><soap:Value>v:PaperOnFire</soap:Value>"
        "</soap:Subcode></soap:Code><soap:Reason><soap:Text xml:lang='en'>hot"
        "</soap:Text></soap:Reason></soap:Fault>"
    )
    with pytest.raises(SoapFault) as raised:
        await call_create(device(500, b"application/soap+xml", soap(body)))
    assert raised.value.subcode == "{urn:vendor}PaperOnFire"
    assert raised.value.reason == "hot"


# -- malformed responses -----------------------------------------------------------------


async def test_response_that_is_not_xml() -> None:
    with pytest.raises(XmlInputError, match="not well-formed"):
        await call_create(device(200, b"application/soap+xml", b"<<<garbage"))


async def test_wrong_body_element_names_both() -> None:
    app = device(200, b"application/soap+xml", soap("<wscn:CancelJobResponse/>"))
    with pytest.raises(ProtocolError) as raised:
        await call_create(app)
    assert "CreateScanJobResponse" in str(raised.value)
    assert "CancelJobResponse" in str(raised.value)


async def test_bad_field_value_names_the_element() -> None:
    body = (
        "<wscn:CreateScanJobResponse><wscn:JobId>forty-two</wscn:JobId>"
        "<wscn:JobToken>t</wscn:JobToken></wscn:CreateScanJobResponse>"
    )
    with pytest.raises(XmlInputError) as raised:
        await call_create(device(200, b"application/soap+xml", soap(body)))
    message = str(raised.value)
    assert "CreateScanJobResponse.job_id" in message and "forty-two" in message


async def test_missing_required_element_names_it() -> None:
    body = "<wscn:CreateScanJobResponse><wscn:JobId>3</wscn:JobId></wscn:CreateScanJobResponse>"
    with pytest.raises(XmlInputError) as raised:
        await call_create(device(200, b"application/soap+xml", soap(body)))
    assert "job_token" in str(raised.value)


async def test_empty_body_and_no_envelope() -> None:
    with pytest.raises(ProtocolError, match="Body is empty"):
        await call_create(device(200, b"application/soap+xml", soap("")))
    with pytest.raises(XmlInputError, match="Envelope"):
        await call_create(device(200, b"application/soap+xml", b"<a/>"))


async def test_html_error_page_is_a_transport_error() -> None:
    with pytest.raises(TransportError) as raised:
        await call_create(device(503, b"text/html", b"<html><body>busy</body></html>"))
    assert raised.value.status == 503


class Listener:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()


async def test_entities_in_a_device_response_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    listener = Listener()
    try:
        dtd = (
            '<?xml version="1.0"?><!DOCTYPE soap:Envelope ['
            f'<!ENTITY f SYSTEM "{secret.as_uri()}">'
            f'<!ENTITY % p SYSTEM "http://127.0.0.1:{listener.port}/p"> %p;]>'
        )
        body = soap(
            "<wscn:CreateScanJobResponse><wscn:JobId>1</wscn:JobId>"
            "<wscn:JobToken>&f;</wscn:JobToken></wscn:CreateScanJobResponse>"
        ).replace(b'<?xml version="1.0" encoding="UTF-8"?>', dtd.encode())
        with pytest.raises(XmlInputError, match="DTD") as raised:
            await call_create(device(200, b"application/soap+xml", body))
        assert "TOP-SECRET" not in str(raised.value)
        await asyncio.sleep(0.3)
        assert listener.connections == 0
    finally:
        listener.stop.set()
        listener.thread.join(2)
        listener.sock.close()


# -- stalled and truncated responses ---------------------------------------------------


async def test_device_that_stalls_after_the_headers_times_out() -> None:
    release = asyncio.Event()
    app = device(200, b"application/soap+xml", b"<?xml", stall=release)
    try:
        with pytest.raises(TransportError):
            await asyncio.wait_for(call_create(app, timeout=1.0), 20)
    finally:
        release.set()


async def test_device_that_never_answers_times_out() -> None:
    release = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] == "http":
            await release.wait()

    try:
        with pytest.raises(TransportError, match="timed out"):
            await asyncio.wait_for(call_create(app, timeout=1.0), 20)
    finally:
        release.set()


async def test_truncated_plain_response() -> None:
    """Content-Length promises more than arrives, then the connection closes."""
    full = soap("<wscn:CreateScanJobResponse/>")
    app = device(200, b"application/soap+xml", full[:100], content_length=len(full))
    with pytest.raises((TransportError, ProtocolError)):
        await asyncio.wait_for(call_create(app, timeout=2.0), 20)


def _mtom_head() -> tuple[MtomEnvelope, bytes]:
    frame = MtomEnvelope.new()
    body = to_element(RetrieveImageResponse(scan_data=b""))
    include = etree.SubElement(
        body[0], "{http://www.w3.org/2004/08/xop/include}Include"
    )
    include.set("href", f"cid:{frame.attachment_id}")
    xml = build_envelope(
        body, action=f"{SCAN}/RetrieveImageResponse", relates_to="urn:x"
    )
    return frame, frame.head(xml, "image/png")


async def _retrieve_to(app: Any, target: Path, timeout: float) -> None:
    async with running(app) as srv:
        async with HttpTransport(srv.url("/"), timeout=timeout) as transport:
            image = await ScannerServiceClient(transport).retrieve_image(
                job_id=1, job_token="t", document_description=_DOC
            )
            await image.save(target)


async def test_attachment_that_stalls_leaves_no_file(tmp_path: Path) -> None:
    frame, head = _mtom_head()
    release = asyncio.Event()
    app = device(
        200,
        frame.content_type.encode(),
        head + b"\x89PNG" + b"x" * 100_000,
        stall=release,
    )
    try:
        with pytest.raises(TruncatedAttachmentError):
            await asyncio.wait_for(_retrieve_to(app, tmp_path / "page.png", 1.0), 20)
    finally:
        release.set()
    assert list(tmp_path.iterdir()) == []


async def test_attachment_truncated_by_content_length_leaves_no_file(
    tmp_path: Path,
) -> None:
    frame, head = _mtom_head()
    data = head + b"x" * 50_000
    app = device(
        200, frame.content_type.encode(), data, content_length=len(data) + 10_000
    )
    with pytest.raises(TruncatedAttachmentError):
        await asyncio.wait_for(_retrieve_to(app, tmp_path / "page.png", 2.0), 20)
    assert list(tmp_path.iterdir()) == []


async def test_mtom_root_part_that_is_truncated(tmp_path: Path) -> None:
    frame, head = _mtom_head()
    app = device(200, frame.content_type.encode(), head[:150])
    with pytest.raises(ProtocolError):
        await asyncio.wait_for(_retrieve_to(app, tmp_path / "page.png", 2.0), 20)
    assert list(tmp_path.iterdir()) == []


async def test_mtom_with_a_bad_boundary(tmp_path: Path) -> None:
    frame, head = _mtom_head()
    wrong = frame.content_type.replace(frame.boundary, "not-the-boundary")
    app = device(200, wrong.encode(), head + b"x" * 100 + frame.tail())
    with pytest.raises(ProtocolError):
        await asyncio.wait_for(_retrieve_to(app, tmp_path / "page.png", 2.0), 20)
    assert list(tmp_path.iterdir()) == []

"""The runtime over real HTTP on 127.0.0.1: generated client stub -> httpx transport ->
uvicorn -> ASGI app -> generated server base. Faults, dispatch and MTOM."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from wsdscan.generated import ScannerServiceBase, ScannerServiceClient
from wsdscan.generated.models.scan import (
    CancelJobRequest,
    CancelJobResponse,
    DocumentDescription,
    RetrieveImageRequest,
    RetrieveImageResponse,
)
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.runtime import soap
from wsdscan.runtime.contract import AttachmentReply, RequestContext
from wsdscan.runtime.errors import TransportError, TruncatedAttachmentError
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.soap.envelope import build_envelope
from wsdscan.runtime.transport import HttpTransport

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
_DOC = DocumentDescription(document_name="IMAGE000.JPG")
FAULT_CLASSES = sorted(
    set(scan_faults.FAULTS.by_subcode.values()), key=lambda c: c.__name__
)


class TestService(ScannerServiceBase):
    """Raises the fault whose index is the JobId; streams images of a requested size."""

    async def cancel_job(
        self, request: CancelJobRequest, context: RequestContext
    ) -> CancelJobResponse:
        if request.job_id < len(FAULT_CLASSES):
            raise FAULT_CLASSES[request.job_id]()
        if request.job_id == 999:
            raise RuntimeError("secret internal detail")
        return CancelJobResponse()

    async def retrieve_image(
        self, request: RetrieveImageRequest, context: RequestContext
    ) -> AttachmentReply[RetrieveImageResponse]:
        size = request.job_id
        body = RetrieveImageResponse(scan_data=b"")
        payload = _payload(size)
        if request.job_token == "chunks":

            async def chunks() -> AsyncIterator[bytes]:
                for start in range(0, size, 7919):
                    yield payload[start : start + 7919]

            return AttachmentReply(body, chunks(), "image/png")
        return AttachmentReply(body, payload, "image/png")


def _payload(size: int) -> bytes:
    block = hashlib.sha256(str(size).encode()).digest()
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async with running(SoapApp(TestService())) as srv:
        yield srv.url("/WSDScanner")


@pytest.fixture
async def client(server: str) -> AsyncIterator[ScannerServiceClient]:
    async with HttpTransport(server) as transport:
        yield ScannerServiceClient(transport)


async def test_every_fault_subcode_reaches_the_client_typed(
    client: ScannerServiceClient,
) -> None:
    for index, fault_class in enumerate(FAULT_CLASSES):
        with pytest.raises(fault_class) as raised:
            await client.cancel_job(job_id=index)
        assert raised.value.subcode == fault_class.SUBCODE
        assert raised.value.reason == fault_class.REASON


async def test_fault_http_status_and_action(server: str) -> None:
    request = build_envelope(
        _cancel_body(FAULT_CLASSES.index(scan_faults.ClientErrorJobIdNotFound)),
        action=f"{SCAN_NS}/CancelJob",
        to=server,
    )
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server, content=request, headers={"Content-Type": "application/soap+xml"}
        )
    assert response.status_code == 400
    assert b"http://schemas.xmlsoap.org/ws/2004/08/addressing/fault" in response.content
    assert b"ClientErrorJobIdNotFound" in response.content


def _cancel_body(job_id: int) -> object:
    from wsdscan.runtime.xmlbind import to_element

    return to_element(CancelJobRequest(job_id=job_id))


async def test_unimplemented_operation_is_action_not_supported(
    client: ScannerServiceClient,
) -> None:
    with pytest.raises(soap.ActionNotSupported):
        await client.get_active_jobs()


async def test_internal_error_is_a_receiver_fault_without_details(
    client: ScannerServiceClient, server: str
) -> None:
    with pytest.raises(soap.ServerFault) as raised:
        await client.cancel_job(job_id=999)
    assert "secret" not in str(raised.value)
    assert (
        await client.cancel_job(job_id=1000)
    ) == CancelJobResponse()  # still serving


@pytest.mark.parametrize(
    ("body", "content_type", "status", "marker"),
    [
        (b"<not-xml", "application/soap+xml", 400, b"InvalidArgs"),
        (b"<a>no envelope</a>", "application/soap+xml", 400, b"InvalidArgs"),
        (b"{}", "application/json", 400, b"InvalidArgs"),
    ],
)
async def test_bad_requests_get_faults_and_server_survives(
    server: str,
    client: ScannerServiceClient,
    body: bytes,
    content_type: str,
    status: int,
    marker: bytes,
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server, content=body, headers={"Content-Type": content_type}
        )
    assert response.status_code == status
    assert marker in response.content
    assert b"Traceback" not in response.content
    assert (await client.cancel_job(job_id=1000)) == CancelJobResponse()


async def test_unknown_action_is_action_not_supported(server: str) -> None:
    request = build_envelope(
        _cancel_body(1), action=f"{SCAN_NS}/NoSuchThing", to=server
    )
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server, content=request, headers={"Content-Type": "application/soap+xml"}
        )
    assert response.status_code == 400
    assert b"ActionNotSupported" in response.content


async def test_missing_action_falls_back_to_the_body_element(server: str) -> None:
    request = build_envelope(_cancel_body(1000), action="", to=server)
    request = request.replace(b"<wsa:Action></wsa:Action>", b"").replace(
        b"<wsa:Action/>", b""
    )
    assert b"Action" not in request
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server, content=request, headers={"Content-Type": "application/soap+xml"}
        )
    assert response.status_code == 200
    assert b"CancelJobResponse" in response.content


@pytest.mark.parametrize("size", [0, 1, 100, 65535, 65536, 1_000_003])
@pytest.mark.parametrize("mode", ["bytes", "chunks"])
async def test_mtom_round_trip(
    client: ScannerServiceClient, tmp_path: Path, size: int, mode: str
) -> None:
    result = await client.retrieve_image(
        job_id=size, job_token=mode, document_description=_DOC
    )
    assert isinstance(result.body, RetrieveImageResponse)
    assert result.content_type == "image/png"
    target = tmp_path / "image.png"
    written = await result.save(target)
    assert written == size
    assert target.read_bytes() == _payload(size)
    assert [p.name for p in tmp_path.iterdir()] == ["image.png"]


async def test_fault_with_http_200_is_still_a_fault() -> None:
    """Lexmark MB2236adw and Xerox WC3225 answer faults with HTTP 200 (device-quirks #7)."""
    fault = scan_faults.ClientErrorNoImagesAvailable()

    async def device(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        await receive()
        from wsdscan.runtime.soap import fault_to_element

        body = build_envelope(
            fault_to_element(fault), action=soap.WSA_FAULT_ACTION, relates_to="urn:x"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/soap+xml")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async with running(device) as srv, HttpTransport(srv.url("/")) as transport:
        with pytest.raises(scan_faults.ClientErrorNoImagesAvailable):
            await ScannerServiceClient(transport).cancel_job(job_id=1)


async def test_truncated_attachment_leaves_no_file(tmp_path: Path) -> None:
    async def device(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        await receive()
        from wsdscan.runtime.mtom import MtomEnvelope
        from wsdscan.runtime.xmlbind import to_element

        frame = MtomEnvelope.new()
        body = to_element(RetrieveImageResponse(scan_data=b""))
        include = etree.SubElement(
            body[0], "{http://www.w3.org/2004/08/xop/include}Include"
        )
        include.set("href", f"cid:{frame.attachment_id}")
        xml = build_envelope(
            body,
            action=f"{SCAN_NS}/RetrieveImageResponse",
            relates_to="urn:x",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", frame.content_type.encode())],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": frame.head(xml, "image/png") + b"x" * 50000,
                "more_body": False,
            }
        )

    async with running(device) as srv, HttpTransport(srv.url("/")) as transport:
        result = await ScannerServiceClient(transport).retrieve_image(
            job_id=1, job_token="t", document_description=_DOC
        )
        with pytest.raises(TruncatedAttachmentError):
            await result.save(tmp_path / "page.png")
    assert list(tmp_path.iterdir()) == []


async def test_connection_refused_is_a_transport_error() -> None:
    async with HttpTransport("http://127.0.0.1:9/WSDScanner", timeout=2) as transport:
        with pytest.raises(TransportError):
            await ScannerServiceClient(transport).cancel_job(job_id=1)


async def test_sync_facade_calls_and_streams(server: str, tmp_path: Path) -> None:
    from wsdscan.generated import ScannerServiceSyncClient
    from wsdscan.runtime.transport.sync import SyncRunner

    def blocking() -> tuple[CancelJobResponse, bytes, int]:
        with SyncRunner() as runner:
            client = ScannerServiceSyncClient.connect(server, runner)
            with pytest.raises(scan_faults.ClientErrorJobIdNotFound):
                client.cancel_job(
                    job_id=FAULT_CLASSES.index(scan_faults.ClientErrorJobIdNotFound)
                )
            answer = client.cancel_job(job_id=1000)
            streamed = b"".join(
                client.retrieve_image(
                    job_id=70001, job_token="chunks", document_description=_DOC
                ).iter_bytes()
            )
            saved = client.retrieve_image(
                job_id=5000, job_token="bytes", document_description=_DOC
            ).save(tmp_path / "sync.png")
            return answer, streamed, saved

    answer, streamed, saved = await asyncio.to_thread(blocking)
    assert answer == CancelJobResponse()
    assert streamed == _payload(70001)
    assert saved == 5000 and (tmp_path / "sync.png").read_bytes() == _payload(5000)


async def test_client_sends_windows_like_requests() -> None:
    seen: dict[str, object] = {}

    async def device(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        seen["headers"] = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        seen["body"] = (await receive())["body"]
        body = build_envelope(_cancel_body(1), action="x", relates_to="urn:x").replace(
            b"CancelJobRequest", b"CancelJobResponse"
        )
        body = body.replace(b"<wscn:JobId>1</wscn:JobId>", b"")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/soap+xml")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async with (
        running(device) as srv,
        HttpTransport(srv.url("/Scan"), user_agent="Custom/1") as transport,
    ):
        await ScannerServiceClient(transport).cancel_job(job_id=5)
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["content-type"] == "application/soap+xml"
    assert headers["user-agent"] == "Custom/1"
    assert headers["cache-control"] == "no-cache" and headers["pragma"] == "no-cache"
    body = seen["body"]
    assert isinstance(body, bytes)
    assert b"\n" not in body and b"> <" not in body  # compact
    assert b"<soap:Envelope" in body and b"<wsa:MessageID>urn:uuid:" in body
    assert b"<wscn:CancelJobRequest><wscn:JobId>5</wscn:JobId>" in body
    assert f"<wsa:To>{srv.url('/Scan')}</wsa:To>".encode() in body
    assert b"<wsa:Action>" + f"{SCAN_NS}/CancelJob".encode() + b"</wsa:Action>" in body
    assert HttpTransport("http://h/").user_agent == "WSDAPI"  # the default


SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"


def _request(
    envelope_ns: str, scan_ns: str, header_extra: str = "", mu: str = ""
) -> bytes:
    return (
        f'<e:Envelope xmlns:e="{envelope_ns}" xmlns:a="{WSA}" xmlns:s="{scan_ns}">'
        f"<e:Header><a:Action{mu}>{SCAN_NS}/CancelJob</a:Action>"
        f"<a:MessageID{mu}>urn:uuid:1</a:MessageID>{header_extra}</e:Header>"
        "<e:Body><s:CancelJobRequest><s:JobId>1000</s:JobId></s:CancelJobRequest></e:Body></e:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    "request_bytes",
    [
        _request(SOAP11, SCAN_NS),
        _request(
            "http://www.w3.org/2003/05/soap-envelope",
            "http://schemas.microsoft.com/windows/2006/01/wdp/scan",
        ),
        _request(
            "http://www.w3.org/2003/05/soap-envelope",
            "https://schemas.microsoft.com/windows/2006/08/wdp/scan",
        ),
        _request(
            "http://www.w3.org/2003/05/soap-envelope",
            SCAN_NS,
            mu=' e:mustUnderstand="true"',
            header_extra='<v:Hint xmlns:v="urn:vendor">ignored</v:Hint>',
        ),
    ],
    ids=["soap11", "scan-2006-01", "https-namespace", "understood-mustUnderstand"],
)
async def test_server_is_lenient_on_receipt(server: str, request_bytes: bytes) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server,
            content=request_bytes,
            headers={"Content-Type": "application/soap+xml"},
        )
    assert response.status_code == 200, response.text
    assert b"CancelJobResponse" in response.content
    assert b"<wsa:RelatesTo>urn:uuid:1</wsa:RelatesTo>" in response.content


async def test_unknown_must_understand_header_is_a_fault(server: str) -> None:
    request = _request(
        "http://www.w3.org/2003/05/soap-envelope",
        SCAN_NS,
        header_extra='<v:Secret xmlns:v="urn:vendor" e:mustUnderstand="1">x</v:Secret>',
    )
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server, content=request, headers={"Content-Type": "application/soap+xml"}
        )
    # SOAP 1.2 HTTP binding: only env:Sender maps to 400; MustUnderstand is a 500.
    assert response.status_code == 500
    assert b"MustUnderstand" in response.content


async def test_raw_handlers_and_path_router() -> None:
    """Actions outside the generated routes (WS-Eventing, WS-Transfer) plug in as raw
    handlers on the same endpoint; other endpoints share the port through PathRouter."""
    from wsdscan.runtime.server import PathRouter, SoapReply

    seen = []

    async def subscribe(envelope, context):  # type: ignore[no-untyped-def]
        seen.append((etree.QName(envelope.body).localname, context.action))
        reply = etree.Element("{urn:test}Ack")
        return SoapReply(
            reply, "urn:test/AckResponse", headers=[etree.Element("{urn:test}Ref")]
        )

    scan_app = SoapApp(
        TestService(), path="/WSDScanner", handlers={"urn:test/Ack": subscribe}
    )

    async def other(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"other"})

    router = PathRouter({"/WSDScanner": scan_app, "/WSDScanner/meta": other})
    async with running(router) as srv, httpx.AsyncClient() as http:
        request = build_envelope(
            etree.Element("{urn:test}Ping"),
            action="urn:test/Ack",
            message_id="urn:uuid:7",
        )
        answer = await http.post(
            srv.url("/WSDScanner"),
            content=request,
            headers={"Content-Type": "application/soap+xml"},
        )
        assert answer.status_code == 200
        assert b"urn:test/AckResponse" in answer.content and b"Ref" in answer.content
        assert b"<wsa:RelatesTo>urn:uuid:7</wsa:RelatesTo>" in answer.content
        assert (
            await http.post(srv.url("/WSDScanner/meta"), content=b"")
        ).content == b"other"
        assert (await http.post(srv.url("/nowhere"), content=b"")).status_code == 404
        async with HttpTransport(
            srv.url("/WSDScanner")
        ) as transport:  # generated routes still work
            assert (
                await ScannerServiceClient(transport).cancel_job(job_id=1000)
                == CancelJobResponse()
            )
    assert seen == [("Ping", "urn:test/Ack")]

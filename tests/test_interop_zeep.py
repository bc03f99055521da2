"""Interop: zeep, a WSDL-driven SOAP 1.2 client, against ``python -m wsdscan serve``,
using the project's own WSDL (schema/wsdl/scan.wsdl).

zeep knows only WS-Addressing 2005/08, and adds such headers by itself whenever an
operation has a ``wsaw:Action``; WS-Scan uses 2004/08. :class:`Wsa2004Plugin` removes
any 2005/08 header and adds the 2004/08 Action/MessageID/To/ReplyTo a Windows client
sends (recipe: the project's shared tools, ``shared/tools/xcheck/zeep_check.py`` beside
the checkout; notes in ``shared/notes/interop.md`` section 12).
QName values are passed as ``lxml.etree.QName`` so zeep declares their namespace.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from interop_support import REPO_ROOT, ServedScanner, require_module

zeep = require_module("zeep")

from lxml import etree  # noqa: E402
from lxml.builder import ElementMaker  # noqa: E402
from PIL import Image  # noqa: E402
from zeep.plugins import Plugin  # noqa: E402
from zeep.wsdl.utils import get_or_create_header  # noqa: E402

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
WSA04 = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSA05 = "http://www.w3.org/2005/08/addressing"
XOP_NS = "http://www.w3.org/2004/08/xop/include"
WSDL = REPO_ROOT / "schema" / "wsdl" / "scan.wsdl"
BINDING = f"{{{SCAN_NS}}}ScannerServiceBinding"

PLATEN_W, PLATEN_H = 8500, 11690  # 1/1000 inch

_wsa = ElementMaker(namespace=WSA04, nsmap={"wsa": WSA04})


class Wsa2004Plugin(Plugin):  # type: ignore[misc]
    """WS-Addressing 2004/08 request headers instead of zeep's 2005/08 ones."""

    def __init__(self, to: str) -> None:
        self.to = to
        self.sent: list[etree._Element] = []

    def egress(self, envelope, http_headers, operation, binding_options):  # type: ignore[no-untyped-def]
        action = operation.abstract.wsa_action or operation.soapaction
        header = get_or_create_header(envelope)
        for element in list(header):
            if isinstance(element.tag, str) and element.tag.startswith(f"{{{WSA05}}}"):
                header.remove(element)
        header.extend(
            [
                _wsa.Action(action),
                _wsa.MessageID(f"urn:uuid:{uuid.uuid4()}"),
                _wsa.To(self.to),
                _wsa.ReplyTo(_wsa.Address(f"{WSA04}/role/anonymous")),
            ]
        )
        self.sent.append(envelope)
        return envelope, http_headers


@pytest.fixture(scope="module")
def server() -> Iterator[ServedScanner]:
    with ServedScanner() as srv:
        yield srv


@pytest.fixture(scope="module")
def client_and_service(server: ServedScanner) -> tuple[Any, Any, Wsa2004Plugin]:
    plugin = Wsa2004Plugin(server.url)
    transport = zeep.Transport(timeout=30, operation_timeout=60)
    client = zeep.Client(str(WSDL), plugins=[plugin], transport=transport)
    service = client.create_service(BINDING, server.url)
    return client, service, plugin


def _value(item: Any) -> Any:
    """The text of a simpleContent value (zeep puts it in ``_value_1``)."""
    return getattr(item, "_value_1", item)


def _ticket(client: Any, *, color: str = "RGB24", dpi: int = 100) -> Any:
    t = client.type_factory("ns0")
    assert t._ns == SCAN_NS  # ns0 is the scan namespace in this WSDL
    region = t.ScanRegion(
        ScanRegionXOffset=t.ScanRegionXOffset(0),
        ScanRegionYOffset=t.ScanRegionYOffset(0),
        ScanRegionWidth=t.ScanRegionWidth(PLATEN_W),
        ScanRegionHeight=t.ScanRegionHeight(PLATEN_H),
    )
    return t.ScanTicket(
        JobDescription=t.JobDescription(
            JobName="zeep interop",
            JobOriginatingUserName="pytest",
            JobInformation="test_interop_zeep",
        ),
        DocumentParameters=t.DocumentParameters(
            Format=t.Format("png"),
            ImagesToTransfer=t.ImagesToTransfer(1),
            InputSource=t.InputSource("Platen"),
            InputSize=t.InputSize(
                InputMediaSize=t.InputMediaSize(
                    Width=t.Width(PLATEN_W), Height=t.Height(PLATEN_H)
                )
            ),
            MediaSides=t.MediaSides(
                MediaFront=t.MediaFront(
                    ScanRegion=region,
                    ColorProcessing=t.ColorProcessing(color),
                    Resolution=t.Resolution(Width=t.Width(dpi), Height=t.Height(dpi)),
                )
            ),
        ),
    )


def test_get_scanner_configuration(
    client_and_service: tuple[Any, Any, Wsa2004Plugin]
) -> None:
    _, service, plugin = client_and_service
    reply = service.GetScannerElements(
        RequestedElements={"Name": [etree.QName(SCAN_NS, "ScannerConfiguration")]}
    )

    # What went out: 2004/08 addressing only, the QName resolvable in the request.
    sent = plugin.sent[-1]
    assert sent.find(f".//{{{WSA05}}}Action") is None
    assert sent.findtext(f".//{{{WSA04}}}Action") == f"{SCAN_NS}/GetScannerElements"
    name = sent.find(f".//{{{SCAN_NS}}}Name")
    prefix, local = name.text.split(":")
    assert (name.nsmap[prefix], local) == (SCAN_NS, "ScannerConfiguration")

    # zeep unwraps the single-child ScannerElements into its ElementData list.
    elements = reply if isinstance(reply, list) else reply.ElementData
    [data] = elements
    assert data.Valid is True
    # zeep hands QName attributes over as the literal text ("prefix:local").
    assert str(data.Name).rpartition(":")[2] == "ScannerConfiguration", data.Name
    config = data.ScannerConfiguration
    formats = [_value(f) for f in config.DeviceSettings.FormatsSupported.FormatValue]
    assert "png" in formats and "jfif" in formats, formats

    platen = config.Platen
    assert (
        _value(platen.PlatenMaximumSize.Width),
        _value(platen.PlatenMaximumSize.Height),
    ) == (PLATEN_W, PLATEN_H)
    widths = [_value(w) for w in platen.PlatenResolutions.Widths.Width]
    heights = [_value(h) for h in platen.PlatenResolutions.Heights.Height]
    assert {75, 100, 150, 200, 300, 600} <= set(widths) and {
        75,
        100,
        150,
        200,
        300,
        600,
    } <= set(heights)
    colors = {_value(c) for c in platen.PlatenColor.ColorEntry}
    assert colors == {"BlackAndWhite1", "Grayscale8", "RGB24"}
    assert config.ADF is not None


@pytest.mark.parametrize(("color", "pil_mode"), [("RGB24", "RGB"), ("Grayscale8", "L")])
def test_create_scan_job_and_retrieve_image(
    client_and_service: tuple[Any, Any, Wsa2004Plugin], color: str, pil_mode: str
) -> None:
    client, service, plugin = client_and_service
    reply = service.CreateScanJob(ScanTicket=_ticket(client, color=color, dpi=100))

    assert (
        plugin.sent[-1].findtext(f".//{{{WSA04}}}Action") == f"{SCAN_NS}/CreateScanJob"
    )
    job_id = int(reply.JobId)
    token = str(reply.JobToken)
    assert job_id > 0
    assert token.strip() != ""
    width, height = PLATEN_W * 100 // 1000, PLATEN_H * 100 // 1000  # 850 x 1169
    info = reply.ImageInformation
    if info is not None and info.MediaFrontImageInfo is not None:
        front = info.MediaFrontImageInfo
        assert (int(front.PixelsPerLine), int(front.NumberOfLines)) == (width, height)
    final = reply.DocumentFinalParameters
    if final is not None:
        assert _value(final.Format) == "png"
        assert _value(final.InputSource) == "Platen"
        assert _value(final.MediaSides.MediaFront.ColorProcessing) == color

    # The image: zeep sends RetrieveImage; the MTOM reply is split with the same
    # multipart decoder zeep uses (requests_toolbelt), so this does not depend on how
    # the WSDL models ScanData (see test_retrieve_image_decoded_by_zeep).
    with client.settings(raw_response=True):
        raw = service.RetrieveImage(
            JobId=job_id,
            JobToken=token,
            DocumentDescription={"DocumentName": "IMAGE000.PNG"},
        )
    assert raw.status_code == 200, raw.content[:2000]
    root, image_part = _mtom_parts(raw)
    include = root.find(
        f".//{{{SCAN_NS}}}RetrieveImageResponse/{{{SCAN_NS}}}ScanData/{{{XOP_NS}}}Include"
    )
    assert include is not None, etree.tostring(root)[:2000]
    assert include.get("href") == "cid:" + image_part.headers[
        b"Content-ID"
    ].decode().strip("<>")
    with Image.open(io.BytesIO(image_part.content)) as image:
        assert image.format == "PNG"
        assert image.size == (width, height)
        assert image.mode == pil_mode
        _assert_marker(image, (1, "front"))


def _mtom_parts(raw: Any) -> tuple[etree._Element, Any]:
    from requests_toolbelt.multipart.decoder import MultipartDecoder

    content_type = raw.headers["Content-Type"]
    assert content_type.startswith("multipart/related"), content_type
    parts = MultipartDecoder(raw.content, content_type).parts
    assert len(parts) == 2, [p.headers for p in parts]
    return etree.fromstring(parts[0].content), parts[1]


def _assert_marker(image: Image.Image, expected: tuple[int, str]) -> None:
    try:
        from wsdscan.virtual.images import read_marker
    except ImportError:
        return  # the marker format is not there (yet): sizes and modes were checked
    marker = read_marker(image)
    assert marker is not None, "no readable page marker in the image"
    page, side = marker if isinstance(marker, tuple) else (marker.sheet, marker.side)
    assert (page, side) == expected


def test_retrieve_image_decoded_by_zeep(
    client_and_service: tuple[Any, Any, Wsa2004Plugin]
) -> None:
    """zeep as a plain MTOM client: RetrieveImage must come back as the image bytes.

    zeep (like any XOP processor) first rebuilds the XML infoset -- it replaces
    ``xop:Include`` by the base64 text of the part -- and then parses ScanData against
    the WSDL's schema. That only yields bytes if ScanData is declared as (an extension
    of) xs:base64Binary, the way XOP-optimised content is meant to be described.
    """
    client, service, _ = client_and_service
    reply = service.CreateScanJob(ScanTicket=_ticket(client, color="RGB24", dpi=100))
    data = service.RetrieveImage(
        JobId=int(reply.JobId),
        JobToken=str(reply.JobToken),
        DocumentDescription={"DocumentName": "IMAGE000.PNG"},
    )
    assert isinstance(data, bytes), (
        f"zeep decoded RetrieveImageResponse/ScanData as {data!r}, not the image bytes: "
        "schema/scan/operations.xsd declares ScanData as a sequence holding xop:Include, "
        "so after XOP decoding (base64 text in ScanData) zeep finds no Include element"
    )
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (PLATEN_W * 100 // 1000, PLATEN_H * 100 // 1000)


def test_fault_for_unknown_job(
    client_and_service: tuple[Any, Any, Wsa2004Plugin]
) -> None:
    _, service, _ = client_and_service
    with pytest.raises(zeep.exceptions.Fault) as caught:
        service.RetrieveImage(
            JobId=987654,
            JobToken="no-such-token",
            DocumentDescription={"DocumentName": "x"},
        )
    fault = caught.value
    assert fault.code == "soap:Sender" or str(fault.code).endswith("Sender"), fault.code
    assert [etree.QName(s).localname for s in fault.subcodes or []] == [
        "ClientErrorJobIdNotFound"
    ], fault.subcodes

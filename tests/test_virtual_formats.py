"""Every format the Kyocera profile advertises that the virtual scanner produces, scanned
through the generated client over HTTP and opened with Pillow (a PDF is checked by its
structure): size from the ticket's resolution and region, mode from its colour, frames
and pages of the multi-page formats. Plus the encoders the profile does not use."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models.scan import (
    ColorProcessing,
    CreateScanJobResponse,
    DocumentDescription,
    DocumentParameters,
    Format,
    Height,
    ImagesToTransfer,
    InputMediaSize,
    InputSize,
    InputSource,
    JobDescription,
    MediaBack,
    MediaFront,
    MediaSides,
    Resolution,
    ScanRegion,
    ScanRegionHeight,
    ScanRegionWidth,
    ScanTicket,
    Width,
)
from wsdscan.generated.stubs import faults
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.transport import HttpTransport

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig, read_marker
from wsdscan.virtual.encoders import encode_page, producible_formats
from wsdscan.virtual.images import PageSpec, render_page
from wsdscan.virtual.profiles import load_profile

PATH = "/WSDScanner"
DOC = DocumentDescription(document_name="page")
MODES = {"BlackAndWhite1": "1", "Grayscale8": "L", "RGB24": "RGB"}
# What the Kyocera profile advertises and the virtual scanner produces (xps is left out).
KYOCERA_PRODUCED = [
    "exif",
    "pdf-a",
    "tiff-single-g4",
    "tiff-single-jpeg-tn2",
    "tiff-multi-g4",
    "tiff-multi-jpeg-tn2",
    "jfif",
]
# Region 2 x 3 inches at 200 dpi across and 100 dpi down (the Kyocera lists differ).
REGION = (2000, 3000)
DPI = (200, 100)
PIXELS = (400, 300)


def ticket(
    fmt: str,
    color: str,
    *,
    source: str = "Platen",
    images: int | None = None,
    duplex: bool = False,
) -> ScanTicket:
    def side() -> dict[str, object]:
        return {
            "scan_region": ScanRegion(
                scan_region_width=ScanRegionWidth(value=REGION[0]),
                scan_region_height=ScanRegionHeight(value=REGION[1]),
            ),
            "color_processing": ColorProcessing(value=color),
            "resolution": Resolution(
                width=Width(value=DPI[0]), height=Height(value=DPI[1])
            ),
        }

    return ScanTicket(
        job_description=JobDescription(job_name="t", job_originating_user_name="me"),
        document_parameters=DocumentParameters(
            format=Format(value=fmt),
            images_to_transfer=ImagesToTransfer(value=images) if images else None,
            input_source=InputSource(value=source),
            input_size=InputSize(
                input_media_size=InputMediaSize(
                    width=Width(value=8266), height=Height(value=11690)
                )
            ),
            media_sides=MediaSides(
                media_front=MediaFront(**side()),  # type: ignore[arg-type]
                media_back=MediaBack(**side()) if duplex else None,  # type: ignore[arg-type]
            ),
        ),
    )


@pytest.fixture
async def client() -> AsyncIterator[ScannerServiceClient]:
    config = VirtualScannerConfig(profile=load_profile("kyocera-m2040dn"), adf_sheets=3)
    async with running(SoapApp(VirtualScanner(config), path=PATH)) as server:
        async with HttpTransport(server.url(PATH)) as transport:
            yield ScannerServiceClient(transport)


async def scan_once(
    client: ScannerServiceClient, job_ticket: ScanTicket
) -> tuple[CreateScanJobResponse, bytes]:
    job = await client.create_scan_job(scan_ticket=job_ticket)
    reply = await client.retrieve_image(
        job_id=job.job_id, job_token=job.job_token, document_description=DOC
    )
    return job, await reply.read()


def final_color(job: CreateScanJobResponse) -> str:
    params = job.document_final_parameters
    assert params is not None and params.media_sides is not None
    color = params.media_sides.media_front.color_processing
    assert color is not None
    return str(getattr(color.value, "value", color.value))


def test_the_kyocera_formats_are_all_produced_here() -> None:
    # If Pillow here lacked libtiff or JPEG, the parametrized scans below would not
    # cover what the profile advertises: say so instead of passing quietly.
    assert set(KYOCERA_PRODUCED) <= set(producible_formats())


@pytest.mark.parametrize("color", ["Grayscale8", "RGB24"])
@pytest.mark.parametrize("fmt", ["jfif", "exif"])
async def test_jpeg_formats(client: ScannerServiceClient, fmt: str, color: str) -> None:
    _, data = await scan_once(client, ticket(fmt, color))
    assert data.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == PIXELS and image.mode == MODES[color]
        exif = image.getexif()
        assert (b"Exif\x00\x00" in data[:200]) == (fmt == "exif")
        if fmt == "exif":
            assert exif[0x010F] == "wsdscan"  # Make
            assert (exif[0x011A], exif[0x011B]) == DPI  # X/YResolution
        marker = read_marker(image)
    assert marker is not None and (marker.sheet, marker.side) == (1, "front")


@pytest.mark.parametrize(
    ("fmt", "color", "compression", "tag"),
    [
        ("tiff-single-g4", "BlackAndWhite1", "group4", 4),
        ("tiff-single-jpeg-tn2", "Grayscale8", "jpeg", 7),
        ("tiff-single-jpeg-tn2", "RGB24", "jpeg", 7),
    ],
)
async def test_single_page_tiff(
    client: ScannerServiceClient, fmt: str, color: str, compression: str, tag: int
) -> None:
    job, data = await scan_once(client, ticket(fmt, color))
    assert final_color(job) == color
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "TIFF" and image.n_frames == 1
        assert image.info["compression"] == compression
        assert image.tag_v2[259] == tag  # Compression; 7 is JPEG as in TechNote 2
        assert image.size == PIXELS and image.mode == MODES[color]
        assert image.info["dpi"] == pytest.approx(DPI)
        marker = read_marker(image)
    assert marker is not None and marker.sheet == 1


async def test_g4_makes_a_colour_ticket_bilevel(client: ScannerServiceClient) -> None:
    job, data = await scan_once(client, ticket("tiff-single-g4", "RGB24"))
    # The substitution is said in DocumentFinalParameters, and is what arrives.
    assert final_color(job) == "BlackAndWhite1"
    params = job.document_final_parameters
    assert params is not None and params.media_sides is not None
    color = params.media_sides.media_front.color_processing
    assert color is not None and color.override
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "1" and image.info["compression"] == "group4"


@pytest.mark.parametrize(
    ("fmt", "color"),
    [("tiff-multi-g4", "BlackAndWhite1"), ("tiff-multi-jpeg-tn2", "RGB24")],
)
@pytest.mark.parametrize(("source", "frames"), [("ADF", 3), ("ADFDuplex", 6)])
async def test_multi_page_tiff_holds_the_whole_job(
    client: ScannerServiceClient, fmt: str, color: str, source: str, frames: int
) -> None:
    job, data = await scan_once(
        client, ticket(fmt, color, source=source, duplex=source == "ADFDuplex")
    )
    assert job.image_information is not None
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "TIFF" and image.n_frames == frames
        markers = []
        for index in range(frames):
            image.seek(index)
            assert image.size == PIXELS and image.mode == MODES[color]
            marker = read_marker(image)
            assert marker is not None
            markers.append((marker.sheet, marker.side))
    sides = ["front", "back"] if source == "ADFDuplex" else ["front"]
    assert markers == [(sheet, side) for sheet in (1, 2, 3) for side in sides]
    # Everything came in that one file: the job completed with it (as a platen job
    # does with its one image).
    with pytest.raises(faults.ClientErrorJobIdNotFound):
        await client.retrieve_image(
            job_id=job.job_id, job_token=job.job_token, document_description=DOC
        )


async def test_multi_page_tiff_stops_at_images_to_transfer(
    client: ScannerServiceClient,
) -> None:
    _, data = await scan_once(
        client, ticket("tiff-multi-g4", "BlackAndWhite1", source="ADF", images=2)
    )
    with Image.open(io.BytesIO(data)) as image:
        assert image.n_frames == 2


def pdf_objects(data: bytes) -> list[bytes]:
    """The dictionaries of a PDF's objects (img2pdf writes them uncompressed)."""
    return re.findall(rb"\d+ 0 obj\s*(<<.*?)(?:stream|endobj)", data, re.S)


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """The MediaBox size (points) of every page object."""
    sizes = []
    for obj in pdf_objects(data):
        if re.search(rb"/Type\s*/Page\b(?!s)", obj):
            box = re.search(rb"/MediaBox\s*\[([^\]]*)\]", obj)
            assert box is not None
            x0, y0, x1, y1 = (float(v) for v in box.group(1).split())
            sizes.append((x1 - x0, y1 - y0))
    return sizes


def pdf_images(data: bytes) -> list[tuple[int, int, bytes]]:
    """(Width, Height, Filter) of every image XObject."""
    found = []
    for obj in pdf_objects(data):
        if re.search(rb"/Subtype\s*/Image\b", obj):
            width = re.search(rb"/Width\s+(\d+)", obj)
            height = re.search(rb"/Height\s+(\d+)", obj)
            kind = re.search(rb"/Filter\s*\[?\s*/(\w+)", obj)
            assert width and height and kind
            found.append((int(width.group(1)), int(height.group(1)), kind.group(1)))
    return found


@pytest.mark.parametrize(
    ("source", "pages"), [("Platen", 1), ("ADF", 3), ("ADFDuplex", 6)]
)
@pytest.mark.parametrize("color", ["BlackAndWhite1", "Grayscale8", "RGB24"])
async def test_pdf_a(
    client: ScannerServiceClient, source: str, pages: int, color: str
) -> None:
    job, data = await scan_once(
        client, ticket("pdf-a", color, source=source, duplex=source == "ADFDuplex")
    )
    assert final_color(job) == color
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    # One page object per image, each the region's size (points = inch * 72).
    inches = (REGION[0] / 1000, REGION[1] / 1000)
    assert pdf_pages(data) == [(inches[0] * 72, inches[1] * 72)] * pages
    assert re.search(rb"/Count\s+%d\b" % pages, data)
    # Each image as it was encoded (pixels from the ticket's resolution): CCITT G4 for
    # bilevel, JPEG otherwise.
    image_filter = b"CCITTFaxDecode" if color == "BlackAndWhite1" else b"DCTDecode"
    assert pdf_images(data) == [(*PIXELS, image_filter)] * pages
    assert re.search(rb"pdfaid:part=.1.", data) and b"/OutputIntents" in data


async def test_advertised_formats_are_the_profile_minus_what_cannot_be_produced(
    client: ScannerServiceClient,
) -> None:
    from xml.etree.ElementTree import QName

    from wsdscan.generated.models.scan import RequestedElements

    from wsdscan.virtual.profiles import PROFILE_FILE, profile_names

    assert "kyocera-m2040dn" in profile_names()
    name = QName("{http://schemas.microsoft.com/windows/2006/08/wdp/scan}X")
    response = await client.get_scanner_elements(
        requested_elements=RequestedElements(
            name=[QName(name.text.replace("}X", "}ScannerConfiguration"))]
        )
    )
    (data,) = response.scanner_elements.element_data
    assert data.scanner_configuration is not None
    advertised = [
        str(getattr(v, "value", v))
        for v in data.scanner_configuration.device_settings.formats_supported.format_value
    ]
    # The device's list, read here from the shipped file with a regular expression.
    from importlib import resources

    raw = (
        resources.files("wsdscan.virtual")
        .joinpath("profiles", "kyocera-m2040dn", PROFILE_FILE)
        .read_text()
    )
    device = re.findall(r"<scan:FormatValue>([^<]*)</scan:FormatValue>", raw)
    assert "xps" in device
    assert advertised == [f for f in device if f in producible_formats()]
    assert advertised == KYOCERA_PRODUCED


# --- the encoders the Kyocera profile does not use --------------------------------


def _page(color: str) -> Image.Image:
    return render_page(
        PageSpec(
            width=120, height=90, color_mode=color, format="png", sheet=7, side="back"
        )
    )


@pytest.mark.parametrize("color", ["BlackAndWhite1", "Grayscale8", "RGB24"])
def test_dib_is_a_bmp_file(color: str) -> None:
    data = encode_page(_page(color), "dib")
    assert data[:2] == b"BM"  # BITMAPFILEHEADER, as sane-airscan's decoder reads it
    assert int.from_bytes(data[2:6], "little") == len(data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "BMP" and image.size == (120, 90)
        assert (
            image.mode
            in {"1": ("1", "P"), "L": ("L", "P"), "RGB": ("RGB",)}[MODES[color]]
        )


@pytest.mark.parametrize(
    ("fmt", "compression"),
    [
        ("tiff-single-g3mh", "group3"),
        ("tiff-single-uncompressed", "raw"),
        ("tiff-multi-uncompressed", "raw"),
    ],
)
def test_other_tiff_compressions(fmt: str, compression: str) -> None:
    color = "BlackAndWhite1" if "g3" in fmt else "RGB24"
    data = encode_page(_page(color), fmt, dpi=(150, 75))
    with Image.open(io.BytesIO(data)) as image:
        assert image.info["compression"] == compression
        assert image.mode == MODES[color] and image.size == (120, 90)
        assert image.info["dpi"] == pytest.approx((150, 75))
        marker = read_marker(image)
    assert marker is not None and (marker.sheet, marker.side) == (7, "back")


def test_jpeg2k_where_pillow_has_openjpeg() -> None:
    if "jpeg2k" not in producible_formats():
        pytest.skip("Pillow here has no OpenJPEG: jpeg2k is left out of profiles")
    data = encode_page(_page("RGB24"), "jpeg2k")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG2000" and image.size == (120, 90)


def test_formats_nothing_here_can_write_are_not_producible() -> None:
    produced = producible_formats()
    assert "xps" not in produced and "jbig" not in produced
    with pytest.raises(ValueError):
        encode_page(_page("RGB24"), "xps")


@pytest.mark.parametrize("color", ["BlackAndWhite1", "Grayscale8", "RGB24"])
@pytest.mark.parametrize("fmt", ["dib", "tiff-single-uncompressed", "jfif"])
async def test_bytes_per_line_is_the_row_length_of_uncompressed_formats(
    fmt: str, color: str
) -> None:
    # The built-in scanner configured with uncompressed formats.
    config = VirtualScannerConfig(
        formats=("png", "dib", "tiff-single-uncompressed", "jfif")
    )
    async with running(SoapApp(VirtualScanner(config), path=PATH)) as server:
        async with HttpTransport(server.url(PATH)) as transport:
            job, data = await scan_once(
                ScannerServiceClient(transport), ticket(fmt, color)
            )
    assert job.image_information is not None
    info = job.image_information.media_front_image_info
    assert (info.pixels_per_line, info.number_of_lines) == PIXELS
    if fmt == "jfif":
        assert info.bytes_per_line == 0  # compressed
        return
    if fmt == "dib":
        offset = int.from_bytes(data[10:14], "little")  # bfOffBits
        assert len(data) - offset == info.bytes_per_line * info.number_of_lines
        assert info.bytes_per_line % 4 == 0
    else:
        with Image.open(io.BytesIO(data)) as image:
            assert image.info["compression"] == "raw"
            strips = sum(image.tag_v2[279])  # StripByteCounts
        assert strips == info.bytes_per_line * info.number_of_lines

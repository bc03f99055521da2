"""Tests for wsdscan.virtual: the operations called directly (no HTTP), with requests
built from the generated dataclasses."""

from __future__ import annotations

import asyncio
import io
from xml.etree.ElementTree import QName

import pytest
from PIL import Image
from wsdscan.generated.models.scan import (
    CancelJobRequest,
    ColorProcessing,
    CreateScanJobRequest,
    CreateScanJobResponse,
    DocumentDescription,
    DocumentParameters,
    Format,
    GetActiveJobsRequest,
    GetJobElementsRequest,
    GetJobHistoryRequest,
    GetScannerElementsRequest,
    Height,
    ImagesToTransfer,
    InputSource,
    JobDescription,
    MediaBack,
    MediaFront,
    MediaSides,
    RequestedElements,
    Resolution,
    RetrieveImageRequest,
    RetrieveImageResponse,
    ScannerElementData,
    ScanRegion,
    ScanRegionHeight,
    ScanRegionWidth,
    ScanTicket,
    ValidateScanTicketRequest,
    Width,
)
from wsdscan.generated.stubs.faults import (
    ClientErrorFormatNotSupported,
    ClientErrorInvalidJobToken,
    ClientErrorInvalidScanIdentifier,
    ClientErrorJobCancelled,
    ClientErrorJobIdNotFound,
    ClientErrorNoImagesAvailable,
    InvalidArgs,
    ServerErrorNotAcceptingJobs,
)
from wsdscan.runtime.contract import AttachmentReply, RequestContext

from wsdscan.virtual import (
    PageMarker,
    VirtualScanner,
    VirtualScannerConfig,
    read_marker,
)

NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"


def ctx(operation: str) -> RequestContext:
    return RequestContext(action=f"{NS}/{operation}")


def text(value: object) -> str:
    return str(getattr(value, "value", value))


def make_ticket(
    source: str = "Platen",
    *,
    fmt: str = "png",
    resolution: int = 100,
    color: str = "RGB24",
    width: int = 1000,
    height: int = 1000,
    must_honor: bool | None = None,
    images: int | None = None,
    back: bool = False,
    name: str = "test job",
) -> ScanTicket:
    def side() -> dict[str, object]:
        return {
            "scan_region": ScanRegion(
                scan_region_width=ScanRegionWidth(value=width, must_honor=must_honor),
                scan_region_height=ScanRegionHeight(
                    value=height, must_honor=must_honor
                ),
            ),
            "color_processing": ColorProcessing(value=color, must_honor=must_honor),
            "resolution": Resolution(
                width=Width(value=resolution),
                height=Height(value=resolution),
                must_honor=must_honor,
            ),
        }

    return ScanTicket(
        job_description=JobDescription(job_name=name, job_originating_user_name="me"),
        document_parameters=DocumentParameters(
            format=Format(value=fmt, must_honor=must_honor),
            images_to_transfer=(
                ImagesToTransfer(value=images) if images is not None else None
            ),
            input_source=InputSource(value=source, must_honor=must_honor),
            media_sides=MediaSides(
                media_front=MediaFront(**side()),  # type: ignore[arg-type]
                media_back=MediaBack(**side()) if back else None,  # type: ignore[arg-type]
            ),
        ),
    )


async def create(scanner: VirtualScanner, **kwargs: object) -> CreateScanJobResponse:
    request = CreateScanJobRequest(scan_ticket=make_ticket(**kwargs))  # type: ignore[arg-type]
    return await scanner.create_scan_job(request, ctx("CreateScanJob"))


async def retrieve(
    scanner: VirtualScanner,
    job: CreateScanJobResponse,
    *,
    token: str | None = None,
    name: str = "IMAGE000.JPG",
    delivered: bool = True,
) -> AttachmentReply[RetrieveImageResponse]:
    """RetrieveImage; ``delivered``: then report the image sent whole, as the runtime
    does once the response body went out (the job ends only then)."""
    request = RetrieveImageRequest(
        document_description=DocumentDescription(document_name=name),
        job_id=job.job_id,
        job_token=job.job_token if token is None else token,
    )
    reply = await scanner.retrieve_image(request, ctx("RetrieveImage"))
    if delivered:
        assert reply.on_complete is not None
        await reply.on_complete()
    return reply


def decode(reply: AttachmentReply[RetrieveImageResponse]) -> Image.Image:
    assert isinstance(reply.content, bytes)
    assert reply.size == len(reply.content)
    assert reply.body.scan_data == b""  # the bytes travel as the attachment (XOP)
    image = Image.open(io.BytesIO(reply.content))
    image.load()
    return image


async def drain(
    scanner: VirtualScanner, job: CreateScanJobResponse
) -> list[Image.Image]:
    """RetrieveImage until the ADF answers NoImagesAvailable."""
    images = []
    for _ in range(100):
        try:
            images.append(decode(await retrieve(scanner, job)))
        except ClientErrorNoImagesAvailable:
            return images
    raise AssertionError("the job never ran out of images")


async def scanner_elements(
    scanner: VirtualScanner, *names: str | QName
) -> list[ScannerElementData]:
    qnames = [n if isinstance(n, QName) else QName(NS, n) for n in names]
    request = GetScannerElementsRequest(
        requested_elements=RequestedElements(name=qnames)
    )
    response = await scanner.get_scanner_elements(request, ctx("GetScannerElements"))
    return response.scanner_elements.element_data


async def job_elements(scanner: VirtualScanner, job_id: int, *names: str):  # type: ignore[no-untyped-def]
    request = GetJobElementsRequest(
        job_id=job_id,
        requested_elements=RequestedElements(name=[QName(NS, n) for n in names]),
    )
    response = await scanner.get_job_elements(request, ctx("GetJobElements"))
    return response.job_elements.element_data


async def job_state(scanner: VirtualScanner, job_id: int) -> tuple[str, list[str]]:
    (data,) = await job_elements(scanner, job_id, "JobStatus")
    status = data.job_status
    assert status is not None
    reasons = [text(r) for r in status.job_state_reasons.job_state_reason]
    return text(status.job_state), reasons


# --- GetScannerElements -----------------------------------------------------------


async def test_scanner_elements_answer_each_name_and_flag_unknown_ones() -> None:
    scanner = VirtualScanner()
    unknown = QName("urn:vendor", "Secret")
    data = await scanner_elements(
        scanner,
        "ScannerDescription",
        "ScannerConfiguration",
        "DefaultScanTicket",
        "ScannerStatus",
        "NoSuchSection",
        unknown,
    )
    assert [d.name for d in data] == [
        QName(NS, "ScannerDescription"),
        QName(NS, "ScannerConfiguration"),
        QName(NS, "DefaultScanTicket"),
        QName(NS, "ScannerStatus"),
        QName(NS, "NoSuchSection"),
        unknown,
    ]
    assert [d.valid for d in data] == [True, True, True, True, False, False]
    description, configuration, default, status, bad, vendor = data
    assert description.scanner_description is not None
    assert text(description.scanner_description.scanner_name[0]) == (
        "wsdscan Virtual Scanner"
    )
    assert configuration.scanner_configuration is not None
    assert configuration.scanner_description is None
    assert default.default_scan_ticket is not None
    assert status.scanner_status is not None
    for empty in (bad, vendor):
        assert empty.scanner_configuration is None
        assert empty.scanner_status is None


async def test_scanner_configuration_has_what_sane_airscan_needs() -> None:
    (data,) = await scanner_elements(VirtualScanner(), "ScannerConfiguration")
    config = data.scanner_configuration
    assert config is not None
    formats = [text(f) for f in config.device_settings.formats_supported.format_value]
    assert formats == ["png", "jfif"]
    platen = config.platen
    assert platen is not None
    assert platen.platen_maximum_size.width.value == 8500
    assert platen.platen_maximum_size.height.value == 11690
    assert platen.platen_minimum_size.width.value > 0
    widths = [w.value for w in platen.platen_resolutions.widths.width]
    heights = [h.value for h in platen.platen_resolutions.heights.height]
    assert widths == heights == [75, 100, 150, 200, 300, 600]
    colors = [text(c) for c in platen.platen_color.color_entry]
    assert {"RGB24", "Grayscale8", "BlackAndWhite1"} == set(colors)
    adf = config.adf
    assert adf is not None
    assert adf.adf_supports_duplex is True
    assert adf.adf_back is not None
    assert adf.adf_front.adf_maximum_size.width.value == 8500
    assert [text(c) for c in adf.adf_back.adf_color.color_entry] == colors


async def test_configuration_follows_the_config() -> None:
    config = VirtualScannerConfig(
        platen=False, duplex=False, formats=("jfif",), default_format="jfif"
    )
    (data,) = await scanner_elements(VirtualScanner(config), "ScannerConfiguration")
    configuration = data.scanner_configuration
    assert configuration is not None
    assert configuration.platen is None
    assert configuration.adf is not None
    assert configuration.adf.adf_supports_duplex is False
    assert configuration.adf.adf_back is None
    formats = configuration.device_settings.formats_supported.format_value
    assert [text(f) for f in formats] == ["jfif"]


async def test_default_scan_ticket_is_a_full_platen_scan() -> None:
    (data,) = await scanner_elements(VirtualScanner(), "DefaultScanTicket")
    assert data.default_scan_ticket is not None
    params = data.default_scan_ticket.document_parameters
    assert params is not None and params.input_source is not None
    assert text(params.input_source.value) == "Platen"
    assert params.format is not None and text(params.format.value) == "png"
    assert params.media_sides is not None
    front = params.media_sides.media_front
    assert front.resolution is not None and front.resolution.width.value == 300
    assert front.scan_region is not None
    assert front.scan_region.scan_region_width.value == 8500


async def test_scanner_status_follows_the_job() -> None:
    scanner = VirtualScanner()

    async def state() -> str:
        (data,) = await scanner_elements(scanner, "ScannerStatus")
        assert data.scanner_status is not None
        return text(data.scanner_status.scanner_state)

    assert await state() == "Idle"
    job = await create(scanner)
    assert await state() == "Processing"
    decode(await retrieve(scanner, job))
    assert await state() == "Idle"


async def test_scanner_status_reports_an_empty_feeder_as_a_condition() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=0))
    (data,) = await scanner_elements(scanner, "ScannerStatus")
    status = data.scanner_status
    assert status is not None and status.active_conditions is not None
    names = [text(c.name) for c in status.active_conditions.device_condition]
    assert names == ["InputTrayEmpty"]
    scanner.load_adf(1)
    (data,) = await scanner_elements(scanner, "ScannerStatus")
    assert data.scanner_status is not None
    assert data.scanner_status.active_conditions is not None
    assert data.scanner_status.active_conditions.device_condition == []


# --- Platen -----------------------------------------------------------------------


@pytest.mark.parametrize("resolution", [100, 300])
@pytest.mark.parametrize(
    ("color", "mode"),
    [("RGB24", "RGB"), ("Grayscale8", "L"), ("BlackAndWhite1", "1")],
)
async def test_platen_scan_follows_the_ticket(
    resolution: int, color: str, mode: str
) -> None:
    scanner = VirtualScanner()
    job = await create(
        scanner, resolution=resolution, color=color, width=1000, height=1500
    )
    assert job.image_information is not None
    info = job.image_information.media_front_image_info
    assert (info.pixels_per_line, info.number_of_lines) == (
        resolution,
        resolution * 3 // 2,
    )
    assert job.image_information.media_back_image_info is None
    reply = await retrieve(scanner, job)
    assert reply.content_type == "image/png"
    image = decode(reply)
    assert image.format == "PNG"
    assert image.size == (resolution, resolution * 3 // 2)
    assert image.mode == mode
    assert read_marker(image) == PageMarker(sheet=1, side="front")
    assert await job_state(scanner, job.job_id) == ("Completed", ["None"])


async def test_page_size_from_region_and_resolution() -> None:
    scanner = VirtualScanner()
    job = await create(scanner, width=8500, height=11000, resolution=100)
    assert job.image_information is not None
    info = job.image_information.media_front_image_info
    assert (info.pixels_per_line, info.number_of_lines) == (850, 1100)
    assert info.bytes_per_line == 0  # compressed formats report 0
    image = decode(await retrieve(scanner, job))
    assert image.size == (850, 1100)


async def test_rgb_pages_have_colour_and_grey_pages_do_not() -> None:
    scanner = VirtualScanner()
    rgb = decode(await retrieve(scanner, await create(scanner, color="RGB24")))
    gray = decode(await retrieve(scanner, await create(scanner, color="Grayscale8")))
    from wsdscan.virtual.images import patch_boxes

    left, top, right, bottom = patch_boxes(*rgb.size)[0]  # the red patch
    center = ((left + right) // 2, (top + bottom) // 2)
    red = rgb.getpixel(center)
    assert isinstance(red, tuple) and red[0] > 200 and red[1] < 50 and red[2] < 50
    grey_value = gray.getpixel(center)
    assert isinstance(grey_value, int) and 40 < grey_value < 120


async def test_jfif_gives_a_jpeg_with_a_readable_marker() -> None:
    scanner = VirtualScanner()
    for color, mode in (("RGB24", "RGB"), ("Grayscale8", "L"), ("BlackAndWhite1", "L")):
        job = await create(scanner, fmt="jfif", color=color, resolution=150)
        reply = await retrieve(scanner, job)
        assert reply.content_type == "image/jpeg"
        image = decode(reply)
        assert image.format == "JPEG"
        assert image.size == (150, 150)
        assert image.mode == mode
        assert read_marker(image) == PageMarker(1, "front")


async def test_platen_gives_one_image_then_the_job_is_gone() -> None:
    scanner = VirtualScanner()
    job = await create(scanner)
    decode(await retrieve(scanner, job))
    with pytest.raises(ClientErrorJobIdNotFound):
        await retrieve(scanner, job)


async def test_read_marker_finds_nothing_on_a_blank_page() -> None:
    assert read_marker(Image.new("L", (400, 400), 255)) is None
    assert read_marker(Image.new("L", (400, 400), 0)) is None


# --- ADF --------------------------------------------------------------------------


async def test_adf_five_sheets_then_no_images() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=5))
    job = await create(scanner, source="ADF", color="Grayscale8")
    assert await job_state(scanner, job.job_id) == ("Pending", ["None"])
    images = await drain(scanner, job)
    assert [read_marker(i) for i in images] == [
        PageMarker(n, "front") for n in range(1, 6)
    ]
    assert all(i.size == (100, 100) and i.mode == "L" for i in images)
    assert await job_state(scanner, job.job_id) == ("Completed", ["None"])
    assert scanner.adf_sheets == 0
    # Ended: further retrievals find no job.
    with pytest.raises(ClientErrorJobIdNotFound):
        await retrieve(scanner, job)


async def test_adf_duplex_three_sheets_gives_six_images() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=3, duplex=True))
    job = await create(scanner, source="ADFDuplex", back=True, resolution=75)
    assert job.image_information is not None
    back_info = job.image_information.media_back_image_info
    assert back_info is not None and back_info.pixels_per_line == 75
    assert job.document_final_parameters is not None
    sides = job.document_final_parameters.media_sides
    assert sides is not None and sides.media_back is not None
    images = await drain(scanner, job)
    assert [read_marker(i) for i in images] == [
        PageMarker(1, "front"),
        PageMarker(1, "back"),
        PageMarker(2, "front"),
        PageMarker(2, "back"),
        PageMarker(3, "front"),
        PageMarker(3, "back"),
    ]
    (data,) = await job_elements(scanner, job.job_id, "JobStatus")
    assert data.job_status is not None and data.job_status.scans_completed == 6


async def test_adf_images_to_transfer_limits_the_job() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=5))
    job = await create(scanner, source="ADF", images=2)
    first, second = decode(await retrieve(scanner, job)), decode(
        await retrieve(scanner, job)
    )
    assert [read_marker(first), read_marker(second)] == [
        PageMarker(1, "front"),
        PageMarker(2, "front"),
    ]
    assert await job_state(scanner, job.job_id) == ("Completed", ["None"])
    assert scanner.adf_sheets == 3


async def test_adf_with_empty_feeder_is_rejected_and_reload_helps() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=0))
    with pytest.raises(ClientErrorNoImagesAvailable):
        await create(scanner, source="ADF")
    # No job was created, so the scanner is free.
    active = await scanner.get_active_jobs(GetActiveJobsRequest(), ctx("x"))
    assert active.active_jobs.job_summary == []
    scanner.load_adf(2)
    job = await create(scanner, source="ADF")
    assert len(await drain(scanner, job)) == 2


async def test_platen_works_with_an_empty_feeder() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=0))
    job = await create(scanner, source="Platen")
    assert read_marker(decode(await retrieve(scanner, job))) == PageMarker(1, "front")


def test_load_adf_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        VirtualScanner().load_adf(-1)
    with pytest.raises(ValueError):
        VirtualScanner(VirtualScannerConfig(adf=False, duplex=False)).load_adf(3)


# --- faults -----------------------------------------------------------------------


async def test_wrong_token_and_unknown_job() -> None:
    scanner = VirtualScanner()
    job = await create(scanner)
    with pytest.raises(ClientErrorInvalidJobToken):
        await retrieve(scanner, job, token="guess")
    with pytest.raises(ClientErrorJobIdNotFound):
        await retrieve(scanner, CreateScanJobResponse(job_id=999, job_token="x"))
    with pytest.raises(ClientErrorJobIdNotFound):
        await scanner.cancel_job(CancelJobRequest(job_id=999), ctx("CancelJob"))
    with pytest.raises(ClientErrorJobIdNotFound):
        await job_elements(scanner, 999, "JobStatus")
    # The failed attempts did not disturb the job.
    assert read_marker(decode(await retrieve(scanner, job))) == PageMarker(1, "front")


async def test_job_ids_increase_and_tokens_differ() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(first_job_id=41))
    first = await create(scanner)
    await scanner.cancel_job(CancelJobRequest(job_id=first.job_id), ctx("CancelJob"))
    second = await create(scanner)
    assert (first.job_id, second.job_id) == (41, 42)
    assert first.job_token != second.job_token
    assert len(first.job_token) >= 20
    with pytest.raises(ClientErrorInvalidJobToken):
        await retrieve(scanner, second, token=first.job_token)


async def test_retrieve_after_cancel_is_job_cancelled() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=3))
    job = await create(scanner, source="ADF")
    decode(await retrieve(scanner, job))
    await scanner.cancel_job(CancelJobRequest(job_id=job.job_id), ctx("CancelJob"))
    with pytest.raises(ClientErrorJobCancelled):
        await retrieve(scanner, job)
    # Cancelling an ended job is an error, as the CancelJobRequest page says.
    with pytest.raises(ClientErrorJobIdNotFound):
        await scanner.cancel_job(CancelJobRequest(job_id=job.job_id), ctx("CancelJob"))
    assert await job_state(scanner, job.job_id) == ("Canceled", ["None"])
    # The two sheets not scanned stay in the feeder.
    assert scanner.adf_sheets == 2


async def test_cancel_after_completion_is_job_id_not_found() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=1))
    job = await create(scanner, source="ADF")
    await drain(scanner, job)
    with pytest.raises(ClientErrorJobIdNotFound):
        await scanner.cancel_job(CancelJobRequest(job_id=job.job_id), ctx("CancelJob"))


async def test_busy_scanner_rejects_a_second_job() -> None:
    scanner = VirtualScanner()
    job = await create(scanner)
    with pytest.raises(ServerErrorNotAcceptingJobs):
        await create(scanner)
    await scanner.cancel_job(CancelJobRequest(job_id=job.job_id), ctx("CancelJob"))
    second = await create(scanner)
    assert second.job_id == job.job_id + 1


async def test_scan_identifier_that_was_never_issued_is_rejected() -> None:
    scanner = VirtualScanner()
    request = CreateScanJobRequest(
        scan_identifier="uuid:nope", scan_ticket=make_ticket()
    )
    with pytest.raises(ClientErrorInvalidScanIdentifier):
        await scanner.create_scan_job(request, ctx("CreateScanJob"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_idle_job_times_out_and_frees_the_scanner() -> None:
    clock = FakeClock()
    scanner = VirtualScanner(VirtualScannerConfig(job_timeout=60), clock=clock)
    job = await create(scanner)
    clock.now += 59
    with pytest.raises(ServerErrorNotAcceptingJobs):
        await create(scanner)
    clock.now += 2
    second = await create(scanner)
    assert await job_state(scanner, job.job_id) == ("Aborted", ["JobTimedOut"])
    with pytest.raises(ClientErrorJobIdNotFound):
        await retrieve(scanner, job)
    assert await job_state(scanner, second.job_id) == ("Pending", ["None"])


async def test_touching_a_job_keeps_it_alive() -> None:
    clock = FakeClock()
    config = VirtualScannerConfig(adf_sheets=3, job_timeout=60)
    scanner = VirtualScanner(config, clock=clock)
    job = await create(scanner, source="ADF")
    for _ in range(3):
        clock.now += 50
        decode(await retrieve(scanner, job))
    clock.now += 50
    with pytest.raises(ClientErrorNoImagesAvailable):
        await retrieve(scanner, job)
    assert await job_state(scanner, job.job_id) == ("Completed", ["None"])


async def test_job_timeout_in_real_time() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(job_timeout=0.05))
    job = await create(scanner)
    await asyncio.sleep(0.1)
    active = await scanner.get_active_jobs(GetActiveJobsRequest(), ctx("x"))
    assert active.active_jobs.job_summary == []
    assert await job_state(scanner, job.job_id) == ("Aborted", ["JobTimedOut"])


# --- MustHonor and substitution -----------------------------------------------------


async def test_unsupported_format_with_must_honor_is_rejected() -> None:
    scanner = VirtualScanner()
    with pytest.raises(ClientErrorFormatNotSupported):
        await create(scanner, fmt="tiff-single-g4", must_honor=True)
    assert (
        await scanner.get_active_jobs(GetActiveJobsRequest(), ctx("x"))
    ).active_jobs.job_summary == []  # noqa: E501


async def test_unsupported_format_without_must_honor_is_substituted() -> None:
    scanner = VirtualScanner()
    job = await create(scanner, fmt="tiff-single-g4")
    final = job.document_final_parameters
    assert final is not None and final.format is not None
    assert text(final.format.value) == "png"
    assert final.format.override is True
    reply = await retrieve(scanner, job)
    assert reply.content_type == "image/png"
    decode(reply)
    # The job reports that the ticket was changed.
    assert await job_state(scanner, job.job_id) == (
        "Completed",
        ["JobCompletedWithWarnings"],
    )


@pytest.mark.parametrize(
    "changes",
    [{"resolution": 123}, {"color": "RGB48"}, {"width": 20000}],
)
async def test_unsupported_values_with_must_honor_are_invalid_args(
    changes: dict[str, object],
) -> None:
    scanner = VirtualScanner()
    with pytest.raises(InvalidArgs):
        await create(scanner, must_honor=True, **changes)


async def test_unsupported_values_without_must_honor_are_substituted() -> None:
    scanner = VirtualScanner()
    job = await create(scanner, resolution=123, color="RGB48", width=20000)
    final = job.document_final_parameters
    assert final is not None and final.media_sides is not None
    front = final.media_sides.media_front
    assert front.resolution is not None
    assert front.resolution.width.value == 100
    assert front.resolution.width.override is True
    assert front.color_processing is not None
    assert text(front.color_processing.value) == "RGB24"
    assert front.color_processing.override is True
    assert front.scan_region is not None
    assert front.scan_region.scan_region_width.value == 8500
    assert front.scan_region.scan_region_width.override is True
    assert front.scan_region.scan_region_height.override is None
    image = decode(await retrieve(scanner, job))
    assert image.size == (850, 100)
    assert image.mode == "RGB"


async def test_duplex_on_a_simplex_scanner() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(duplex=False, adf_sheets=2))
    with pytest.raises(InvalidArgs):
        await create(scanner, source="ADFDuplex", must_honor=True)
    job = await create(scanner, source="ADFDuplex")
    final = job.document_final_parameters
    assert final is not None and final.input_source is not None
    assert text(final.input_source.value) == "ADF"
    assert [read_marker(i) for i in await drain(scanner, job)] == [
        PageMarker(1, "front"),
        PageMarker(2, "front"),
    ]


async def test_missing_parameters_use_defaults() -> None:
    scanner = VirtualScanner()
    ticket = ScanTicket(
        job_description=JobDescription(job_name="n", job_originating_user_name="u")
    )
    response = await scanner.create_scan_job(
        CreateScanJobRequest(scan_ticket=ticket), ctx("CreateScanJob")
    )
    final = response.document_final_parameters
    assert final is not None and final.format is not None
    assert final.format.used_default is True
    assert final.input_source is not None
    assert text(final.input_source.value) == "Platen"
    # A region left out is the whole platen, every part of it marked as a default.
    assert final.media_sides is not None
    region = final.media_sides.media_front.scan_region
    assert region is not None
    assert [
        region.scan_region_x_offset.used_default,
        region.scan_region_y_offset.used_default,
        region.scan_region_width.used_default,
        region.scan_region_height.used_default,
    ] == [True, True, True, True]
    assert response.image_information is not None
    info = response.image_information.media_front_image_info
    assert (info.pixels_per_line, info.number_of_lines) == (2550, 3507)


# --- ValidateScanTicket -------------------------------------------------------------


async def test_validate_a_valid_ticket() -> None:
    scanner = VirtualScanner()
    request = ValidateScanTicketRequest(scan_ticket=make_ticket(resolution=200))
    response = await scanner.validate_scan_ticket(request, ctx("ValidateScanTicket"))
    info = response.validation_info
    assert info.valid_ticket is True
    assert info.valid_scan_ticket is None
    assert info.image_information.media_front_image_info.pixels_per_line == 200


async def test_validate_an_invalid_ticket_gives_a_corrected_one() -> None:
    scanner = VirtualScanner()
    ticket = make_ticket(fmt="pdf-a", resolution=250, color="Grayscale16")
    request = ValidateScanTicketRequest(scan_ticket=ticket)
    response = await scanner.validate_scan_ticket(request, ctx("ValidateScanTicket"))
    info = response.validation_info
    assert info.valid_ticket is False
    corrected = info.valid_scan_ticket
    assert corrected is not None and corrected.document_parameters is not None
    params = corrected.document_parameters
    assert params.format is not None and text(params.format.value) == "png"
    assert params.media_sides is not None
    front = params.media_sides.media_front
    assert front.color_processing is not None
    assert text(front.color_processing.value) == "Grayscale8"
    assert front.resolution is not None and front.resolution.width.value in (200, 300)
    assert corrected.job_description.job_name == "test job"
    # Validation never creates a job.
    active = await scanner.get_active_jobs(GetActiveJobsRequest(), ctx("x"))
    assert active.active_jobs.job_summary == []


async def test_validate_does_not_fault_on_must_honor() -> None:
    scanner = VirtualScanner()
    request = ValidateScanTicketRequest(
        scan_ticket=make_ticket(fmt="xps", must_honor=True)
    )
    response = await scanner.validate_scan_ticket(request, ctx("ValidateScanTicket"))
    assert response.validation_info.valid_ticket is False


# --- concurrency ------------------------------------------------------------------


async def test_cancel_while_an_image_is_being_scanned() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=3, scan_delay=0.3))
    job = await create(scanner, source="ADF")
    in_flight = asyncio.create_task(retrieve(scanner, job))
    await asyncio.sleep(0.05)
    # The lock is not held while scanning: other operations answer at once.
    status = await asyncio.wait_for(
        scanner_elements(scanner, "ScannerStatus"), timeout=0.2
    )
    assert status[0].scanner_status is not None
    assert text(status[0].scanner_status.scanner_state) == "Processing"
    assert await job_state(scanner, job.job_id) == (
        "Processing",
        ["JobScanningAndTransferring"],
    )
    await asyncio.wait_for(
        scanner.cancel_job(CancelJobRequest(job_id=job.job_id), ctx("CancelJob")),
        timeout=0.2,
    )
    with pytest.raises(ClientErrorJobCancelled):
        await in_flight
    assert await job_state(scanner, job.job_id) == ("Canceled", ["None"])
    # The scanner is free again.
    await create(scanner)


async def test_concurrent_retrievals_get_different_pages() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=4, scan_delay=0.05))
    job = await create(scanner, source="ADF")
    replies = await asyncio.gather(*(retrieve(scanner, job) for _ in range(4)))
    markers = {read_marker(decode(r)) for r in replies}
    assert markers == {PageMarker(n, "front") for n in range(1, 5)}
    with pytest.raises(ClientErrorNoImagesAvailable):
        await retrieve(scanner, job)


# --- job elements, active jobs, history ---------------------------------------------


async def test_job_elements_contents() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=2))
    job = await create(scanner, source="ADF", name="invoice batch", fmt="jfif")
    await retrieve(scanner, job, name="IMAGE001.JPG")
    await retrieve(scanner, job, name="IMAGE002.JPG")
    status, ticket, documents, unknown = await job_elements(
        scanner, job.job_id, "JobStatus", "ScanTicket", "Documents", "Nope"
    )
    assert [d.name for d in (status, ticket, documents, unknown)] == [
        QName(NS, "JobStatus"),
        QName(NS, "ScanTicket"),
        QName(NS, "Documents"),
        QName(NS, "Nope"),
    ]
    assert [d.valid for d in (status, ticket, documents, unknown)] == [
        True,
        True,
        True,
        False,
    ]
    assert status.job_status is not None
    assert status.job_status.job_id == job.job_id
    assert status.job_status.scans_completed == 2
    assert text(status.job_status.job_state) == "Processing"
    assert status.job_status.job_created_time is not None
    assert status.job_status.job_completed_time is None
    assert ticket.scan_ticket is not None
    assert ticket.scan_ticket.job_description.job_name == "invoice batch"
    assert documents.documents is not None
    names = [d.document_description.document_name for d in documents.documents.document]
    assert names == ["IMAGE001.JPG", "IMAGE002.JPG"]
    final = documents.documents.document_final_parameters
    assert final.format is not None and text(final.format.value) == "jfif"
    assert unknown.job_status is None and unknown.documents is None


async def test_active_jobs_and_history() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=1, history_size=2))

    async def active() -> list[tuple[int, str]]:
        response = await scanner.get_active_jobs(GetActiveJobsRequest(), ctx("x"))
        return [(s.job_id, text(s.job_state)) for s in response.active_jobs.job_summary]

    async def history() -> list[tuple[int, str, int]]:
        response = await scanner.get_job_history(GetJobHistoryRequest(), ctx("x"))
        return [
            (s.job_id, text(s.job_state), s.scans_completed)
            for s in response.job_history.job_summary
        ]

    assert await active() == [] and await history() == []
    first = await create(scanner, name="first")
    response = await scanner.get_active_jobs(GetActiveJobsRequest(), ctx("x"))
    (summary,) = response.active_jobs.job_summary
    assert (summary.job_name, summary.job_originating_user_name) == ("first", "me")
    assert await active() == [(first.job_id, "Pending")]
    decode(await retrieve(scanner, first))
    assert await active() == []
    assert await history() == [(first.job_id, "Completed", 1)]

    second = await create(scanner, source="ADF")
    decode(await retrieve(scanner, second))
    assert await active() == [(second.job_id, "Processing")]
    await scanner.cancel_job(CancelJobRequest(job_id=second.job_id), ctx("x"))
    third = await create(scanner)
    await scanner.cancel_job(CancelJobRequest(job_id=third.job_id), ctx("x"))
    # Most recent first, bounded by history_size.
    assert await history() == [
        (third.job_id, "Canceled", 0),
        (second.job_id, "Canceled", 1),
    ]
    with pytest.raises(ClientErrorJobIdNotFound):
        await job_elements(scanner, first.job_id, "JobStatus")


# --- config -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"platen": False, "adf": False, "duplex": False},
        {"formats": ("png", "xps")},
        {"color_modes": ("RGB48",), "default_color_mode": "RGB48"},
        {"adf_sheets": -1},
        {"resolutions": (100, 200), "default_resolution": 300},
        {"job_timeout": 0},
    ],
)
def test_invalid_config_is_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        VirtualScannerConfig(**kwargs)  # type: ignore[arg-type]

"""Device profiles of the virtual scanner: loading (an envelope or the bare element),
what is left out and filled in, tickets resolved against the profile, the command line
(``serve --profile``, a bad profile file) and the built-in ``default``."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from importlib import resources
from pathlib import Path
from xml.etree.ElementTree import QName

import pytest
from interop_support import ServedScanner
from lxml import etree
from wsdscan.generated.models.scan import (
    CreateScanJobRequest,
    GetScannerElementsRequest,
    RequestedElements,
    ScanTicket,
    ValidateScanTicketRequest,
)
from wsdscan.generated.stubs.faults import InvalidArgs
from wsdscan.runtime.contract import RequestContext

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig
from wsdscan.virtual.profiles import (
    PROFILE_FILE,
    DeviceProfile,
    ProfileError,
    load_profile,
    parse_profile,
)

NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
KYOCERA = "kyocera-m2040dn"
KYOCERA_SHA256 = "43f0a1adc0b458f3f922b6d5852ea9faddeeeefe204e7c01de9e4b36a1616444"


def kyocera_bytes() -> bytes:
    folder = resources.files("wsdscan.virtual").joinpath("profiles", KYOCERA)
    return folder.joinpath(PROFILE_FILE).read_bytes()


def kyocera() -> DeviceProfile:
    profile = load_profile(KYOCERA)
    assert profile is not None
    return profile


def edited(change: str, by: str) -> bytes:
    """The Kyocera answer with one piece of text replaced (it must be there)."""
    text = kyocera_bytes().decode()
    assert change in text, change
    return text.replace(change, by, 1).encode()


def ctx(operation: str) -> RequestContext:
    return RequestContext(action=f"{NS}/{operation}")


def value(item: object) -> str:
    return str(getattr(item, "value", item))


# --- the shipped profile -------------------------------------------------------------


def test_shipped_kyocera_profile_is_the_corpus_file_byte_for_byte() -> None:
    # PROVENANCE.md names this digest: the file is the device's answer as captured.
    assert hashlib.sha256(kyocera_bytes()).hexdigest() == KYOCERA_SHA256
    provenance = (
        resources.files("wsdscan.virtual")
        .joinpath("profiles", KYOCERA, "PROVENANCE.md")
        .read_text()
    )
    assert KYOCERA_SHA256 in provenance
    assert "OpenPrinting/go-mfp" in provenance
    assert "c63d7fbd7d4464c14655a365efb7177ba1cedfdf" in provenance


def test_kyocera_profile_as_loaded() -> None:
    profile = kyocera()
    assert profile.scanner_name == "ECOSYS M2040dn"
    assert profile.left_out == ("format xps",) and profile.filled == ()
    assert profile.duplex and profile.platen and profile.adf_front and profile.adf_back
    platen = profile.platen
    assert platen.x_resolutions == (200, 300, 400, 600)
    assert platen.y_resolutions == (100, 200, 300, 400, 600)
    assert platen.color_modes == ("BlackAndWhite1", "Grayscale8", "RGB24")
    assert (platen.max_width, platen.max_height) == (14016, 8504)
    assert platen.any_orientation  # the quirk: wider than high
    assert (profile.default_format, profile.default_source) == ("pdf-a", "Platen")
    assert profile.default_resolution == (300, 300)
    config = VirtualScannerConfig(profile=profile)
    assert config.sources() == ("Platen", "ADF", "ADFDuplex")
    assert config.name == "ECOSYS M2040dn"


def test_bare_response_element_loads_like_the_envelope(tmp_path: Path) -> None:
    root = etree.fromstring(kyocera_bytes())
    (response,) = root.iter(f"{{{NS}}}GetScannerElementsResponse")
    path = tmp_path / "bare.xml"
    path.write_bytes(etree.tostring(response))
    bare = load_profile(str(path))
    assert bare is not None
    assert bare.formats == kyocera().formats
    assert bare.platen == kyocera().platen and bare.adf_back == kyocera().adf_back
    assert bare.name == "bare"


async def test_what_is_advertised() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(profile=kyocera(), adf_sheets=0))
    names = ["ScannerDescription", "ScannerConfiguration", "DefaultScanTicket"]
    request = GetScannerElementsRequest(
        requested_elements=RequestedElements(
            name=[QName(f"{{{NS}}}{n}") for n in [*names, "ScannerStatus"]]
        )
    )
    response = await scanner.get_scanner_elements(request, ctx("GetScannerElements"))
    description, configuration, ticket, status = response.scanner_elements.element_data
    assert description.scanner_description is not None
    assert [n.value for n in description.scanner_description.scanner_name] == [
        "ECOSYS M2040dn"
    ]
    assert configuration.scanner_configuration is not None
    settings = configuration.scanner_configuration.device_settings
    assert "xps" not in [value(v) for v in settings.formats_supported.format_value]
    assert settings.compression_quality_factor_supported is not None
    assert settings.compression_quality_factor_supported.min_value == 20
    assert ticket.default_scan_ticket is not None
    params = ticket.default_scan_ticket.document_parameters
    assert params is not None and params.content_type is not None
    assert value(params.content_type.value) == "Mixed"  # as the device sends it
    # The status is the virtual scanner's own: an empty feeder is said.
    assert status.scanner_status is not None
    reasons = status.scanner_status.scanner_state_reasons
    assert reasons is not None
    assert [value(r) for r in reasons.scanner_state_reason] == ["InputTrayEmpty"]


# --- tickets against the profile -------------------------------------------------------


def kyocera_default_ticket() -> ScanTicket:
    default = kyocera().default_ticket
    return ScanTicket(
        job_description=default.job_description,
        document_parameters=default.document_parameters,
    )


async def test_the_devices_own_default_ticket_is_honoured_but_for_exposure() -> None:
    scanner = VirtualScanner(VirtualScannerConfig(profile=kyocera()))
    request = ValidateScanTicketRequest(scan_ticket=kyocera_default_ticket())
    info = (
        await scanner.validate_scan_ticket(request, ctx("Validate"))
    ).validation_info
    # A4 portrait although the maximum size is landscape (the quirk), 300 dpi, pdf-a:
    # the only substitution is the exposure the virtual scanner cannot simulate.
    assert info.image_information is not None
    front = info.image_information.media_front_image_info
    assert (front.pixels_per_line, front.number_of_lines) == (2479, 3507)
    assert info.valid_scan_ticket is not None
    corrected = info.valid_scan_ticket.document_parameters
    assert corrected.input_size is not None
    size = corrected.input_size.input_media_size
    assert size is not None and (size.width.value, size.height.value) == (8266, 11690)
    assert value(corrected.format.value) == "pdf-a"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("xres", "yres", "expected"),
    [(200, 100, (200, 100)), (100, 100, (200, 100)), (75, 75, (200, 100))],
)
def test_resolutions_come_from_the_profile_per_axis(
    xres: int, yres: int, expected: tuple[int, int]
) -> None:
    from test_virtual_formats import ticket

    from wsdscan.virtual.ticket import resolve_ticket

    job_ticket = ticket("jfif", "RGB24")
    front = job_ticket.document_parameters.media_sides.media_front  # type: ignore[union-attr]
    assert front.resolution is not None
    front.resolution.width.value = xres
    front.resolution.height.value = yres  # type: ignore[union-attr]
    config = VirtualScannerConfig(profile=kyocera())
    resolved = resolve_ticket(config, job_ticket, strict=False)
    side = resolved.settings.front
    assert (side.x_resolution, side.y_resolution) == expected
    # 100 dpi is a Height of the device but not a Width: only the width is overridden.
    assert resolved.valid == ((xres, yres) == expected)
    # The built-in scanner takes 75 and 100 dpi on both axes.
    builtin = resolve_ticket(VirtualScannerConfig(), job_ticket, strict=False)
    assert builtin.settings.front.x_resolution == xres


async def test_a_profile_without_an_adf_has_no_adf() -> None:
    start = kyocera_bytes().index(b"<scan:ADF>")
    end = kyocera_bytes().index(b"</scan:ADF>") + len(b"</scan:ADF>")
    data = kyocera_bytes()[:start] + kyocera_bytes()[end:]
    profile = parse_profile(data, name="platen-only", origin="platen-only.xml")
    assert profile.adf_front is None and not profile.duplex
    config = VirtualScannerConfig(profile=profile)
    assert config.sources() == ("Platen",) and config.adf_sheets == 0
    scanner = VirtualScanner(config)
    from test_virtual_formats import ticket

    adf_ticket = ticket("jfif", "RGB24", source="ADF")
    with pytest.raises(InvalidArgs):
        adf_ticket.document_parameters.input_source.must_honor = True  # type: ignore[union-attr]
        await scanner.create_scan_job(
            CreateScanJobRequest(scan_ticket=adf_ticket), ctx("CreateScanJob")
        )
    with pytest.raises(ValueError, match="no ADF"):
        scanner.load_adf(3)


# --- what is left out and filled in ---------------------------------------------------


def test_unproducible_formats_colours_and_film_are_left_out() -> None:
    data = edited(
        "<scan:FormatValue>jfif</scan:FormatValue>",
        "<scan:FormatValue>jfif</scan:FormatValue>"
        "<scan:FormatValue>jbig</scan:FormatValue>"
        "<scan:FormatValue>vendor-kyocera-compact-pdf</scan:FormatValue>",
    )
    data = data.replace(
        b"<scan:ColorEntry>RGB24</scan:ColorEntry></scan:PlatenColor>",
        b"<scan:ColorEntry>RGB24</scan:ColorEntry><scan:ColorEntry>RGB48"
        b"</scan:ColorEntry></scan:PlatenColor>",
    )
    data = data.replace(
        b"</scan:ADF>",
        b"</scan:ADF><scan:Film><scan:FilmScanModesSupported/></scan:Film>",
    )
    profile = parse_profile(data, name="x", origin="x.xml")
    assert "jbig" not in profile.formats and "jfif" in profile.formats
    assert set(profile.left_out) == {
        "format xps",
        "format jbig",
        "format vendor-kyocera-compact-pdf",
        "Platen colour RGB48",
        "Film (no film unit is simulated)",
    }
    advertised = profile.configuration.device_settings.formats_supported.format_value
    assert [value(v) for v in advertised] == list(profile.formats)
    assert profile.configuration.film is None
    assert profile.platen is not None and "RGB48" not in profile.platen.color_modes


def test_a_default_format_that_was_left_out_is_replaced() -> None:
    data = edited("<scan:Format>pdf-a</scan:Format>", "<scan:Format>xps</scan:Format>")
    profile = parse_profile(data, name="x", origin="x.xml")
    assert profile.default_format == "exif"  # the first format that stays
    params = profile.default_ticket.document_parameters
    assert params is not None and params.format is not None
    assert value(params.format.value) == "exif"
    assert "DefaultScanTicket Format xps" in profile.left_out


def test_omitted_required_elements_are_filled_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A device that leaves out the platen's minimum size, the ADF's duplex flag and
    # the user name of its default ticket.
    data = edited(
        "<scan:PlatenMinimumSize><scan:Width>1969</scan:Width><scan:Height>1969"
        "</scan:Height></scan:PlatenMinimumSize>",
        "",
    )
    data = data.replace(b"<scan:ADFSupportsDuplex>true</scan:ADFSupportsDuplex>", b"")
    data = data.replace(
        b"<scan:JobOriginatingUserName>DefaultUserName</scan:JobOriginatingUserName>",
        b"",
    )
    path = tmp_path / "lossy.xml"
    path.write_bytes(data)
    with caplog.at_level(logging.INFO, logger="wsdscan.virtual.profiles"):
        profile = load_profile(str(path))
    assert profile is not None
    assert profile.filled == (
        "ScannerConfiguration/Platen/PlatenMinimumSize",
        "ScannerConfiguration/ADF/ADFSupportsDuplex",
        "DefaultScanTicket/JobDescription/JobOriginatingUserName",
    )
    assert profile.platen is not None and profile.platen.min_width == 500
    assert not profile.duplex and profile.adf_back is None  # not said: no duplex
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert str(path) in line and "PlatenMinimumSize" in line
    assert "ADFSupportsDuplex" in line and "JobOriginatingUserName" in line


# --- bad profiles -----------------------------------------------------------------------


BAD = {
    "not-well-formed": (b"<scan:GetScannerElementsResponse", "not well-formed XML"),
    "not-a-response": (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        b'<x:GetActiveJobsResponse xmlns:x="' + NS.encode() + b'"/></s:Body>'
        b"</s:Envelope>",
        "not a GetScannerElementsResponse",
    ),
    "no-configuration": (
        b'<x:GetScannerElementsResponse xmlns:x="' + NS.encode() + b'">'
        b"<x:ScannerElements/></x:GetScannerElementsResponse>",
        "has no ScannerConfiguration",
    ),
    "unreadable-size": (
        edited("<scan:Width>14016</scan:Width>", "<scan:Width>wide</scan:Width>"),
        "cannot read <ScannerConfiguration>",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_profile_is_refused_naming_the_file(tmp_path: Path, case: str) -> None:
    data, problem = BAD[case]
    path = tmp_path / f"{case}.xml"
    path.write_bytes(data)
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    assert str(caught.value).startswith(f"{path}: ") and problem in str(caught.value)


@pytest.mark.parametrize("case", ["not-well-formed", "no-configuration", "missing"])
def test_serve_with_a_bad_profile_exits_2_with_one_line(
    tmp_path: Path, case: str
) -> None:
    path = tmp_path / f"{case}.xml"
    if case != "missing":
        path.write_bytes(BAD[case][0])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "wsdscan",
            "serve",
            "--port",
            "0",
            "--profile",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"wsdscan: {path}: "), line


# --- the command line -----------------------------------------------------------------


def advertised_formats(url: str) -> list[str]:
    from wsdscan.generated import ScannerServiceSyncClient
    from wsdscan.runtime.transport import SyncRunner

    with SyncRunner() as runner:
        client = ScannerServiceSyncClient.connect(url, runner)
        response = client.get_scanner_elements(
            requested_elements=RequestedElements(
                name=[QName(f"{{{NS}}}ScannerConfiguration")]
            )
        )
    (data,) = response.scanner_elements.element_data
    assert data.scanner_configuration is not None
    formats = data.scanner_configuration.device_settings.formats_supported
    return [value(v) for v in formats.format_value]


def test_serve_with_a_shipped_profile_and_with_a_profile_file(tmp_path: Path) -> None:
    with ServedScanner(["--profile", KYOCERA]) as served:
        by_name = advertised_formats(served.url)
    path = tmp_path / "device.xml"
    path.write_bytes(
        edited("<scan:FormatValue>jfif</scan:FormatValue>", "")  # one format less
    )
    with ServedScanner(["--profile", str(path)]) as served:
        by_file = advertised_formats(served.url)
    assert by_name == list(kyocera().formats)
    assert by_file == [f for f in by_name if f != "jfif"]


def test_default_profile_is_the_builtin_scanner() -> None:
    assert load_profile("default") is None
    with ServedScanner(["--profile", "default"]) as served:
        assert advertised_formats(served.url) == ["png", "jfif"]


def test_duplex_against_a_profile_without_duplex_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "simplex.xml"
    path.write_bytes(
        edited(
            "<scan:ADFSupportsDuplex>true</scan:ADFSupportsDuplex>",
            "<scan:ADFSupportsDuplex>false</scan:ADFSupportsDuplex>",
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "wsdscan", "serve", "--port", "0"]
        + ["--profile", str(path), "--duplex"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "--duplex" in line and str(path) in line

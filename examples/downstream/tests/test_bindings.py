"""ACME's own bindings against wsdscan's virtual scanner, and the vendor element through
ACME's own models."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import AsyncIterator
from xml.etree.ElementTree import QName

import pytest
from PIL import Image
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.transport import HttpTransport
from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

from acme_scan import ACME_NS, SCAN_NS, LampStatus, lamp_status_xml, read_lamp_status
from acme_scan.bindings import ScannerServiceClient
from acme_scan.bindings.models import scan


@pytest.fixture
async def client() -> AsyncIterator[ScannerServiceClient]:
    scanner = VirtualScanner(VirtualScannerConfig())
    async with running(SoapApp(scanner)) as server:
        async with HttpTransport(server.url("/WSDScanner")) as transport:
            yield ScannerServiceClient(transport)


async def _platen_size(client: ScannerServiceClient) -> tuple[int, int]:
    """The platen's largest scan area (1/1000 inch), from GetScannerElements."""
    names = [QName(SCAN_NS, "ScannerConfiguration")]
    response = await client.get_scanner_elements(
        requested_elements=scan.RequestedElements(name=names)
    )
    (data,) = response.scanner_elements.element_data
    assert data.valid is True and data.scanner_configuration is not None
    platen = data.scanner_configuration.platen
    assert platen is not None
    size = platen.platen_maximum_size
    return size.width.value, size.height.value


def _ticket(width: int, height: int, dpi: int) -> scan.ScanTicket:
    region = scan.ScanRegion(
        scan_region_x_offset=scan.ScanRegionXOffset(value=0),
        scan_region_y_offset=scan.ScanRegionYOffset(value=0),
        scan_region_width=scan.ScanRegionWidth(value=width),
        scan_region_height=scan.ScanRegionHeight(value=height),
    )
    return scan.ScanTicket(
        job_description=scan.JobDescription(
            job_name="acme", job_originating_user_name="acme"
        ),
        document_parameters=scan.DocumentParameters(
            format=scan.Format(value="png"),
            images_to_transfer=scan.ImagesToTransfer(value=1),
            input_source=scan.InputSource(value="Platen"),
            input_size=scan.InputSize(
                input_media_size=scan.InputMediaSize(
                    width=scan.Width(value=width), height=scan.Height(value=height)
                )
            ),
            media_sides=scan.MediaSides(
                media_front=scan.MediaFront(
                    scan_region=region,
                    color_processing=scan.ColorProcessing(value="Grayscale8"),
                    resolution=scan.Resolution(
                        width=scan.Width(value=dpi), height=scan.Height(value=dpi)
                    ),
                )
            ),
        ),
    )


async def test_get_scanner_elements(client: ScannerServiceClient) -> None:
    width, height = await _platen_size(client)
    assert width > 0 and height > 0


async def test_scan_a_page(client: ScannerServiceClient) -> None:
    width, height = await _platen_size(client)
    job = await client.create_scan_job(scan_ticket=_ticket(width, height, dpi=100))
    assert job.job_id > 0 and job.job_token

    result = await client.retrieve_image(
        job_id=job.job_id,
        job_token=job.job_token,
        document_description=scan.DocumentDescription(document_name="IMAGE000.PNG"),
    )
    image = Image.open(io.BytesIO(await result.read()))
    assert image.mode == "L"
    assert image.size == (width * 100 // 1000, height * 100 // 1000)


@pytest.mark.parametrize("state", [scan.ScannerStateKnownValue.IDLE, "Warming"])
def test_vendor_element_round_trip(state: scan.ScannerStateKnownValue | str) -> None:
    status = LampStatus(lamp_hours=1200, calibrated=True, scanner_state=state)
    data = lamp_status_xml(status)
    assert data.startswith(f'<acme:LampStatus xmlns:acme="{ACME_NS}"'.encode())
    assert b"<acme:LampHours>1200</acme:LampHours>" in data
    assert read_lamp_status(data) == status


def test_bindings_are_acmes_own() -> None:
    """The stubs are ACME's package, and importing them loads none of wsdscan's own
    generated bindings: they stand on wsdscan.runtime alone."""
    assert ScannerServiceClient.__module__ == "acme_scan.bindings.stubs.client"
    probe = (
        "import sys, acme_scan.bindings.stubs; "
        "sys.exit(any(m.startswith('wsdscan.generated') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0

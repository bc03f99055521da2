"""All eight operations over real HTTP (127.0.0.1): generated client -> runtime ->
virtual scanner; and the `wsdscan scan` / `wsdscan info` commands against `wsdscan serve`."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree.ElementTree import QName

import pytest
from interop_support import ServedScanner
from job_support import scan_ticket
from PIL import Image
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models import scan
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.transport import HttpTransport

from wsdscan.scanning import PageNamer
from wsdscan.virtual import VirtualScanner, VirtualScannerConfig, read_marker

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
DOC = scan.DocumentDescription(document_name="IMAGE000.PNG")


@pytest.fixture
async def url() -> AsyncIterator[str]:
    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=2, duplex=True))
    async with running(SoapApp(scanner)) as server:
        yield server.url("/WSDScanner")


@pytest.fixture
async def client(url: str) -> AsyncIterator[ScannerServiceClient]:
    async with HttpTransport(url) as transport:
        yield ScannerServiceClient(transport)


async def test_all_eight_operations(client: ScannerServiceClient) -> None:
    # GetScannerElements
    names = [QName(SCAN_NS, "ScannerConfiguration"), QName(SCAN_NS, "ScannerStatus")]
    elements = await client.get_scanner_elements(
        requested_elements=scan.RequestedElements(name=names)
    )
    data = elements.scanner_elements.element_data
    assert [d.valid for d in data] == [True, True]
    assert (
        data[0].scanner_configuration is not None and data[1].scanner_status is not None
    )

    ticket = await scan_ticket(client, dpi=100, color="Grayscale8")
    # ValidateScanTicket
    validation = await client.validate_scan_ticket(scan_ticket=ticket)
    assert validation.validation_info.valid_ticket is True

    # CreateScanJob, GetActiveJobs, GetJobElements
    job = await client.create_scan_job(scan_ticket=ticket)
    assert job.job_id > 0 and job.job_token
    assert job.image_information is not None
    assert job.image_information.media_front_image_info.pixels_per_line == 850
    active = await client.get_active_jobs()
    assert [s.job_id for s in active.active_jobs.job_summary] == [job.job_id]
    job_elements = await client.get_job_elements(
        job_id=job.job_id,
        requested_elements=scan.RequestedElements(name=[QName(SCAN_NS, "JobStatus")]),
    )
    status = job_elements.job_elements.element_data[0].job_status
    assert status is not None and status.job_id == job.job_id

    # RetrieveImage (MTOM)
    result = await client.retrieve_image(
        job_id=job.job_id, job_token=job.job_token, document_description=DOC
    )
    image = Image.open(io.BytesIO(await result.read()))
    assert image.size == (850, 1169) and image.mode == "L"
    marker = read_marker(image)
    assert marker is not None and marker.sheet == 1

    # GetJobHistory: the platen job ended after its image.
    history = await client.get_job_history()
    assert job.job_id in [s.job_id for s in history.job_history.job_summary]

    # CancelJob on a new ADF job, then its images are gone.
    adf_job = await client.create_scan_job(
        scan_ticket=await scan_ticket(client, source="ADF", dpi=100)
    )
    assert await client.cancel_job(job_id=adf_job.job_id) == scan.CancelJobResponse()
    with pytest.raises(
        (scan_faults.ClientErrorJobCancelled, scan_faults.ClientErrorJobIdNotFound)
    ):
        await client.retrieve_image(
            job_id=adf_job.job_id, job_token=adf_job.job_token, document_description=DOC
        )


async def test_job_faults_over_http(client: ScannerServiceClient) -> None:
    ticket = await scan_ticket(client, source="ADF", dpi=100)
    job = await client.create_scan_job(scan_ticket=ticket)
    with pytest.raises(scan_faults.ClientErrorInvalidJobToken):
        await client.retrieve_image(
            job_id=job.job_id, job_token="not-the-token", document_description=DOC
        )
    with pytest.raises(scan_faults.ClientErrorJobIdNotFound):
        await client.retrieve_image(
            job_id=job.job_id + 100, job_token=job.job_token, document_description=DOC
        )
    with pytest.raises(scan_faults.ServerErrorNotAcceptingJobs):
        await client.create_scan_job(scan_ticket=ticket)
    for _ in range(2):  # two sheets in the feeder
        page = await client.retrieve_image(
            job_id=job.job_id, job_token=job.job_token, document_description=DOC
        )
        assert (await page.read()).startswith(b"\x89PNG")
    with pytest.raises(scan_faults.ClientErrorNoImagesAvailable):
        await client.retrieve_image(
            job_id=job.job_id, job_token=job.job_token, document_description=DOC
        )
    with pytest.raises(
        scan_faults.ClientErrorNoImagesAvailable
    ):  # the feeder is empty now
        await client.create_scan_job(scan_ticket=ticket)


def _wsdscan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wsdscan", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_info_and_scan_against_serve(tmp_path: Path) -> None:
    with ServedScanner(["--adf-sheets", "3", "--duplex"]) as served:
        info = _wsdscan("info", served.url)
        assert info.returncode == 0, info.stderr
        assert "wsdscan Virtual Scanner" in info.stdout
        assert "Formats: png, jfif" in info.stdout
        assert "ADFDuplex" in info.stdout and "State: Idle" in info.stdout

        flat = _wsdscan(
            "scan",
            served.url,
            "-o",
            str(tmp_path / "flat.jpg"),
            "--format",
            "jfif",
            "--resolution",
            "75",
            "--color",
            "BlackAndWhite1",
        )
        assert flat.returncode == 0, flat.stderr
        with Image.open(tmp_path / "flat.jpg") as image:
            assert image.format == "JPEG" and image.size == (
                8500 * 75 // 1000,
                11690 * 75 // 1000,
            )

        adf = _wsdscan(
            "scan",
            served.url,
            "-o",
            str(tmp_path / "page%d.png"),
            "--source",
            "ADFDuplex",
            "--resolution",
            "100",
        )
        assert adf.returncode == 0, adf.stderr
        files = sorted(tmp_path.glob("page*.png"))
        assert [f.name for f in files] == [f"page{n}.png" for n in range(1, 7)]
        markers = []
        for path in files:
            with Image.open(path) as image:
                marker = read_marker(image)
                assert marker is not None
                markers.append(
                    (marker.sheet, str(getattr(marker.side, "value", marker.side)))
                )
        assert [m[0] for m in markers] == [1, 1, 2, 2, 3, 3]

        bad = _wsdscan(
            "scan", served.url, "-o", str(tmp_path / "x.png"), "--resolution", "123"
        )
        # A value the scanner does not offer is a usage error, said with its list.
        assert bad.returncode == 2 and "123 dpi is not supported" in bad.stderr
        assert not (tmp_path / "x.png").exists()


def test_page_namer() -> None:
    assert PageNamer("page%d.png")(3) == Path("page3.png")
    assert PageNamer("scan-{page:02d}.png")(4) == Path("scan-04.png")
    assert PageNamer("out.png")(1) == Path("out.png")
    assert PageNamer("out.png")(2) == Path("out-002.png")

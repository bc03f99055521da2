"""``wsdscan scan`` and ``wsdscan info`` against virtual scanners, as a user runs them
(a subprocess): documents from the feeder, options in any case and by alias, formats
chosen for the output and the scanner, the output checked before any job exists, an
empty feeder and a Ctrl-C said in words with the job cancelled on the device and no
file left, ``-v`` on the wire."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
import sys
from pathlib import Path

import pikepdf
import pytest
from cli_support import jobs, one_error_line, start_wsdscan, virtual_scanner, wsdscan
from PIL import Image
from wsdscan.generated.models.scan import (
    GetScannerElementsRequest,
    GetScannerElementsResponse,
)
from wsdscan.runtime.contract import RequestContext

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig


def pdf_pages(path: Path) -> list[str]:
    """The image filter of each page of a well-formed PDF."""
    with pikepdf.open(path) as pdf:
        assert pdf.check_pdf_syntax() == []
        filters = []
        for page in pdf.pages:
            (image,) = page.get_images().values()
            filters.append(str(image.get("/Filter")))
        return filters


async def test_adf_job_to_a_three_page_pdf_with_lower_case_options(
    tmp_path: Path,
) -> None:
    async with virtual_scanner(VirtualScannerConfig(adf_sheets=3)) as (url, _):
        code, out, err = await wsdscan(
            "scan", url, "--source", "adf", "--color", "gray", "--resolution", "100",
            "-o", "doc.pdf", cwd=tmp_path,
        )  # fmt: skip
    assert code == 0, err
    assert out.split() == ["doc.pdf"]
    # Gray pages to a PDF: JPEG from the scanner, embedded as it is.
    assert pdf_pages(tmp_path / "doc.pdf") == ["/DCTDecode"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.pdf"]


@pytest.mark.parametrize(
    "options",
    [
        ["--source", "FLATBED", "--color", "Grey"],
        ["--source", "platen", "--color", "grayscale8"],
        ["--source", "Platen", "--color", "BW"],
        ["--source", "duplex", "--color", "lineart", "--pages", "2"],
    ],
)
async def test_sources_and_colours_by_alias_in_any_case(
    options: list[str], tmp_path: Path
) -> None:
    async with virtual_scanner() as (url, _):
        code, _, err = await wsdscan(
            "scan", url, *options, "--resolution", "75", "-o", "p.png", cwd=tmp_path
        )
    assert code == 0, err
    with Image.open(tmp_path / "p.png") as image:
        assert image.mode == ("1" if "BW" in options or "lineart" in options else "L")


async def test_a_tiff_document_and_a_region_in_mm(tmp_path: Path) -> None:
    async with virtual_scanner(VirtualScannerConfig(adf_sheets=2)) as (url, _):
        code, _, err = await wsdscan(
            "scan", url, "--source", "ADF", "--resolution", "100", "-o", "doc.TIF",
            cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        with Image.open(tmp_path / "doc.TIF") as tiff:
            assert tiff.n_frames == 2
        code, _, err = await wsdscan(
            "scan", url, "--resolution", "100", "-l", "10", "-t", "20", "-x", "50.8",
            "-y", "25.4", "-o", "crop.jpg", cwd=tmp_path,
        )  # fmt: skip
    assert code == 0, err
    with Image.open(tmp_path / "crop.jpg") as image:
        assert image.format == "JPEG" and image.size == (200, 100)


async def test_paper_size_in_any_case(tmp_path: Path) -> None:
    async with virtual_scanner() as (url, _):
        code, _, err = await wsdscan(
            "scan", url, "--size", "a5", "--resolution", "100", "-o", "a5.png",
            cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        with Image.open(tmp_path / "a5.png") as image:
            assert image.size == (582, 826)  # 148 x 210 mm at 100 dpi (rounded down)
        code, _, err = await wsdscan("scan", url, "--size", "A3", "-o", "a3.png")
    assert code == 2
    assert "A3 (297 x 420 mm) is larger than the Platen" in one_error_line(err)


@pytest.mark.parametrize(
    "output, kind",
    [("page.png", "PNG"), ("page.jpg", "JPEG"), ("doc.pdf", "PDF"), ("d.tiff", "TIFF")],
)
async def test_without_format_a_jfif_only_scanner_gives_every_output(
    output: str, kind: str, tmp_path: Path
) -> None:
    # The Kyocera offers no png (the old default failed there): a scanner with jfif only.
    config = VirtualScannerConfig(formats=("jfif",), default_format="jfif")
    async with virtual_scanner(config) as (url, _):
        code, _, err = await wsdscan(
            "scan", url, "--resolution", "75", "-o", output, cwd=tmp_path
        )
    assert code == 0, err
    if kind == "PDF":
        assert pdf_pages(tmp_path / output) == ["/DCTDecode"]
    else:
        with Image.open(tmp_path / output) as image:
            assert image.format == kind
    assert [p.name for p in tmp_path.iterdir()] == [output]  # no temporary left


async def test_a_folder_takes_pages_as_received(tmp_path: Path) -> None:
    async with virtual_scanner(VirtualScannerConfig(adf_sheets=2)) as (url, _):
        code, out, err = await wsdscan(
            "scan", url, "--source", "adf", "--format", "JPEG", "--resolution", "75",
            "-o", f"{tmp_path}/", "-q",
        )  # fmt: skip
    assert code == 0, err
    assert out == ""  # --quiet
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "page-001.jpg",
        "page-002.jpg",
    ]


async def test_empty_feeder_in_words_and_no_file(tmp_path: Path) -> None:
    async with virtual_scanner(VirtualScannerConfig(adf_sheets=0)) as (url, _):
        code, _, err = await wsdscan(
            "scan", url, "--source", "adf", "-o", "x.pdf", cwd=tmp_path
        )
        line = one_error_line(err)
        info = await wsdscan("info", url)
    assert code == 1
    assert "the document feeder is empty" in line
    assert not any(tmp_path.iterdir())
    # info says it too (the InputTrayEmpty condition).
    assert "the document feeder is empty (InputTrayEmpty" in info[1]


@pytest.mark.parametrize(
    "output",
    [
        "missing-folder/x.pdf",
        "missing-folder/page%d.png",
        "missing-folder/",
        "a-folder.pdf",
        "/proc/x.png",
        "page%d-%d.png",
    ],
)
async def test_an_unwritable_output_is_refused_before_any_job(
    output: str, tmp_path: Path
) -> None:
    (tmp_path / "a-folder.pdf").mkdir()
    async with virtual_scanner() as (url, _):
        code, _, err = await wsdscan("scan", url, "-o", output, cwd=tmp_path)
        active, history = await jobs(url)
    assert code == 2
    line = one_error_line(err)
    assert output.rstrip("/") in line and ".part" not in line
    assert active == [] and history == []  # no CreateScanJob was sent


async def test_an_unsupported_value_lists_what_the_scanner_offers() -> None:
    async with virtual_scanner() as (url, _):
        code, _, err = await wsdscan("scan", url, "-o", "x.png", "--resolution", "123")
        assert code == 2
        assert "choose from 75, 100, 150, 200, 300, 600" in one_error_line(err)
        code, _, err = await wsdscan("scan", url, "-o", "x.png", "--format", "xps")
        assert code == 2 and "choose from png, jfif" in one_error_line(err)
        code, _, err = await wsdscan("scan", url, "-o", "x.png", "--color", "purple")
    assert code == 2 and "argument --color: unknown colour mode" in one_error_line(err)


async def test_verbose_shows_each_action_and_masks_tokens(tmp_path: Path) -> None:
    async with virtual_scanner() as (url, _):
        code, _, err = await wsdscan(
            "scan", url, "--resolution", "75", "-o", "p.png", "-v", cwd=tmp_path
        )
        assert code == 0, err
        for action in ("GetScannerElements", "CreateScanJob", "RetrieveImage"):
            assert f"wsdscan: {action} {url}: HTTP 200 in " in err
        code, _, err = await wsdscan(
            "-vv", "scan", url, "--resolution", "75", "-o", "q.png", cwd=tmp_path
        )
    assert code == 0, err
    assert "CreateScanJob reply: <" in err and "RetrieveImage request: <" in err
    assert "JobToken>***</" in err
    # The token itself never shows: only *** follows the element.
    assert all(
        part.startswith("***") for part in err.split("JobToken>")[1::2] if part
    ), err


async def test_ctrl_c_cancels_the_job_on_the_device_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    config = VirtualScannerConfig(scan_delay=5)
    async with virtual_scanner(config) as (url, _):
        process = await start_wsdscan("scan", url, "-o", "doc.pdf", cwd=tmp_path)
        for _ in range(200):  # until the job exists (the page is "scanning")
            active, _ = await jobs(url)
            if active:
                break
            await asyncio.sleep(0.05)
        assert active, "no job was created"
        await asyncio.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        active, history = await jobs(url)
    assert process.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    assert active == []
    assert [str(getattr(j.job_state, "value", j.job_state)) for j in history] == [
        "Canceled"
    ]
    assert not any(tmp_path.iterdir())


class JamReportingScanner(VirtualScanner):
    """The virtual scanner, its jam also in ScannerStatus (Stopped, MediaJam)."""

    async def get_scanner_elements(
        self, request: GetScannerElementsRequest, context: RequestContext
    ) -> GetScannerElementsResponse:
        response = await super().get_scanner_elements(request, context)
        for data in response.scanner_elements.element_data:
            if data.scanner_status is not None and self.jammed:
                data.scanner_status.scanner_state = "Stopped"
                data.scanner_status.scanner_state_reasons.scanner_state_reason = [
                    "MediaJam"
                ]
        return response


async def test_info_shows_state_reasons_and_active_jobs(tmp_path: Path) -> None:
    jamming = JamReportingScanner(VirtualScannerConfig(scan_delay=3))
    async with virtual_scanner(scanner=jamming) as (url, scanner):
        scanner.set_jammed(True)
        code, out, err = await wsdscan("info", url)
        assert code == 0, err
        assert "State: Stopped (stopped): paper jam (MediaJam)" in out
        assert "Active jobs: 0" in out
        code, _, err = await wsdscan("scan", url, "-o", "x.png")
        assert code == 1
        assert (
            "error: paper jam: the scanner is jammed (ServerErrorNotAcceptingJobs)"
            in (one_error_line(err))
        )
        scanner.set_jammed(False)
        process = await start_wsdscan("scan", url, "-o", "/dev/null/x.png")
        await process.communicate()  # refused before scanning: still no job
        scan = await start_wsdscan("scan", url, "-o", "x.png", cwd=tmp_path)
        for _ in range(200):
            if (await jobs(url))[0]:
                break
            await asyncio.sleep(0.05)
        code, out, err = await wsdscan("info", url, "--json")
        scan.send_signal(signal.SIGINT)
        await scan.communicate()
    assert code == 0, err
    document = json.loads(out)
    assert document["state"] == "Processing"
    assert document["sources"]["Platen"]["resolutions"][0] == 75
    assert [job["state"] for job in document["active_jobs"]] == ["Processing"]
    assert document["conditions"] == []


def _read_terminal(master: int) -> bytes:
    screen = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other end closed
            return screen
        if not data:
            return screen
        screen += data


async def test_progress_on_a_terminal_and_nothing_elsewhere(tmp_path: Path) -> None:
    config = VirtualScannerConfig(scan_delay=0.6, adf_sheets=2)
    master, terminal = pty.openpty()
    async with virtual_scanner(config) as (url, _):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "wsdscan", "scan", url, "--source", "adf",
            "--pages", "2", "--resolution", "150", "-o", "doc.pdf",
            cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=terminal,
        )  # fmt: skip
        os.close(terminal)
        reading = asyncio.create_task(asyncio.to_thread(_read_terminal, master))
        out, _ = await process.communicate()
        screen = (await reading).decode("utf-8", "replace")
        os.close(master)
        # Not a terminal: no progress at all.
        code, _, err = await wsdscan(
            "scan", url, "--resolution", "75", "-o", "p.png", cwd=tmp_path
        )
    assert process.returncode == 0, screen
    assert out.decode().split() == ["doc.pdf"]
    assert "page 1 of 2: the scanner is scanning" in screen
    assert "page 2 of 2" in screen and "%" in screen and "kB" in screen
    assert code == 0 and err == ""


async def test_the_output_is_checked_before_the_scanner_is_asked(
    tmp_path: Path,
) -> None:
    # Nothing listens on port 1: the output's problem is said, not the network's.
    code, _, err = await wsdscan(
        "scan", "http://127.0.0.1:1/WSDScanner", "-o", "missing/doc.pdf", cwd=tmp_path
    )
    assert code == 2
    assert "missing/doc.pdf: the folder missing does not exist" in one_error_line(err)

"""``wsdscan`` against what a real scanner says: the Kyocera ECOSYS M2040dn's own
GetScannerElementsResponse (tests/data/corpus/go-mfp-kyocera-m2040dn, byte for byte),
served in front of a virtual scanner set up like it (jfif only of the formats the
virtual scanner makes). Its maximum sizes come swapped (14016 x 8504) and it offers
no png: ``scan`` without ``--format`` still writes every kind of output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from cli_support import Send, answer, hostile, one_error_line, virtual_scanner, wsdscan
from interop_support import ServedScanner
from PIL import Image

from wsdscan.virtual import VirtualScannerConfig

KYOCERA = (
    Path(__file__).parent
    / "data"
    / "corpus"
    / "go-mfp-kyocera-m2040dn"
    / "GetScannerElementsResponse.xml"
)
# Like the Kyocera's ScannerConfiguration, as far as the virtual scanner goes.
LIKE_KYOCERA = VirtualScannerConfig(
    formats=("jfif",),
    default_format="jfif",
    resolutions=(200, 300, 400, 600),
    platen_width=8504,
    platen_height=14016,
    adf_width=8504,
    adf_height=14016,
    min_width=1969,
    min_height=1969,
    adf_sheets=2,
)


async def _kyocera_elements(scope: Any, body: bytes, send: Send, call: Any) -> None:
    await answer(send, 200, b"application/soap+xml", KYOCERA.read_bytes())


def _as_kyocera(app: Any) -> Any:
    return hostile(app, "GetScannerElements", _kyocera_elements)


async def test_info_reads_the_kyocera_with_its_sizes_unswapped() -> None:
    async with virtual_scanner(LIKE_KYOCERA, wrap=_as_kyocera) as (url, _):
        code, out, err = await wsdscan("info", url)
    assert code == 0, err
    assert "Scanner: ECOSYS M2040dn" in out
    assert (
        "Formats: exif, pdf-a, tiff-single-g4, tiff-single-jpeg-tn2, tiff-multi-g4, "
        "tiff-multi-jpeg-tn2, xps, jfif" in out
    )
    # Widths 200-600 and heights 100-600: only what both list can be asked for.
    assert "Platen: 200, 300, 400, 600 dpi; BlackAndWhite1, Grayscale8, RGB24; " in out
    assert "up to 8.50 x 14.02 in" in out
    assert "ADFDuplex" in out


@pytest.mark.parametrize(
    "options, output, check",
    [
        ([], "doc.pdf", "pdf"),
        (["--source", "adf", "--color", "gray"], "feed.pdf", "pdf2"),
        ([], "page.png", "PNG"),
        (["--color", "bw"], "page.tif", "TIFF"),
        (["--size", "a4"], "a4.jpg", "JPEG"),
    ],
)
async def test_scans_without_format_from_the_kyocera(
    options: list[str], output: str, check: str, tmp_path: Path
) -> None:
    async with virtual_scanner(LIKE_KYOCERA, wrap=_as_kyocera) as (url, _):
        code, out, err = await wsdscan(
            "scan", url, "--resolution", "200", *options, "-o", output, cwd=tmp_path
        )
    assert code == 0, err
    assert out.split() == [output]
    if check.startswith("pdf"):
        with pikepdf.open(tmp_path / output) as pdf:
            assert len(pdf.pages) == (2 if check == "pdf2" else 1)
            (image,) = pdf.pages[0].get_images().values()
            assert image.get("/Filter") == "/DCTDecode"  # jfif, as it came
    else:
        with Image.open(tmp_path / output) as image:
            assert image.format == check
            if output == "a4.jpg":
                assert image.size == (1653, 2338)  # A4 at 200 dpi


async def test_a_format_the_kyocera_lacks_is_refused_with_its_list() -> None:
    async with virtual_scanner(LIKE_KYOCERA, wrap=_as_kyocera) as (url, _):
        code, _, err = await wsdscan("scan", url, "--format", "PNG", "-o", "x.png")
        assert code == 2
        assert "format png is not supported (choose from exif, pdf-a" in (
            one_error_line(err)
        )
        code, _, err = await wsdscan("scan", url, "--format", "xps", "-o", "x.pdf")
    assert code == 2
    assert "pages in xps cannot be converted to PDF" in one_error_line(err)


@pytest.fixture(scope="module")
def kyocera_profile() -> Iterator[str]:
    """``wsdscan serve --profile kyocera-m2040dn``: the virtual scanner advertising
    exactly what the Kyocera does (less xps), producing each of its formats."""
    with ServedScanner(["--profile", "kyocera-m2040dn", "--adf-sheets", "50"]) as srv:
        yield srv.url


@pytest.mark.parametrize(
    "options, output, pages",
    [
        ([], "doc.pdf", 1),  # no --format: JPEG pages, embedded as they are
        (["--source", "adf", "--pages", "3"], "feed.pdf", 3),
        ([], "page.png", 1),  # no png on the Kyocera: converted
        # Multi-page wire formats are the document asked for, saved as they arrive.
        (["--source", "adf", "--pages", "3", "--format", "pdf-a"], "a.pdf", 3),
        (["--source", "adf", "--pages", "2", "--format", "tiff-multi-g4"], "g4.tif", 2),
    ],
)
async def test_scans_from_the_kyocera_profile(
    kyocera_profile: str,
    options: list[str],
    output: str,
    pages: int,
    tmp_path: Path,
) -> None:
    code, out, err = await wsdscan(
        "scan",
        kyocera_profile,
        "--resolution",
        "200",
        *options,
        "-o",
        output,
        cwd=tmp_path,
    )
    assert code == 0, err
    assert out.split() == [output]
    assert sorted(p.name for p in tmp_path.iterdir()) == [output]  # nothing else left
    if output.endswith(".pdf"):
        with pikepdf.open(tmp_path / output) as pdf:
            assert len(pdf.pages) == pages
    else:
        with Image.open(tmp_path / output) as image:
            assert getattr(image, "n_frames", 1) == pages
            assert image.format == ("PNG" if output.endswith(".png") else "TIFF")

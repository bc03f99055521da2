"""wsdscan.output: the streaming PDF writer (JPEG and PNG data embedded as they are,
everything else stored losslessly, each page sized by its resolution), the multi-page
TIFF writer, page names, and the output checks made before a job exists. Nothing is
left behind when a document is given up."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from wsdscan.errors import OutputError
from wsdscan.output import OutputTarget, PageNamer, open_sink
from wsdscan.output.document import DocumentFile
from wsdscan.output.pdf import PdfWriter
from wsdscan.output.tiff import TiffWriter


def _pages(folder: Path) -> list[tuple[Path, str, tuple[int, int], object]]:
    """Pages of every kind a scanner sends: (file, mode, size, first pixel)."""
    made = [
        ("rgb.jpg", "RGB", (170, 220), (200, 10, 10), {"dpi": (100, 100)}),
        ("gray.jpg", "L", (170, 220), 90, {"dpi": (200, 200)}),
        ("gray.png", "L", (170, 220), 100, {}),
        ("bw.png", "1", (170, 220), 255, {}),
        ("rgb.png", "RGB", (170, 220), (0, 0, 255), {}),
        ("bw-g4.tif", "1", (170, 220), 0, {"compression": "group4"}),
        ("rgb.bmp", "RGB", (17, 22), (1, 2, 3), {}),
        ("palette.png", "P", (17, 22), 3, {}),
        ("alpha.png", "RGBA", (17, 22), (10, 20, 30, 255), {}),
    ]
    pages = []
    for name, mode, size, pixel, options in made:
        Image.new(mode, size, pixel).save(folder / name, **options)
        pages.append((folder / name, mode, size, pixel))
    return pages


def test_pdf_pages_of_every_kind(tmp_path: Path) -> None:
    pages = _pages(tmp_path)
    stream = io.BytesIO()
    writer = PdfWriter(stream)
    for path, *_ in pages:
        writer.add_page(path, 300)
    writer.close()
    assert writer.page_count == len(pages)
    with pikepdf.open(io.BytesIO(stream.getvalue())) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert len(pdf.pages) == len(pages)
        for page, (path, mode, size, _) in zip(pdf.pages, pages, strict=True):
            (image,) = page.get_images().values()
            decoded = pikepdf.PdfImage(image).as_pil_image()
            assert decoded.size == size, path.name
            if path.suffix == ".jpg":
                # Embedded as it is: the stream is the file, byte for byte.
                assert image.get("/Filter") == "/DCTDecode"
                assert image.read_raw_bytes() == path.read_bytes()
            elif path.name in ("gray.png", "bw.png", "rgb.png"):
                assert image.get("/DecodeParms").get("/Predictor") == 15
            with Image.open(path) as original:
                expected = original.convert(decoded.mode).getpixel((0, 0))
            if mode != "RGBA":
                assert decoded.getpixel((0, 0)) == expected, path.name
        # 170 px at 100 dpi is 122.4 pt; at 200 dpi 61.2 pt; no dpi: the scan's 300.
        widths = [float(page.mediabox[2]) for page in pdf.pages[:3]]
        assert widths == pytest.approx([122.4, 61.2, 40.8])


def test_tiff_pages_appended_one_at_a_time(tmp_path: Path) -> None:
    pages = _pages(tmp_path)
    writer = TiffWriter(tmp_path / "doc.tif")
    for path, *_ in pages:
        writer.add_page(path, 150)
    writer.close()
    with Image.open(tmp_path / "doc.tif") as tiff:
        assert tiff.n_frames == len(pages)
        modes = []
        for index in range(tiff.n_frames):
            tiff.seek(index)
            modes.append((tiff.mode, tiff.info.get("compression")))
    assert modes[3] == ("1", "group4") and modes[0] == ("RGB", "tiff_adobe_deflate")


def test_page_names() -> None:
    assert PageNamer("page%d.png")(3) == Path("page3.png")
    assert PageNamer("scan-{page:02d}.png")(4) == Path("scan-04.png")
    assert PageNamer("out.png")(2) == Path("out-002.png")
    assert PageNamer("out", extension=".jpg")(2) == Path("out-002.jpg")
    assert PageNamer("folder/", extension=".tif")(1) == Path("folder/page-001.tif")


@pytest.mark.parametrize(
    "target, kind, document, folder",
    [
        ("doc.pdf", "pdf", True, False),
        ("doc.TIFF", "tiff", True, False),
        ("page.png", "png", False, False),
        ("page%d.pdf", "pdf", False, False),
        ("scans/", "as-received", False, True),
    ],
)
def test_what_an_output_name_asks_for(
    target: str, kind: str, document: bool, folder: bool
) -> None:
    parsed = OutputTarget.parse(target)
    assert (parsed.kind, parsed.document, parsed.folder) == (kind, document, folder)


def test_output_problems_name_the_users_path(tmp_path: Path) -> None:
    (tmp_path / "taken.pdf").mkdir()
    cases = {
        str(tmp_path / "no" / "x.pdf"): "does not exist",
        str(tmp_path / "taken.pdf"): "is a folder",
        str(tmp_path / "p%d%d.png"): "not a page pattern",
        str(tmp_path / "same{page!s:.0}.png"): "same name",
        "/proc/x.png": "cannot write in /proc",
    }
    for target, words in cases.items():
        with pytest.raises(OutputError, match=words) as raised:
            open_sink(OutputTarget.parse(target), "png", 300)
        assert str(raised.value).startswith(target) and ".part" not in str(raised.value)


def test_a_document_given_up_leaves_nothing(tmp_path: Path) -> None:
    (page, *_), *_ = (
        _pages(tmp_path / "in") if (tmp_path / "in").mkdir() is None else []
    )
    out = tmp_path / "out"
    out.mkdir()
    document = DocumentFile(out / "doc.pdf", "pdf", received_extension=".jpg", dpi=300)
    received = document.receive_path(1)
    received.write_bytes(page.read_bytes())
    document.add(1, received)
    assert not received.exists()  # appended, then deleted
    document.abort()
    assert list(out.iterdir()) == []
    empty = DocumentFile(out / "doc.pdf", "pdf", received_extension=".jpg", dpi=300)
    with pytest.raises(OutputError, match="no page was scanned"):
        empty.finish()
    assert list(out.iterdir()) == []

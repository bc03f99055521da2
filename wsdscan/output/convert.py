"""One received page file converted to another kind of file (Pillow): png, jpeg, or a
one-page PDF or TIFF through the document writers."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from .images import flat_image, page_dpi
from .pdf import PdfWriter
from .tiff import TiffWriter


def save_as(source: Path, target: Path, kind: str, dpi: float) -> None:
    """Decode the page in ``source`` and write it to ``target`` as ``kind`` (png,
    jpeg; pdf and tiff through their writers), ``dpi`` unless the image says its own."""
    with Image.open(source) as opened:
        resolution = page_dpi(opened, dpi)
        if kind == "pdf":
            with target.open("wb") as stream:
                writer = PdfWriter(stream)
                writer.add_page(source, dpi)
                writer.close()
            return
        if kind == "tiff":
            tiff = TiffWriter(target)
            try:
                tiff.add_page(source, dpi)
            finally:
                tiff.close()
            return
        image = flat_image(opened)
        if kind == "jpeg":
            if image.mode == "1":
                image = image.convert("L")
            image.save(target, "JPEG", quality=90, dpi=resolution)
        else:
            image.save(target, "PNG", dpi=resolution)

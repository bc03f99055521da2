"""A multi-page TIFF written page by page, in bounded memory.

Pillow's ``save_all`` takes ``append_images`` as a list (a generator is read into one
first) and keeps every page it loaded until the end, so the writer drives Pillow's own
``AppendingTiffWriter`` a page at a time instead: open, decode, append, close. Bilevel
pages are stored CCITT G4, the others Deflate (lossless).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, TiffImagePlugin

from .images import flat_image, page_dpi


class TiffWriter:
    """``writer.add_page(image, dpi)`` for each page, then ``writer.close()``."""

    def __init__(self, path: str | Path) -> None:
        self._file = TiffImagePlugin.AppendingTiffWriter(str(path), new=True)
        self.page_count = 0

    def add_page(self, path: str | Path, dpi: float) -> None:
        with Image.open(path) as opened:
            resolution = page_dpi(opened, dpi)
            image = flat_image(opened)
            compression = "group4" if image.mode == "1" else "tiff_adobe_deflate"
            image.save(self._file, "TIFF", compression=compression, dpi=resolution)
        self._file.newFrame()
        self.page_count += 1

    def close(self) -> None:
        self._file.close()

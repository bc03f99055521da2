"""A PDF written page by page, in bounded memory: one image per page, nothing of an
earlier page kept but its byte offsets.

img2pdf holds the whole document until it writes it (it reads every image into memory
first: 564 MB of peak RSS for 100 pages of 5 MB JPEG, measured), so this writer streams
instead. JPEG pages (jfif, exif) are embedded as they are (``DCTDecode``, no
re-encoding); PNG pages of 8-bit gray or RGB (or 1-bit gray), not interlaced, keep their
compressed data (``FlateDecode`` with the PNG predictors, as img2pdf does); any other
page is decoded by Pillow and stored losslessly (``FlateDecode``), a band of rows at a
time. Page size follows the image's resolution (its own, else the scan's).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import IO, Final

from PIL import Image

from .images import flat_image, page_dpi

_HEADER: Final = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
_CATALOG, _PAGES, _INFO = 1, 2, 3
_CHUNK: Final = 1 << 20
_BAND_BYTES: Final = 4 << 20
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


class PdfWriter:
    """``writer.add_page(image, dpi)`` for each page, then ``writer.close()``.

    ``stream`` is a binary file opened for writing; the writer writes to it as pages
    come and closes nothing."""

    def __init__(self, stream: IO[bytes], *, producer: str = "wsdscan") -> None:
        self._out = stream
        self._offset = 0
        self._offsets: dict[int, int] = {}
        self._next_id = _INFO + 1
        self._pages: list[int] = []
        self._producer = producer
        self._write(_HEADER)

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _begin(self, object_id: int) -> None:
        self._offsets[object_id] = self._offset
        self._write(b"%d 0 obj\n" % object_id)

    def _object(self, object_id: int, body: bytes) -> None:
        self._begin(object_id)
        self._write(body + b"\nendobj\n")

    def _stream(self, object_id: int, entries: bytes, chunks: Iterator[bytes]) -> None:
        """A stream whose /Length is an object written after it (its size is known
        only once the data is out)."""
        length_id = self._new_id()
        self._begin(object_id)
        self._write(b"<<" + entries + b"/Length %d 0 R>>\nstream\n" % length_id)
        start = self._offset
        for chunk in chunks:
            self._write(chunk)
        length = self._offset - start
        self._write(b"\nendstream\nendobj\n")
        self._object(length_id, b"%d" % length)

    def add_page(self, path: str | Path, dpi: float) -> None:
        """Append the image in file ``path`` as a page; ``dpi`` is used when the image
        does not say its resolution."""
        with Image.open(path) as image:
            width, height = image.size
            x_dpi, y_dpi = page_dpi(image, dpi)
            entries, chunks = _image_data(image, Path(path))
            image_id = self._new_id()
            self._stream(
                image_id,
                b"/Type/XObject/Subtype/Image/Width %d/Height %d" % (width, height)
                + entries,
                chunks,
            )
        page_width = width * 72 / x_dpi
        page_height = height * 72 / y_dpi
        content = b"q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q" % (page_width, page_height)
        content_id = self._new_id()
        self._object(
            content_id,
            b"<</Length %d>>\nstream\n%s\nendstream" % (len(content), content),
        )
        page_id = self._new_id()
        self._object(
            page_id,
            b"<</Type/Page/Parent %d 0 R/MediaBox[0 0 %.4f %.4f]"
            % (
                _PAGES,
                page_width,
                page_height,
            )
            + b"/Resources<</XObject<</Im0 %d 0 R>>>>/Contents %d 0 R>>"
            % (image_id, content_id),
        )
        self._pages.append(page_id)

    def close(self) -> None:
        """Write the page tree, catalog and cross-reference table."""
        kids = b" ".join(b"%d 0 R" % page for page in self._pages)
        self._object(
            _PAGES, b"<</Type/Pages/Kids[%s]/Count %d>>" % (kids, len(self._pages))
        )
        self._object(_CATALOG, b"<</Type/Catalog/Pages %d 0 R>>" % _PAGES)
        self._object(_INFO, b"<</Producer(%s)>>" % _pdf_text(self._producer))
        xref = self._offset
        count = self._next_id
        lines = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
        for object_id in range(1, count):
            lines.append(b"%010d 00000 n \n" % self._offsets[object_id])
        self._write(b"".join(lines))
        self._write(
            b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n"
            % (count, _CATALOG, _INFO, xref)
        )


def _pdf_text(text: str) -> bytes:
    safe = text.encode("latin-1", "replace")
    return safe.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _read_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


_JPEG_SPACES: Final = MappingProxyType(
    {
        "L": b"/DeviceGray",
        "RGB": b"/DeviceRGB",
        "CMYK": b"/DeviceCMYK",
    }
)


def _image_data(image: Image.Image, path: Path) -> tuple[bytes, Iterator[bytes]]:
    """The image dictionary entries after /Width /Height, and the stream data."""
    if image.format == "JPEG" and image.mode in _JPEG_SPACES:
        entries = b"/ColorSpace%s/BitsPerComponent 8/Filter/DCTDecode" % (
            _JPEG_SPACES[image.mode]
        )
        if image.mode == "CMYK" and "adobe" in image.info:
            entries += b"/Decode[1 0 1 0 1 0 1 0]"  # Adobe stores CMYK inverted
        return entries, _read_file(path)
    if image.format == "PNG":
        png = _png_passthrough(path)
        if png is not None:
            return png
    flat = flat_image(image)
    space, bits = (b"/DeviceRGB", 8) if flat.mode == "RGB" else (b"/DeviceGray", 8)
    if flat.mode == "1":
        bits = 1
    entries = b"/ColorSpace%s/BitsPerComponent %d/Filter/FlateDecode" % (space, bits)
    return entries, _deflated_rows(flat)


def _deflated_rows(image: Image.Image) -> Iterator[bytes]:
    """The raw pixels, zlib-compressed a band of rows at a time."""
    width, height = image.size
    row = len(image.crop((0, 0, width, 1)).tobytes())
    band = max(1, _BAND_BYTES // max(row, 1))
    compressor = zlib.compressobj(6)
    for top in range(0, height, band):
        rows = image.crop((0, top, width, min(height, top + band))).tobytes()
        if data := compressor.compress(rows):
            yield data
    yield compressor.flush()


def _png_passthrough(path: Path) -> tuple[bytes, Iterator[bytes]] | None:
    """A PNG whose compressed data a PDF takes as it is, or None (it is decoded)."""
    with path.open("rb") as handle:
        if handle.read(8) != _PNG_SIGNATURE:
            return None
        length, kind = struct.unpack(">I4s", handle.read(8))
        if kind != b"IHDR" or length != 13:
            return None
        width, _, depth, color, _, _, interlace = struct.unpack(
            ">IIBBBBB", handle.read(13)
        )
        handle.read(4)  # CRC
        while True:
            head = handle.read(8)
            if len(head) < 8:
                return None
            length, kind = struct.unpack(">I4s", head)
            if kind in (b"IDAT", b"IEND"):
                break
            if kind in (b"tRNS", b"PLTE"):
                return None  # transparency or a palette: decoded instead
            handle.seek(length + 4, 1)
    colors = {0: 1, 2: 3}.get(color)
    if colors is None or interlace or depth not in (8, 1) or (depth == 1 and color):
        return None
    space = b"/DeviceGray" if colors == 1 else b"/DeviceRGB"
    entries = b"/ColorSpace%s/BitsPerComponent %d/Filter/FlateDecode" % (
        space,
        depth,
    ) + b"/DecodeParms<</Predictor 15/Colors %d/BitsPerComponent %d/Columns %d>>" % (
        colors,
        depth,
        width,
    )
    return entries, _idat_data(path)


def _idat_data(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(8)
        while head := handle.read(8):
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IEND":
                return
            if kind == b"IDAT":
                left = length
                while left:
                    chunk = handle.read(min(left, _CHUNK))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk
                handle.seek(4, 1)
            else:
                handle.seek(length + 4, 1)

"""Synthetic test pages: a picture per scanned side, sized by the ticket, that shows
(as text) and encodes (machine-readably) which sheet and side it is.

The machine-readable marker is a row of square cells near the top-left corner, black
for 1 and white for 0: a black start cell, the side bit (1 = back), the sheet number
in 10 bits (most significant first) and a black end cell, between two white quiet
cells. Pure black and white
survive 1-bit images, PNG and JPEG; :func:`read_marker` decodes it. Below the marker
are three colour patches (red, green, blue) at :func:`patch_boxes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from PIL import Image, ImageDraw, ImageFont

from . import encoders

Side = Literal["front", "back"]

MARKER_SHEET_BITS: Final = 10
MAX_MARKED_SHEET: Final = (1 << MARKER_SHEET_BITS) - 1
_MARKER_CELLS: Final = 2 + 1 + MARKER_SHEET_BITS  # start, side, sheet bits, end

PIL_MODES: Final = MappingProxyType(
    {"BlackAndWhite1": "1", "Grayscale8": "L", "RGB24": "RGB"}
)

_PATCH_COLORS: Final = ((255, 0, 0), (0, 160, 0), (0, 0, 255))


@dataclass(frozen=True)
class PageMarker:
    """Which sheet (1-based, within the job) and side an image shows."""

    sheet: int
    side: Side


@dataclass(frozen=True)
class PageSpec:
    """Everything needed to produce one image (all plain values: safe in a thread)."""

    width: int
    """Pixels per line."""
    height: int
    """Number of lines."""
    color_mode: str
    """BlackAndWhite1, Grayscale8 or RGB24."""
    format: str
    """A FormatValue of ``encoders.FORMATS``."""
    sheet: int
    side: Side
    x_resolution: int = 300
    y_resolution: int = 300
    jpeg_quality: int = 85
    title: str = "wsdscan virtual scanner"

    @property
    def content_type(self) -> str:
        return encoders.content_type(self.format)

    @property
    def dpi(self) -> tuple[int, int]:
        return self.x_resolution, self.y_resolution


@dataclass(frozen=True)
class DocumentSpec:
    """Every image of a job in one file of a multi-page format (tiff-multi-*, pdf-a)."""

    pages: tuple[PageSpec, ...]
    format: str

    @property
    def content_type(self) -> str:
        return encoders.content_type(self.format)


def marker_cell(width: int, height: int) -> int:
    """Edge length in pixels of one marker cell for an image of this size."""
    return max(4, min(width, height) // 50)


def patch_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The (left, top, right, bottom) boxes of the red, green and blue patches."""
    cell = marker_cell(width, height)
    return [
        (cell * (1 + 2 * i), cell * 3, cell * (3 + 2 * i), cell * 5) for i in range(3)
    ]


def _marker_bits(sheet: int, side: Side) -> list[int]:
    bits = [1, 1 if side == "back" else 0]
    bits += [(sheet >> i) & 1 for i in reversed(range(MARKER_SHEET_BITS))]
    return bits + [1]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def render_page(spec: PageSpec) -> Image.Image:
    """Draw the page for ``spec`` in the PIL mode of its colour mode."""
    if spec.width < 1 or spec.height < 1:
        raise ValueError(f"image size must be positive, not {spec.width}x{spec.height}")
    if not 1 <= spec.sheet <= MAX_MARKED_SHEET:
        raise ValueError(f"sheet must be in 1..{MAX_MARKED_SHEET}, not {spec.sheet}")
    width, height = spec.width, spec.height
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    # A light grid, one line per inch.
    for x in range(spec.x_resolution, width, max(1, spec.x_resolution)):
        draw.line([(x, 0), (x, height - 1)], fill=(200, 200, 200))
    for y in range(spec.y_resolution, height, max(1, spec.y_resolution)):
        draw.line([(0, y), (width - 1, y)], fill=(200, 200, 200))

    # The machine-readable marker: one row of cells (quiet, start, ..., end, quiet)
    # at height cell..2*cell, starting at x = 0.
    cell = marker_cell(width, height)
    for index, bit in enumerate([0, *_marker_bits(spec.sheet, spec.side), 0]):
        left = cell * index
        box = (left, cell, left + cell - 1, 2 * cell - 1)
        draw.rectangle(box, fill="black" if bit else "white")
    for box, color in zip(patch_boxes(width, height), _PATCH_COLORS, strict=True):
        draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=color)

    # The frame last: the marker's white quiet cell must not cut it.
    frame = max(1, min(width, height) // 200)
    draw.rectangle([(0, 0), (width - 1, height - 1)], outline="black", width=frame)

    # The same information for humans.
    big = _font(min(width, height) // 8)
    small = _font(min(width, height) // 30)
    center_x = width // 2
    draw.text(
        (center_x, height * 2 // 5),
        f"Page {spec.sheet}",
        fill="black",
        font=big,
        anchor="mm",
    )
    draw.text(
        (center_x, height * 2 // 5 + min(width, height) // 7),
        spec.side,
        fill="black",
        font=big,
        anchor="mm",
    )
    details = (
        f"{spec.title} - {width}x{height} px, {spec.x_resolution}x"
        f"{spec.y_resolution} dpi, {spec.color_mode}, {spec.format}"
    )
    draw.text(
        (center_x, height - 2 * cell), details, fill="black", font=small, anchor="mb"
    )

    mode = PIL_MODES[spec.color_mode]
    if mode == "RGB":
        return image
    gray = image.convert("L")
    if mode == "L":
        return gray
    return gray.convert("1", dither=Image.Dither.NONE)


def encode_image(
    image: Image.Image,
    fmt: str,
    *,
    jpeg_quality: int = 85,
    png_compress_level: int | None = None,
    dpi: tuple[int, int] = (300, 300),
) -> bytes:
    """``image`` as ``fmt`` (see :mod:`wsdscan.virtual.encoders`): PNG at
    ``png_compress_level`` 0-9 when given, else Pillow's default; JPEG-based formats
    turn 1-bit images into 8-bit gray."""
    return encoders.encode_page(
        image,
        fmt,
        dpi=dpi,
        jpeg_quality=jpeg_quality,
        png_compress_level=png_compress_level,
    )


def make_image(spec: PageSpec) -> bytes:
    """Render and encode one page (CPU-bound: run it in a worker thread)."""
    return encode_image(
        render_page(spec), spec.format, jpeg_quality=spec.jpeg_quality, dpi=spec.dpi
    )


def make_document(spec: DocumentSpec, png_compress_level: int | None = None) -> bytes:
    """Render and encode every page of ``spec`` into one file, a page at a time."""
    del png_compress_level  # no multi-page format is PNG
    quality = spec.pages[0].jpeg_quality if spec.pages else 85
    return encoders.encode_document(
        (render_page(page) for page in spec.pages),
        spec.format,
        dpis=[page.dpi for page in spec.pages],
        jpeg_quality=quality,
    )


def read_marker(image: Image.Image) -> PageMarker | None:
    """Decode the sheet/side marker of a page made by :func:`render_page` (after PNG
    or JPEG round trips too); ``None`` if the image carries no readable marker."""
    gray = image.convert("L")
    width, height = gray.size
    cell = marker_cell(width, height)
    if cell * (_MARKER_CELLS + 2) > width or 2 * cell > height:
        return None
    bits: list[int] = []
    for index in range(_MARKER_CELLS + 2):
        x = cell * index + cell // 2
        value = gray.getpixel((x, cell + cell // 2))
        assert isinstance(value, int)
        bits.append(1 if value < 128 else 0)
    if bits[:2] != [0, 1] or bits[-2:] != [1, 0]:
        return None
    sheet = 0
    for bit in bits[3:-2]:
        sheet = (sheet << 1) | bit
    if sheet == 0:
        return None
    return PageMarker(sheet=sheet, side="back" if bits[2] else "front")

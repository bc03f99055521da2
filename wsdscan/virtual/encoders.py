"""The file formats the virtual scanner writes: one WS-Scan FormatValue each, written
by Pillow (images) or img2pdf (PDF); nothing here encodes by hand.

===========================  =================================================
FormatValue                  what RetrieveImage returns
===========================  =================================================
png                          PNG
jfif                         JPEG (JFIF APP0)
exif                         JPEG with an Exif APP1 segment (Make, Model,
                             Software, resolution); Pillow writes it after the
                             JFIF APP0 segment (strict Exif puts APP1 first;
                             readers take either)
dib                          a Windows BMP *file*, BITMAPFILEHEADER included
                             (see :data:`DIB_NOTE`)
jpeg2k                       JPEG 2000 (JP2 container), if Pillow has OpenJPEG
tiff-single-uncompressed     TIFF, one page, no compression
tiff-single-g4 / -g3mh       TIFF, one bilevel page, CCITT Group 4 / Group 3
                             1-D Modified Huffman (libtiff)
tiff-single-jpeg-tn2         TIFF, one page, JPEG compression as in TIFF
                             Technical Note 2 (Compression = 7, libtiff)
tiff-multi-*                 the same compressions, every page of the job in
                             one TIFF (see :data:`MULTI_PAGE_NOTE`)
pdf-a                        a PDF made by img2pdf with its PDF/A-1b option
                             (see :data:`PDF_A_NOTE`); every page of the job
===========================  =================================================

Bilevel pages in a JPEG-based format (jfif, exif, tiff-*-jpeg-tn2, jpeg2k) are
written as 8-bit gray (JPEG has no 1-bit mode), as the built-in scanner always did for
jfif. CCITT (g4, g3mh) needs bilevel pages: the ticket resolution turns the colour of
such a job into BlackAndWhite1 (reported with Override, see ``sidevalues.py``).

What cannot be written here (xps, jbig, jpeg2k without OpenJPEG, TIFF compressions
without libtiff, any vendor string) is not in :func:`producible_formats`, and a profile
that advertises it has it left out (``profiles.py``).
"""

from __future__ import annotations

import importlib.util
import io
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

from PIL import Image, ImageCms, TiffImagePlugin, features

DIB_NOTE: Final = (
    "dib is a BMP file with its 14-byte BITMAPFILEHEADER: the FormatValue page says "
    "only 'Windows Device Independent Bitmap'; sane-airscan decodes dib with its BMP "
    "file decoder (airscan-bmp.c reads bfOffBits at byte 10) and go-mfp maps dib to "
    "image/bmp, so a header-less DIB would break the one client that can be tested."
)
MULTI_PAGE_NOTE: Final = (
    "A multi-page format (tiff-multi-*, pdf-a) answers the job's first RetrieveImage "
    "with one file holding every image of the job (every sheet the feeder has, up to "
    "ImagesToTransfer; both sides for ADFDuplex; RetrieveImageResponse page: 'the "
    "returned file will contain as many images as the input source can scan up to "
    "the value of ImagesToTransfer'). The job completes once that file was sent, as a "
    "platen job does with its one image: a later RetrieveImage gets "
    "ClientErrorJobIdNotFound (ClientErrorNoImagesAvailable while the file is still "
    "being sent)."
)
PDF_A_NOTE: Final = (
    "pdf-a is img2pdf's PDF/A-1b mode (XMP metadata with pdfaid part 1 conformance B "
    "and an sRGB output intent, LittleCMS's built-in sRGB profile from Pillow); it is "
    "not validated, and that profile is ICC version 4, which PDF/A-1 does not allow: "
    "treat it as a PDF, not as conformant PDF/A. Pages are JPEG (gray, colour) or "
    "CCITT G4 (bilevel) images, each at its resolution."
)


@dataclass(frozen=True)
class FormatInfo:
    """How one FormatValue is written."""

    content_type: str
    multi_page: bool = False
    bilevel_only: bool = False
    """CCITT: only BlackAndWhite1 pages."""
    tiff_compression: str | None = None
    """Pillow's TIFF compression name (TIFF formats only)."""
    needs: tuple[str, ...] = ()
    """Pillow features (``PIL.features.check``) the format needs."""


_TIFF: Final = "image/tiff"
_TIFF_COMPRESSIONS: Final = MappingProxyType(
    {
        "uncompressed": ("raw", ()),
        "g4": ("group4", ("libtiff",)),
        "g3mh": ("group3", ("libtiff",)),
        "jpeg-tn2": ("jpeg", ("libtiff", "jpg")),
    }
)

FORMATS: Final[Mapping[str, FormatInfo]] = MappingProxyType(
    {
        "png": FormatInfo("image/png", needs=("zlib",)),
        "jfif": FormatInfo("image/jpeg", needs=("jpg",)),
        "exif": FormatInfo("image/jpeg", needs=("jpg",)),
        "dib": FormatInfo("image/bmp"),
        "jpeg2k": FormatInfo("image/jp2", needs=("jpg_2000",)),
        **{
            f"tiff-{pages}-{name}": FormatInfo(
                _TIFF,
                multi_page=pages == "multi",
                bilevel_only=name in ("g4", "g3mh"),
                tiff_compression=compression,
                needs=needs,
            )
            for pages in ("single", "multi")
            for name, (compression, needs) in _TIFF_COMPRESSIONS.items()
        },
        "pdf-a": FormatInfo(
            "application/pdf", multi_page=True, needs=("jpg", "libtiff")
        ),
    }
)
"""Every format this module knows how to write (when Pillow has what it needs)."""

_JPEG_BASED: Final = frozenset({"jfif", "exif", "jpeg2k"})


@cache
def producible_formats() -> tuple[str, ...]:
    """The formats this installation can write, in :data:`FORMATS` order."""
    found = []
    for name, info in FORMATS.items():
        if name == "pdf-a" and importlib.util.find_spec("img2pdf") is None:
            continue
        if all(features.check(feature) for feature in info.needs):
            found.append(name)
    return tuple(found)


def content_type(fmt: str) -> str:
    return FORMATS[fmt].content_type


def is_multi_page(fmt: str) -> bool:
    info = FORMATS.get(fmt)
    return info is not None and info.multi_page


def bilevel_only(fmt: str) -> bool:
    info = FORMATS.get(fmt)
    return info is not None and info.bilevel_only


_BITS: Final = MappingProxyType({"BlackAndWhite1": 1, "Grayscale8": 8, "RGB24": 24})


def bytes_per_line(fmt: str, color_mode: str, pixels: int) -> int:
    """BytesPerLine of ImageInformation: 0 for a compressed format (the BytesPerLine
    page), else the row length with its padding: BMP rows are padded to 4 bytes, TIFF
    rows to a whole byte."""
    info = FORMATS.get(fmt)
    bits = _BITS.get(color_mode, 24) * pixels
    if fmt == "dib":
        return (bits + 31) // 32 * 4
    if info is not None and info.tiff_compression == "raw":
        return (bits + 7) // 8
    return 0


def _exif(dpi: tuple[int, int]) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "wsdscan"  # Make
    exif[0x0110] = "Virtual Scanner"  # Model
    exif[0x0131] = "wsdscan"  # Software
    exif[0x011A] = float(dpi[0])  # XResolution
    exif[0x011B] = float(dpi[1])  # YResolution
    exif[0x0128] = 2  # ResolutionUnit: inch
    return exif


def _no_bilevel(image: Image.Image) -> Image.Image:
    return image.convert("L") if image.mode == "1" else image


def _bilevel(image: Image.Image) -> Image.Image:
    if image.mode == "1":
        return image
    return image.convert("L").convert("1", dither=Image.Dither.NONE)


def _save_tiff_page(
    image: Image.Image, target: object, info: FormatInfo, dpi: tuple[int, int], q: int
) -> None:
    if info.bilevel_only:
        image = _bilevel(image)
    elif info.tiff_compression == "jpeg":
        image = _no_bilevel(image)
    options: dict[str, object] = {"compression": info.tiff_compression, "dpi": dpi}
    if info.tiff_compression == "jpeg":
        options["quality"] = q
    image.save(target, format="TIFF", **options)  # type: ignore[arg-type]


def encode_page(
    image: Image.Image,
    fmt: str,
    *,
    dpi: tuple[int, int] = (300, 300),
    jpeg_quality: int = 85,
    png_compress_level: int | None = None,
) -> bytes:
    """One page as ``fmt`` (a single-page format, or a multi-page one with one page)."""
    info = FORMATS.get(fmt)
    if info is None:
        raise ValueError(f"cannot encode {fmt!r}")
    if info.multi_page:
        return encode_document([image], fmt, dpis=[dpi], jpeg_quality=jpeg_quality)
    buffer = io.BytesIO()
    if fmt == "png":
        if png_compress_level is None:
            image.save(buffer, format="PNG")
        else:
            image.save(buffer, format="PNG", compress_level=png_compress_level)
    elif fmt in _JPEG_BASED:
        image = _no_bilevel(image)
        if fmt == "jpeg2k":
            image.save(buffer, format="JPEG2000", irreversible=True)
        elif fmt == "exif":
            image.save(
                buffer, format="JPEG", quality=jpeg_quality, dpi=dpi, exif=_exif(dpi)
            )
        else:
            image.save(buffer, format="JPEG", quality=jpeg_quality)
    elif fmt == "dib":
        image.save(buffer, format="BMP")
    else:
        _save_tiff_page(image, buffer, info, dpi, jpeg_quality)
    return buffer.getvalue()


def encode_document(
    images: Iterable[Image.Image],
    fmt: str,
    *,
    dpis: Iterable[tuple[int, int]],
    jpeg_quality: int = 85,
) -> bytes:
    """Every page of a job in one multi-page file (tiff-multi-*, pdf-a).

    ``images`` may be a generator: each page is encoded before the next is asked for,
    so only one page is held uncompressed at a time."""
    info = FORMATS.get(fmt)
    if info is None or not info.multi_page:
        raise ValueError(f"{fmt!r} is not a multi-page format")
    pairs = zip(images, dpis, strict=True)
    if fmt == "pdf-a":
        return _pdf(pairs, jpeg_quality)
    buffer = io.BytesIO()
    count = 0
    # Pillow's own multi-frame TIFF writer (what save_all uses), fed one page at a
    # time instead of a list of every page.
    with TiffImagePlugin.AppendingTiffWriter(buffer, new=True) as writer:
        for image, dpi in pairs:
            _save_tiff_page(image, writer, info, dpi, jpeg_quality)
            writer.newFrame()
            count += 1
    if count == 0:
        raise ValueError("a document needs at least one page")
    return buffer.getvalue()


def _pdf_page(image: Image.Image, dpi: tuple[int, int], quality: int) -> bytes:
    """A page as img2pdf embeds it without re-encoding: CCITT G4 TIFF for bilevel,
    JPEG (DCTDecode) for gray and colour; the resolution sets the page size."""
    buffer = io.BytesIO()
    if image.mode == "1":
        image.save(buffer, format="TIFF", compression="group4", dpi=dpi)
    else:
        image.save(buffer, format="JPEG", quality=quality, dpi=dpi)
    return buffer.getvalue()


@cache
def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _pdf(pages: Iterable[tuple[Image.Image, tuple[int, int]]], quality: int) -> bytes:
    import img2pdf  # type: ignore[import-untyped]

    encoded = [_pdf_page(image, dpi, quality) for image, dpi in pages]
    if not encoded:
        raise ValueError("a document needs at least one page")
    with tempfile.TemporaryDirectory(prefix="wsdscan-icc-") as folder:
        # img2pdf reads the output intent's ICC profile from a file.
        icc = Path(folder) / "sRGB.icc"
        icc.write_bytes(_srgb_profile())
        data = img2pdf.convert(encoded, pdfa=str(icc))
    assert isinstance(data, bytes)
    return data

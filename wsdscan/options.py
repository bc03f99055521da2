"""The scan options a user names, in one table: sources, colour modes, wire formats and
paper sizes as the WS-Scan schema spells them, the friendly aliases the command line
and the library accept (case-insensitively), and which wire format to ask for given the
file to write.

Standard library only: the CLI builds its parser from these without loading the
bindings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePath
from types import MappingProxyType
from typing import Final, Literal

from wsdscan.errors import UnsupportedOption

# The schema's values (InputSourceKnownValue, ColorEntryKnownValue, FormatValueKnownValue).
SOURCES: Final = ("Platen", "ADF", "ADFDuplex", "Film")
COLOR_MODES: Final = (
    "BlackAndWhite1",
    "Grayscale4",
    "Grayscale8",
    "Grayscale16",
    "RGB24",
    "RGB48",
    "RGBa32",
    "RGBa64",
)
FORMATS: Final = (
    "dib",
    "exif",
    "jbig",
    "jfif",
    "jpeg2k",
    "pdf-a",
    "png",
    "tiff-single-uncompressed",
    "tiff-single-g4",
    "tiff-single-g3mh",
    "tiff-single-jpeg-tn2",
    "tiff-multi-uncompressed",
    "tiff-multi-g4",
    "tiff-multi-g3mh",
    "tiff-multi-jpeg-tn2",
    "xps",
)

Kind = Literal["source", "color", "format"]

# Friendly names, lower case, beside the schema's own spellings (matched in any case).
ALIASES: Final[Mapping[Kind, Mapping[str, str]]] = MappingProxyType(
    {
        "source": MappingProxyType(
            {
                "flatbed": "Platen",
                "glass": "Platen",
                "feeder": "ADF",
                "duplex": "ADFDuplex",
                "adf-duplex": "ADFDuplex",
            }
        ),
        "color": MappingProxyType(
            {
                "color": "RGB24",
                "colour": "RGB24",
                "rgb": "RGB24",
                "gray": "Grayscale8",
                "grey": "Grayscale8",
                "grayscale": "Grayscale8",
                "greyscale": "Grayscale8",
                "bw": "BlackAndWhite1",
                "lineart": "BlackAndWhite1",
                "blackandwhite": "BlackAndWhite1",
            }
        ),
        "format": MappingProxyType(
            {"jpeg": "jfif", "jpg": "jfif", "bmp": "dib", "pdf": "pdf-a"}
        ),
    }
)
_SCHEMA: Final[Mapping[Kind, tuple[str, ...]]] = MappingProxyType(
    {
        "source": SOURCES,
        "color": COLOR_MODES,
        "format": FORMATS,
    }
)
_WORDS: Final[Mapping[Kind, str]] = MappingProxyType(
    {
        "source": "source",
        "color": "colour mode",
        "format": "format",
    }
)


def names(kind: Kind) -> list[str]:
    """Every accepted spelling of ``kind``: the schema's values, then the aliases."""
    return [*_SCHEMA[kind], *ALIASES[kind]]


def canonical(kind: Kind, text: str) -> str:
    """The schema value ``text`` names, in any case. A format that is no schema value
    is kept as given (vendors add their own); an unknown source or colour mode is an
    :class:`UnsupportedOption` listing the accepted names."""
    key = text.strip().lower()
    for value in _SCHEMA[kind]:
        if value.lower() == key:
            return value
    if key in ALIASES[kind]:
        return ALIASES[kind][key]
    if kind == "format" and key:
        return text.strip()
    raise UnsupportedOption(
        f"unknown {_WORDS[kind]} {text!r} (choose from {', '.join(names(kind))})"
    )


def match_advertised(kind: Kind, value: str, advertised: Iterable[str]) -> str | None:
    """``value`` as the scanner spells it among ``advertised`` (case-insensitive)."""
    for offered in advertised:
        if offered.lower() == value.lower():
            return offered
    return None


# --- paper sizes and the scan region -------------------------------------------------

PAPER_SIZES_MM: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {
        "A3": (297, 420),
        "A4": (210, 297),
        "A5": (148, 210),
        "A6": (105, 148),
        "B4": (250, 353),
        "B5": (176, 250),
        "Letter": (215.9, 279.4),
        "Legal": (215.9, 355.6),
        "Executive": (184.15, 266.7),
        "Tabloid": (279.4, 431.8),
    }
)
"""Portrait width x height in millimetres (B sizes: ISO 216)."""


def paper_size(text: str) -> tuple[float, float]:
    """Width and height in mm of a paper size named in any case."""
    for name, size in PAPER_SIZES_MM.items():
        if name.lower() == text.strip().lower():
            return size
    raise UnsupportedOption(
        f"unknown paper size {text!r} (choose from {', '.join(PAPER_SIZES_MM)})"
    )


def thousandths(mm: float) -> int:
    """Millimetres in the schema's unit, 1/1000 inch."""
    return round(mm * 1000 / 25.4)


def millimetres(thousandths_of_an_inch: int) -> float:
    return round(thousandths_of_an_inch * 25.4 / 1000, 1)


# --- what is written, and the wire format to ask for -------------------------------

Output = Literal["pdf", "tiff", "png", "jpeg", "as-received"]

OUTPUT_SUFFIXES: Final[Mapping[str, Output]] = MappingProxyType(
    {
        ".pdf": "pdf",
        ".tif": "tiff",
        ".tiff": "tiff",
        ".png": "png",
        ".jpg": "jpeg",
        ".jpeg": "jpeg",
    }
)


def output_kind(path: str | PurePath) -> Output:
    """What a file name asks to be written, by its suffix (any case)."""
    return OUTPUT_SUFFIXES.get(PurePath(path).suffix.lower(), "as-received")


_JPEG: Final = ("jfif", "exif")
_LOSSLESS: Final = ("png", "tiff-single-uncompressed", "dib")
_TIFF_JPEG: Final = ("tiff-single-jpeg-tn2",)
_G4: Final = ("tiff-single-g4", "tiff-single-g3mh")

# The wire format to ask for when none is given, best first, by what is written and
# whether the pages are bilevel (BlackAndWhite1); the first the scanner offers wins.
# - PDF: JPEG pages go in as they are (no re-encoding, small); any other page is
#   decoded and stored losslessly. Bilevel pages: G4 (tiny) or lossless, JPEG last.
# - PNG and TIFF: lossless first; JPEG pages are decoded and stored losslessly.
# - JPEG: JPEG pages are written as they are; others are encoded once.
# - As received (a folder, a pattern, another suffix): the scanner's own file, the
#   common formats first. Multi-page formats (tiff-multi-*, pdf-a, xps) are not
#   decoded here, so they are asked for only when named with --format; for a document
#   of their own kind (pdf-a for a PDF, tiff-multi-* for a TIFF) they are saved as
#   they arrive (is_document_format).
# A scanner offering none of the row (pdf-a and xps only) needs --format.
WIRE_FORMATS: Final[Mapping[tuple[Output, bool], tuple[str, ...]]] = MappingProxyType(
    {
        ("pdf", False): (*_JPEG, *_TIFF_JPEG, *_LOSSLESS, *_G4),
        ("pdf", True): (*_G4, *_LOSSLESS, *_JPEG, *_TIFF_JPEG),
        ("png", False): (*_LOSSLESS, *_JPEG, *_TIFF_JPEG, *_G4),
        ("png", True): (*_LOSSLESS, *_G4, *_JPEG, *_TIFF_JPEG),
        ("tiff", False): (*_LOSSLESS, *_JPEG, *_TIFF_JPEG, *_G4),
        ("tiff", True): (*_G4, *_LOSSLESS, *_JPEG, *_TIFF_JPEG),
        ("jpeg", False): (*_JPEG, *_LOSSLESS, *_TIFF_JPEG, *_G4),
        ("jpeg", True): (*_JPEG, *_LOSSLESS, *_G4, *_TIFF_JPEG),
        ("as-received", False): ("png", *_JPEG, *_TIFF_JPEG, *_LOSSLESS[1:], *_G4),
        ("as-received", True): ("png", *_G4, *_LOSSLESS[1:], *_JPEG, *_TIFF_JPEG),
    }
)

DECODABLE: Final = frozenset((*_JPEG, *_LOSSLESS, *_TIFF_JPEG, *_G4))
"""Wire formats whose pages Pillow reads (to convert them or put them in a document)."""

JPEG_FORMATS: Final = frozenset(_JPEG)

EXTENSIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "dib": ".bmp",
        "exif": ".jpg",
        "jfif": ".jpg",
        "jbig": ".jbg",
        "jpeg2k": ".jp2",
        "pdf-a": ".pdf",
        "png": ".png",
        "xps": ".xps",
    }
)


def extension(wire_format: str) -> str:
    """The file extension of a page received in ``wire_format``."""
    if wire_format.startswith("tiff-"):
        return ".tif"
    fallback = "." + "".join(c for c in wire_format.lower() if c.isalnum())[:8]
    return EXTENSIONS.get(wire_format, fallback if fallback != "." else ".img")


def choose_wire_format(
    output: Output, bilevel: bool, advertised: list[str]
) -> str | None:
    """The best wire format for ``output`` the scanner advertises, or None. A scanner
    that lists no formats at all gets png, the schema's usual default."""
    if not advertised:
        return "png"
    for wanted in WIRE_FORMATS[output, bilevel]:
        offered = match_advertised("format", wanted, advertised)
        if offered is not None:
            return offered
    return None


def is_document_format(output: Output, wire_format: str) -> bool:
    """Whether ``wire_format`` already is the document ``output`` asks for: pdf-a is a
    PDF and tiff-multi-* a multi-page TIFF, every image of the job in one file (the
    RetrieveImageResponse page), saved as it arrives."""
    family = wire_format.lower()
    return (output == "pdf" and family == "pdf-a") or (
        output == "tiff" and family.startswith("tiff-multi-")
    )


def needs_decoding(output: Output, wire_format: str) -> bool:
    """Whether pages in ``wire_format`` must be read (by Pillow) to write ``output``."""
    family = wire_format.lower()
    if output == "as-received" or is_document_format(output, wire_format):
        return False
    if output == "jpeg":
        return family not in JPEG_FORMATS
    if output == "png":
        return family != "png"
    return True  # pdf and tiff: every page goes through the document writer

"""wsdscan.options: names in any case and by alias, paper sizes, and which wire format
is asked for given the output and what the scanner offers (the Kyocera's list among
them); wsdscan.ticket: every option checked against the scanner's own lists."""

from __future__ import annotations

import pytest

from wsdscan.errors import UnsupportedOption
from wsdscan.options import (
    canonical,
    choose_wire_format,
    extension,
    needs_decoding,
    output_kind,
    paper_size,
    thousandths,
)

KYOCERA = [
    "exif",
    "pdf-a",
    "tiff-single-g4",
    "tiff-single-jpeg-tn2",
    "tiff-multi-g4",
    "tiff-multi-jpeg-tn2",
    "xps",
    "jfif",
]


@pytest.mark.parametrize(
    "kind, text, value",
    [
        ("source", "flatbed", "Platen"),
        ("source", "PLATEN", "Platen"),
        ("source", "adf", "ADF"),
        ("source", "Duplex", "ADFDuplex"),
        ("source", "adfduplex", "ADFDuplex"),
        ("color", "color", "RGB24"),
        ("color", "Colour", "RGB24"),
        ("color", "grey", "Grayscale8"),
        ("color", "GRAY", "Grayscale8"),
        ("color", "bw", "BlackAndWhite1"),
        ("color", "lineart", "BlackAndWhite1"),
        ("color", "rgb48", "RGB48"),
        ("format", "PNG", "png"),
        ("format", "jpeg", "jfif"),
        ("format", "TIFF-Single-G4", "tiff-single-g4"),
        ("format", "acme-raw", "acme-raw"),  # a vendor's own: kept as given
    ],
)
def test_names_in_any_case_and_by_alias(kind: str, text: str, value: str) -> None:
    assert canonical(kind, text) == value  # type: ignore[arg-type]


@pytest.mark.parametrize("kind, text", [("source", "tray"), ("color", "sepia")])
def test_an_unknown_name_lists_the_accepted_ones(kind: str, text: str) -> None:
    with pytest.raises(
        UnsupportedOption, match=r"choose from .*Platen|choose from .*RGB24"
    ):
        canonical(kind, text)  # type: ignore[arg-type]


def test_paper_sizes_in_mm_and_thousandths_of_an_inch() -> None:
    assert paper_size("a4") == (210, 297)
    assert paper_size(" LETTER ") == (215.9, 279.4)
    assert (thousandths(215.9), thousandths(279.4)) == (8500, 11000)
    with pytest.raises(UnsupportedOption, match="A4, A5"):
        paper_size("A7")


@pytest.mark.parametrize(
    "name, kind",
    [
        ("doc.pdf", "pdf"),
        ("DOC.PDF", "pdf"),
        ("a.tif", "tiff"),
        ("a.tiff", "tiff"),
        ("p.png", "png"),
        ("p.JPG", "jpeg"),
        ("p.jpeg", "jpeg"),
        ("p.bmp", "as-received"),
        ("p", "as-received"),
    ],
)
def test_output_kind_by_suffix(name: str, kind: str) -> None:
    assert output_kind(name) == kind


@pytest.mark.parametrize(
    "output, bilevel, offered, chosen",
    [
        # PDF: JPEG pages go in as they are; bilevel pages small as G4.
        ("pdf", False, ["png", "jfif"], "jfif"),
        ("pdf", False, KYOCERA, "jfif"),
        ("pdf", True, KYOCERA, "tiff-single-g4"),
        ("pdf", True, ["png", "jfif"], "png"),
        # PNG and TIFF: lossless first, else converted from JPEG.
        ("png", False, ["jfif", "png"], "png"),
        ("png", False, KYOCERA, "jfif"),
        ("png", True, KYOCERA, "tiff-single-g4"),
        ("tiff", True, KYOCERA, "tiff-single-g4"),
        ("jpeg", False, ["png", "jfif"], "jfif"),
        ("as-received", False, ["jfif", "png"], "png"),
        ("as-received", False, ["pdf-a", "xps"], None),  # needs --format
        ("pdf", False, [], "png"),  # nothing listed: the schema's usual default
        ("png", False, ["JFIF"], "JFIF"),  # as the scanner spells it
    ],
)
def test_wire_format_for_the_output(
    output: str, bilevel: bool, offered: list[str], chosen: str | None
) -> None:
    assert choose_wire_format(output, bilevel, offered) == chosen  # type: ignore[arg-type]


def test_conversion_only_where_the_output_asks_for_another_type() -> None:
    assert not needs_decoding("png", "png")
    assert not needs_decoding("jpeg", "exif")
    assert needs_decoding("png", "jfif")
    assert not needs_decoding("as-received", "xps")
    assert needs_decoding("pdf", "jfif")  # read for its header, embedded as it is
    assert (extension("jfif"), extension("tiff-single-g4"), extension("dib")) == (
        ".jpg",
        ".tif",
        ".bmp",
    )
    assert extension("acme-raw") == ".acmeraw"

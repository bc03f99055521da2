"""``wsdscan scan URL -o FILE``: one scan job from any WS-Scan scanner."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from wsdscan.cli.argtypes import int_range, named, non_negative_float, paper
from wsdscan.options import PAPER_SIZES_MM, names

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers

DESCRIPTION = """\
Scan from a WS-Scan scanner. The name given to -o says what is written:
  doc.pdf, doc.tif     one document with every page
  page.png, page.jpg   one file per page (page-002.png, ... after the first)
  page%d.png           a pattern ({page} works too); a folder (or a name ending
                       with /) gets page-001.<ext>, ... as the scanner sends them
Without --format the wire format follows the output (JPEG pages go into a PDF as
they are) and the scanner's list; pages are converted only where the name asks for
another type. Options take the schema's names or aliases in any case. The output
location is checked before the scanner is asked for anything; Ctrl-C cancels the
job on the scanner and leaves no partial file."""


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    scan = sub.add_parser(
        "scan",
        help="scan from a WS-Scan scanner",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument("url", help="the scan service URL (wsdscan discover lists them)")
    scan.add_argument(
        "-o", "--output", required=True, help="file, %%d pattern, or folder"
    )
    scan.add_argument(
        "--source",
        type=named("source"),
        help="flatbed, adf, duplex (or Platen, ADF, ADFDuplex); default: the "
        "flatbed if there is one",
    )
    scan.add_argument(
        "--resolution",
        type=int_range(1, 100_000),
        metavar="DPI",
        help="one the scanner lists (default: the nearest to 300)",
    )
    scan.add_argument(
        "--color",
        type=named("color"),
        metavar="MODE",
        help=f"{', '.join(names('color'))} (default: colour, else the best offered)",
    )
    scan.add_argument(
        "--format",
        type=named("format"),
        metavar="FORMAT",
        help="the wire format, any the scanner lists (png, jfif, exif, "
        "tiff-single-g4, pdf-a, ...; jpeg = jfif); default: chosen for the output",
    )
    scan.add_argument(
        "--size",
        type=paper,
        metavar="SIZE",
        help=f"paper size: {', '.join(PAPER_SIZES_MM)} (default: the whole area)",
    )
    region = scan.add_argument_group("scan region in mm, as scanimage takes it")
    for flag, dest, what in (
        ("-l", "left", "left edge"),
        ("-t", "top", "top edge"),
        ("-x", "width", "width (default: to the right end)"),
        ("-y", "height", "height (default: to the bottom)"),
    ):
        region.add_argument(
            flag, dest=dest, type=non_negative_float, metavar="MM", help=what
        )
    scan.add_argument(
        "--pages",
        type=int_range(1, 100_000),
        metavar="N",
        help="from the feeder, at most N images (default: until it is empty)",
    )
    scan.add_argument(
        "-q", "--quiet", action="store_true", help="no progress, no list of files"
    )


async def run(args: argparse.Namespace) -> int:
    from wsdscan.cli.progress import ScanDisplay
    from wsdscan.scanning import ScannerSession

    corners = (args.left, args.top, args.width, args.height)
    region = corners if any(v is not None for v in corners) else None
    display = ScanDisplay(False if args.quiet or args.verbose else None)
    async with ScannerSession(args.url) as session:
        with display:
            paths = await session.scan(
                args.output,
                source=args.source,
                resolution=args.resolution,
                color=args.color,
                format=args.format,
                size=args.size,
                region=region,
                pages=args.pages,
                progress=display if display.enabled else None,
            )
    if not args.quiet:
        for path in paths:
            print(path)
    return 0

"""``wsdscan scan URL -o FILE``: one scan job from any WS-Scan scanner."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from wsdscan.cli.argtypes import int_range
from wsdscan.options import COLOR_MODES, FORMATS, SOURCES

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    scan = sub.add_parser("scan", help="scan from a WS-Scan scanner")
    scan.add_argument("url")
    scan.add_argument(
        "-o", "--output", required=True, help="file, %%d pattern, or folder"
    )
    scan.add_argument("--source", choices=SOURCES, default="Platen")
    scan.add_argument("--resolution", type=int_range(1, 100_000), default=300)
    scan.add_argument("--color", choices=COLOR_MODES, default="RGB24")
    scan.add_argument("--format", choices=FORMATS, default="png")


class _Progress:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, page: int, received: int) -> None:
        if self.enabled:
            print(
                f"\rpage {page}: {received / 1024:10.1f} KiB",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


async def run(args: argparse.Namespace) -> int:
    from wsdscan.scanning import PageNamer, ScannerSession

    namer = PageNamer(
        args.output, extension=".jpg" if args.format == "jfif" else ".png"
    )
    progress = _Progress()
    async with ScannerSession(args.url) as session:
        pages = await session.scan(
            namer,
            source=args.source,
            resolution=args.resolution,
            color=args.color,
            format=args.format,
            progress=progress,
        )
    progress.done()
    for page in pages:
        print(page)
    return 0

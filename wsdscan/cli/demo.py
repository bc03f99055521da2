"""``wsdscan demo``: start a virtual scanner in this process, scan one page, stop."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo", help="start a virtual scanner, scan one page from it, stop"
    )
    demo.add_argument("-o", "--output", default="demo-page.png")


async def run(args: argparse.Namespace) -> int:
    from wsdscan.cli.info import describe
    from wsdscan.cli.serve import SCAN_PATH, virtual_scanner
    from wsdscan.runtime.server import SoapApp, running
    from wsdscan.scanning import PageNamer, ScannerSession

    args.adf_sheets, args.duplex, args.scan_delay = 0, False, 0.0
    async with running(SoapApp(virtual_scanner(args), path=SCAN_PATH)) as server:
        url = server.url(SCAN_PATH)
        print(f"virtual scanner at {url}")
        async with ScannerSession(url) as session:
            info = await session.info()
            print(describe(info))
            pages = await session.scan(
                PageNamer(args.output),
                source="Platen",
                resolution=100,
                color="RGB24",
                format="png",
            )
    for page in pages:
        print(f"scanned {page} ({page.stat().st_size} bytes)")
    return 0

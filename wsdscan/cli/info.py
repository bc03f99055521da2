"""``wsdscan info URL``: what a scanner says about itself."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers
    from wsdscan.scanning import ScannerCapabilities


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    info = sub.add_parser("info", help="describe a WS-Scan scanner")
    info.add_argument("url")


def describe(info: ScannerCapabilities) -> str:
    """A person-readable summary of a scanner's description, configuration and status."""
    lines = [f"Scanner: {info.name}"]
    if info.description is not None:
        for label, values in (
            ("Info", info.description.scanner_info),
            ("Location", info.description.scanner_location),
        ):
            for value in values:
                lines.append(f"{label}: {getattr(value, 'value', value)}")
    if info.formats:
        lines.append(f"Formats: {', '.join(info.formats)}")
    for source in info.sources():
        resolutions, colors, (width, height) = info.source_capabilities(source)
        lines.append(
            f"{source}: {', '.join(map(str, resolutions))} dpi; {', '.join(colors)}; "
            f"up to {width / 1000:.2f} x {height / 1000:.2f} in"
        )
    if info.status is not None:
        state = getattr(info.status.scanner_state, "value", info.status.scanner_state)
        reasons = [
            str(getattr(reason, "value", reason))
            for reason in getattr(
                info.status.scanner_state_reasons, "scanner_state_reason", []
            )
        ]
        lines.append(
            f"State: {state}" + (f" ({', '.join(reasons)})" if reasons else "")
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    from wsdscan.scanning import ScannerSession

    async with ScannerSession(args.url) as session:
        print(describe(await session.info()))
    return 0

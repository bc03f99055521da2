"""``wsdscan press URL``: the virtual scanner's panel (scan button, paper jam)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "press", help="press the virtual scanner's scan button for a destination"
    )
    parser.add_argument("url", help="scan service URL of `wsdscan serve`")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--destination", help="a name a `wsdscan receive` registered")
    group.add_argument("--jam", action="store_true", help="simulate a paper jam")
    group.add_argument("--clear-jam", action="store_true", help="clear the jam")


async def run(args: argparse.Namespace) -> int:
    from wsdscan.press import press

    jammed = True if args.jam else False if args.clear_jam else None
    identifier = await press(args.url, args.destination, jammed=jammed)
    if args.destination is not None:
        print(f"ScanAvailableEvent sent to {args.destination!r} ({identifier})")
    else:
        print("jam set" if jammed else "jam cleared")
    return 0

"""``wsdscan press URL``: the virtual scanner's panel (scan button, paper jam, feeder)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Final

from wsdscan.cli.argtypes import int_range

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers

MAX_ADF_SHEETS: Final = 1023
"""The most sheets the feeder takes: each page carries its sheet number in 10 bits
(``wsdscan.virtual.images.MAX_MARKED_SHEET``, not imported here: ``--help`` stays
fast)."""


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "press",
        help="the virtual scanner's panel: scan button, paper jam, feeder",
    )
    parser.add_argument("url", help="scan service URL of `wsdscan serve`")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--destination", help="a name a `wsdscan receive` registered")
    group.add_argument("--jam", action="store_true", help="simulate a paper jam")
    group.add_argument("--clear-jam", action="store_true", help="clear the jam")
    group.add_argument(
        "--load-adf",
        type=int_range(0, MAX_ADF_SHEETS),
        metavar="N",
        help=f"refill the feeder with N sheets (0-{MAX_ADF_SHEETS})",
    )
    parser.add_argument(
        "--duplex",
        action="store_true",
        help="with --load-adf: the sheets have two sides (turns the duplex unit on)",
    )


async def run(args: argparse.Namespace) -> int:
    import sys

    from wsdscan.press import press

    # Namespaces built by hand (tests, scripts) may lack the newer options.
    load_adf, duplex = getattr(args, "load_adf", None), getattr(args, "duplex", False)
    if duplex and load_adf is None:
        print("wsdscan press: --duplex goes with --load-adf", file=sys.stderr)
        return 2
    if load_adf is not None:
        sheets = await press(
            args.url, load_adf=load_adf, duplex=True if duplex else None
        )
        print(f"feeder loaded: {sheets} sheets" + (" (duplex)" if duplex else ""))
        return 0
    jammed = True if args.jam else False if args.clear_jam else None
    identifier = await press(args.url, args.destination, jammed=jammed)
    if args.destination is not None:
        print(f"ScanAvailableEvent sent to {args.destination!r} ({identifier})")
    else:
        print("jam set" if jammed else "jam cleared")
    return 0

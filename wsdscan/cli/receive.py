"""``wsdscan receive URL --name NAME --dir DIR``: scan to PC."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from wsdscan.cli.argtypes import int_range, positive_float
from wsdscan.options import COLOR_MODES, FORMATS, SOURCES
from wsdscan.runtime.defaults import SUBSCRIPTION_EXPIRES

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "receive", help="scan-to-PC: register a destination and save what is scanned"
    )
    parser.add_argument("url", help="the scanner's scan service URL")
    parser.add_argument("--name", required=True, help="name shown on the scanner")
    parser.add_argument("--dir", required=True, type=Path, help="folder for pages")
    parser.add_argument(
        "--source", choices=("auto", *SOURCES), default="auto", help="default: auto"
    )
    parser.add_argument("--resolution", type=int_range(1, 100_000), default=300)
    parser.add_argument("--color", choices=COLOR_MODES, default="RGB24")
    parser.add_argument("--format", choices=FORMATS, default="png")
    parser.add_argument(
        "--expires",
        type=positive_float,
        default=SUBSCRIPTION_EXPIRES,
        help="subscription lifetime to ask for, seconds (renewed before it runs out)",
    )
    parser.add_argument(
        "--listen",
        default=None,
        help="address for the event sink (default: the one that routes to URL)",
    )


async def run(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import logging
    import signal

    from wsdscan.receive import ReceiveOptions, ScanToPC

    logging.basicConfig(level=logging.WARNING, format="wsdscan: %(message)s")
    receiver = ScanToPC(
        args.url,
        args.name,
        args.dir,
        options=ReceiveOptions(args.source, args.resolution, args.color, args.format),
        expires=args.expires,
        listen=args.listen,
        report=lambda line: print(line, flush=True),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await receiver.run(stop)
    return 0

"""``wsdscan discover``: find WSD scanners by WS-Discovery and read their metadata."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from wsdscan.cli.argtypes import host_port, positive_float
from wsdscan.runtime.defaults import DISCOVERY_TIMEOUT

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    discover = sub.add_parser(
        "discover", help="find WSD scanners on the local network (WS-Discovery)"
    )
    discover.add_argument(
        "--timeout",
        type=positive_float,
        default=DISCOVERY_TIMEOUT,
        help=f"seconds to wait for answers (default {DISCOVERY_TIMEOUT:g})",
    )
    discover.add_argument(
        "--interface",
        action="append",
        metavar="IPV4",
        help="probe out of the interface with this address (repeatable; default: "
        "every multicast-capable interface)",
    )
    discover.add_argument(
        "--address",
        action="append",
        type=host_port,
        metavar="HOST[:PORT]",
        help="also send a directed Probe to HOST (repeatable; UDP 3702, or PORT); "
        "without a UDP answer, also over HTTP to HOST's stable discovery path "
        "(port 80, or PORT)",
    )


async def run(args: argparse.Namespace) -> int:
    import sys

    from wsdscan.discover import discover_scanners, format_scanner
    from wsdscan.runtime.discovery import DISCOVERY_PORT

    scanners = await discover_scanners(
        timeout=args.timeout,
        interfaces=args.interface,
        targets=[(host, port or DISCOVERY_PORT) for host, port in args.address or ()],
    )
    for scanner in scanners:
        print(format_scanner(scanner))
    if not scanners:
        print("wsdscan: no scanners found", file=sys.stderr)
        return 1
    return 0

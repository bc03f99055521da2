"""``wsdscan``: run a virtual scanner, scan from any WS-Scan scanner, show what it is.

Each command is a module of this package with ``add_parser(sub)`` and ``run(args)``.
Only argparse and the light modules load before a command runs, so ``--help`` and a
mistyped option answer at once; a command imports what it needs inside ``run``.

Exit codes: 0 done, 1 the device or the network failed, 2 a usage error (argparse),
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Protocol, cast

from wsdscan import __version__

COMMANDS = ("serve", "scan", "info", "demo", "press", "receive", "discover")
SubParsers = argparse._SubParsersAction  # argparse has no public name for it


class Command(Protocol):
    """A command module."""

    def add_parser(self, sub: SubParsers[argparse.ArgumentParser]) -> None: ...

    async def run(self, args: argparse.Namespace) -> int: ...


def _command(name: str) -> Command:
    return cast(Command, importlib.import_module(f"wsdscan.cli.{name}"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsdscan", description="WS-Scan (WSD scanning) tools"
    )
    parser.add_argument("--version", action="version", version=f"wsdscan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        _command(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = _command(args.command)
    import asyncio

    from wsdscan.cli.errors import report

    try:
        return asyncio.run(command.run(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - said in words below, or re-raised
        return report(exc)


if __name__ == "__main__":
    sys.exit(main())

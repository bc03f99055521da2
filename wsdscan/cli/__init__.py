"""``wsdscan``: run a virtual scanner, scan from any WS-Scan scanner, show what it is.

Each command is a module of this package with ``add_parser(sub)`` and ``run(args)``.
Only argparse and the light modules load before a command runs, so ``--help`` and a
mistyped option answer at once; a command imports what it needs inside ``run``.

Every failure is one line on stderr, ``wsdscan: error: ...``; see EXIT_CODES.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn, Protocol, cast

from wsdscan import __version__

COMMANDS = ("serve", "scan", "info", "demo", "press", "receive", "discover")
SubParsers = argparse._SubParsersAction  # argparse has no public name for it

EXIT_CODES = """exit codes:
  0    done
  1    the scanner or the network failed (refused job, empty feeder, no answer)
  2    usage: a bad option, a value the scanner does not offer, an output that
       cannot be written
  130  interrupted (Ctrl-C; a running scan job is cancelled on the scanner)"""

VERBOSE_HELP = (
    "-v: each SOAP exchange (operation, HTTP status, time) on stderr; -vv: also "
    "every envelope, token values masked; before or after the command"
)


class Parser(argparse.ArgumentParser):
    """Usage errors as one line, ``wsdscan: error: ...`` and where to read more,
    exit 2 (argparse prints the whole usage first)."""

    def error(self, message: str, prog: str | None = None) -> NoReturn:
        self.exit(2, f"wsdscan: error: {message} (see {prog or self.prog} --help)\n")

    def parse_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: None = None
    ) -> argparse.Namespace:
        """As argparse's, but an unknown option points at its command's help."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            self.error(
                f"unrecognized arguments: {' '.join(extras)}",
                f"{self.prog} {command}" if command else None,
            )
        return parsed


class Command(Protocol):
    """A command module."""

    def add_parser(self, sub: SubParsers[argparse.ArgumentParser]) -> None: ...

    async def run(self, args: argparse.Namespace) -> int: ...


def _command(name: str) -> Command:
    return cast(Command, importlib.import_module(f"wsdscan.cli.{name}"))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="wsdscan",
        description="WS-Scan (WSD scanning) tools",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wsdscan {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help=VERBOSE_HELP)
    sub = cast(
        "SubParsers[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True, parser_class=Parser),
    )
    for name in COMMANDS:
        _command(name).add_parser(sub)
    for command in sub.choices.values():
        # Also after the command: counted apart, added up in main().
        command.add_argument(
            "-v",
            "--verbose",
            dest="verbose_after",
            action="count",
            default=0,
            help=VERBOSE_HELP,
        )
        if not command.epilog:
            command.epilog = EXIT_CODES
            command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _log_wire(verbosity: int) -> None:
    """-v: the wire log's INFO lines on stderr; -vv: its DEBUG ones too."""
    if not verbosity:
        return
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("wsdscan: %(message)s"))
    wire = logging.getLogger("wsdscan.wire")
    wire.addHandler(handler)
    wire.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    wire.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.verbose += args.verbose_after
    command = _command(args.command)
    _log_wire(args.verbose)
    import asyncio

    try:
        return asyncio.run(command.run(args))
    except KeyboardInterrupt:
        # asyncio.run cancelled the command first: a scan cancelled its job.
        print("wsdscan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (wsdscan info --json | head): no
        # message, and none from the interpreter flushing stdout at exit either.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - said in words below, or re-raised
        from wsdscan.cli.errors import report

        return report(exc, getattr(args, "url", None))


if __name__ == "__main__":
    sys.exit(main())

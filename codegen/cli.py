"""``wsdscan-codegen``: regenerate the bindings, or check that they are up to date."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .errors import CodegenError
from .pipeline import DEFAULT_OUT, DEFAULT_SCHEMA, check, generate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsdscan-codegen",
        description="Generate the wsdscan bindings (generated/) from the schema (schema/).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("generate", "write the bindings; unchanged files are not rewritten"),
        ("check", "exit 1 and list the files that differ from a fresh run"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument(
            "--schema", type=Path, default=DEFAULT_SCHEMA, help="schema directory"
        )
        cmd.add_argument(
            "--out", type=Path, default=DEFAULT_OUT, help="output directory"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        if args.command == "generate":
            diff = generate(args.schema, args.out)
            for line in diff.lines():
                print(line)
            changed = len(diff.lines())
            print(
                f"wsdscan-codegen: {changed} file(s) updated in {args.out} "
                f"({time.perf_counter() - started:.1f} s)"
            )
            return 0
        diff = check(args.schema, args.out)
    except CodegenError as exc:
        print(f"wsdscan-codegen: error: {exc}", file=sys.stderr)
        return 2
    if diff.clean:
        print(f"wsdscan-codegen: {args.out} is up to date")
        return 0
    print(
        f"wsdscan-codegen: {args.out} differs from the schema; run `wsdscan-codegen generate`"
    )
    for line in diff.lines():
        print(f"  {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

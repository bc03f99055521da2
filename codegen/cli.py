"""``wsdscan-codegen``: regenerate the bindings, check that they are up to date, or
export the shipped schema for a project to extend.

Only the standard library is imported up front: the pipeline needs the ``[codegen]``
extra (jinja2, black, xsdata[cli], ruff), and without it ``--help``, ``--version`` and
``export-schema`` still work while ``generate``/``check`` say what to install.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
import time
from pathlib import Path
from types import MappingProxyType

from .errors import CodegenError
from .locations import installed_generated, shipped_schema, source_checkout

# Import name -> distribution, for the modules of the [codegen] extra the stages import.
_EXTRA_MODULES = MappingProxyType(
    {
        "jinja2": "jinja2",
        "black": "black",
        "click": "xsdata[cli]",
        "toposort": "xsdata[cli]",
        "ruff": "ruff",
    }
)
EXIT_OK, EXIT_DIFFERS, EXIT_ERROR = 0, 1, 2


def version() -> str:
    """The installed distribution's version, else the package's own."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version

    try:
        return distribution_version("wsdscan")
    except PackageNotFoundError:
        import wsdscan

        return str(wsdscan.__version__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsdscan-codegen",
        description=(
            "Generate Python bindings (dataclasses, client and server stubs) from the "
            "WS-Scan schema (XSD + WSDL), check them, or export the schema to extend."
        ),
        epilog="exit status: 0 ok, 1 check found differences, 2 error",
    )
    parser.add_argument(
        "--version", action="version", version=f"wsdscan-codegen {version()}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in (
        ("generate", "write the bindings; unchanged files are not rewritten"),
        ("check", "exit 1 and list the files that differ from a fresh run"),
    ):
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "--schema",
            type=Path,
            help="schema directory (default: the schema wsdscan ships)",
        )
        cmd.add_argument(
            "--out",
            type=Path,
            help=(
                "package directory of the bindings (default: generated/ of a wsdscan "
                "checkout; required elsewhere for generate, while check then reads the "
                "installed wsdscan.generated)"
            ),
        )
    export = sub.add_parser(
        "export-schema",
        help="copy the shipped schema into DIR, to keep and extend",
        description="copy the shipped schema (XSD, WSDL, codegen.toml, notes) into DIR",
    )
    export.add_argument("dir", type=Path, metavar="DIR")
    export.add_argument(
        "--force", action="store_true", help="overwrite files in a non-empty DIR"
    )
    return parser


def _missing_extra() -> list[str]:
    """The [codegen] extra's modules that cannot be imported, by distribution name."""
    missing = set()
    for module, distribution in _EXTRA_MODULES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.add(distribution)
    return sorted(missing)


def _extra_error(missing: list[str]) -> CodegenError:
    return CodegenError(
        f"the generator needs its extra (missing: {', '.join(missing)}): "
        "pip install 'wsdscan[codegen]'"
    )


def _rerun_hint(args: argparse.Namespace) -> str:
    words = ["wsdscan-codegen", "generate"]
    if args.schema is not None:
        words += ["--schema", str(args.schema)]
    if args.given_out:
        words += ["--out", str(args.out)]
    return shlex.join(words)


def _run(args: argparse.Namespace) -> int:
    if args.command == "export-schema":
        from .export import export_schema

        files = export_schema(shipped_schema(), args.dir, force=args.force)
        print(f"wsdscan-codegen: {len(files)} schema file(s) written to {args.dir}")
        return EXIT_OK

    args.given_out = args.out is not None
    if args.out is None:
        checkout = source_checkout()
        if checkout is not None:
            args.out = checkout / "generated"
        elif args.command == "generate":
            raise CodegenError("--out is required outside a wsdscan source checkout")
        else:
            args.out = installed_generated()  # read only: check never writes
    missing = _missing_extra()
    if missing:
        raise _extra_error(missing)
    try:
        from . import pipeline
    except ModuleNotFoundError as exc:
        raise _extra_error([exc.name or str(exc)]) from exc
    schema = args.schema if args.schema is not None else pipeline.DEFAULT_SCHEMA

    started = time.perf_counter()
    if args.command == "generate":
        diff = pipeline.generate(schema, args.out)
        for line in diff.lines():
            print(line)
        print(
            f"wsdscan-codegen: {len(diff.lines())} file(s) updated in {args.out} "
            f"({time.perf_counter() - started:.1f} s)"
        )
        return EXIT_OK
    diff = pipeline.check(schema, args.out)
    if diff.clean:
        print(f"wsdscan-codegen: {args.out} is up to date")
        return EXIT_OK
    if args.given_out or source_checkout() is not None:
        advice = f"run `{_rerun_hint(args)}`"
    else:  # the installed wsdscan.generated: nothing to regenerate in place
        advice = "pass --out to check your own bindings, or reinstall wsdscan"
    print(f"wsdscan-codegen: {args.out} differs from the schema; {advice}")
    for line in diff.lines():
        print(f"  {line}")
    return EXIT_DIFFERS


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (CodegenError, OSError) as exc:
        # One line on stderr, whatever the message held (lxml's can span lines).
        print(f"wsdscan-codegen: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

"""The command line's own contract: a bad option value is one line and exit 2 for
every command (``serve``'s range types included), ``-v`` goes before or after the
command, the exit codes are in ``--help``, and ``wsdscan --help`` loads none of the
heavy modules."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_support import one_error_line

from wsdscan.cli import EXIT_CODES, build_parser


def _wsdscan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wsdscan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "args, words",
    [
        (["--adf-sheets", "-1"], "argument --adf-sheets: must be >= 0, not -1"),
        (["--port", "99999"], "argument --port: must be between 0 and 65535"),
        (["--max-active-jobs", "0"], "argument --max-active-jobs: must be between 1"),
        (["--scan-delay", "-1"], "argument --scan-delay: must be 0 or more, not -1"),
        (["--history-size", "-3"], "argument --history-size: must be between 0"),
        (["--image-cache", "-1"], "argument --image-cache: must be between 0"),
        (["--log-level", "verbose"], "argument --log-level: invalid choice: 'verbose'"),
        (["--port", "many"], "argument --port: not a whole number: many"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_every_bad_serve_value_is_one_line_and_exit_2(
    args: list[str], words: str
) -> None:
    done = _wsdscan("serve", *args)
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert words in line
    assert line.endswith("(see wsdscan serve --help)")
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args, words",
    [
        ([], "the following arguments are required: command"),
        (["scan"], "the following arguments are required: url, -o/--output"),
        (["scan", "http://x/", "-o", "a", "--source", "tray"], "unknown source 'tray'"),
        (["scan", "http://x/", "-o", "a", "--size", "B9"], "unknown paper size 'B9'"),
        (
            ["scan", "http://x/", "-o", "a", "-l", "-3"],
            "argument -l: must be 0 or more",
        ),
        (["scan", "http://x/", "-o", "a", "--pages", "0"], "argument --pages"),
        (["info"], "the following arguments are required: url"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_of_every_command_are_one_line(
    args: list[str], words: str
) -> None:
    done = _wsdscan(*args)
    assert done.returncode == 2
    assert words in one_error_line(done.stderr)


def test_verbose_goes_before_or_after_the_command_and_adds_up() -> None:
    parser = build_parser()
    for argv, expected in (
        (["-v", "info", "u"], 1),
        (["info", "u", "-v"], 1),
        (["-v", "info", "u", "-vv"], 3),
        (["info", "u"], 0),
    ):
        args = parser.parse_args(argv)
        assert args.verbose + args.verbose_after == expected, argv


def test_help_documents_exit_codes_and_verbosity() -> None:
    done = _wsdscan("--help")
    assert done.returncode == 0
    assert EXIT_CODES in done.stdout and "-v, --verbose" in done.stdout
    scan_help = _wsdscan("scan", "--help").stdout
    for text in ("130  interrupted", "--size SIZE", "-l MM", "--quiet", "doc.pdf"):
        assert text in scan_help


def test_help_imports_no_heavy_module() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wsdscan", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    heavy = {"lxml", "httpx", "xsdata", "wsdscan.generated", "PIL", "rich", "asyncio"}
    assert not {name.split(".")[0] for name in imported} & (heavy - {"wsdscan"})
    assert not any(name.startswith("wsdscan.generated") for name in imported)
    assert "wsdscan.cli" in imported  # the listing is real


def test_import_wsdscan_stays_light_and_names_load_on_use() -> None:
    code = (
        "import sys, wsdscan\n"
        "assert 'wsdscan.generated' not in sys.modules, 'generated'\n"
        "assert 'httpx' not in sys.modules, 'httpx'\n"
        "from wsdscan import Scanner, ScanError, WsdScanError, scan\n"
        "assert issubclass(ScanError, WsdScanError) and callable(scan)\n"
        "assert Scanner.__module__ == 'wsdscan.sync'\n"
        "from wsdscan.runtime.soap import SoapFault\n"
        "assert issubclass(SoapFault, WsdScanError)\n"
        "try:\n    wsdscan.nothing\nexcept AttributeError:\n    pass\n"
        "else:\n    raise SystemExit('no AttributeError')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr

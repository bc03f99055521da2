"""benchmarks/mtom.py's harness: a Python client starts its clock on a go, which
the driver gives only after the client said ``ready`` and the last case's file was
deleted; and the whole benchmark runs end to end (every Python client's file equals
the payload byte for byte and curl's has the body's size, or the harness exits
without its summary line), its summary line carrying the four figures. Speed is not
judged here: at 1 MiB the ratios measure start-up, not transfer."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from interop_support import require_tool

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "mtom.py"

# A stand-in client: says ready and waits for the go, as the benchmark's clients do,
# and tells whether the file the driver is to delete was there before and after.
CHILD = """
import sys
from pathlib import Path
before = Path(sys.argv[1]).exists()
print("ready", flush=True)
assert sys.stdin.readline() == "go\\n"
print(before, Path(sys.argv[1]).exists())
"""


def test_the_last_file_is_deleted_after_ready_and_before_go(tmp_path: Path) -> None:
    run = runpy.run_path(str(BENCHMARK), run_name="benchmark")["_run"]
    previous = tmp_path / "out.bin"
    previous.write_bytes(b"x" * 4096)
    calls = []

    def free_previous() -> None:
        calls.append(previous.exists())
        previous.unlink()

    text, peak = run(
        [sys.executable, "-c", CHILD, str(previous)], free_previous, handshake=True
    )
    assert calls == [True]
    # There while the client started, gone at its go; the ready line is not output.
    assert text == "True False\n"
    assert peak > 0


def test_a_client_that_never_says_ready_is_reported() -> None:
    run = runpy.run_path(str(BENCHMARK), run_name="benchmark")["_run"]
    calls = []
    with pytest.raises(SystemExit, match="no ready line"):
        run(
            [sys.executable, "-c", "print('hello')"],
            lambda: calls.append(1),
            handshake=True,
        )
    assert calls == []  # nothing deleted for a client that did not start


def test_the_mtom_benchmark_runs_every_case_and_checks_every_file(
    tmp_path: Path,
) -> None:
    require_tool("curl")
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK),
            "--size-mib",
            "1",
            "--repeat",
            "2",
            "--buffered-repeat",
            "1",
            "--dir",
            str(tmp_path),
            "--payload-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 0 or 1 (targets met or not); anything else, or no summary line, is a failure.
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.strip(), done.stderr
    rounds = [line for line in done.stderr.splitlines() if "round" in line]
    for case in ("1 ", "2 ", "3 ", "4a ", "4b ", "5 "):
        runs = [line for line in rounds if re.search(rf"round \d+ {case}", line)]
        assert len(runs) == (1 if case == "5 " else 2), (case, done.stderr)
    summary = re.fullmatch(
        r"mtom: client_ratio=(\S+) server_ratio=(\S+) client_peak_mib=(\S+)"
        r" buffered_speedup=(\S+)",
        done.stdout.splitlines()[-1],
    )
    assert summary is not None, done.stdout
    assert all(float(value) > 0 for value in summary.groups())
    # Nothing is left behind: payload, received file and their folders are gone.
    assert not any(tmp_path.iterdir())

"""benchmarks/mtom.py runs end to end: every case's client starts on its go (the
driver deletes the last case's file in between), every received file equals the
payload byte for byte (the harness exits without its summary line otherwise), and
the summary line carries the four figures. Speed is not judged here: at 1 MiB the
ratios measure start-up, not transfer."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from interop_support import require_tool

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "mtom.py"


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
    # Every received file was deleted (the last at the end, with its folder).
    assert not any(tmp_path.iterdir())

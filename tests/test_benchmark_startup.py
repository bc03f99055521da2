"""benchmarks/startup.py and benchmarks/pdf_memory.py run end to end, briefly, so
they cannot rot: every run's output is checked by the harness itself (a PNG of the
page for both clients, a PDF of the pages), and the summary line carries every
figure. Timing and memory targets are not judged here (one pair measures nothing)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from interop_support import require_tool

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def _run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_startup_benchmark_times_both_clients() -> None:
    require_tool("scanimage")
    done = _run("startup.py", "--pairs", "2", "--help-runs", "2", "--resolution", "75")
    # 0 or 1 (targets met or not); anything else, or no summary line, is a failure.
    assert done.returncode in (0, 1), done.stderr
    assert (
        len(re.findall(r"round \d+: wsdscan \S+ s, scanimage \S+ s", done.stderr)) == 2
    )
    summary = re.fullmatch(
        r"startup: help_s=(\S+) wsdscan_s=(\S+) scanimage_s=(\S+) ratio=(\S+)"
        r" targets_met=(True|False)",
        done.stdout.strip().splitlines()[-1],
    )
    assert summary is not None, done.stdout
    assert all(float(value) > 0 for value in summary.groups()[:4])


def test_the_pdf_memory_benchmark_checks_its_pdfs() -> None:
    done = _run(
        "pdf_memory.py", "--pages", "3", "--baseline-pages", "1", "--resolution", "75"
    )
    assert done.returncode in (0, 1), done.stderr
    summary = re.fullmatch(
        r"pdf_memory: pages=3 peak_mib=(\S+) baseline_peak_mib=(\S+) growth_mib=\S+"
        r" pdf_mib=(\S+) targets_met=(True|False)",
        done.stdout.strip().splitlines()[-1],
    )
    assert summary is not None, done.stdout
    assert all(float(value) > 0 for value in summary.groups()[:3])

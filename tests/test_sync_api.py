"""The blocking API (``wsdscan.Scanner``, ``wsdscan.scan``) against ``wsdscan serve``,
the async session's options and progress, and Ctrl-C in a blocking program: the job
is cancelled on the device before the KeyboardInterrupt goes on. Also the wire log
(``wsdscan.wire``): one line per exchange, envelopes with their tokens masked."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest
from cli_support import jobs, virtual_scanner
from interop_support import ServedScanner
from PIL import Image

import wsdscan
from wsdscan.scanning import ScannerSession, ScanProgress
from wsdscan.virtual import VirtualScannerConfig


def test_the_one_liner_and_the_scanner_class(tmp_path: Path) -> None:
    with ServedScanner(["--adf-sheets", "3"]) as served:
        written = wsdscan.scan(
            served.url, tmp_path / "doc.pdf", source="adf", resolution=100
        )
        assert written == [tmp_path / "doc.pdf"]
        with pikepdf.open(written[0]) as pdf:
            assert len(pdf.pages) == 3
        with wsdscan.Scanner(served.url) as scanner:
            info = scanner.info()
            assert info.name == "wsdscan Virtual Scanner" and "ADF" in info.sources()
            pages = scanner.scan(tmp_path / "p.png", color="Grey", resolution=75)
            assert scanner.active_jobs() == []
            with pytest.raises(wsdscan.UnsupportedOption, match="choose from 75"):
                scanner.scan(tmp_path / "q.png", resolution=123)
            with pytest.raises(wsdscan.DeviceError, match="feeder is empty"):
                scanner.scan(tmp_path / "r.pdf", source="ADF")
    with Image.open(pages[0]) as image:
        assert image.mode == "L"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.pdf", "p.png"]


PROGRAM = """
import sys
import wsdscan
try:
    wsdscan.scan(sys.argv[1], sys.argv[2])
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def test_ctrl_c_in_a_blocking_program_cancels_the_job(tmp_path: Path) -> None:
    with ServedScanner(["--scan-delay", "2"]) as served:
        program = subprocess.Popen(
            [sys.executable, "-c", PROGRAM, served.url, str(tmp_path / "x.pdf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not asyncio.run(jobs(served.url))[0]:
            assert time.monotonic() < deadline and program.poll() is None
            time.sleep(0.05)
        created = time.monotonic()
        time.sleep(0.3)
        program.send_signal(signal.SIGINT)
        out, err = program.communicate(timeout=30)
        active, history = asyncio.run(jobs(served.url))
        # The server "scans" the cancelled page to the end; let it, before it stops.
        time.sleep(max(0.0, created + 2.5 - time.monotonic()))
    assert program.returncode == 130, err
    assert out.strip() == "interrupted"
    assert active == []
    assert [str(getattr(j.job_state, "value", j.job_state)) for j in history] == [
        "Canceled"
    ]
    assert not any(tmp_path.iterdir())


async def test_session_progress_waits_then_counts_bytes(tmp_path: Path) -> None:
    events: list[ScanProgress] = []
    async with virtual_scanner(VirtualScannerConfig(adf_sheets=2)) as (url, _):
        async with ScannerSession(url) as session:
            written = await session.scan(
                tmp_path / "page%d.jpg",
                source="feeder",
                color="bw",
                resolution=75,
                progress=events.append,
            )
    assert [p.name for p in written] == ["page1.jpg", "page2.jpg"]
    for page in (1, 2):
        mine = [e for e in events if e.page == page]
        assert mine[0].waiting and mine[0].pages is None
        assert mine[-1].done and mine[-1].received == mine[-1].size > 0
        assert all(e.size is None or e.size >= e.received for e in mine)
    assert events[-1].page == 3 and events[-1].waiting  # asked, the feeder was empty

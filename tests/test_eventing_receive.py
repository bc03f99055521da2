"""`wsdscan receive` + `wsdscan press` against `wsdscan serve`, as separate processes
on 127.0.0.1: pages land in the folder with the expected content; a scanner restart
(SubscriptionEnd on shutdown, then a new process on the same port) is survived."""

from __future__ import annotations

import hashlib
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from interop_support import REPO_ROOT, ServedScanner
from PIL import Image

from wsdscan.virtual import read_marker


def _sheet(path: Path) -> int:
    with Image.open(path) as image:
        assert image.mode == "L" and image.width == 637  # 8.5 in at 75 dpi
        marker = read_marker(image)
    assert marker is not None and marker.side == "front"
    return marker.sheet


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Receiver:
    """`python -m wsdscan receive ...` with its stdout lines readable as they come."""

    def __init__(self, url: str, directory: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wsdscan",
                "receive",
                url,
                "--name",
                "Test PC",
                "--dir",
                str(directory),
                "--resolution",
                "75",
                "--color",
                "Grayscale8",
            ],
            cwd=REPO_ROOT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if text in line:
                return line
        pytest.fail(f"receiver never printed {text!r}:\n{''.join(self.lines)}")

    def stop(self) -> None:
        self.proc.send_signal(2)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _press(url: str, name: str = "Test PC") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wsdscan", "press", url, "--destination", name],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_receive_press_restart(tmp_path: Path) -> None:
    port = _free_port()
    out = tmp_path / "scans"
    with ServedScanner(["--port", str(port), "--adf-sheets", "3"]) as first:
        receiver = Receiver(first.url, out)
        try:
            receiver.wait_for("registered 'Test PC'")
            wrong = _press(first.url, "Someone Else")
            assert wrong.returncode == 1 and "Test PC" in wrong.stderr
            assert _press(first.url).returncode == 0
            receiver.wait_for("done, 3 page(s)")
            pages = sorted(out.iterdir())
            assert [p.name.split("-", 2)[2] for p in pages] == [
                "job000001-p001.png",
                "job000001-p002.png",
                "job000001-p003.png",
            ]
            assert [_sheet(p) for p in pages] == [1, 2, 3]
            assert not list(out.glob(".*"))  # no temporary files left
            assert len({_digest(p) for p in pages}) == 3
        except BaseException:
            receiver.stop()
            raise
        # Leaving the block shuts the scanner down: SubscriptionEnd reaches receive.
    try:
        receiver.wait_for("subscription lost (SubscriptionEnd (SourceShuttingDown")
        with ServedScanner(["--port", str(port), "--adf-sheets", "1"]) as second:
            receiver.wait_for("subscribed again")
            assert _press(second.url).returncode == 0
            receiver.wait_for("done, 1 page(s)")
        new = sorted(out.iterdir())[3:]
        assert len(new) == 1 and _sheet(new[0]) == 1
        # Pages are deterministic: the restarted scanner's sheet 1 is byte-identical.
        assert _digest(new[0]) == _digest(pages[0])
    finally:
        receiver.stop()
    assert "unsubscribed" in "".join(receiver.lines)
    assert "Traceback" not in "".join(receiver.lines)

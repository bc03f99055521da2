"""Helpers for the interop tests: real, independent clients (sane-airscan's ``scanimage``,
zeep) against the project's own server started as ``python -m wsdscan serve``.

The recipe for driving ``scanimage`` without touching /etc is in the project's shared
notes (``shared/notes/interop.md`` beside the checkout): a private SANE_CONFIG_DIR with
a ``dll.conf`` that lists only ``airscan`` and an ``airscan.conf`` with one
``[devices]`` line and ``discovery = disable``; device name taken from
``scanimage -L``.

Environment:

* ``WSDSCAN_REQUIRE_INTEROP=1``: a missing client program fails the test instead of
  skipping it (for CI machines that are supposed to have them).
* ``WSDSCAN_SERVE_CMD``: optional command prefix replacing ``<python> -m wsdscan serve``
  (split with :func:`shlex.split`), to point the same tests at another server whose CLI
  follows the same contract (first stdout line = service URL).
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEVICE_LABEL = "wsdscan interop"
#: Seconds to wait for the first stdout line (the URL) of the server.
START_TIMEOUT = 20.0
#: Seconds a server gets to exit after SIGINT before it is killed (and the test fails).
STOP_TIMEOUT = 10.0


def interop_required() -> bool:
    return os.environ.get("WSDSCAN_REQUIRE_INTEROP", "") == "1"


def require_tool(name: str) -> str:
    """Path of program ``name``; skip (or, with WSDSCAN_REQUIRE_INTEROP=1, fail) if missing."""
    path = shutil.which(name)
    if path is None:
        reason = f"interop client program {name!r} is not installed (not on PATH)"
        if interop_required():
            pytest.fail(reason + " and WSDSCAN_REQUIRE_INTEROP=1", pytrace=False)
        pytest.skip(reason)
    return path


def require_module(name: str) -> object:
    """Import ``name``; skip (or fail with WSDSCAN_REQUIRE_INTEROP=1) if it is missing."""
    try:
        return __import__(name)
    except ImportError as exc:
        reason = f"interop client module {name!r} is not importable ({exc})"
        if interop_required():
            pytest.fail(reason + " and WSDSCAN_REQUIRE_INTEROP=1", pytrace=False)
        pytest.skip(reason)


def serve_base() -> list[str]:
    """``<python> -m wsdscan serve`` (or the WSDSCAN_SERVE_CMD override)."""
    override = os.environ.get("WSDSCAN_SERVE_CMD")
    return (
        shlex.split(override)
        if override
        else [sys.executable, "-m", "wsdscan", "serve"]
    )


def serve_command(extra_args: Sequence[str] = ()) -> list[str]:
    return [*serve_base(), "--host", "127.0.0.1", "--port", "0", *extra_args]


class ServedScanner:
    """``with ServedScanner(["--adf-sheets", "5"]) as srv: srv.url`` -- runs
    ``python -m wsdscan serve --port 0 ...`` for the duration of the block.

    On exit the server gets SIGINT (uvicorn's graceful shutdown), then SIGKILL after
    :data:`STOP_TIMEOUT`. The test fails if the server died before the end of the block,
    did not stop in time, or printed a Python traceback on stdout/stderr.
    """

    def __init__(
        self, extra_args: Sequence[str] = (), *, start_timeout: float = START_TIMEOUT
    ) -> None:
        self.argv = serve_command(extra_args)
        self.start_timeout = start_timeout
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._stdout_lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr_file = tempfile.TemporaryFile(
            mode="w+", encoding="utf-8", errors="replace"
        )
        self._reader: threading.Thread | None = None

    # -- process plumbing -------------------------------------------------------------
    def _pump_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for (
            line
        ) in (
            self.proc.stdout
        ):  # drain for the whole lifetime: a full pipe blocks the server
            self._stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def stdout_text(self) -> str:
        return "".join(self._stdout_lines)

    def stderr_text(self) -> str:
        self._stderr_file.flush()
        self._stderr_file.seek(0)
        return self._stderr_file.read()

    def log_tail(self, chars: int = 4000) -> str:
        """Server output for failure messages."""
        return f"--- server stdout ---\n{self.stdout_text()[-chars:]}\n--- server stderr ---\n{self.stderr_text()[-chars:]}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> ServedScanner:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(
            target=self._pump_stdout, name="wsdscan-serve-stdout", daemon=True
        )
        self._reader.start()
        try:
            first = self._lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self._stop()
            pytest.fail(
                f"`{shlex.join(self.argv)}` printed no URL within {self.start_timeout} s\n{self.log_tail()}",
                pytrace=False,
            )
        if first is None:
            self._stop()
            pytest.fail(
                f"`{shlex.join(self.argv)}` exited (rc={self.proc.returncode}) before printing its URL\n"
                f"{self.log_tail()}",
                pytrace=False,
            )
        self.url = first.strip()
        if not re.fullmatch(r"http://127\.0\.0\.1:[1-9][0-9]*/\S*", self.url):
            self._stop()
            pytest.fail(
                f"first stdout line of the server is not its URL: {first!r}\n{self.log_tail()}",
                pytrace=False,
            )
        return self

    def _stop(self) -> tuple[int | None, bool]:
        """SIGINT, then SIGKILL. Returns (exit code, stopped in time)."""
        assert self.proc is not None
        in_time = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                in_time = False
                self.proc.kill()
                self.proc.wait(5)
        if self._reader is not None:
            self._reader.join(5)
        return self.proc.returncode, in_time

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        died = not self.alive()
        rc, in_time = self._stop()
        output = self.stdout_text() + self.stderr_text()
        self._stderr_file.close()
        if exc_type is not None:
            return  # keep the test's own failure; don't mask it
        problems = []
        if died:
            problems.append(f"the server died during the test (rc={rc})")
        if not in_time:
            problems.append(
                f"the server did not exit within {STOP_TIMEOUT} s of SIGINT (killed)"
            )
        if "Traceback (most recent call last)" in output:
            problems.append("the server printed a Python traceback")
        if problems:
            pytest.fail(
                "; ".join(problems) + f"\n--- server output ---\n{output[-6000:]}",
                pytrace=False,
            )


def airscan_env(url: str, conf_dir: Path | None = None) -> tuple[dict[str, str], str]:
    """Private SANE_CONFIG_DIR for ``url``; returns (environment for scanimage, device name).

    The device name comes from ``scanimage -L`` (``airscan:w0:<label>`` on 0.99.27, but
    taken from the listing rather than hard-coded).
    """
    require_tool("scanimage")
    if conf_dir is None:
        conf_dir = Path(tempfile.mkdtemp(prefix="wsdscan-sane-"))
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "dll.conf").write_text("airscan\n")
    (conf_dir / "airscan.conf").write_text(
        f'[devices]\n"{DEVICE_LABEL}" = {url}, WSD\n\n[options]\ndiscovery = disable\n'
    )
    env = dict(os.environ, SANE_CONFIG_DIR=str(conf_dir))
    for noisy in ("SANE_DEBUG_AIRSCAN", "SANE_DEBUG_DLL"):
        env.pop(noisy, None)
    rc, out, err = run_scanimage(["-L"], env, timeout=20)
    devices = re.findall(r"device `([^']+)' is a", out)
    ours = [
        d
        for d in devices
        if d.startswith("airscan:") and d.endswith(":" + DEVICE_LABEL)
    ]
    if rc != 0 or len(ours) != 1:
        pytest.fail(
            f"`scanimage -L` with SANE_CONFIG_DIR={conf_dir} did not list exactly one "
            f"airscan device {DEVICE_LABEL!r} (rc={rc}, devices={devices})\nstdout:\n{out}\nstderr:\n{err}",
            pytrace=False,
        )
    return env, ours[0]


def run_scanimage(
    args: Sequence[str], env: dict[str, str], timeout: float = 60
) -> tuple[int, str, str]:
    """Run ``scanimage ARGS`` with a hard timeout; returns (rc, stdout, stderr).

    On timeout the process is killed and the test fails (a runaway ADF ``--batch`` loop
    is the classic cause, see interop.md pitfall 3).
    """
    exe = require_tool("scanimage")
    try:
        done = subprocess.run(
            [exe, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"`scanimage {shlex.join(args)}` did not finish within {timeout} s (killed)\n"
            f"stdout:\n{_text(exc.stdout)}\nstderr:\n{_text(exc.stderr)}",
            pytrace=False,
        )
    return done.returncode, _text(done.stdout), _text(done.stderr)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data


def wait_for(predicate, timeout: float, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()

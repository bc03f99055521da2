"""Two network namespaces joined by a veth pair, for WS-Discovery tests (multicast does
not work on loopback: sane-airscan and wsdd skip it). Recipe from the project's shared
notes (``shared/notes/interop.md`` beside the checkout) section 10: documentation
addresses 198.51.100.1 (client side) and 198.51.100.2 (server side), the host's
interfaces untouched. Names are unique per test run; everything is removed on exit, also
when the test fails.

Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2: skipped without them, failed
instead under WSDSCAN_REQUIRE_INTEROP=1.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import pytest
from interop_support import REPO_ROOT, interop_required, require_tool

CLIENT_ADDRESS = "198.51.100.1"
SERVER_ADDRESS = "198.51.100.2"


def skip_or_fail(reason: str) -> None:
    """Skip the test for a missing prerequisite; fail it under WSDSCAN_REQUIRE_INTEROP=1."""
    if interop_required():
        pytest.fail(reason + " and WSDSCAN_REQUIRE_INTEROP=1", pytrace=False)
    pytest.skip(reason)


def require_netns() -> str:
    """Path of ``ip``; skip (or fail) without root or without network namespaces."""
    ip = require_tool("ip")
    if os.geteuid() != 0:
        skip_or_fail("network namespace tests need root (CAP_NET_ADMIN)")
    probe = f"wsdchk{secrets.token_hex(3)}"
    done = subprocess.run([ip, "netns", "add", probe], capture_output=True, text=True)
    if done.returncode != 0:
        skip_or_fail(f"cannot create a network namespace: {done.stderr.strip()}")
    subprocess.run([ip, "netns", "del", probe], capture_output=True)
    return ip


class NetnsPair:
    """``with NetnsPair() as net:`` -- namespaces ``net.server``/``net.client`` with
    ``net.server_if`` (198.51.100.2) and ``net.client_if`` (198.51.100.1)."""

    def __init__(self) -> None:
        self.ip = require_netns()
        tag = secrets.token_hex(3)
        self.server = f"wsd6s{tag}"
        self.client = f"wsd6c{tag}"
        self.server_if = f"w6s{tag}"  # interface names: at most 15 characters
        self.client_if = f"w6c{tag}"
        self.processes: list[subprocess.Popen[str]] = []

    def _ip(self, *args: str) -> None:
        done = subprocess.run([self.ip, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")

    def __enter__(self) -> NetnsPair:
        try:
            self._ip("netns", "add", self.server)
            self._ip("netns", "add", self.client)
            self._ip(
                "link",
                "add",
                self.client_if,
                "type",
                "veth",
                "peer",
                "name",
                self.server_if,
            )
            self._ip("link", "set", self.client_if, "netns", self.client)
            self._ip("link", "set", self.server_if, "netns", self.server)
            for ns, dev, address in (
                (self.client, self.client_if, CLIENT_ADDRESS),
                (self.server, self.server_if, SERVER_ADDRESS),
            ):
                self._ip("-n", ns, "addr", "add", f"{address}/24", "dev", dev)
                self._ip("-n", ns, "link", "set", dev, "up")
                self._ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        # Deleting a namespace removes the veth end in it (and so the pair).
        for ns in (self.server, self.client):
            subprocess.run([self.ip, "netns", "del", ns], capture_output=True)
        # A veth end left in the host namespace (failure half-way) is removed too.
        for dev in (self.client_if, self.server_if):
            subprocess.run([self.ip, "link", "del", dev], capture_output=True)

    def run(
        self,
        ns: str,
        argv: Sequence[str],
        *,
        timeout: float,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` in namespace ``ns``; a hang fails the test."""
        try:
            return subprocess.run(
                [self.ip, "netns", "exec", ns, *argv],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"`{' '.join(argv)}` in {ns} took over {timeout} s\n{exc.stdout}\n{exc.stderr}",
                pytrace=False,
            )

    def start(
        self, ns: str, argv: Sequence[str], env: dict[str, str] | None = None
    ) -> BackgroundProcess:
        """Start ``argv`` in namespace ``ns`` in the background (killed on cleanup)."""
        proc = BackgroundProcess([self.ip, "netns", "exec", ns, *argv], env)
        self.processes.append(proc.proc)
        return proc


class BackgroundProcess:
    """A process whose stdout lines are collected as they come; stderr to a file."""

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str] | None,
        cwd: Path = REPO_ROOT,
    ) -> None:
        self._stderr = tempfile.TemporaryFile(
            mode="w+", encoding="utf-8", errors="replace"
        )
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env or os.environ, PYTHONUNBUFFERED="1"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def first_line(self, timeout: float) -> str:
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no output within {timeout} s\n{self.output()}", pytrace=False)
        if line is None:
            pytest.fail(
                f"exited (rc={self.proc.wait()}) before printing\n{self.output()}",
                pytrace=False,
            )
        return line.strip()

    def stderr(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def output(self) -> str:
        return "".join(self.lines) + "\n--- stderr ---\n" + self.stderr()

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10) -> int:
        """Signal, wait; SIGKILL (and a failed test) if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                pytest.fail(
                    f"did not exit within {timeout} s of signal {sig}\n{self.output()}",
                    pytrace=False,
                )
        return self.proc.returncode


def wsdscan_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "wsdscan", *args]


def require_dbus_system_bus() -> int | None:
    """:func:`dbus_system_bus`, skipping the test when no bus can be had (failing it
    under WSDSCAN_REQUIRE_INTEROP=1). Returns the PID to :func:`stop_dbus`, if ours."""
    try:
        pid, reason = dbus_system_bus()
    except (OSError, subprocess.SubprocessError) as exc:
        pid, reason = None, f"dbus-daemon --system could not be run: {exc}"
    if reason:
        skip_or_fail(f"sane-airscan's discovery needs a D-Bus system bus; {reason}")
    return pid


def _listening(socket_path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect(str(socket_path))
        except OSError:
            return False
    return True


def _bus_answers() -> bool:
    done = subprocess.run(
        [
            "dbus-send",
            "--system",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetId",
        ],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return done.returncode == 0


def dbus_system_bus() -> tuple[int | None, str]:
    """Make sure a D-Bus system bus runs (sane-airscan's discovery needs one, see
    interop.md section 10). Returns (pid we started or None, reason when impossible)."""
    socket_path = Path("/run/dbus/system_bus_socket")
    if socket_path.exists():
        if _which("dbus-send") is not None and _bus_answers():
            return None, ""  # someone else's bus: use it, leave it alone
        if _listening(socket_path):
            # A live socket is never removed; without dbus-send it is taken as a bus.
            if _which("dbus-send") is None:
                return None, ""
            return None, f"{socket_path} is in use but is no answering system bus"
        socket_path.unlink(missing_ok=True)  # stale: left by a bus that is gone
    daemon = _which("dbus-daemon")
    if daemon is None:
        return None, "dbus-daemon is not installed (not on PATH)"
    Path("/run/dbus").mkdir(parents=True, exist_ok=True)
    # A pid file left by a bus that is gone (no socket answered above) blocks a start.
    pid_file = Path("/run/dbus/pid")
    with contextlib.suppress(OSError, ValueError):
        stale = int(pid_file.read_text().strip())
        if not Path(f"/proc/{stale}").exists():
            pid_file.unlink()
    done = subprocess.run(
        [daemon, "--system", "--fork", "--print-pid"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        return None, (
            f"dbus-daemon --system failed (rc={done.returncode}): "
            f"{done.stderr.strip() or done.stdout.strip() or 'no output'}"
        )
    return int(done.stdout.strip()), ""


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


def stop_dbus(pid: int) -> None:
    """Stop the system bus :func:`dbus_system_bus` started (by its PID) and remove its
    socket file."""
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):  # up to 5 s for it to go
            os.kill(pid, 0)
            time.sleep(0.05)
    except ProcessLookupError:
        pass
    pid_file = Path("/run/dbus/pid")
    with contextlib.suppress(OSError, ValueError):
        if int(pid_file.read_text().strip()) == pid:
            pid_file.unlink()
    Path("/run/dbus/system_bus_socket").unlink(missing_ok=True)

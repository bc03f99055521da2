"""For the command-line tests: a virtual scanner served in the test's own event loop
(any ``VirtualScannerConfig``, optionally behind a hostile stand-in for one
operation), ``wsdscan`` run as a subprocess against it while the loop keeps serving,
and the checks every failure must pass (one line, no traceback)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from wsdscan.generated import ScannerServiceClient
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.transport import HttpTransport

from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

SCAN_PATH = "/WSDScanner"
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
# (scope, request body, send, the real app's call with the body replayed)
Behaviour = Callable[
    [dict[str, Any], bytes, Send, Callable[[Send], Awaitable[None]]], Awaitable[None]
]


def hostile(app: Any, operation: str, behaviour: Behaviour) -> Any:
    """``app``, except that requests for ``operation`` (by its Action) get
    ``behaviour`` instead."""
    marker = f"/wdp/scan/{operation}<".encode()

    async def wrapped(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)

        pending = [body]

        async def replay() -> dict[str, Any]:
            if pending:
                return {
                    "type": "http.request",
                    "body": pending.pop(),
                    "more_body": False,
                }
            return await receive()

        def call(target: Send) -> Awaitable[None]:
            return app(scope, replay, target)  # type: ignore[no-any-return]

        if marker in body:
            await behaviour(scope, body, send, call)
        else:
            await call(send)

    return wrapped


async def answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


@contextlib.asynccontextmanager
async def virtual_scanner(
    config: VirtualScannerConfig | None = None,
    *,
    scanner: VirtualScanner | None = None,
    wrap: Callable[[Any], Any] | None = None,
) -> AsyncIterator[tuple[str, VirtualScanner]]:
    """A virtual scanner served on 127.0.0.1 in this loop: (URL, scanner)."""
    scanner = scanner or VirtualScanner(config or VirtualScannerConfig())
    app: Any = SoapApp(scanner, path=SCAN_PATH)
    async with running(wrap(app) if wrap else app) as server:
        yield server.url(SCAN_PATH), scanner


async def wsdscan(
    *args: str, cwd: Path | None = None, timeout: float = 90
) -> tuple[int, str, str]:
    """Run ``python -m wsdscan ARGS``; (exit code, stdout, stderr)."""
    process = await start_wsdscan(*args, cwd=cwd)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def start_wsdscan(
    *args: str, cwd: Path | None = None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wsdscan",
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def one_error_line(stderr: str) -> str:
    """The one line a failure prints; fails on a traceback or more lines."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("wsdscan: error: "), stderr
    return lines[0]


async def jobs(url: str) -> tuple[list[Any], list[Any]]:
    """(active jobs, job history) as the scanner reports them."""
    async with HttpTransport(url) as transport:
        client = ScannerServiceClient(transport)
        active = (await client.get_active_jobs()).active_jobs.job_summary
        history = (await client.get_job_history()).job_history.job_summary
    return list(active), list(history)

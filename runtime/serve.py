"""Run an ASGI app under uvicorn on a socket we bind ourselves (so port 0 works and the
URL is known before the first request)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class RunningServer:
    """A server started by :func:`running`: its address and how to stop it."""

    host: str
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def make_server(
    app: Any, *, log_level: str = "warning", timeout_keep_alive: int = 5
) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        timeout_keep_alive=timeout_keep_alive,
        server_header=False,
        date_header=False,
    )
    return uvicorn.Server(config)


@contextlib.asynccontextmanager
async def running(
    app: Any, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> AsyncIterator[RunningServer]:
    """Serve ``app`` in this event loop for the duration of the ``async with``."""
    sock = bind_socket(host, port)
    server = make_server(app, **options)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise a start-up error
            await asyncio.sleep(0.01)
        yield RunningServer(host, sock.getsockname()[1], server, task)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()

"""The sync facade's engine: a private event loop in a daemon thread.

Generated ``...SyncClient`` classes run each async stub call here and wait for it, so
synchronous programs use the same client, transport and connection pool:

    with SyncRunner() as runner:
        client = ScannerServiceSyncClient.connect("http://192.0.2.10:5358/WSDScanner", runner)
        client.cancel_job(job_id=3)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

from ..contract import AttachmentResponse

T = TypeVar("T")
BodyT = TypeVar("BodyT")

CANCEL_TIMEOUT = 10.0
"""Seconds ``run`` waits for an interrupted coroutine to finish its cleanup."""


class SyncRunner:
    """Runs coroutines on a background event loop; one runner can serve many clients."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="wsdscan-sync", daemon=True
        )
        self._thread.start()
        self._closers: list[Callable[[], Coroutine[Any, Any, None]]] = []

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the runner's loop and return its result (or raise).

        If the wait is interrupted (Ctrl-C raises KeyboardInterrupt in the waiting
        thread), the coroutine is cancelled and given up to CANCEL_TIMEOUT seconds to
        clean up (a scan cancels its job on the device) before the interruption goes
        on; otherwise it would run on, unseen, on the runner's thread."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("SyncRunner.run called from its own loop")
        started, finished = threading.Event(), threading.Event()

        async def tracked() -> T:
            started.set()
            try:
                return await coroutine
            finally:
                finished.set()

        future = asyncio.run_coroutine_threadsafe(tracked(), self._loop)
        try:
            return future.result()
        except BaseException:
            if not future.done():
                future.cancel()  # reaches the task on the loop as CancelledError
                if started.is_set():
                    finished.wait(CANCEL_TIMEOUT)
            raise

    def on_close(self, closer: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Register an async cleanup (e.g. a transport's aclose) for ``close``."""
        self._closers.append(closer)

    def close(self) -> None:
        if not self._loop.is_running():
            return
        for closer in reversed(self._closers):
            self.run(closer())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> SyncRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class SyncAttachmentResponse(Generic[BodyT]):
    """The sync view of an attachment response: body first, then the bytes."""

    def __init__(self, response: AttachmentResponse[BodyT], runner: SyncRunner) -> None:
        self._response = response
        self._runner = runner

    @property
    def body(self) -> BodyT:
        return self._response.body

    @property
    def content_type(self) -> str:
        return self._response.content_type

    def save(
        self, path: str | Path, progress: Callable[[int], None] | None = None
    ) -> int:
        """Write the attachment atomically (see the async ``save``)."""
        return self._runner.run(self._response.save(path, progress))

    def read(self) -> bytes:
        return self._runner.run(self._response.read())

    def iter_bytes(self) -> Iterator[bytes]:
        """The attachment chunk by chunk, without holding it all in memory."""
        stream = self._response.aiter_bytes()

        async def next_chunk() -> bytes | None:
            try:
                return await anext(stream)
            except StopAsyncIteration:
                return None

        while (chunk := self._runner.run(next_chunk())) is not None:
            yield chunk

    def close(self) -> None:
        self._runner.run(self._response.aclose())
